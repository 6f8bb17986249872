"""The batch pipeline against a real Redis: rules, idempotency and person fan-out."""

from __future__ import annotations

import itertools
import json

import pytest

from agents.pipeline import Message, Pipeline
from tests import factories as f

pytestmark = pytest.mark.integration
EVENTS, FANOUT = "events", "fanout"
_offsets = itertools.count()


def messages(*events: dict, topic: str = EVENTS) -> list[Message]:
    return [Message(topic, 0, next(_offsets), f.encode(e)) for e in events]


async def run(pipeline: Pipeline, *events: dict, topic: str = EVENTS):
    result = await pipeline.handle(messages(*events, topic=topic))
    # what the worker does with the fan-out: feed it back on the fan-out topic
    while result.fanout:
        fan = [Message(FANOUT, 0, next(_offsets), value) for _, value in result.fanout]
        result = await pipeline.handle(fan)
    return result


async def test_three_ordinary_penalties_in_a_year_warn_once_and_lower_the_grade(store):
    pipeline = Pipeline(store, FANOUT)
    code = f.uscc()
    await run(pipeline, f.registered(code))
    await run(pipeline, f.penalty(code, "2025-03-01"), f.penalty(code, "2025-09-01"))
    assert (await store.get_enterprise(code)).grade == "A"
    result = await run(pipeline, f.penalty(code, "2026-02-01"), f.penalty(code, "2026-02-02"))
    assert result.warnings == 1
    state = await store.get_enterprise(code)
    assert state.grade == "B" and state.score == 75  # penalty_frequency and penalty_record
    assert list(state.open_warnings) == ["penalty_frequency"]
    changes = [json.loads(d[b"data"]) for _, d in await store.redis.xrange(store.grades_stream)]
    assert [(c["uscc"], c["from_grade"], c["to_grade"]) for c in changes] == [(code, "A", "B")]


async def test_penalties_spread_over_more_than_a_year_or_simple_do_not_warn(store):
    pipeline = Pipeline(store, FANOUT)
    code = f.uscc()
    result = await run(
        pipeline,
        f.registered(code),
        f.penalty(code, "2024-01-01"),
        f.penalty(code, "2024-12-01"),
        f.penalty(code, "2025-06-01"),
        f.penalty(code, "2025-07-01", procedure="simple"),
    )
    assert result.warnings == 0
    assert (await store.get_enterprise(code)).grade == "A"


async def test_a_redelivered_event_has_no_second_effect(store):
    pipeline = Pipeline(store, FANOUT)
    code = f.uscc()
    events = [f.registered(code), f.penalty(code, "2026-01-01"), f.penalty(code, "2026-01-02")]
    await run(pipeline, *events)
    third = f.penalty(code, "2026-01-03")
    first = await run(pipeline, third)
    again = await run(pipeline, third, *events)  # the same batch redelivered
    assert (first.warnings, again.warnings, again.applied, again.duplicates) == (1, 0, 0, 4)
    state = await store.get_enterprise(code)
    assert state.events_seen == 4 and len(state.penalties) == 3


async def test_duplicates_inside_one_batch_count_once(store):
    pipeline = Pipeline(store, FANOUT)
    code = f.uscc()
    listing = f.dishonest_listed(code)
    result = await run(pipeline, f.registered(code), listing, listing)
    assert (result.applied, result.duplicates, result.warnings) == (2, 1, 1)


async def test_dishonest_enterprise_is_red_and_forces_grade_d(store):
    pipeline = Pipeline(store, FANOUT)
    code = f.uscc()
    await run(pipeline, f.registered(code), f.dishonest_listed(code))
    state = await store.get_enterprise(code)
    assert state.grade == "D"
    assert state.open_warnings["dishonest_enterprise"]["severity"] == "red"


