"""The commit script on a real Redis: its arguments, one msgpack array, reach the Lua
byte for byte; a firm's label days move with its state, and not without it; a long
timeline is written whole."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rules.records import Snapshot
from rules.state import EnterpriseState
from streams.store import Commit, Store
from streams.store.scripts import CommitArgs, CommitKeys, layout_header

pytestmark = pytest.mark.integration


def _args(**more: Any) -> CommitArgs:
    fields: dict[str, Any] = dict.fromkeys(CommitArgs._fields, "")
    lists = ("event_ids", "warnings", "grade_changes", "journal", "related_rechecks",
             "index_entries", "tallies", "timeline")  # fmt: skip
    fields.update({name: [] for name in lists})
    fields.update(dict.fromkeys(("seen_days", "guard_day", "maxlen", "changes_maxlen"), 0))
    fields.update(state=b"", directory_entry=b"", journal_merged=b"", learning_record=b"")
    fields.update(journal_keep=0, **more)
    return CommitArgs(**fields)


async def test_the_arguments_reach_the_script_byte_for_byte(store: Store) -> None:
    state, snapshot = bytes(range(256)) + os.urandom(70_000), b"\xc4\x00\x00"
    args = _args(
        state=state,
        uscc="91440300000000001A",
        directory_entry='{"name":"深圳市某某公司"}'.encode(),
        maxlen=100_000,
        timeline=[("1.5", b"s1"), ("2.25", snapshot)],
        index_entries=[("k1", "0", "m1"), ("k2", "1.5", "m2")],
        event_ids=[b"\x00" * 10, b"\xff" * 10],
    )
    body = "return {STATE, DIRECTORY_ENTRY, tostring(MAXLEN), TIMELINE[2][1], TIMELINE[2][2], "
    body += "INDEX_ENTRIES, #EVENT_IDS, EVENT_IDS[2], type(WARNINGS), #WARNINGS, USCC}"
    keys = [f"k:{name}" for name in CommitKeys._fields]
    found: Any = await store.redis.eval(
        layout_header(CommitKeys, CommitArgs) + body, len(keys), *keys, *args.argv()
    )
    assert found == [
        state,
        args.directory_entry,
        b"100000",
        b"2.25",
        snapshot,
        b"k1\n0\nm1\nk2\n1.5\nm2",
        2,
        b"\xff" * 10,
        b"table",
        0,
        b"91440300000000001A",
    ]


async def _commit(store: Store, c: Commit) -> bool:
    return (await store.commit([c], []))[0]


async def test_a_commit_moves_its_firm_between_label_days_with_its_state(store: Store) -> None:
    u = "91440300000000002B"
    assert await _commit(store, Commit(u, ["e1"], EnterpriseState(u), label_day="2025-07-10"))
    assert await store.label_day_firms("2025-07-10") == [u]
    days = await store.due_label_days(float("inf"))
    assert [day for day, _ in days] == ["2025-07-10"]
    # a commit over a state that changed since it was read takes no effect: nor its days
    stale = Commit(u, ["e2"], EnterpriseState(u), state_was="0" * 40,
                   label_day="2026-01-29", label_day_before="2025-07-10")  # fmt: skip
    assert not await _commit(store, stale)
    assert await store.label_day_firms("2025-07-10") == [u]
    assert await store.label_day_firms("2026-01-29") == []
    stale.state_was = None
    assert await _commit(store, stale)
    assert await store.label_day_firms("2025-07-10") == []
    assert await store.label_day_firms("2026-01-29") == [u]


async def test_label_days_kept_as_sets_before_still_read_and_empty(store: Store) -> None:
    u, v, w = "91440300000000004D", "91440300000000005E", "91440300000000006F"
    assert await _commit(store, Commit(u, ["e1"], EnterpriseState(u), label_day="2025-07-10"))
    day = await store.redis.type(f"{store.prefix}:label-firms:2025-07-10")
    assert day == b"hash"
    # two firms listed under the day as the set written before
    await store.redis.sadd(f"{store.prefix}:label-day:2025-07-10", v, w)
    assert await store.label_day_firms("2025-07-10") == [u, v, w]
    # one moves to another day: off the set too
    moved = Commit(v, ["e2"], EnterpriseState(v), label_day="2026-01-29",
                   label_day_before="2025-07-10")  # fmt: skip
    assert await _commit(store, moved)
    assert await store.label_day_firms("2025-07-10") == [u, w]
    # a sweep that handed out one leaves the day; the last two take it away
    assert not await store.clear_label_day("2025-07-10", [u])
    assert [d for d, _ in await store.due_label_days(float("inf"))] == ["2025-07-10", "2026-01-29"]
    assert await store.clear_label_day("2025-07-10", [w])
    assert await store.label_day_firms("2025-07-10") == []
    assert [d for d, _ in await store.due_label_days(float("inf"))] == ["2026-01-29"]


async def test_a_long_timeline_is_written_whole_and_replaces_from_its_first(store: Store) -> None:
    u = "91440300000000003C"
    start = datetime(2025, 1, 1, tzinfo=UTC)

    def snapshots(n: int, score: int) -> list[Snapshot]:
        return [
            {"at": (start + timedelta(hours=h)).isoformat(), "grade": "B", "score": score,
             "indicators": {}, "override": None, "cause": f"e{h}", "ruleset_version": "v"}
            for h in range(n)
        ]  # fmt: skip

    assert await _commit(store, Commit(u, ["e1"], EnterpriseState(u), timeline=snapshots(3, 1)))
    # more entries than one ZADD takes (lua/commit.lua)
    assert await _commit(store, Commit(u, ["e2"], EnterpriseState(u), timeline=snapshots(1201, 2)))
    found = await store.timeline(u)
    assert len(found) == 1201 and {s["score"] for s in found} == {2}
    assert [s["at"] for s in found] == [s["at"] for s in snapshots(1201, 2)]
