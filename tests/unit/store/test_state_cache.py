"""The decoded-state cache on its own: the bytes decide, an entry leaves when used,
the bound holds (streams/store/state_cache.py)."""

from __future__ import annotations

from rules.state import EnterpriseState
from streams.store.journal import Tail
from streams.store.state_cache import StateCache

USCC = "91440300708461136T"


def stored(uscc: str = USCC, score: int = 100) -> tuple[bytes, EnterpriseState]:
    state = EnterpriseState(uscc, status="active", score=score)
    return state.to_bytes(), state


def test_the_bytes_written_give_back_the_object_once() -> None:
    cache = StateCache(10)
    packed, state = stored()
    tail = Tail(3, (b"chunk",))
    cache.put(USCC, packed, state, tail)
    assert cache.take(USCC, packed) == (state, tail)
    assert cache.take(USCC, packed)[0] is not state  # the object itself, above
    cache.put(USCC, packed, state, tail)
    assert cache.take(USCC, packed)[0] is state
    assert USCC not in cache  # the batch changes it: nothing left to go stale
    again, unknown = cache.take(USCC, packed)
    assert again is not state and again == state and unknown is None
    assert (cache.counts.hits, cache.counts.misses) == (2, 2)


def test_other_bytes_are_decoded_and_drop_the_entry() -> None:
    cache = StateCache(10)
    packed, state = stored()
    cache.put(USCC, packed, state, Tail(1))
    other, _ = stored(score=80)
    taken, tail = cache.take(USCC, other)
    assert tail is None
    assert taken is not state and taken.score == 80
    assert USCC not in cache
    assert (cache.counts.hits, cache.counts.misses) == (0, 1)


def test_the_least_recently_committed_leave_first() -> None:
    cache = StateCache(2)
    firms = [f"9144030070846113{n}T" for n in range(4)]
    for uscc in firms:
        cache.put(uscc, *stored(uscc))
    assert len(cache) == 2
    assert [u in cache for u in firms] == [False, False, True, True]
    cache.put(firms[2], *stored(firms[2]))  # committed again: now the most recent
    cache.put(firms[0], *stored(firms[0]))
    assert [u in cache for u in firms] == [True, False, True, False]


def test_size_zero_keeps_nothing() -> None:
    cache = StateCache(0)
    packed, state = stored()
    cache.put(USCC, packed, state)
    assert len(cache) == 0
    assert cache.take(USCC, packed) == (state, None)


def test_drop_forgets_the_firms_named_or_all() -> None:
    cache = StateCache(10)
    firms = [f"9144030070846113{n}T" for n in range(3)]
    for uscc in firms:
        cache.put(uscc, *stored(uscc))
    cache.drop([firms[0]])
    assert len(cache) == 2 and firms[0] not in cache
    cache.drop()
    assert len(cache) == 0
