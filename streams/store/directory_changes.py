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
#: the position before any entry (entries are numbered from 1, lua/lib/changes.lua)
START = 0


def _number(entry_id: Any) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
    return int(text.partition("-")[0])


@dataclass(frozen=True)
class DirectoryChanges:
    #: the number of the last entry the stream was given (`START`: no stream)
    head: int
    #: entries after the position asked were lost (trimmed before they were read, or
    #: the stream gone or gone back behind it): the reader must rebuild
    gap: bool
    #: (number, USCC) after the position asked, oldest first
    changes: list[tuple[int, str]]


def lost(after: int, head: int, first: int) -> bool:
    """Whether a reader that read up to entry `after` lost entries, the stream having
    given up to `head` and kept from `first` on (0: none kept; both 0: no stream).

    >>> lost(5, 9, 6), lost(5, 9, 7), lost(5, 5, 0), lost(5, 9, 0), lost(5, 3, 1)
    (False, True, False, True, True)
    >>> lost(0, 0, 0), lost(0, 3, 1), lost(4, 0, 0)
    (False, False, True)
    """
    if head < after:
        return True  # gone, or gone back (a flushed or restored Redis)
    if head == after:
        return False
    return first == 0 or first > after + 1


class DirectoryChangesStore(StoreBase):
    async def directory_changes(self, after: int = START, count: int = 1000) -> DirectoryChanges:
        """At most `count` changes after entry number `after` (`START`: from the
        first), in one atomic read, and whether any after it were lost."""
        reply: Any = await self._directory_changes(
            keys=[self.directory_changes_stream], args=[after + 1, count]
        )
        head, first, entries = int(reply[0]), int(reply[1]), reply[2]
        changes = [(_number(i), fields[1].decode()) for i, fields in entries]
        return DirectoryChanges(head, lost(after, head, first), changes)

    async def directory_size(self) -> int:
        """How many firms the directory holds."""
        return int(await self.redis.hlen(self.directory))
