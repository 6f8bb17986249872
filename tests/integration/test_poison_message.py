"""An input that trips a bug outside the rules' own guard (which records a rule's error
as an outcome) must not stop its partition: the batch is applied message by message,
and the one that fails on its own is dead-lettered with its exact bytes, to replay once
the bug is fixed (real Redis; the bug is injected)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

import agents.batch
from agents.pipeline import Message, Pipeline
from streams.store import Store, StoreUnavailable
from tests import factories as f

pytestmark = pytest.mark.integration


def _messages(events: list[dict[str, Any]]) -> list[Message]:
    return [Message("events", 0, i, f.encode(e)) for i, e in enumerate(events)]


async def test_a_message_that_trips_a_bug_is_dead_lettered_and_the_rest_applied(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = [f.registered(f.uscc()) for _ in range(3)]
    poisoned = events[1]["event_id"]
    process_event = agents.batch.process_event

    def buggy(state: Any, **kwargs: Any) -> Any:
        if kwargs["event_id"] == poisoned:
            raise OverflowError("date value out of range")
        return process_event(state, **kwargs)

    monkeypatch.setattr(agents.batch, "process_event", buggy)
    pipeline = Pipeline(store, "fanout")
    result = await pipeline.handle_isolating(_messages(events))
    assert (result.applied, result.dead_letters) == (2, 1)
    states = await store.get_enterprises([e["uscc"] for e in events])
    assert [e["uscc"] in states for e in events] == [True, False, True]
    (letter,) = [
        json.loads(d[b"data"]) for _, d in await store.redis.xrange(store.dead_letters_stream)
    ]
    assert letter["reason"] == "internal_error"
    assert "OverflowError" in letter["detail"]
    assert base64.b64decode(letter["original_b64"]) == f.encode(events[1])
    assert pipeline.processed == {("events", 0): 2}  # the partition moves on

    # the bug fixed, the dead letter replayed: applied
    monkeypatch.setattr(agents.batch, "process_event", process_event)
    replayed = Message("events", 0, 3, base64.b64decode(letter["original_b64"]))
    assert (await pipeline.handle_isolating([replayed])).applied == 1
    assert await store.get_enterprise(events[1]["uscc"]) is not None


async def test_an_outage_is_raised_for_the_caller_to_retry(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(*args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailable("ConnectionError: Connection refused")

    monkeypatch.setattr(store, "load_enterprises", down)
    with pytest.raises(StoreUnavailable):
        await Pipeline(store, "fanout").handle_isolating(_messages([f.registered(f.uscc())]))
    assert await store.redis.xlen(store.dead_letters_stream) == 0
