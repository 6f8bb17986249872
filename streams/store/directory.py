"""What lookups, lists, search and the inspection draw read: states in bulk and the
directory (rules/directory.py), the index of every enterprise's filterable fields."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Sequence
from typing import Any

from rules.directory import directory_entry
from rules.jsoncodec import dumps, loads
from rules.state import EnterpriseState
from streams.store.base import StoreBase


class DirectoryStore(StoreBase):
    async def get_enterprises(self, usccs: Sequence[str]) -> dict[str, EnterpriseState]:
        """The states of many enterprises in one round trip (a pipeline of GETs, which
        also works where their keys lie in different cluster slots); missing ones are
        left out."""
        pipe = self.redis.pipeline(transaction=False)
        for uscc in usccs:
            pipe.get(self._ent(uscc, "state"))
        found = await pipe.execute()
        return {
            u: EnterpriseState.from_json(raw) for u, raw in zip(usccs, found, strict=True) if raw
        }

    async def directory_entries(self, usccs: Sequence[str]) -> dict[str, dict[str, Any]]:
        """USCC -> directory entry, for those that have one."""
        if not usccs:
            return {}
        found: Any = await self.redis.hmget(self.directory, list(usccs))
        return {u: loads(raw) for u, raw in zip(usccs, found, strict=True) if raw}

    async def districts(self, usccs: Sequence[str]) -> dict[str, str | None]:
        """USCC -> district of those with a directory entry, in one round trip."""
        return {u: e.get("district") for u, e in (await self.directory_entries(usccs)).items()}

    async def scan_directory(
        self, cursor: int = 0, count: int = 1000
    ) -> tuple[int, list[tuple[str, dict[str, Any]]]]:
        """One step of a scan over the directory: the next cursor (0 when done) and
        about `count` entries."""
        reply: Any = await self.redis.hscan(self.directory, cursor, count=count)
        return int(reply[0]), [(k.decode(), loads(v)) for k, v in reply[1].items()]

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
        """Write every stored enterprise's directory entry from its state (states
        written before the directory existed have none until their next commit).
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
        states = [EnterpriseState.from_json(raw) for raw in raws if raw]
        entries: dict[Any, Any] = {s.uscc: dumps(directory_entry(s)) for s in states}
        if entries:
            await self.redis.hset(self.directory, mapping=entries)
        return len(entries)

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
        found: Any = await self.redis.hgetall(self._person(pkey, "firms"))
        return {k.decode(): v.decode().partition("|")[0].split(",") for k, v in found.items()}

    async def address_firms(self, akey: str) -> list[str]:
        """The firms registered at an address (by address_key)."""
        found: Any = await self.redis.hkeys(self._address(akey))
        return sorted(k.decode() for k in found)
