"""The console's indexes as the commit script keeps them, on a real Redis: a firm is in
the indexes its entry and open warnings put it in, leaves those it no longer belongs to,
the counts follow, and the daily counts add up to the counts now."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import pytest

from rules.directory import directory_entry
from rules.records import GradeChange, WarningRecord
from rules.state import EnterpriseState
from streams.store import Commit, Store, digests
from streams.store.indexes import day_number, memberships
from streams.store.scripts import joined_lines

pytestmark = pytest.mark.integration
NANSHAN, FUTIAN = "440305", "440304"


def state(
    uscc: str, district: str = NANSHAN, grade: str | None = "C", **more: Any
) -> EnterpriseState:
    s = EnterpriseState(uscc, status="active", grade=grade, score=more.pop("score", 60))
    s.profile = {"name": f"{uscc} 公司", "district": district, "industry": "I6513"}
    for name, value in more.items():
        setattr(s, name, value)
    return s


def warning(uscc: str, rule: str, status: str = "open", **more: Any) -> WarningRecord:
    found: dict[str, Any] = {
        "warning_id": f"{uscc}-{rule}",
        "uscc": uscc,
        "rule_id": rule,
        "rule_version": 1,
        "ruleset_version": "v1",
        "severity": "red",
        "message": "m",
        "evidence": [],
        "raised_at": "2026-03-01T02:00:00+00:00",
        "occurred_at": "2026-03-01T02:00:00+00:00",
        "status": status,
        **more,
    }
    return found  # type: ignore[return-value]


def change(uscc: str, before: str, after: str, at: str) -> GradeChange:
    return {
        "uscc": uscc,
        "from_grade": before,
        "to_grade": after,
        "score": 50,
        "reasons": [],
        "changed_at": at,
        "caused_by": "e",
    }


async def commit(store: Store, c: Commit) -> None:
    assert await store.commit([c], []) == [True]


async def test_a_firm_moves_between_indexes_and_the_counts_follow(store: Store) -> None:
    u = "91440300000000001A"
    await commit(store, Commit(u, ["e1"], state(u, grade="B")))
    counts = await store.index_counts()
    assert counts[store.ix.dg(NANSHAN, "B")] == 1
    assert counts[store.ix.dig(NANSHAN, "I65", "B")] == 1
    assert await store.firms_after([store.ix.dg(NANSHAN, "B")], None, 10) == ([u], False)
    # regraded and moved to another district: out of the old indexes, into the new
    await commit(store, Commit(u, ["e2"], state(u, district=FUTIAN, grade="D")))
    counts = await store.index_counts()
    assert counts[store.ix.dg(NANSHAN, "B")] == 0
    assert counts[store.ix.dg(FUTIAN, "D")] == 1
    assert await store.firms_after([store.ix.dg(NANSHAN, "B")], None, 10) == ([], False)
    assert await store.firms_after([store.ix.dg(FUTIAN, "D")], None, 10) == ([u], False)
    # a commit that changes nothing indexed leaves the counts as they are
    await commit(store, Commit(u, ["e3"], state(u, district=FUTIAN, grade="D")))
    assert (await store.index_counts())[store.ix.dg(FUTIAN, "D")] == 1


async def held(store: Store, u: str) -> tuple[bytes, dict[str, str]]:
    """The digest and the memberships (short key and member -> score) held in front of
    the firm's state (lib/index.lua)."""
    _, found, _ = digests.unwrap_all(await store.redis.get(store._ent(u, "state")))
    assert found is not None
    lines = found[8:].decode().split("\n") if len(found) > 8 else []
    names = {f"{k}\n{m}": score for k, m, score in zip(*[iter(lines)] * 3, strict=True)}
    return found[:8], names


async def hold(store: Store, u: str, memberships: bytes | None) -> None:
    """Rewrite the firm's state value with these memberships held in front (None: as
    stored before they moved in, with the guard alone)."""
    key = store._ent(u, "state")
    guard, _, packed = digests.unwrap_all(await store.redis.get(key))
    await store.redis.set(key, digests.wrap(guard or b"", packed, memberships))