@pytest.mark.parametrize("listing_first", [True, False])
async def test_dishonest_legal_rep_whichever_arrives_first(store, listing_first):
    pipeline = Pipeline(store, FANOUT)
    code, debtor, clean = f.uscc(), f.person("李四"), f.person("王五")
    listing = f.person_listed(debtor)
    appointment = f.legal_rep_changed(code, clean, debtor)
    await run(pipeline, f.registered(code, legal_rep=clean))
    first, second = (listing, appointment) if listing_first else (appointment, listing)
    await run(pipeline, first)
    await run(pipeline, second)
    state = await store.get_enterprise(code)
    warning = state.open_warnings["dishonest_legal_rep"]
    assert warning["severity"] == "red" and listing["event_id"] in warning["evidence"]


async def test_listing_and_appointment_in_the_same_batch_are_not_missed(store):
    pipeline = Pipeline(store, FANOUT)
    code, debtor = f.uscc(), f.person("赵六")
    registered, listed = f.registered(code, legal_rep=debtor), f.person_listed(debtor)
    listed["occurred_at"] = registered["occurred_at"]  # a listing seen from its own day
    await run(pipeline, registered, listed)
    assert "dishonest_legal_rep" in (await store.get_enterprise(code)).open_warnings


async def test_removal_from_the_list_closes_the_warning(store):
    pipeline = Pipeline(store, FANOUT)
    code, debtor = f.uscc(), f.person("钱七")
    await run(pipeline, f.registered(code, legal_rep=debtor), f.person_listed(debtor, "C-9"))
    await run(pipeline, f.person_listed(debtor, "C-9", etype="person.dishonest_removed"))
    state = await store.get_enterprise(code)
    assert "dishonest_legal_rep" not in state.open_warnings and state.grade == "A"


async def test_a_replaced_legal_rep_no_longer_links_the_enterprise(store):
    pipeline = Pipeline(store, FANOUT)
    code, old, new = f.uscc(), f.person("孙八"), f.person("周九")
    await run(pipeline, f.registered(code, legal_rep=old))
    await run(pipeline, f.legal_rep_changed(code, old, new))
    result = await run(pipeline, f.person_listed(old))
    assert result.warnings == 0
    assert "dishonest_legal_rep" not in (await store.get_enterprise(code)).open_warnings


async def test_invalid_events_become_dead_letters_with_their_bytes(store):
    pipeline = Pipeline(store, FANOUT)
    bad_check = f.registered(f.uscc_with_wrong_check())
    raw = [b"{not json", f.encode(bad_check)]
    result = await pipeline.handle([Message(EVENTS, 1, 10 + i, r) for i, r in enumerate(raw)])
    assert result.dead_letters == 2
    again = await pipeline.handle([Message(EVENTS, 1, 10 + i, r) for i, r in enumerate(raw)])
    assert again.dead_letters == 0  # the same messages redelivered
    entries = await store.redis.xrange(store.dead_letters_stream)
    records = [json.loads(d[b"data"]) for _, d in entries]
    assert [r["reason"] for r in records] == ["invalid_json", "invalid_uscc"]
    assert records[0]["original"] == "{not json"


async def test_an_envelope_redelivered_whole_has_one_effect(store):
    """Each event of a batch envelope is applied or dead-lettered on its own; the same
    message again (a redelivery) adds nothing, nor does its good event sent alone."""
    pipeline = Pipeline(store, FANOUT)
    code, other = f.uscc(), f.uscc()
    good = [f.registered(code), f.registered(other), f.dishonest_listed(code)]
    bad = f.registered(f.uscc_with_wrong_check())
    frame = b'{"batch":[' + b",".join(f.encode(e) for e in [good[0], bad, *good[1:]]) + b"]}"
    first = await pipeline.handle([Message(EVENTS, 2, 40, frame)])
    assert (first.applied, first.dead_letters, first.warnings) == (3, 1, 1)
    again = await pipeline.handle([Message(EVENTS, 2, 40, frame)])
    alone = await pipeline.handle(messages(good[2]))
    assert (again.applied, again.duplicates, again.dead_letters, again.warnings) == (0, 3, 0, 0)
    assert (alone.applied, alone.duplicates) == (0, 1)
    letters = [
        json.loads(d[b"data"]) for _, d in await store.redis.xrange(store.dead_letters_stream)
    ]
    assert [(r["reason"], r["detail"][:13]) for r in letters] == [("invalid_uscc", "batch item 1:")]
    assert (await store.get_enterprise(code)).events_seen == 2
