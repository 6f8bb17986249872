"""The related-party indexes moved into the store's current buckets
(streams/store/members.py): `creditwatch indexes migrate [--buckets N]`.

Two layouts move in: the one before the buckets, with a key per person
(`cw:{p:PKEY}:firms`, a hash USCC -> entry, and `:seen`, `:listings`, `:removed`,
`:fanned`) and per address (`cw:{a:AKEY}:firms`); and buckets of another count (after
`--buckets N` changed it). Records become records of the current buckets; a person's
listing keys move under its bucket's tag. A record or field the current layout holds
already is kept (it is newer). Run it with the workers and the API stopped: they read
the current layout only (and the count of buckets once, when they start). It can be
run again: what is moved is gone from where it was.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from streams.store import members
from streams.store.state_io import Edit, WorkerStore

#: a person's listing keys, and each one's type
_PERSON_PARTS = {"seen": "set", "listings": "hash", "removed": "hash", "fanned": "hash"}


@dataclass(frozen=True)
class OldKey:
    """A key of another layout than the current one."""

    kind: members.Kind
    #: a bucket's whole content ("firms" of a bucket), one person's or address's
    #: firms ("firms" of a key), or one of a person's listing keys
    part: str
    #: the person (address) key; "" for a bucket
    key: str = ""


def old_key(name: str, prefix: str, buckets: int) -> OldKey | None:
    """What a key of another layout than buckets of `buckets` holds, None for others.

    >>> old_key("cw:{p:426695a0efdb59b9eaedaf0b5ca3eddf}:listings", "cw", 1024)
    OldKey(kind='p', part='listings', key='426695a0efdb59b9eaedaf0b5ca3eddf')
    >>> old_key("cw:{a:256:7}:firms", "cw", 1024)
    OldKey(kind='a', part='firms', key='')
    >>> old_key("cw:{p:1024:7}:firms", "cw", 1024) is None   # a current bucket
    True
    """
    rest = name[len(prefix) + 1 :]
    if not rest.startswith("{") or "}:" not in rest:
        return None
    tag, _, part = rest[1:].partition("}:")
    kind, _, key = tag.partition(":")
    if kind not in ("p", "a"):
        return None
    count = members.bucket_count(key)
    if count == buckets:
        return None
    if count is not None:  # a bucket of another count, or a listing key in its slot
        key, _, part = part.rpartition(":")
    if kind == "a":
        return OldKey("a", part, key) if part == "firms" else None
    if part == "firms" or part in _PERSON_PARTS:
        return OldKey("p", part, key)
    return None


class RelatedUpgradeStore(WorkerStore):
    async def migrate_related_indexes(
        self, buckets: int | None = None, chunk: int = 200
    ) -> AsyncIterator[int]:
        """Move every key of another layout into the current buckets, first set to
        `buckets` if given; yields how many keys were moved, a chunk at a time."""
        if buckets is not None:
            await self.redis.set(self.related_buckets, buckets)
            self._members_layout = None
        layout = await self._layout()
        for kind in ("p", "a"):
            found: list[tuple[str, OldKey]] = []
            async for raw in self.redis.scan_iter(match=f"{self.prefix}:{{{kind}:*", count=1000):
                name = raw.decode()
                old = old_key(name, self.prefix, layout.buckets)
                if old is not None:
                    found.append((name, old))
                if len(found) >= chunk:
                    yield await self._move(layout, found)
                    found = []
            if found:
                yield await self._move(layout, found)

    async def _move(self, layout: members.Layout, found: list[tuple[str, OldKey]]) -> int:
        pipe = self.redis.pipeline(transaction=False)
        for name, old in found:
            if old.part in _PERSON_PARTS and _PERSON_PARTS[old.part] == "set":
                pipe.smembers(name)
            else:
                pipe.hgetall(name)
        values: list[Any] = await pipe.execute()
        pipe = self.redis.pipeline(transaction=False)
        edits: list[Edit] = []
        for (_, old), value in zip(found, values, strict=True):
            if old.part == "firms" and old.key:  # one person's (address's) own key
                edits += [
                    Edit.of(layout, old.kind, old.key, "add", uscc.decode(), entry.decode())
                    for uscc, entry in value.items()
                ]
            elif old.part == "firms":  # a bucket of another count
                for member, records in _bucket_records(value).items():
                    bucket = layout.bucket(old.kind, member)
                    edits += [Edit(bucket, member, "add", u, e) for u, e in records.items()]
            elif isinstance(value, set):
                if value:
                    pipe.sadd(layout.person(old.key, old.part), *value)
            else:
                for field, v in value.items():
                    pipe.hsetnx(layout.person(old.key, old.part), field, v)
        await self._edit_members(pipe, edits)
        pipe.delete(*(name for name, _ in found))
        await pipe.execute()
        return len(found)


def _bucket_records(fields: dict[bytes, bytes]) -> dict[bytes, dict[str, str]]:
    """Id -> its records (USCC -> entry) of a bucket's fields (id + 2-byte chunk)."""
    chunks: dict[bytes, list[tuple[bytes, bytes]]] = {}
    for field, value in fields.items():
        chunks.setdefault(field[:-2], []).append((field[-2:], value))
    return {
        member: members.records(b"".join(v for _, v in sorted(parts)))
        for member, parts in chunks.items()
    }
