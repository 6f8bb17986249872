"""The online models through the real parts: the pipeline on a real Redis writes labels
in its commits, the trainer learns and publishes snapshots the pipeline scores with,
the API shows the quality and /metrics exports it, and the live trainer on a real
broker resumes from its snapshot without losing or repeating a label."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from fastapi.testclient import TestClient

from agents.pipeline import Pipeline
from agents.replay import Replayer
from agents.training import TrainerLoop, consume_labels
from api.app import create_app
from rules.learning.trainer import TrainerSettings
from rules.ruleset import default_ruleset
from streams.settings import ApiSettings, StoreSettings, StreamSettings
from streams.simulation import to_bytes
from streams.simulation.risk import generate_risk_city
from streams.store import Store

pytestmark = pytest.mark.integration
KEY = "learning-test-key"
#: small enough for a small city, so the forecaster gets into force
QUICK = TrainerSettings(warmup=200, window=400, min_recent=100)


@pytest.fixture
def api(store_settings: StoreSettings) -> Iterator[TestClient]:
    app = create_app(ApiSettings(admin_key=KEY), store_settings)
    with TestClient(app, headers={"Authorization": f"Bearer {KEY}"}) as client:
        yield client


async def replay_city(store: Store) -> TrainerLoop:
    city = generate_risk_city(seed=5, enterprises=300, days=420, start=date(2025, 1, 1))
    trainer = TrainerLoop(store, QUICK, publish_labels=200, publish_interval_s=float("inf"))
    replayer = Replayer(Pipeline(store, "fanout", default_ruleset(), False), 200, trainer=trainer)
    await replayer.run(to_bytes(e) for e in city.events())
    return trainer


async def test_the_pipeline_learns_scores_and_warns_with_an_explanation(
    store: Store, api: TestClient
) -> None:
    trainer = await replay_city(store)
    meta = await store.model_meta()
    assert meta is not None and meta["version"] >= 2 and meta["labels"] > 1000
    assert meta["in_force"], meta["events"]
    assert meta["quality"]["auc"] > 0.6  # the city's signals carry its risk

    # the workers scored with the snapshots: states carry the model's view
    grades = await store.all_grades()
    states = [await store.get_enterprise(u) for u in list(grades)[:100]]
    views = [s.model for s in states if s is not None and s.model is not None]
    assert views and all(0 <= v["p"] <= 1 and v["version"] >= 1 for v in views)

    # a model_risk warning names the features that raised the forecast
    scan = store.scan_stream(store.warnings_stream, before=None, since_ms=None)
    warnings = [w async for _, w in scan if w["rule_id"] == "model_risk"]
    assert warnings, "no model_risk warning in a city where the model is in force"
    explained = warnings[0]["details"]["explanation"]
    assert explained and all(e["contribution"] > 0 for e in explained)
    assert "raised most by" in warnings[0]["message"]

    # the API shows the snapshot; /metrics exports its quality
    body = api.get("/model").json()
    assert body["published"] and body["version"] == meta["version"]
    assert body["quality"]["calibration"] and body["quality"]["auc"] == meta["quality"]["auc"]
    exposition = api.get("/metrics").text
    assert 'creditwatch_model_auc{window="all"}' in exposition
    assert "creditwatch_model_in_force 1.0" in exposition
    assert "creditwatch_model_calibration_error" in exposition

    # a trainer restarted on the same store resumes from the last snapshot and learns
    # what came after it: the same model as the one that never stopped
    again = TrainerLoop(store, QUICK, publish_labels=200, publish_interval_s=float("inf"))
    await again.resume()
    assert again.trainer.labels == meta["labels"] < trainer.trainer.labels
    assert await again.drain() > 0 and await again.drain() == 0
    assert again.trainer.labels == trainer.trainer.labels
    probe = {"complaints_90": 1.1, "judgments_365": 0.7, "capital": 5.0}
    assert again.trainer.models.forecast(probe) == trainer.trainer.models.forecast(probe)


async def test_before_any_snapshot_the_api_says_so(api: TestClient) -> None:
    assert api.get("/model").json() == {
        "published": False, "version": None, "in_force": False, "labels": 0, "positives": 0,
        "observed": 0, "duplicates": 0, "settings": {}, "quality": None, "events": [],
    }  # fmt: skip


def record(i: int) -> bytes:
    label = {"label_id": f"L{i}", "y": i % 3 == 0, "p": 0.5, "x": {"complaints_90": i % 3},
             "resolved_at": "2026-01-01T00:00:00+00:00"}  # fmt: skip
    return json.dumps({"uscc": "x", "labels": [label], "observed": []}).encode()


async def test_the_live_trainer_resumes_from_its_snapshot_exactly(
    kafka_broker: str, make_topics: Any, store: Store
) -> None:
    (topic,) = make_topics("labels", partitions=1)
    stream = StreamSettings(kafka_bootstrap=kafka_broker, labels_topic=topic,
                            consumer_group=f"{topic}.group")  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=kafka_broker)
    await producer.start()

    async def produce(first: int, last: int) -> None:
        for i in range(first, last):
            await producer.send_and_wait(topic, record(i))

    async def run_until(labels: int) -> TrainerLoop:
        loop = TrainerLoop(store, publish_labels=25, publish_interval_s=0.5)
        stop = asyncio.Event()
        task = asyncio.create_task(consume_labels(stream, loop, stop.is_set))
        try:
            for _ in range(300):
                meta = await store.model_meta()
                if meta is not None and meta["labels"] >= labels:
                    break
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
        return loop

    try:
        await produce(0, 60)
        first = await run_until(60)
        assert first.trainer.labels == 60 and first.trainer.offset == 59
        await produce(60, 100)
        second = await run_until(100)
    finally:
        await producer.stop()
    meta = await store.model_meta()
    assert meta is not None and meta["labels"] == 100 and meta["duplicates"] == 0
    assert second.trainer.offset == 99
