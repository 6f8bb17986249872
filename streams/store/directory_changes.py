"""The directory's changes stream (cw:directory-changes): the USCC of every firm that a
commit added to the directory or gave another name, address or district, capped at
`CHANGES_MAXLEN` entries. Each API process's search index (api/search.py) reads it to
stay current; an index that fell behind the cap (a gap) rebuilds from the directory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streams.store.base import StoreBase

#: entries the stream keeps (about: trimmed with MAXLEN ~); a USCC and an id each
CHANGES_MAXLEN = 10_000
#: the position before any entry
START = "0-0"


def stream_id(text: str) -> tuple[int, int]:
    """
    >>> stream_id("1700000000000-3") > stream_id("1700000000000-2")
    True
    """
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


@dataclass(frozen=True)
class DirectoryChanges:
    #: the last id the stream was given (`START`: no stream)
    head: str
    #: changes after the position asked were lost (trimmed, or the stream went back
    #: before it): the reader must rebuild from the directory
    gap: bool
    #: (id, USCC) after the position asked, oldest first
    changes: list[tuple[str, str]]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class DirectoryChangesStore(StoreBase):
    async def directory_changes(self, after: str = START, count: int = 1000) -> DirectoryChanges:
        """At most `count` changes after position `after` (an id read before, or
        `START`), in one atomic read, and whether any after it were lost: trimmed
        (Redis 7 tells the highest id trimmed; before 7.0 a first entry past `after`
        counts as lost, which may rebuild once too often), or the stream gone or
        rolled back behind `after` (a flushed or restored Redis)."""
        reply: Any = await self._directory_changes(
            keys=[self.directory_changes_stream], args=[after, count]
        )
        last, trimmed, first, entries = reply
        at = stream_id(after)
        if not last:
            return DirectoryChanges(START, after != START, [])
        bound = trimmed or first  # Redis 7 always tells what it trimmed ("0-0": none)
        gap = stream_id(_text(last)) < at or bool(bound and stream_id(_text(bound)) > at)
        changes = [(_text(i), _text(fields[1])) for i, fields in entries]
        return DirectoryChanges(_text(last), gap, changes)

    async def directory_size(self) -> int:
        """How many firms the directory holds."""
        return int(await self.redis.hlen(self.directory))