async def test_memberships_are_held_in_short_with_the_state_and_read_in_full(
    store: Store,
) -> None:
    u = "91440300000000010K"
    raised = warning(u, "dishonest_enterprise")
    s = state(u, grade="D", open_warnings={"dishonest_enterprise": dict(raised)})
    await commit(store, Commit(u, ["e1"], s, warnings=[raised]))
    assert not await store.redis.exists(store._ent(u, "indexed"))
    digest, found = await held(store, u)
    assert set(found) == {
        f"dg:{NANSHAN}:D\n\0",
        f"dig:{NANSHAN}:I65:D\n\0",
        f"unseen:{NANSHAN}:D\n\0",
        f"worst:{NANSHAN}:D\n000000|\0",
        f"open:{NANSHAN}:red\n\0|{u}-dishonest_enterprise|dishonest_enterprise",
    }
    text = joined_lines(memberships(store.ix, u, directory_entry(s), s.open_warnings))
    assert digest == hashlib.sha1(text.encode()).digest()[:8]
    # as kept before in the firm's own hash, in full and without the digest: read as
    # the same memberships (nothing counted twice), and moved in front of the state
    await hold(store, u, None)
    full = {f"{store.prefix}:ix:{n}".replace("\0", u): v for n, v in found.items()}
    await store.redis.hset(store._ent(u, "indexed"), mapping=full)  # type: ignore[arg-type]
    counts = await store.index_counts()
    await commit(store, Commit(u, ["e2"], s))
    assert await store.index_counts() == counts
    assert not await store.redis.exists(store._ent(u, "indexed"))
    assert await held(store, u) == (digest, found)
    # held in full: left where it no longer belongs
    await hold(store, u, b"\0" * 8 + "\n".join(f"{n}\n{v}" for n, v in full.items()).encode())
    await commit(store, Commit(u, ["e3"], state(u, grade="B")))
    counts = await store.index_counts()
    assert counts[store.ix.dg(NANSHAN, "D")] == 0 and counts[store.ix.open(NANSHAN, "red")] == 0
    assert await store.firms_after([store.ix.dg(NANSHAN, "D")], None, 10) == ([], False)
    assert counts[store.ix.dg(NANSHAN, "B")] == 1


async def test_memberships_the_same_as_the_last_commits_are_left_as_they_are(
    store: Store,
) -> None:
    u = "91440300000000011L"
    await commit(store, Commit(u, ["e1"], state(u, grade="B")))
    # a membership only the full way would drop (of an index that does not exist)
    digest, found = await held(store, u)
    marked = {**found, "marker\nx": "0"}
    await hold(store, u, digest + "\n".join(f"{n}\n{v}" for n, v in marked.items()).encode())
    counts = await store.index_counts()
    await commit(store, Commit(u, ["e2"], state(u, grade="B")))
    assert (await held(store, u))[1] == marked
    assert await store.index_counts() == counts
    # another grade: the full way, which drops it and moves the firm
    await commit(store, Commit(u, ["e3"], state(u, grade="C")))
    assert "marker\nx" not in (await held(store, u))[1]
    counts = await store.index_counts()
    assert counts[store.ix.dg(NANSHAN, "B")] == 0 and counts[store.ix.dg(NANSHAN, "C")] == 1


async def test_pages_in_uscc_order_across_indexes(store: Store) -> None:
    codes = [f"9144030000000000{n:02d}" for n in range(7)]
    for n, u in enumerate(codes):
        grade = "ABCD"[n % 4]
        await commit(store, Commit(u, [f"e{n}"], state(u, grade=grade)))
    keys = [store.ix.dg(NANSHAN, g) for g in "ABCD"]
    first, more = await store.firms_after(keys, None, 3)
    assert first == codes[:3] and more
    second, more = await store.firms_after(keys, first[-1], 3)
    assert second == codes[3:6] and more
    assert await store.firms_after(keys, second[-1], 3) == (codes[6:], False)


async def test_open_warnings_are_indexed_until_closed(store: Store) -> None:
    u = "91440300000000002B"
    raised = warning(u, "dishonest_enterprise")
    s = state(u, open_warnings={"dishonest_enterprise": dict(raised)})
    await commit(store, Commit(u, ["e1"], s, warnings=[raised]))
    key = store.ix.open(NANSHAN, "red")
    assert await store.members_by_score([key], "-inf", "+inf") == [
        [f"{u}|{u}-dishonest_enterprise|dishonest_enterprise"]
    ]
    closed = warning(u, "dishonest_enterprise", "closed", closed_at="2026-03-03T02:00:00+00:00")
    await commit(store, Commit(u, ["e2"], state(u), warnings=[closed]))
    assert await store.members_by_score([key], "-inf", "+inf") == [[]]
    daily = await store.daily()
    assert daily.opened == {"dishonest_enterprise": {"2026-03-01": 1}}
    assert daily.closed == {"dishonest_enterprise": {"2026-03-03": 1}}
    # the district's own daily counts have them too, another district's none
    assert (await store.daily([NANSHAN])).opened == daily.opened
    assert (await store.daily([FUTIAN])).opened == {}


async def test_blind_spots_index_scores_by_the_last_inspection(store: Store) -> None:
    never, seen = "91440300000000003C", "91440300000000004D"
    await commit(store, Commit(never, ["e1"], state(never, grade="D", score=20)))
    inspected = state(seen, grade="D", score=30, inspections={"latest": "2026-02-01T00:00:00"})
    await commit(store, Commit(seen, ["e2"], inspected))
    key = store.ix.unseen(NANSHAN, "D")
    before = str(day_number("2026-01-01"))
    assert await store.members_by_score([key], "-inf", before) == [[never]]
    after = str(day_number("2026-03-01"))
    assert await store.members_by_score([key], "-inf", after) == [[never, seen]]
    # worst first: by credit score, each with the day it was last seen
    pages = await store.oldest_members([store.ix.worst(NANSHAN, "D")], ["+inf"], [0], 10)
    day = day_number("2026-02-01")
    assert pages == [[(f"000000|{never}", 20.0), (f"{day:06d}|{seen}", 30.0)]]


