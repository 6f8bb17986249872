"""The sidecar (`creditwatch sidecar`) as a process of its own, on a real broker and a real
Redis: it relays the outbox to the output topics and its trainer learns the labels and
publishes a snapshot; it stops cleanly on SIGTERM, publishing what it learned. A worker
told a sidecar runs (`CREDITWATCH_WORKER_RELAY_TRAINER=false`) starts neither loop."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from agents.worker import build_worker
from streams.settings import StoreSettings, StreamSettings
from streams.stack.processes import ManagedProcess, free_port
from streams.stack.supervisor import http_ready
from streams.store import Store
from tests.integration.worker_runs import ROOT, samples

pytestmark = pytest.mark.integration


def _env(stream: StreamSettings, store: StoreSettings, port: int) -> dict[str, str]:
    """The process's settings as environment variables, as a supervisor would set them."""
    env = {
        "CREDITWATCH_KAFKA_BOOTSTRAP": stream.kafka_bootstrap,
        "CREDITWATCH_CONSUMER_GROUP": stream.consumer_group,
        "CREDITWATCH_REDIS_URL": store.redis_url,
        "CREDITWATCH_KEY_PREFIX": store.key_prefix,
        "CREDITWATCH_SIDECAR_METRICS_PORT": str(port),
        "CREDITWATCH_MODEL_PUBLISH_LABELS": "1",
    }
    for name in StreamSettings.model_fields:
        if name.endswith("_topic"):
            env[f"CREDITWATCH_{name.upper()}"] = getattr(stream, name)
    return {**os.environ, **env}


def _label(n: int) -> dict[str, Any]:
    return {
        "label_id": f"l-{n}",
        "y": n % 2,
        "p": 0.5,
        "x": {"a": float(n % 2)},
        "resolved_at": "2025-06-01T00:00:00+00:00",
    }


async def _read(bootstrap: str, topic: str, partitions: int, want: int) -> list[Any]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[Any] = []
        deadline = time.monotonic() + 60
        while len(records) < want and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records += batch
        return records
    finally:
        await consumer.stop()


async def _eventually(check: Callable[[], Awaitable[Any]], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := await check()):
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.2)
    return found


async def test_the_sidecar_relays_learns_and_stops_cleanly(
    stream_settings: StreamSettings, store_settings: StoreSettings, store: Store, tmp_path: Path
) -> None:
    warning = {"warning_id": "w-1", "uscc": "firm-1", "status": "open"}
    await store.redis.xadd(store.warnings_stream, {"data": json.dumps(warning), "key": "firm-1"})
    for n in range(3):
        record = {"labels": [_label(n)], "observed": []}
        await store.redis.xadd(store.learning_stream, {"data": json.dumps(record)})
    port = free_port()
    sidecar = ManagedProcess(
        "sidecar",
        [sys.executable, "-m", "streams.cli", "sidecar"],
        log_path=tmp_path / "sidecar.log",
        env=_env(stream_settings, store_settings, port),
        cwd=ROOT,
    ).start()
    try:
        sidecar.wait_until(http_ready(f"http://127.0.0.1:{port}/metrics"), 60)
        # relayed: the warning on its topic, keyed by its enterprise
        (record,) = await _read(
            stream_settings.kafka_bootstrap, stream_settings.warnings_topic, 4, want=1
        )
        assert json.loads(record.value) == warning and record.key == b"firm-1"
        # learnt: the labels went through the labels topic to the one trainer, which
        # published a snapshot of all three
        meta = await _eventually(partial(_labels_at_least, store, 3))
        assert meta["labels"] == 3
        # its /metrics: what it relayed, and the trainer's CPU (the bench reads it there)
        relayed = {s["stream"]: v for s, v in samples(port, "creditwatch_relayed_total")}
        assert relayed == {store.warnings_stream: 1.0, store.learning_stream: 3.0}
        stages = {s["stage"] for s, _ in samples(port, "creditwatch_stage_cpu_seconds_total")}
        assert stages == {"trainer"}
    finally:
        code = sidecar.stop(30)
    assert code == 0, sidecar.log_tail()  # SIGTERM stopped both loops: not killed
    assert "Traceback" not in sidecar.log_tail(200), sidecar.log_tail(200)


async def _labels_at_least(store: Store, n: int) -> dict[str, Any] | None:
    meta = await store.model_meta()
    return meta if meta is not None and meta["labels"] >= n else None


@pytest.mark.parametrize("relay_trainer", [True, False])
def test_the_worker_leaves_the_relay_and_the_trainer_to_a_sidecar(
    stream_settings: StreamSettings,
    store_settings: StoreSettings,
    tmp_path: Path,
    relay_trainer: bool,
) -> None:
    settings = stream_settings.model_copy(update={"worker_relay_trainer": relay_trainer})
    app = build_worker(settings, store_settings, tmp_path / "worker")
    tasks = {task.__name__ for task in app._app_tasks}
    assert "expose_metrics" in tasks
    started = tasks & {"train", "relay_outputs"}
    assert started == ({"train", "relay_outputs"} if relay_trainer else set())
