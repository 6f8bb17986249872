"""Model labels released by the day's sweep (streams/store/labels.py, agents/timers.py)
against a real Redis: one index entry per day, the firm's labels released at its
horizon's end without an evaluation, and nothing left in the index once swept."""

from __future__ import annotations

import itertools
import json
from datetime import datetime

import pytest

from agents.pipeline import Message, Pipeline
from agents.timers import fire_due
from rules.ruleset import default_ruleset
from tests import factories as f

pytestmark = pytest.mark.integration
EVENTS, FANOUT = "events", "fanout"
_offsets = itertools.count()


async def handle(pipeline: Pipeline, values: list[bytes], topic: str = EVENTS):
    return await pipeline.handle([Message(topic, 0, next(_offsets), v) for v in values])


async def sweep(pipeline: Pipeline, day: str) -> list[bytes]:
    """Fire what is due at the start of `day` (UTC) and feed it back, as the worker does;
    the sweep messages sent (the rules' own timers fire too)."""
    sent: list[bytes] = []

    async def send_all(items: list[tuple[str, bytes]]) -> None:
        sent.extend(value for _, value in items)

    now = datetime.fromisoformat(f"{day}T00:00:00+00:00").timestamp()
    await fire_due(pipeline.store, now, send_all, partitions=4)
    if sent:
        await handle(pipeline, sent, FANOUT)
    return [value for value in sent if value.startswith(b'{"sweep"')]


async def labels_log(store) -> list[dict]:
    entries = await store.redis.xrange(store.learning_stream)
    return [label for _, d in entries for label in json.loads(d[b"data"])["labels"]]


async def test_a_days_sweep_releases_the_labels_of_every_firm_listed_that_day(store):
    pipeline = Pipeline(store, FANOUT, default_ruleset(), False)
    a, b = f.uscc(), f.uscc()
    await handle(
        pipeline,
        [f.encode(f.registered_on(a, "2025-01-10")), f.encode(f.registered_on(b, "2025-01-10"))],
    )
    # one entry for the day both samples' labels resolve (10 Jan + 180 days, the day after)
    days = await store.redis.zrange(store.label_days, 0, -1)
    assert days == [b"2025-07-10"]
    assert sorted(await store.label_day_firms("2025-07-10")) == sorted([a, b])
    assert await sweep(pipeline, "2025-07-09") == []  # not before the day begins in Beijing
    clock = (await store.get_enterprise(a)).clock
    sent = await sweep(pipeline, "2025-07-10")
    assert 1 <= len(sent) <= 2  # one message per partition, not one per sample
    labels = await labels_log(store)
    assert sorted(label["uscc"] for label in labels) == sorted([a, b])
    assert {label["resolved_at"] for label in labels} == {"2025-07-09T16:00:00+00:00"}
    assert {label["y"] for label in labels} == {0}
    state = await store.get_enterprise(a)
    assert state.samples == [] and state.clock == clock  # released, not evaluated
    assert await store.redis.zrange(store.label_days, 0, -1) == []
    assert await sweep(pipeline, "2025-07-11") == []


async def test_a_later_evaluation_releases_first_and_moves_the_firm_off_the_day(store):
    pipeline = Pipeline(store, FANOUT, default_ruleset(), False)
    a = f.uscc()
    await handle(pipeline, [f.encode(f.registered_on(a, "2025-01-10"))])
    # an event after the horizon: its evaluation releases the label, and the firm is
    # listed under its new sample's day instead
    await handle(pipeline, [f.encode(f.complaints(a, "2025-08-01")[0])])
    assert [label["uscc"] for label in await labels_log(store)] == [a]
    assert await store.label_day_firms("2025-07-10") == []
    assert await store.label_day_firms("2026-01-29") == [a]
    # the stale day goes without a message, and nothing is released twice
    assert await sweep(pipeline, "2025-08-02") == []
    assert len(await labels_log(store)) == 1
