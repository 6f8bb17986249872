"""What lookups, lists, search and the inspection draw read: states in bulk and the
directory (rules/directory.py), the index of every enterprise's filterable fields."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from rules.directory import directory_entry, entry_of, stored_entry
from rules.jsoncodec import dumps, loads
from rules.state import EnterpriseState
from streams.store import members
from streams.store.base import StoreBase, stored_state
from streams.store.directory_changes import CHANGES_MAXLEN
from streams.store.indexes import Keys, memberships
from streams.store.scripts import joined_lines


class DirectoryStore(StoreBase):
    async def get_enterprises(self, usccs: Sequence[str]) -> dict[str, EnterpriseState]:
        """The states of many enterprises in one round trip (a pipeline of GETs, which
        also works where their keys lie in different cluster slots); missing ones are
        left out."""
        pipe = self.redis.pipeline(transaction=False)
        for uscc in usccs:
            pipe.get(self._ent(uscc, "state"))
        found = await pipe.execute()
        return {u: stored_state(raw) for u, raw in zip(usccs, found, strict=True) if raw}

    async def directory_entries(self, usccs: Sequence[str]) -> dict[str, dict[str, Any]]:
        """USCC -> directory entry, for those that have one."""
        if not usccs:
            return {}
        found: Any = await self.redis.hmget(self.directory, list(usccs))
        return {u: entry_of(loads(raw)) for u, raw in zip(usccs, found, strict=True) if raw}

    async def districts(self, usccs: Sequence[str]) -> dict[str, str | None]:
        """USCC -> district of those with a directory entry, in one round trip."""
        return {u: e.get("district") for u, e in (await self.directory_entries(usccs)).items()}

    async def scan_directory(
        self, cursor: int = 0, count: int = 1000
    ) -> tuple[int, list[tuple[str, dict[str, Any]]]]:
        """One step of a scan over the directory: the next cursor (0 when done) and
        about `count` entries."""
        reply: Any = await self.redis.hscan(self.directory, cursor, count=count)
        return int(reply[0]), [(k.decode(), entry_of(loads(v))) for k, v in reply[1].items()]

    async def iter_directory(self, count: int = 2000) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Every (USCC, entry) of the directory, in no particular order."""
        cursor = 0
        while True:
            cursor, entries = await self.scan_directory(cursor, count)
            for item in entries:
                yield item
            if cursor == 0:
                return

    async def rebuild_directory(self, chunk: int = 500) -> AsyncIterator[int]:
        """Write every stored enterprise's directory entry and index memberships from
        its state (states written before the directory or the indexes existed have none
        until their next commit).
        Yields the entries written, a chunk at a time, for progress."""
        pattern = f"{self.prefix}:{{*}}:state"
        keys: list[bytes] = []
        async for key in self.redis.scan_iter(match=pattern, count=chunk):
            keys.append(key)
            if len(keys) >= chunk:
                yield await self._write_entries(keys)
                keys = []
        if keys:
            yield await self._write_entries(keys)
        await self.recount_grades()

    async def _write_entries(self, keys: list[bytes]) -> int:
        raws: Any = await self.redis.mget(keys)
        states = [stored_state(raw) for raw in raws if raw]
        entries: dict[Any, Any] = {s.uscc: dumps(stored_entry(directory_entry(s))) for s in states}
        if entries:
            await self.redis.hset(self.directory, mapping=entries)
            # as the commit script would: the search indexes follow
            await self._note_changes(
                keys=[self.directory_changes_stream], args=[CHANGES_MAXLEN, *entries]
            )
            await self._write_indexes(states)
        return len(entries)

    async def _write_indexes(self, states: list[EnterpriseState]) -> None:
        """Each firm's index memberships from its state (streams/store/indexes.py), as
        the commit script would write them, and its warnings' latest assignments in the
        assignee indexes (as lua/handle.lua writes them)."""
        ix = Keys(self.prefix)
        pipe = self.redis.pipeline(transaction=False)
        for s in states:
            found = memberships(ix, s.uscc, directory_entry(s), s.open_warnings)
            args = [s.uscc, joined_lines(found)]
            keys = [self._ent(s.uscc, "state"), self._ent(s.uscc, "indexed"), ix.counts]
            await self._reindex(keys=keys, args=args, client=pipe)
        for s in states:
            pipe.hgetall(self._ent(s.uscc, "handling"))
        handlings = (await pipe.execute())[len(states) :]
        # the warnings by assignee: each warning's latest assignment (lua/handle.lua)
        for s, handling in zip(states, handlings, strict=True):
            for field, raw in handling.items():
                name = field.decode()
                if not name.startswith("a:"):
                    continue
                value = loads(raw)
                who = value.get("account_id")
                who = f"a:{who}" if who else (f"u:{value['unit']}" if value.get("unit") else None)
                if who:
                    at = datetime.fromisoformat(value.get("at") or "1970-01-01T00:00:00+00:00")
                    member = f"{s.uscc}|{name[2:]}"
                    pipe.zadd(f"{self.prefix}:ix:assigned:{who}", {member: int(at.timestamp())})
        await pipe.execute()

    async def grade_counts(self) -> dict[str, int]:
        """Grade -> enterprises at it now."""
        found: Any = await self.redis.hgetall(self.grade_counts_key)
        return {k.decode(): int(v) for k, v in found.items()}

    async def recount_grades(self) -> dict[str, int]:
        """Count the grades over the whole directory and replace the counts (after a
        rebuild; the commit script keeps them from then on). A commit racing the
        count may leave it off by one until the next recount."""
        counts = Counter((await self.all_grades()).values())
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self.grade_counts_key)
        if counts:
            pipe.hset(self.grade_counts_key, mapping=dict[Any, Any](counts))
        await pipe.execute()
        return dict(counts)

    async def all_grades(self) -> dict[str, str]:
        """USCC -> grade of every graded enterprise."""
        return {u: e["grade"] async for u, e in self.iter_directory() if e.get("grade")}

    async def person_firms(self, pkey: str) -> dict[str, list[str]]:
        """The firms where a person (by person_key) holds a key role: USCC -> roles
        (the index keeps the instant they were linked at after a "|")."""
        found = await self._members((await self._layout()).person_bucket(pkey), pkey)
        return {uscc: entry.partition("|")[0].split(",") for uscc, entry in found.items()}

    async def address_firms(self, akey: str) -> list[str]:
        """The firms registered at an address (by address_key)."""
        return sorted(await self._members((await self._layout()).address_bucket(akey), akey))

    async def _members(self, bucket: str, key: str) -> dict[str, str]:
        """USCC -> entry of a person's (address's) records (streams/store/members.py)."""
        found: Any = await self._read_members(keys=[bucket], args=[members.member_id(key)])
        return members.records(found[0])
