"""What the worker stores per enterprise (streams/store/__init__.py) in its compact
forms, and a store written before them (JSON state, event ids in a set, JSON timeline
snapshots and journal entries) still working: read, guarded and converted."""

from __future__ import annotations

import itertools
import json

import pytest

from agents.pipeline import Message, Pipeline
from rules.directory import directory_entry
from rules.jsoncodec import dumps
from rules.timeline import unpack_snapshot
from streams.store import Commit, LinkUpdate, Store, digests, journal
from tests import factories as f

pytestmark = pytest.mark.integration
_offsets = itertools.count()


async def run(pipeline: Pipeline, *events: dict):
    return await pipeline.handle(
        [Message("events", 0, next(_offsets), f.encode(e)) for e in events]
    )


def key(store: Store, code: str, part: str) -> str:
    return f"{store.prefix}:{{{code}}}:{part}"


async def as_before(store: Store, code: str) -> None:
    """Rewrite an enterprise's keys in the forms they had before the compact ones."""
    redis = store.redis
    state = await store.get_enterprise(code)
    assert state is not None
    journal = (await store.load_journals([code]))[code]
    timeline = await store.timeline(code)
    scores = [
        s for _, s in await redis.zrange(key(store, code, "timeline"), 0, -1, withscores=True)
    ]
    pipe = redis.pipeline()
    pipe.set(key(store, code, "state"), state.to_json())
    pipe.delete(key(store, code, "seen"), key(store, code, "journal"), key(store, code, "timeline"))
    pipe.sadd(key(store, code, "seen"), *(entry[2] for entry in journal))
    pipe.rpush(key(store, code, "journal"), *(json.dumps(entry) for entry in journal))
    for score, snap in zip(scores, timeline, strict=True):
        pipe.zadd(key(store, code, "timeline"), {json.dumps(snap): score})
    await pipe.execute()


async def test_the_stored_forms_are_compact_and_read_back(store: Store) -> None:
    pipeline = Pipeline(store, "fanout")
    code = f.uscc()
    events = [f.registered(code), *(f.penalty(code, f"2026-0{m}-01") for m in range(2, 7))]
    await run(pipeline, *events)
    redis = store.redis
    state = await store.get_enterprise(code)
    assert state is not None and state.grade is not None
    stored = await redis.get(key(store, code, "state"))
    guard, _ = digests.unwrap(stored)
    assert len(stored) * 2 < len(state.to_json())  # packed, not JSON
    assert not await redis.exists(key(store, code, "seen"))  # the guard is with the state
    # the registration (January) is older than the guard's window before June: gone
    assert digests.SEEN_DAYS < 150
    assert guard is not None and len(guard) == digests.WIDTH * (len(events) - 1)
    assert digests.held(guard)[0] == {digests.digest(e) for e in f.ids(*events[1:])}
    # ...yet a redelivery of it is refused: the journal has it
    again = await run(pipeline, events[0], events[-1])
    assert (again.applied, again.duplicates) == (0, 2)
    # one packed chunk per commit: the journal reads back every event, in order
    assert await redis.llen(key(store, code, "journal")) == 1
    journal = (await store.load_journals([code]))[code]
    assert [entry[2] for entry in journal] == f.ids(*events)
    entries = await redis.zrange(key(store, code, "timeline"), 0, -1)
    assert entries and all(not e.startswith(b"{") for e in entries)
    assert [s["grade"] for s in await store.timeline(code)][-1] == state.grade


async def test_a_store_written_before_the_compact_forms_still_works(store: Store) -> None:
    pipeline = Pipeline(store, "fanout")
    code = f.uscc()
    first = [f.registered(code), f.penalty(code, "2026-02-01"), f.penalty(code, "2026-03-01")]
    await run(pipeline, *first)
    timeline_before = await store.timeline(code)
    await as_before(store, code)
    assert await store.timeline(code) == timeline_before
    old = await store.get_enterprise(code)
    assert old is not None

    # a redelivery of an event applied before is refused by the old guard...
    later = f.penalty(code, "2026-04-01")
    result = await run(pipeline, first[1], later)
    assert (result.applied, result.duplicates) == (1, 1)
    # ...which the commit moved in with the state, as digests that refuse it again
    assert not await store.redis.exists(key(store, code, "seen"))
    guard, _ = digests.unwrap(await store.redis.get(key(store, code, "state")))
    assert guard is not None and len(guard) == digests.WIDTH * 4
    again = await run(pipeline, first[2], later)
    assert (again.applied, again.duplicates) == (0, 2)

    state = await store.get_enterprise(code)
    assert state is not None and state.events_seen == old.events_seen + 1
    assert (await store.redis.get(key(store, code, "state")))[0] == digests.INDEXED
    # old JSON journal entries and the new chunk read back together
    journal = (await store.load_journals([code]))[code]
    assert [entry[2] for entry in journal] == f.ids(*first, later)
    # old and new snapshots side by side in the timeline
    raw = await store.redis.zrange(key(store, code, "timeline"), 0, -1)
    assert any(e.startswith(b"{") for e in raw) and any(not e.startswith(b"{") for e in raw)
    timeline = await store.timeline(code)
    assert timeline[: len(timeline_before)] == timeline_before
    assert [unpack_snapshot(e)["at"] for e in raw] == [s["at"] for s in timeline]


