"""The commit's round trip written by the store itself (streams/store/base.py `Calls`):
a script Redis lost is loaded again and its calls take effect once, the replies come
back in order, and an error reply surfaces as the store's error, the connection still
usable after it."""

from __future__ import annotations

import pytest

from rules.state import EnterpriseState
from streams.store import Commit, Store, StoreError
from streams.store.base import Calls

pytestmark = pytest.mark.integration


async def test_a_script_redis_lost_is_loaded_and_run_once(store: Store) -> None:
    u = "91440300000000004D"
    applied = [["2025-03-01T02:00:00+00:00", "x", "e1", {}]]
    await store.redis.script_flush()
    assert await store.commit([Commit(u, ["e1"], EnterpriseState(u), journal=applied)], []) == [
        True
    ]
    assert await store.redis.llen(f"{store.prefix}:{{{u}}}:journal") == 1
    # the same event again, the script there now: the guard refuses it
    assert await store.commit([Commit(u, ["e1"], EnterpriseState(u), journal=applied)], []) == [
        False
    ]


async def test_replies_come_in_order_across_scripts_and_reloads(store: Store) -> None:
    echo = store.redis.register_script("return ARGV[1]")
    twice = store.redis.register_script("return redis.call('INCRBY', KEYS[1], 2)")
    await store.redis.script_load(echo.script)  # one of the two Redis has, the other not
    calls = Calls()
    for n in range(5):
        calls.add(echo if n % 2 else twice, ["count"], [f"a{n}"])
    assert len(calls) == 5
    assert await calls.send(store.redis) == [2, b"a1", 4, b"a3", 6]
    assert await Calls().send(store.redis) == []


async def test_an_error_reply_is_the_stores_error(store: Store) -> None:
    u = "91440300000000005E"
    await store.redis.rpush(f"{store.prefix}:{{{u}}}:state", b"not a string")
    with pytest.raises(StoreError, match="WRONGTYPE"):
        await store.commit([Commit(u, ["e1"], EnterpriseState(u))], [])
    # every reply was read: the connection serves the next call
    other = "91440300000000006F"
    assert await store.commit([Commit(other, ["e1"], EnterpriseState(other))], []) == [True]
