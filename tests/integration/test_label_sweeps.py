"""Model labels released by the day's sweep (streams/store/labels.py, agents/timers.py)
against a real Redis: one index entry per day, the firm's labels released at its
horizon's end without an evaluation, and nothing left in the index once swept. A sweep
writes its labels and the state alone (lua/sweep.lua), not a whole commit: each label
still leaves once, through a later commit, a redelivery, a restart or a race."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from agents.pipeline import Message, Pipeline
from agents.timers import fire_due
from rules.ruleset import default_ruleset
from rules.state import EnterpriseState
from streams.contract.internal import encode_sweep
from streams.settings import StoreSettings
from streams.store import Store, digests
from tests import factories as f
from tests.integration.test_stored_forms import as_before

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


async def raw_state(store: Store, uscc: str) -> bytes:
    raw = await store.redis.get(store._ent(uscc, "state"))
    assert raw is not None
    return bytes(raw)


def packed_days(raw: bytes) -> list[str]:
    """The days of the samples the stored state itself holds (no mark applied)."""
    return [s["day"] for s in EnterpriseState.from_stored(digests.unwrap(raw)[1]).samples]


async def read_days(store: Store, uscc: str) -> list[str]:
    state = await store.get_enterprise(uscc)
    assert state is not None
    return [s["day"] for s in state.samples]


def swept_on(uscc: str, day: str) -> bytes:
    """The sweep message of `day` (its start in Beijing) for one firm, as sent again."""
    return encode_sweep([uscc], datetime.fromisoformat(f"{day}T00:00:00+08:00").astimezone(UTC))


async def test_a_sweep_writes_the_state_alone_and_no_label_comes_back(store):
    pipeline = Pipeline(store, FANOUT, default_ruleset(), False)
    a = f.uscc()
    await handle(pipeline, [f.encode(f.registered_on(a, "2025-01-10"))])
    await handle(pipeline, [f.encode(f.complaints(a, "2025-01-20")[0])])
    before = await raw_state(store, a)
    directory = await store.redis.hget(store.directory, a)
    await handle(pipeline, [swept_on(a, "2025-07-10")], FANOUT)  # (no rule's timer with it)
    after = await raw_state(store, a)
    # the state without the released sample, behind the same guard and memberships held;
    # nothing else
    assert after[0] == digests.INDEXED
    assert digests.unwrap_all(after)[:2] == digests.unwrap_all(before)[:2]
    assert digests.unwrap(after)[1] != digests.unwrap(before)[1]
    assert packed_days(after) == await read_days(store, a) == ["2025-01-20"]
    assert await store.redis.hget(store.directory, a) == directory
    assert [label["sampled_at"][:10] for label in await labels_log(store)] == ["2025-01-10"]
    assert await store.label_day_firms("2025-07-20") == [a]
    # a commit after it, the sweep redelivered (nothing to release: nothing written),
    # the next day's sweep: each label once
    await handle(pipeline, [f.encode(f.complaints(a, "2025-07-12")[0])])
    raw = await raw_state(store, a)
    assert packed_days(raw) == ["2025-01-20", "2025-07-12"]
    await handle(pipeline, [swept_on(a, "2025-07-10")], FANOUT)
    assert await raw_state(store, a) == raw
    await sweep(pipeline, "2025-07-20")
    labels = await labels_log(store)
    assert [label["sampled_at"][:10] for label in labels] == ["2025-01-10", "2025-01-20"]
    assert len({label["label_id"] for label in labels}) == 2
    assert await read_days(store, a) == ["2025-07-12"]


@pytest.mark.parametrize("winner", ["commit", "sweep"])
async def test_a_sweep_racing_a_commit_of_the_firm_releases_the_label_once(
    store: Store, store_settings: StoreSettings, monkeypatch: pytest.MonkeyPatch, winner: str
):
    # two workers: one sweeps the firm while the other applies its event after the
    # horizon (whose evaluation releases the same label); the one that loaded first
    # commits last and finds the state changed since
    sweeper = Pipeline(store, FANOUT, default_ruleset(), False)
    other = Store.from_settings(store_settings)
    evaluator = Pipeline(other, FANOUT, default_ruleset(), False)
    a = f.uscc()
    await handle(sweeper, [f.encode(f.registered_on(a, "2025-01-10"))])
    first, then = (sweeper, evaluator) if winner == "commit" else (evaluator, sweeper)
    tries: list[bool] = []
    commit = first.store.commit

    async def racing(*args: Any) -> list[bool]:
        if not tries:  # the other worker commits between this one's load and commit
            await drive(then)
        written = await commit(*args)
        tries.extend(written)
        return written

    async def drive(pipeline: Pipeline) -> None:
        if pipeline is sweeper:
            await handle(sweeper, [swept_on(a, "2025-07-10")], FANOUT)
        else:
            await handle(evaluator, [f.encode(f.complaints(a, "2025-07-15")[0])])

    try:
        monkeypatch.setattr(first.store, "commit", racing)
        await drive(first)
    finally:
        await other.close()
    assert tries[0] is False  # lost its race, reloaded and retried
    labels = await labels_log(store)
    assert [(label["sampled_at"][:10], label["y"]) for label in labels] == [("2025-01-10", 0)]
    assert labels[0]["resolved_at"] == "2025-07-09T16:00:00+00:00"
    assert await read_days(store, a) == ["2025-07-15"]
    assert (await store.get_enterprise(a)).events_seen == 2


async def test_a_state_a_sweep_wrote_reads_back_after_a_restart(store: Store, store_settings):
    pipeline = Pipeline(store, FANOUT, default_ruleset(), False)
    a = f.uscc()
    complaint = f.complaints(a, "2025-02-01")[0]
    await handle(pipeline, [f.encode(f.registered_on(a, "2025-01-10")), f.encode(complaint)])
    guard, held, _ = digests.unwrap_all(await raw_state(store, a))
    await handle(pipeline, [swept_on(a, "2025-07-10")], FANOUT)
    swept = await raw_state(store, a)
    assert guard and held and swept == digests.wrap(guard, digests.unwrap(swept)[1], held)
    await store.close()
    restarted = Store.from_settings(store_settings)  # nothing remembered
    try:
        again = Pipeline(restarted, FANOUT, default_ruleset(), False)
        assert await read_days(restarted, a) == ["2025-02-01"]
        # the sweep redelivered releases nothing, and writes nothing
        await handle(again, [swept_on(a, "2025-07-10")], FANOUT)
        assert await raw_state(restarted, a) == swept
        assert len(await labels_log(restarted)) == 1
        # a redelivered event is refused by the guard the sweep kept
        result = await handle(again, [f.encode(complaint)])
        assert (result.applied, result.duplicates) == (0, 1)
        await handle(again, [f.encode(f.complaints(a, "2025-03-01")[0])])
        assert packed_days(await raw_state(restarted, a)) == ["2025-02-01", "2025-03-01"]
        await sweep(again, "2025-08-01")
        labels = await labels_log(restarted)
        assert [label["sampled_at"][:10] for label in labels] == ["2025-01-10", "2025-02-01"]
    finally:
        await restarted.close()


async def test_a_sweep_of_a_state_stored_before_the_guard_moved_in_keeps_its_guard(store):
    pipeline = Pipeline(store, FANOUT, default_ruleset(), False)
    a = f.uscc()
    events = [f.registered_on(a, "2025-01-10"), f.complaints(a, "2025-02-01")[0]]
    await handle(pipeline, [f.encode(e) for e in events])
    await as_before(store, a)  # JSON, and the event ids in a set of their own
    await handle(pipeline, [swept_on(a, "2025-07-10")], FANOUT)
    raw = await raw_state(store, a)
    assert digests.unwrap(raw)[0] is None  # still without the guard in front...
    assert packed_days(raw) == ["2025-02-01"]
    assert await store.redis.scard(store._ent(a, "seen")) == 2  # ...which is in its key
    result = await handle(pipeline, [f.encode(e) for e in events])
    assert (result.applied, result.duplicates) == (0, 2)
    assert [label["sampled_at"][:10] for label in await labels_log(store)] == ["2025-01-10"]