async def test_grade_counts_per_day_add_up_to_the_counts_now(store: Store) -> None:
    u, v = "91440300000000005E", "91440300000000006F"
    await commit(
        store,
        Commit(
            u, ["e1"], state(u, grade="A"), journal=[["2026-01-02T01:00:00+00:00", "t", "e1", {}]]
        ),
    )
    await commit(
        store,
        Commit(
            v, ["e2"], state(v, grade="A"), journal=[["2026-01-02T01:00:00+00:00", "t", "e2", {}]]
        ),
    )
    regraded = [change(u, "A", "C", "2026-01-05T17:00:00+00:00")]  # the 6th in China
    await commit(store, Commit(u, ["e3"], state(u, grade="C"), grade_changes=regraded))
    daily = await store.daily()
    assert daily.grades == {"A": {"2026-01-02": 2, "2026-01-06": -1}, "C": {"2026-01-06": 1}}
    now = await store.grade_counts()
    for grade, per_day in daily.grades.items():
        assert sum(per_day.values()) == now[grade]


async def test_events_applied_are_counted_per_minute(store: Store) -> None:
    u = "91440300000000007G"
    # the events applied are those of the journal's chunk, as the worker commits them
    applied = [["2026-01-02T01:00:00+00:00", "t", e, {}] for e in ("e1", "e2", "e3")]
    await commit(store, Commit(u, ["e1", "e2", "e3"], state(u), journal=applied))
    assert sum(await store.applied_events(2, now=time.time() + 60)) == 3


async def test_a_rebuild_indexes_firms_stored_without_indexes(store: Store) -> None:
    u = "91440300000000008H"
    raised = warning(u, "dishonest_enterprise")
    s = state(u, grade="D", open_warnings={"dishonest_enterprise": dict(raised)})
    await commit(store, Commit(u, ["e1"], s, warnings=[raised]))
    # as a store written before the indexes: no memberships, no counts
    await hold(store, u, None)
    await store.redis.delete(
        store.ix.counts,
        store.ix.dg(NANSHAN, "D"),
        store.ix.open(NANSHAN, "red"),
    )
    assert await store.index_counts() == {}
    async for _ in store.rebuild_directory():
        pass
    counts = await store.index_counts()
    assert counts[store.ix.dg(NANSHAN, "D")] == 1 and counts[store.ix.open(NANSHAN, "red")] == 1
    assert (await held(store, u))[1]  # held in front of the state
    # and a rebuild again changes nothing
    async for _ in store.rebuild_directory():
        pass
    assert await store.index_counts() == counts


async def test_a_rebuild_of_a_state_stored_alone_keeps_its_memberships_in_the_hash(
    store: Store,
) -> None:
    u = "91440300000000012M"
    s = state(u, grade="D")
    await commit(store, Commit(u, ["e1"], s))
    # stored alone, as before the guard moved in (its guard in a key of its own), and
    # before the indexes
    await store.redis.set(store._ent(u, "state"), s.to_json())
    await store.redis.delete(store.ix.counts, store.ix.dg(NANSHAN, "D"))
    async for _ in store.rebuild_directory():
        pass
    assert (await store.redis.get(store._ent(u, "state"))).startswith(b"{")
    assert await store.redis.hget(store._ent(u, "indexed"), f"dg:{NANSHAN}:D\n\0") == b"0"
    counts = await store.index_counts()
    assert counts[store.ix.dg(NANSHAN, "D")] == 1
    # its next commit moves them in front of the state, counted once
    await commit(store, Commit(u, ["e2"], s))
    assert await store.index_counts() == counts
    assert not await store.redis.exists(store._ent(u, "indexed"))
    assert f"dg:{NANSHAN}:D\n\0" in (await held(store, u))[1]


async def test_a_rebuild_puts_earlier_assignments_in_the_assignee_index(store: Store) -> None:
    u = "91440300000000009J"
    await commit(store, Commit(u, ["e1"], state(u)))
    assignment = {"account_id": "r-1", "unit": None, "at": "2026-03-01T02:00:00+00:00"}
    # as written before the assignee index existed: in the handling record only
    await store.redis.hset(store._ent(u, "handling"), "a:w-1", json.dumps(assignment))
    assert await store.assigned_warnings(account_id="r-1") == []
    async for _ in store.rebuild_directory():
        pass
    assert await store.assigned_warnings(account_id="r-1") == [(u, "w-1")]
