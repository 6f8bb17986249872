"""The related-party indexes moved into the store's current buckets
(streams/store/members.py): `creditwatch indexes migrate [--buckets N]`.

Two layouts move in: the one before the buckets, with a key per person
(`cw:{p:PKEY}:firms`, a hash USCC -> entry, and `:seen`, `:listings`, `:removed`,
`:fanned`) and per address (`cw:{a:AKEY}:firms`); and buckets of another count (after
`--buckets N` changed it). Records become records of the current buckets; a person's
four listing keys become the fields of its one listing record (lua/person_listing.lua)
under its bucket's tag. A record or field the current layout holds already is kept
(it is newer). Run it with the workers and the API stopped: they read
the current layout only (and the count of buckets once, when they start). It can be
run again: what is moved is gone from where it was.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from streams.store import members
from streams.store.related_io import Edit, RelatedStore

#: a person's listing keys before the buckets -> the prefix of their fields in its
#: listing record; `seen` is a set of event ids, the rest hashes
_LISTING_PARTS = {"seen": "e:", "listings": "l:", "removed": "r:", "fanned": "e:"}


@dataclass(frozen=True)
class OldKey:
    """A key of another layout than the current one."""

    kind: members.Kind
    #: a bucket's whole content ("firms" of a bucket), one person's or address's
    #: firms ("firms" of a key), or a person's listing record ("listings") or, before
    #: the buckets, one of its listing keys
    part: str
    #: the person (address) key; "" for a bucket
    key: str = ""
    #: a key of the layout before the buckets
    legacy: bool = False


def old_key(name: str, prefix: str, buckets: int) -> OldKey | None:
    """What a key of another layout than buckets of `buckets` holds, None for others.

    >>> old_key("cw:{p:426695a0efdb59b9eaedaf0b5ca3eddf}:seen", "cw", 1024)
    OldKey(kind='p', part='seen', key='426695a0efdb59b9eaedaf0b5ca3eddf', legacy=True)
    >>> old_key("cw:{a:256:7}:firms", "cw", 1024)
    OldKey(kind='a', part='firms', key='', legacy=False)
    >>> old_key("cw:{p:1024:7}:firms", "cw", 1024) is None   # a current bucket
    True
    """
    rest = name[len(prefix) + 1 :]
    if not rest.startswith("{") or "}:" not in rest:
        return None
    tag, _, part = rest[1:].partition("}:")
    marker, _, key = tag.partition(":")
    kind: members.Kind = "p" if marker == "p" else "a"
    if marker != kind:
        return None
    count = members.bucket_count(key)
    if count == buckets:
        return None
    legacy = count is None
    if not legacy:  # a bucket of another count, or a listing record in its slot
        key, _, part = part.rpartition(":")
    if part == "firms" or (kind == "p" and part in (_LISTING_PARTS if legacy else ["listings"])):
        return OldKey(kind, part, key, legacy)
    return None


class RelatedUpgradeStore(RelatedStore):
    async def migrate_related_indexes(
        self, buckets: int | None = None, chunk: int = 200
    ) -> AsyncIterator[int]:
        """Move every key of another layout into the current buckets, first set to
        `buckets` if given; yields how many keys were moved, a chunk at a time."""
        # the count given, else the store's, else (a store from before the buckets) the
        # count for a new store
        await self.redis.set(self.related_buckets, buckets or self._default_buckets, nx=not buckets)
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
            if old.part == "seen":
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
            else:
                _move_listings(pipe, layout.person(old.key, "listings"), old, value)
        self._edit_members(pipe, edits)
        for name, _ in found:  # one key a command: each in its own slot
            pipe.delete(name)
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


def _move_listings(pipe: Any, record: str, old: OldKey, value: Any) -> None:
    """Queue the fields of a person's listing record from one of its old keys."""
    if not old.legacy:  # a listing record already: its fields as they are
        for field, v in value.items():
            pipe.hsetnx(record, field, v)
    elif old.part == "seen":  # an event recorded: its firms are those of `fanned`, if kept
        for event_id in value:
            pipe.hsetnx(record, b"e:" + event_id, "*")
    elif old.part == "fanned":  # the firms an event fanned out to: over the '*' of `seen`
        for event_id, firms in value.items():
            pipe.hset(record, b"e:" + event_id, firms)
    else:
        prefix = _LISTING_PARTS[old.part].encode()
        for case, v in value.items():
            pipe.hsetnx(record, prefix + case, v)
