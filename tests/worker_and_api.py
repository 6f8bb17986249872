"""A real worker and a real API as child processes on the session's broker and Redis,
under a key prefix and topics of their own: the rig of the end-to-end and browser tests."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from streams.settings import StreamSettings
from streams.stack.embedded import ensure_stream_topics
from streams.stack.processes import ManagedProcess, free_port
from streams.stack.supervisor import http_ready

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class WorkerAndApi:
    base: str
    admin_key: str
    api: httpx.Client  # as the bootstrap admin
    env: dict[str, str]
    settings: StreamSettings


@contextmanager
def worker_and_api(
    kafka_broker: str, redis_server: str, logs: Path, name: str, extra_env: dict[str, str]
) -> Iterator[WorkerAndApi]:
    """Start both, wait until each serves, and stop both on the way out."""
    prefix = f"{name}-{uuid.uuid4().hex[:8]}"
    metrics_port, api_port, key = free_port(), free_port(), uuid.uuid4().hex
    env = {
        **os.environ,
        "CREDITWATCH_KAFKA_BOOTSTRAP": kafka_broker,
        "CREDITWATCH_REDIS_URL": redis_server,
        "CREDITWATCH_KEY_PREFIX": prefix,
        "CREDITWATCH_CONSUMER_GROUP": f"{prefix}.worker",
        "CREDITWATCH_BATCH_WITHIN_S": "0.05",
        "CREDITWATCH_WORKER_METRICS_PORT": str(metrics_port),
        "CREDITWATCH_DATADIR": str(logs / "worker"),
        "CREDITWATCH_ADMIN_KEY": key,
        "CREDITWATCH_API_PORT": str(api_port),
        **extra_env,
    }
    for topic in ("events", "dead_letters", "warnings", "grade_changes", "fanout"):
        env[f"CREDITWATCH_{topic.upper()}_TOPIC"] = f"{prefix}.{topic}"
    settings = StreamSettings(
        **{  # the same settings, read as the children will
            k.removeprefix("CREDITWATCH_").lower(): v
            for k, v in env.items()
            if k.startswith("CREDITWATCH_") and k.endswith("_TOPIC")
        },
        kafka_bootstrap=kafka_broker,
    )
    ensure_stream_topics(kafka_broker, settings)
    cli = [sys.executable, "-m", "streams.cli"]
    worker = ManagedProcess(
        "worker", [*cli, "worker"], log_path=logs / "worker.log", env=env, cwd=ROOT
    ).start()
    api = ManagedProcess("api", [*cli, "api"], log_path=logs / "api.log", env=env, cwd=ROOT).start()
    try:
        worker.wait_until(http_ready(f"http://127.0.0.1:{metrics_port}/metrics"), 90, "serving")
        api.wait_until(http_ready(f"http://127.0.0.1:{api_port}/healthz"), 30, "serving")
        base = f"http://127.0.0.1:{api_port}"
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
            yield WorkerAndApi(base, key, client, env, settings)
    finally:
        api.stop()
        worker.stop()
