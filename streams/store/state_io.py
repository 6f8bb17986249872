"""What a worker reads and writes for a batch: three round trips (load states, load
related parties, commit), a fourth when an event arrived late (load journals), plus
dead letters and timers; the related-party indexes are in streams/store/related_io.py,
what a batch loads and commits in streams/store/worker_records.py."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from hashlib import sha1
from typing import Any, cast

from rules.directory import directory_entry, stored_entry
from rules.jsoncodec import dumpb
from rules.state import EnterpriseState
from rules.timeline import pack_snapshot
from streams.store import digests, journal
from streams.store.base import Calls, epoch
from streams.store.directory_changes import CHANGES_MAXLEN
from streams.store.indexes import Keys, china_day, memberships, tallies
from streams.store.labels import LabelDayStore
from streams.store.related_io import Edit, LinkUpdate, RelatedStore, link_edits
from streams.store.scripts import CommitArgs, CommitKeys, SweepArgs, SweepKeys
from streams.store.worker_records import Commit, Loaded, RecheckQueue


class WorkerStore(LabelDayStore, RelatedStore):
    async def load_enterprises(
        self,
        event_ids: Mapping[str, Mapping[str, datetime]],
        early_people: Mapping[str, set[str]],
        early_addresses: Mapping[str, Mapping[str, str]],
    ) -> Loaded:
        """States of the batch's enterprises in one round trip, the version of the rule
        set published, and which of their events (event id -> occurred_at) were applied
        before: the guard's digests decide, or for an event older than their window,
        the journal (one more round trip, for those only). The commit's guards refuse a
        batch that another worker got to meanwhile.

        The people and addresses the batch's events name are linked first, so that a
        firm processed concurrently elsewhere either sees the link or has linked itself
        before this batch reads the indexes."""
        layout = await self._layout()
        calls = Calls()
        early = [
            Edit.of(layout, "p", pkey, "add", uscc)
            for pkey, firms in early_people.items()
            for uscc in firms
        ]
        early += [
            Edit.of(layout, "a", akey, "set", uscc, entry)
            for akey, arrivals in early_addresses.items()
            for uscc, entry in arrivals.items()
        ]
        skip = self._edit_members(calls, early)
        usccs = list(event_ids)
        calls.command("HGET", self.ruleset_key, "version")
        calls.command("HGET", self.model_key, "version")
        calls.command("MGET", *(self._ent(uscc, "state") for uscc in usccs))
        calls.command("HMGET", self.overrides, *usccs)
        calls.command("HMGET", self.dispositions, *usccs)
        calls.command("HMGET", self.entered_results_key, *usccs)
        checked = [uscc for uscc in usccs if event_ids[uscc]]
        # the journal's tail, for the commit to merge over, of the firms with events
        # whose commit this worker does not remember (the others': the cache's)
        unknown = [uscc for uscc in checked if uscc not in self.state_cache]
        for uscc in unknown:
            calls.command("LLEN", self._ent(uscc, "journal"))
            calls.command("LRANGE", self._ent(uscc, "journal"), 1 - journal.MERGE_EVERY, -1)
        replies = (await calls.send(self.redis))[skip:]
        version, model_version, raw_states, raw_overrides, raw_judged, raw_entered = replies[:6]
        tails: dict[str, journal.Tail | None] = {
            uscc: journal.Tail.of(length, last)
            for uscc, length, last in zip(unknown, replies[6::2], replies[7::2], strict=True)
        }
        states: dict[str, EnterpriseState | None] = {}
        counts = replace(self.state_cache.counts)
        guards: dict[str, bytes | None] = {}
        for uscc, raw in zip(usccs, raw_states, strict=True):
            guards[uscc], packed = digests.unwrap(raw) if raw else (b"", b"")
            if not packed:
                states[uscc] = None
                continue
            # the remembered object when these are the bytes this worker wrote
            states[uscc], tail = self.state_cache.take(uscc, packed)
            if uscc not in tails:
                tails[uscc] = tail
        # for the commit (a stale tail costs only a commit refused, then retried)
        self._journal_tails = tails
        versions = {
            uscc: sha1(raw or b"").hexdigest() for uscc, raw in zip(usccs, raw_states, strict=True)
        }
        seen = await self._applied(checked, [guards[u] for u in checked], event_ids)
        overrides = {
            uscc: json.loads(raw) for uscc, raw in zip(usccs, raw_overrides, strict=True) if raw
        }
        judged = {uscc: json.loads(raw) for uscc, raw in zip(usccs, raw_judged, strict=True) if raw}
        entered = {u: json.loads(raw) for u, raw in zip(usccs, raw_entered, strict=True) if raw}
        return Loaded(
            {uscc: states[uscc] for uscc in usccs},
            {uscc: seen.get(uscc, set()) for uscc in usccs},
            version.decode() if version else None,
            overrides,
            dispositions=judged,
            entered=entered,
            model_version=model_version.decode() if model_version else None,
            versions=versions,
            reused=self.state_cache.counts.hits - counts.hits,
            decoded=self.state_cache.counts.misses - counts.misses,
        )

    async def _applied(
        self,
        usccs: list[str],
        guards: list[bytes | None],
        event_ids: Mapping[str, Mapping[str, datetime]],
    ) -> dict[str, set[str]]:
        """Per USCC, which of its events were applied before (streams/store/digests.py);
        `guards` are those stored with their states (None: the state was stored before
        the guard moved in, and the guard is a set of ids in its own key)."""
        seen: dict[str, set[str]] = {}
        legacy: list[str] = []
        beyond: dict[str, list[str]] = {}  # events older than the guard's window
        for uscc, blob in zip(usccs, guards, strict=True):
            if blob is None:
                legacy.append(uscc)
                continue
            held, newest = digests.held(blob)
            seen[uscc] = digests.applied(held, event_ids[uscc])
            old = [
                e for e, at in event_ids[uscc].items()
                if e not in seen[uscc] and digests.beyond(newest, at)
            ]  # fmt: skip
            if old:
                beyond[uscc] = old
        if legacy or beyond:
            pipe = self.redis.pipeline(transaction=False)
            for uscc in legacy:
                pipe.smismember(self._ent(uscc, "seen"), list(event_ids[uscc]))
            for uscc in beyond:
                pipe.lrange(self._ent(uscc, "journal"), 0, -1)
            replies = await pipe.execute()
            for uscc, flags in zip(legacy, replies, strict=False):
                seen[uscc] = {e for e, flag in zip(event_ids[uscc], flags, strict=True) if flag}
            for (uscc, old), chunks in zip(beyond.items(), replies[len(legacy) :], strict=True):
                ids = {entry[2] for chunk in chunks for entry in journal.entries(chunk)}
                seen[uscc] |= ids.intersection(old)
        return seen

    async def load_journals(self, usccs: Iterable[str]) -> dict[str, list[list[Any]]]:
        """Every event applied to each enterprise (to rebuild its timeline)."""
        wanted = list(usccs)
        pipe = self.redis.pipeline(transaction=False)
        for uscc in wanted:
            pipe.lrange(self._ent(uscc, "journal"), 0, -1)
        replies = await pipe.execute()
        return {
            uscc: [entry for chunk in chunks for entry in journal.entries(chunk)]
            for uscc, chunks in zip(wanted, replies, strict=True)
        }

    async def commit(self, commits: list[Commit], links: list[LinkUpdate]) -> list[bool]:
        """Write a batch in one round trip: each enterprise's events atomically and at
        most once (with its timer; a firm only swept, its labels and state alone:
        `Commit.swept`), then the index links. Returns, per commit, whether it took
        effect."""
        # the bucket count is fixed before the first firm enters the directory, even one
        # with no people to link: a directory without it reads as a store to migrate
        layout = await self._layout()
        tails: dict[str, journal.Tail | None] = getattr(self, "_journal_tails", {})
        calls = Calls()
        ix = Keys(self.prefix)
        applied = ix.applied(int(time.time() // 60))
        at: list[int] = []  # each commit's reply
        packed: list[bytes] = []  # each commit's state as stored
        chunks: list[bytes] = []  # each commit's chunk of the journal, b'' for none
        merges: list[journal.Merge | None] = []
        for c in commits:
            at.append(len(calls))
            packed.append(c.state.to_bytes())
            if c.swept:
                merges.append(None)
                chunks.append(b"")
                self._queue_sweep(calls, c, packed[-1])
                continue
            tail = tails.get(c.uscc)
            # only over a checked state: a merge refused refuses the commit, and the
            # caller retries those that lost a race
            merged = journal.merge(tail, c.journal) if c.journal and tail and c.state_was else None
            merges.append(merged)
            chunks.append(merged.chunk if merged else journal.pack(c.journal) if c.journal else b"")
            entry = directory_entry(c.state)
            label_day, label_day_left, label_day_left_set = self.label_day_keys(
                c.label_day, c.label_day_before
            )
            keys = CommitKeys(
                seen=self._ent(c.uscc, "seen"),
                state=self._ent(c.uscc, "state"),
                enterprise_warnings=self._ent(c.uscc, "warnings"),
                warnings_stream=self.warnings_stream,
                grades_stream=self.grades_stream,
                directory=self.directory,
                directory_changes=self.directory_changes_stream,
                timers=self.timers,
                journal=self._ent(c.uscc, "journal"),
                timeline=self._ent(c.uscc, "timeline"),
                learning=self.learning_stream,
                grade_counts=self.grade_counts_key,
                related_rechecks=self.related_rechecks,
                indexed=self._ent(c.uscc, "indexed"),
                index_counts=ix.counts,
                daily=ix.daily,
                applied=applied,
                label_days=self.label_days,
                label_day=label_day,
                label_day_left=label_day_left,
                label_day_left_set=label_day_left_set,
            )
            replace_from = c.replace_from or (c.timeline[0]["at"] if c.timeline else None)
            args = CommitArgs(
                state_was="-" if c.state_was is None else c.state_was,
                # (the journal's entries are the events applied, with their times)
                event_ids=[digests.record(e[2], e[0]) for e in c.journal],
                seen_days=digests.SEEN_DAYS,
                # the day a guard kept in its own key before is dated with
                guard_day=digests.epoch_day(c.state.clock) if c.state.clock else 0,
                state=packed[-1],
                maxlen=self.maxlen,
                uscc=c.uscc,
                directory_entry=dumpb(stored_entry(entry)),
                changes_maxlen=CHANGES_MAXLEN,
                recheck_at=_epoch(c.state.recheck_at),
                warnings=[dumpb(w) for w in c.warnings],
                grade_changes=[dumpb(g) for g in c.grade_changes],
                journal=[chunks[-1]] if chunks[-1] and not merged else [],
                journal_length=str(merged.length) if merged else "",
                journal_keep=merged.keep if merged else 0,
                journal_tail=merged.tail if merged else "",
                journal_merged=merged.chunk if merged else b"",
                related_rechecks=[(epoch(at), peer) for peer, at in c.related_rechecks.items()],
                learning_record=c.learning_record(),
                replace_from=epoch(replace_from) if replace_from else "",
                day=_grade_day(c),
                index_entries=memberships(ix, c.uscc, entry, c.state.open_warnings),
                tallies=tallies(c.warnings),
                # compacted snapshots all have their instant (rules/timeline.py)
                timeline=[(epoch(cast(str, s["at"])), pack_snapshot(s)) for s in c.timeline],
                label_day=c.label_day or "",
                label_day_start=self.label_day_start(c.label_day),
                label_day_left=c.label_day_before or "",
            )
            calls.add(self._commit, keys, args.argv())
        if links:
            self._edit_members(calls, [e for k in links for e in link_edits(layout, k)])
        replies = await calls.send(self.redis)
        written = [replies[i] != 0 for i in at]
        for n, (c, ok) in enumerate(zip(commits, written, strict=True)):
            if not ok:
                continue
            # what Redis holds now: the next load of the firm may skip decoding it, and
            # the next commit knows the journal's tail
            tail = tails.get(c.uscc)
            if chunks[n]:  # (a sweep's reply is 1 alone: it writes no journal)
                length = replies[at[n]][1]
                tail = (tail or journal.Tail(0)).after(length, chunks[n], merges[n] is not None)
            self.state_cache.put(c.uscc, packed[n], c.state, tail)
        return written

    def _queue_sweep(self, calls: Calls, c: Commit, state: bytes) -> None:
        """A sweep's commit (lua/sweep.lua): its labels, and its state packed as
        `state`; only over the state it was computed from."""
        if c.state_was is None:
            raise ValueError(f"a sweep of {c.uscc} without the version it was computed from")
        label_day, label_day_left, label_day_left_set = self.label_day_keys(
            c.label_day, c.label_day_before
        )
        keys = SweepKeys(
            state=self._ent(c.uscc, "state"),
            learning=self.learning_stream,
            label_days=self.label_days,
            label_day=label_day,
            label_day_left=label_day_left,
            label_day_left_set=label_day_left_set,
        )
        args = SweepArgs(
            state_was=c.state_was,
            state=state,
            learning_record=c.learning_record(),
            maxlen=self.maxlen,
            uscc=c.uscc,
            label_day=c.label_day or "",
            label_day_start=self.label_day_start(c.label_day),
            label_day_left=c.label_day_before or "",
        )
        calls.add(self._sweep, keys, args.argv())

    async def add_dead_letter(self, identity: str, record: bytes) -> bool:
        """Append a dead letter once per identity (topic, partition, offset, index)."""
        keys = [f"{self.prefix}:dead-letters:seen", self.dead_letters_stream]
        return bool(await self._dead_letter(keys=keys, args=[identity, record, self.maxlen]))

    # --- timers, nudges and related rechecks -----------------------------------------
    def _queue(self, queue: RecheckQueue) -> str:
        return {"timer": self.timers, "nudge": self.nudges, "related": self.related_rechecks}[queue]

    async def due_timers(
        self, now: float, limit: int, queue: RecheckQueue = "timer"
    ) -> list[tuple[str, float]]:
        """Up to `limit` (USCC, time in epoch seconds) of a queue, earliest first: the
        timers due at `now`; or, due at once, the operators' nudges (their time is the
        moment to re-evaluate at) or the related rechecks (the time to rebuild from).
        They stay until `clear_timers`, so a worker that dies before handing them on
        loses nothing."""
        upper = now if queue == "timer" else "+inf"
        due: Any = await self.redis.zrangebyscore(
            self._queue(queue), "-inf", upper, start=0, num=limit, withscores=True
        )
        return [(uscc.decode(), score) for uscc, score in due]

    async def clear_timers(
        self, handed_out: list[tuple[str, float]], queue: RecheckQueue = "timer"
    ) -> int:
        if not handed_out:
            return 0
        args = [x for uscc, score in handed_out for x in (uscc, repr(score))]
        return int(await self._clear_timers(keys=[self._queue(queue)], args=args))


def _grade_day(c: Commit) -> str:
    """The day a change of grade in this commit counts on: its grade change's event
    time, else the latest event applied, else today (China Standard Time)."""
    if c.grade_changes:
        return china_day(c.grade_changes[-1]["changed_at"]) or ""
    times = [str(e[0]) for e in c.journal if e and e[0]]
    return china_day(max(times) if times else datetime.now(UTC).isoformat()) or ""


def _epoch(iso: str | None) -> str:
    """A timer's score in whole seconds, rounded up: a recheck at a related party's
    instant (which may have a fraction) must not fire before the party is there, or it
    would ask again for the same instant."""
    if not iso:
        return ""
    return str(math.ceil(datetime.fromisoformat(iso).timestamp()))