async def test_a_directory_entry_in_full_still_reads_and_the_commit_compacts_it(
    store: Store,
) -> None:
    pipeline = Pipeline(store, "fanout")
    code, other = f.uscc(), f.uscc()
    await run(pipeline, f.registered(code), f.penalty(code, "2026-02-01"), f.registered(other))
    state = await store.get_enterprise(code)
    assert state is not None and state.grade is not None
    compact = await store.redis.hget(store.directory, code)
    full = dumps(directory_entry(state))
    assert compact.startswith(b'{"n":') and len(compact) * 3 < len(full.encode()) * 2
    entries = await store.directory_entries([code, other])
    assert entries[code] == directory_entry(state) and list(entries[code]) == list(
        directory_entry(state)
    )
    counts = await store.grade_counts()
    # as the directory held entries before the compact form: read as they are
    await store.redis.hset(store.directory, code, full)
    assert (await store.directory_entries([code]))[code] == directory_entry(state)
    assert dict(await store.all_grades()) == {code: state.grade, other: entries[other]["grade"]}
    # the next commit rewrites it compact, its grade counted once, its district read
    await run(pipeline, f.penalty(code, "2026-03-01"))
    after = await store.get_enterprise(code)
    assert after is not None
    assert (await store.redis.hget(store.directory, code)).startswith(b'{"n":')
    assert (await store.directory_entries([code]))[code] == directory_entry(after)
    moved = {g: n for g, n in counts.items()}
    moved[state.grade] -= 1
    moved[after.grade] = moved.get(after.grade, 0) + 1
    assert {g: n for g, n in (await store.grade_counts()).items() if n} == {
        g: n for g, n in moved.items() if n
    }
    assert await store.recount_grades() == {g: n for g, n in moved.items() if n}


async def test_the_journal_of_many_commits_merges_into_few_chunks(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = Pipeline(store, "fanout")
    code = f.uscc()
    events = [f.registered(code), *(f.penalty(code, f"2026-{m:02}-01") for m in range(2, 13))]
    commit, taken = store.commit, []

    async def counted(commits: list[Commit], links: list[LinkUpdate]) -> list[bool]:
        taken.extend(await commit(commits, links))
        return taken[-len(commits) :]

    monkeypatch.setattr(store, "commit", counted)
    lengths = []
    for event in events:  # one commit each
        await run(pipeline, event)
        lengths.append(await store.redis.llen(key(store, code, "journal")))
    assert max(lengths) == journal.MERGE_EVERY - 1 and lengths[-1] < len(events)
    # the merges were made over the tail the worker remembered: none refused
    assert taken == [True] * len(events)
    assert [entry[2] for entry in (await store.load_journals([code]))[code]] == f.ids(*events)


async def test_a_commit_over_a_state_changed_since_it_was_loaded_takes_no_effect(
    store: Store,
) -> None:
    code = f.uscc()
    await run(Pipeline(store, "fanout"), f.registered(code))
    first = await store.load_enterprises({code: {}}, {}, {})
    second = await store.load_enterprises({code: {}}, {}, {})
    state = first.states[code]
    assert state is not None and first.versions == second.versions
    state.score = 1
    assert await store.commit([Commit(code, [], state, state_was=first.versions[code])], []) == [
        True
    ]
    other = second.states[code]
    assert other is not None
    other.score = 2
    assert await store.commit([Commit(code, [], other, state_was=second.versions[code])], []) == [
        False
    ]
    assert (await store.get_enterprise(code)).score == 1


async def test_a_merge_never_drops_a_chunk_written_after_the_tail_was_read(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = Pipeline(store, "fanout")
    code = f.uscc()
    events = [f.registered(code), *(f.penalty(code, f"2026-0{m}-01") for m in (2, 3))]
    for event in events:
        await run(pipeline, event)
    assert journal.due(await store.redis.llen(key(store, code, "journal")))
    stranger = journal.pack([["2026-03-15T02:00:00+00:00", "complaint.received", "x1", {}]])
    commit = store.commit
    taken: list[bool] = []

    async def after_another_write(commits: list[Commit], links: list[LinkUpdate]) -> list[bool]:
        if not taken:  # the tail the worker remembers changes before its merge...
            await store.redis.rpush(key(store, code, "journal"), stranger)
        taken.extend(await commit(commits, links))
        return taken[-len(commits) :]

    monkeypatch.setattr(store, "commit", after_another_write)
    last = f.penalty(code, "2026-04-01")
    assert (await run(pipeline, last)).applied == 1
    assert taken == [False, True]  # ...so it is refused, and the retry reads the tail
    ids = [entry[2] for entry in (await store.load_journals([code]))[code]]
    assert ids == [*f.ids(*events), "x1", *f.ids(last)]
