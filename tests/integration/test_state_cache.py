"""The worker's decoded-state cache against the real Redis: a state this worker wrote
is not decoded again, anyone else's write is, a commit that did not take effect leaves
nothing, the bound holds, and every state remembered is what its stored bytes decode to
(streams/store/state_cache.py)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from agents.pipeline import Message, Pipeline
from rules.state import EnterpriseState
from streams.settings import StoreSettings
from streams.store import Commit, Store, digests
from streams.store.journal import Tail
from streams.store.state_cache import StateCache
from tests import factories as f
from tests.integration.test_idempotency_property import (
    SEEDS,
    WITHOUT_PERSON_CROWDS,
    city,
    differences,
    held_delivery,
    replay,
)
from tests.integration.test_idempotency_property import Faults as DeliveryFaults

pytestmark = pytest.mark.integration
EVENTS, FANOUT = "events", "fanout"
_offsets = itertools.count()


async def run(pipeline: Pipeline, *events: dict[str, Any]) -> None:
    await pipeline.handle([Message(EVENTS, 0, next(_offsets), f.encode(e)) for e in events])


class Decodes(list[str]):
    """The USCCs of the states decoded from their stored bytes, in order."""

    #: the decode itself, uncounted
    quiet = staticmethod(EnterpriseState.from_stored)


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> Decodes:
    seen = Decodes()

    def counting(raw: bytes) -> EnterpriseState:
        state = Decodes.quiet(raw)
        seen.append(state.uscc)
        return state

    monkeypatch.setattr(EnterpriseState, "from_stored", staticmethod(counting))
    return seen


async def stored_bytes(store: Store, uscc: str) -> bytes:
    raw = await store.redis.get(store._ent(uscc, "state"))
    return digests.unwrap(raw)[1]


async def test_a_state_this_worker_wrote_is_not_decoded_again(store: Store, decodes: Decodes):
    pipeline = Pipeline(store, FANOUT)
    code = f.uscc()
    await run(pipeline, f.registered(code))
    await run(pipeline, f.penalty(code, "2026-03-01"))
    await run(pipeline, f.penalty(code, "2026-05-01"))
    assert decodes == []  # the first load found nothing; the next two took the object
    assert store.state_cache.counts.hits == 2
    assert code in store.state_cache
    state = store.state_cache._entries[code][1]
    assert state.events_seen == 3
    assert state == EnterpriseState.from_stored(await stored_bytes(store, code))


async def test_another_writer_s_state_is_decoded_not_the_one_remembered(
    store: Store, store_settings: StoreSettings, decodes: Decodes
):
    pipeline = Pipeline(store, FANOUT)
    code = f.uscc()
    await run(pipeline, f.registered(code))
    other = Store.from_settings(store_settings)  # another worker, on the same keys
    try:
        await run(Pipeline(other, FANOUT), f.dishonest_listed(code))
    finally:
        await other.close()
    assert code in store.state_cache  # this worker's copy is now out of date
    decodes.clear()
    await run(pipeline, f.penalty(code, "2026-05-01"))
    assert decodes == [code]
    assert store.state_cache.counts.hits == 0
    state = await store.get_enterprise(code)
    assert state is not None and state.events_seen == 3
    assert "dishonest_enterprise" in state.open_warnings  # the other worker's event kept


async def test_a_commit_that_does_not_take_effect_leaves_no_entry(
    store: Store, store_settings: StoreSettings
):
    pipeline = Pipeline(store, FANOUT)
    code = f.uscc()
    await run(pipeline, f.registered(code))
    assert code in store.state_cache
    loaded = await store.load_enterprises({code: {}}, {}, {})
    state = loaded.states[code]
    assert state is not None and code not in store.state_cache  # taken out when used
    other = Store.from_settings(store_settings)
    try:  # another worker commits first: the state this one loaded is no longer stored
        await run(Pipeline(other, FANOUT), f.penalty(code, "2026-03-01"))
    finally:
        await other.close()
    state.score = 1  # what this batch's evaluation did to the object
    lost = Commit(code, [], state, state_was=loaded.versions[code])
    assert await store.commit([lost], []) == [False]
    assert code not in store.state_cache
    reloaded = await store.load_enterprises({code: {}}, {}, {})
    assert reloaded.decoded == 1 and reloaded.reused == 0
    assert reloaded.states[code] is not state and reloaded.states[code].score != 1  # type: ignore[union-attr]


async def test_the_bound_holds(store_settings: StoreSettings, decodes: Decodes):
    store = Store.from_settings(store_settings.model_copy(update={"state_cache": 3}))
    try:
        pipeline = Pipeline(store, FANOUT)
        codes = [f.uscc() for _ in range(8)]
        await run(pipeline, *(f.registered(code) for code in codes))
        assert len(store.state_cache) == 3
        await run(pipeline, *(f.penalty(code, "2026-03-01") for code in codes))
        assert len(store.state_cache) == 3
        assert store.state_cache.counts.hits == 3 and len(decodes) == 5
    finally:
        await store.close()


async def test_off_decodes_every_load(store_settings: StoreSettings, decodes: Decodes):
    store = Store.from_settings(store_settings.model_copy(update={"state_cache": 0}))
    try:
        pipeline = Pipeline(store, FANOUT)
        code = f.uscc()
        await run(pipeline, f.registered(code))
        await run(pipeline, f.penalty(code, "2026-03-01"))
        assert decodes == [code] and len(store.state_cache) == 0
    finally:
        await store.close()


def containers(value: Any) -> Iterator[Any]:
    """Every dict and list inside `value`, itself included."""
    if isinstance(value, dict | list):
        yield value
        for item in value.values() if isinstance(value, dict) else value:
            yield from containers(item)


@pytest.fixture
def checked_puts(monkeypatch: pytest.MonkeyPatch, decodes: Decodes) -> list[str]:
    """Check each state the cache remembers: equal to what its stored bytes decode to,
    and no dict or list reachable twice inside it (a decoded state shares none, so an
    in-place change through one path would reach another only in the remembered one)."""
    problems: list[str] = []
    put = StateCache.put

    def checking(
        self: StateCache, uscc: str, packed: bytes, state: EnterpriseState, tail: Tail | None
    ) -> None:
        if state != Decodes.quiet(packed):
            problems.append(f"{uscc}: remembered state differs from its stored bytes")
        held = [id(c) for c in containers(vars(state))]
        if len(held) != len(set(held)):
            problems.append(f"{uscc}: a dict or list is reachable twice")
        put(self, uscc, packed, state, tail)

    monkeypatch.setattr(StateCache, "put", checking)
    return problems


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_a_city_leaves_the_same_final_state_with_the_cache_as_without(
    redis_server: str,
    seed: int,
    checked_puts: list[str],
    decodes: Decodes,
    monkeypatch: pytest.MonkeyPatch,
):
    c = city(seed)
    steps = held_delivery(c, 25, DeliveryFaults())
    cached = asyncio.run(replay(redis_server, c, steps, WITHOUT_PERSON_CROWDS))
    assert checked_puts == []
    decoded_with_cache = len(decodes)
    decodes.clear()
    monkeypatch.setattr(StateCache, "put", lambda *_: None)  # off: every load decodes
    decoded = asyncio.run(replay(redis_server, c, steps, WITHOUT_PERSON_CROWDS))
    assert differences(decoded.final, cached.final) == []
    assert cached.counts == decoded.counts
    assert decoded_with_cache < len(decodes) / 2  # the cache was used, and much
