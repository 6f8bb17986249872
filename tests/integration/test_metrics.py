"""The operational figures the worker and the API expose, on a real Redis: latency
histograms per message and per warning, the Redis round trips, the count of
enterprises per grade (kept by the commit script), and the consumer lag."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from agents.lag import consumer_lag
from agents.pipeline import Message, Pipeline
from streams.store import Store
from tests import factories as f
from tests.integration.conftest import ApiClient

pytestmark = pytest.mark.integration
_offsets = itertools.count()


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def reported(event: dict[str, Any], seconds_ago: float) -> dict[str, Any]:
    at = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    return {**event, "reported_at": at.isoformat()}


async def test_latencies_are_observed_per_message_and_per_warning(store: Store) -> None:
    pipeline = Pipeline(store, "fanout")
    code = f.uscc()
    history = [f.registered(code), f.penalty(code, "2026-01-01"), f.penalty(code, "2026-01-02")]
    # the third ordinary penalty in a year raises penalty_frequency: reported 30 s ago
    third = reported(f.penalty(code, "2026-01-03"), seconds_ago=30)
    sent = time.time() - 2  # the records reached the broker 2 s ago
    messages = [Message("events", 3, next(_offsets), f.encode(e), sent) for e in [*history, third]]
    before = {
        "processing": sample("creditwatch_processing_seconds_count"),
        "processing_sum": sample("creditwatch_processing_seconds_sum"),
        "e2e": sample("creditwatch_end_to_end_seconds_count"),
        "e2e_sum": sample("creditwatch_end_to_end_seconds_sum"),
        "commit": sample("creditwatch_redis_seconds_count", op="commit"),
    }
    result = await pipeline.handle(messages)
    assert result.warnings == 1
    assert sample("creditwatch_processing_seconds_count") - before["processing"] == 4
    per_message = (sample("creditwatch_processing_seconds_sum") - before["processing_sum"]) / 4
    assert 2 <= per_message < 60
    assert sample("creditwatch_end_to_end_seconds_count") - before["e2e"] == 1
    assert 30 <= sample("creditwatch_end_to_end_seconds_sum") - before["e2e_sum"] < 90
    assert sample("creditwatch_redis_seconds_count", op="commit") - before["commit"] == 1
    assert pipeline.processed[("events", 3)] == messages[-1].offset


async def test_an_event_without_reported_at_adds_no_end_to_end_figure(store: Store) -> None:
    pipeline = Pipeline(store, "fanout")
    code = f.uscc()
    events = [f.registered(code), *(f.penalty(code, f"2026-01-0{d}") for d in (1, 2, 3))]
    before = sample("creditwatch_end_to_end_seconds_count")
    result = await pipeline.handle(
        [Message("events", 0, next(_offsets), f.encode(e)) for e in events]
    )
    assert result.warnings == 1
    assert sample("creditwatch_end_to_end_seconds_count") == before


async def test_grade_counts_follow_the_directory_and_survive_a_recount(store: Store) -> None:
    pipeline = Pipeline(store, "fanout")
    firms = [f.uscc() for _ in range(4)]
    await pipeline.handle(
        [Message("events", 0, next(_offsets), f.encode(f.registered(c))) for c in firms]
    )
    assert await store.grade_counts() == {"A": 4}
    # three ordinary penalties within a year take the first firm to B
    penalties = [f.penalty(firms[0], f"2026-02-0{d}") for d in (1, 2, 3)]
    await pipeline.handle([Message("events", 0, next(_offsets), f.encode(e)) for e in penalties])
    # the same batch again: the commit script runs nothing twice, the counts hold
    await pipeline.handle([Message("events", 0, next(_offsets), f.encode(e)) for e in penalties])
    expected = Counter((await store.all_grades()).values())
    assert expected == Counter({"A": 3, "B": 1})
    assert await store.grade_counts() == expected
    await store.redis.delete(store.grade_counts_key)
    assert await store.recount_grades() == expected
    assert await store.grade_counts() == expected


async def test_the_api_exposes_enterprises_by_grade(store: Store, api: ApiClient) -> None:
    pipeline = Pipeline(store, "fanout")
    firms = [f.uscc() for _ in range(3)]
    await pipeline.handle(
        [Message("events", 0, next(_offsets), f.encode(f.registered(c))) for c in firms]
    )
    text = api.client.get("/metrics").text
    counts = await store.grade_counts()
    assert f'creditwatch_enterprises{{grade="A"}} {float(counts["A"])}' in text
    assert 'creditwatch_enterprises{grade="D"} 0.0' in text


class StubConsumer:
    """Faust's consumer as the lag measure sees it: assignment, end offsets, position."""

    def __init__(self, ends: dict[Any, int], positions: dict[Any, int]):
        self.ends, self.positions = ends, positions

    def assignment(self) -> set[Any]:
        return set(self.ends)

    async def highwaters(self, *tps: Any) -> dict[Any, int]:
        return {tp: self.ends[tp] for tp in tps}

    async def position(self, tp: Any) -> int | None:
        return self.positions.get(tp)


async def test_consumer_lag_counts_from_the_last_committed_offset() -> None:
    from faust.types import TP

    a, b = TP("events", 0), TP("events", 1)
    processed = {("events", 0): 89, ("events", 7): 5}  # partition 7 was handed away
    lag = await consumer_lag(StubConsumer({a: 100, b: 50}, {b: 40}), processed)
    assert [(labels["partition"], value) for _, _, labels, value in lag] == [
        ("0", 10.0),  # offsets 90..99 not yet processed
        ("1", 10.0),  # nothing processed here yet: from the fetch position
    ]
    assert processed == {("events", 0): 89}  # the revoked partition is forgotten
