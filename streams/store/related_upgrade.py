"""The upgrade of the related-party indexes from one key per person (address) to the
buckets of streams/store/members.py: `creditwatch indexes migrate`.

Before, a person's keys were `cw:{p:PKEY}:firms` (a hash USCC -> entry), `:seen`,
`:listings`, `:removed` and `:fanned`, and an address's `cw:{a:AKEY}:firms`. Each
firms hash becomes records in its bucket; the other keys move under the bucket's tag
(`cw:{p:HHH}:PKEY:seen`...), so that a listing's script stays in one slot. A record
or field the new layout already holds is kept (it is newer). Run it with the workers
stopped: a worker reads the new layout only. It can be run again: what is moved is
gone from the old keys.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from streams.store import members
from streams.store.state_io import Edit, WorkerStore

#: a person's keys besides its firms, and each one's type
_PERSON_PARTS = {"seen": "set", "listings": "hash", "removed": "hash", "fanned": "hash"}


@dataclass(frozen=True)
class OldKey:
    """A key of the layout before the buckets."""

    kind: str  # "p" or "a"
    key: str  # the person (address) key
    part: str


def old_key(name: str, prefix: str) -> OldKey | None:
    """What a key of the layout before the buckets held, or None for any other key.

    >>> old_key("cw:{p:426695a0efdb59b9eaedaf0b5ca3eddf}:listings", "cw")
    OldKey(kind='p', key='426695a0efdb59b9eaedaf0b5ca3eddf', part='listings')
    >>> old_key("cw:{p:426}:firms", "cw") is None   # a bucket
    True
    """
    rest = name[len(prefix) + 1 :]
    if not rest.startswith("{") or "}:" not in rest:
        return None
    tag, _, part = rest[1:].partition("}:")
    kind, _, key = tag.partition(":")
    if len(key) <= members.BUCKET_DIGITS:
        return None
    if (kind == "p" and (part == "firms" or part in _PERSON_PARTS)) or (
        kind == "a" and part == "firms"
    ):
        return OldKey(kind, key, part)
    return None


class RelatedUpgradeStore(WorkerStore):
    async def migrate_related_indexes(self, chunk: int = 500) -> AsyncIterator[int]:
        """Move every key of the layout before the buckets; yields how many were moved,
        a chunk at a time."""
        for kind in ("p", "a"):
            found: list[tuple[str, OldKey]] = []
            async for raw in self.redis.scan_iter(match=f"{self.prefix}:{{{kind}:*", count=1000):
                name = raw.decode()
                old = old_key(name, self.prefix)
                if old is not None:
                    found.append((name, old))
                if len(found) >= chunk:
                    yield await self._move(found)
                    found = []
            if found:
                yield await self._move(found)

    async def _move(self, found: list[tuple[str, OldKey]]) -> int:
        pipe = self.redis.pipeline(transaction=False)
        for name, old in found:
            if old.part == "firms":
                pipe.hgetall(name)
            elif _PERSON_PARTS[old.part] == "set":
                pipe.smembers(name)
            else:
                pipe.hgetall(name)
        values: list[Any] = await pipe.execute()
        pipe = self.redis.pipeline(transaction=False)
        edits: list[Edit] = []
        for (_, old), value in zip(found, values, strict=True):
            if old.part == "firms":
                bucket = (self._person_bucket if old.kind == "p" else self._address_bucket)(old.key)
                edits += [
                    Edit(bucket, old.key, "add", uscc.decode(), entry.decode())
                    for uscc, entry in value.items()
                ]
            elif isinstance(value, set):
                if value:
                    pipe.sadd(self._person(old.key, old.part), *value)
            else:
                for field, v in value.items():
                    pipe.hsetnx(self._person(old.key, old.part), field, v)
        await self._edit_members(pipe, edits)
        pipe.delete(*(name for name, _ in found))
        await pipe.execute()
        return len(found)
