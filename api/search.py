"""Name and address search: this API process's index (api/search_index.py), built from
the directory and kept current from its changes stream (streams/store/
directory_changes.py), and the pages read from it.

The index is built by a scan of the directory when the app starts (in the background,
with its progress in the log; a search asked before it is done waits for it). Before
answering, a search reads what is new on the changes stream and puts those firms
again from their directory entries: a firm committed before the request is found, and
a renamed one no longer under its old name. When the stream lost changes the index had
not read (it keeps the last 10,000), the index is built again. A page's firms are then
read from the directory and checked against the filters once more, so the index can
only ever choose which firms to read, never what is shown."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from api.auth import Caller
from api.directory_views import EntryFilter, summary
from api.indexed import valid_cursor
from api.search_index import Search, SearchIndex, name_text
from streams.store.api_ports import ApiReads
from streams.store.directory_changes import START

log = logging.getLogger(__name__)
#: directory entries read per scan step while building
BUILD_CHUNK = 2000
#: changes read per round trip while catching up
CATCH_UP = 1000


@dataclass(frozen=True)
class Built:
    """The last build: firms, seconds, the index's size."""

    firms: int
    seconds: float
    memory_bytes: int


class SearchFeed:
    """The index and its position on the changes stream; one per API process."""

    def __init__(self, store: ApiReads) -> None:
        self.store = store
        self.index: SearchIndex | None = None
        self.position = START
        self.builds = 0
        self.built: Built | None = None
        self._lock = asyncio.Lock()

    async def current(self) -> SearchIndex:
        """The index with every change committed before this call."""
        async with self._lock:
            if self.index is None:
                await self._build("first use")
            while not await self._catch_up():
                await self._build("changes were trimmed before it read them")
            assert self.index is not None
            return self.index

    async def warm(self) -> None:
        """Build at start-up, so the first search need not wait; a failure (Redis not
        up yet) is logged and the first search tries again."""
        try:
            await self.current()
        except Exception as exc:  # the first search builds it then
            log.warning("search index not built at start-up (%s): the first search builds it", exc)

    def close(self) -> None:
        if self.index is not None:
            self.index.close()
            self.index = None

    async def _build(self, why: str) -> None:
        """A new index from a scan of the directory; the changes from where the stream
        stood before the scan are read after it (a firm changed during the scan is put
        again)."""
        started = time.monotonic()
        position = (await self.store.directory_changes(START, 0)).head
        total = await self.store.directory_size()
        log.info("search index: building from %s firms (%s)", f"{total:,}", why)
        index = await asyncio.to_thread(SearchIndex)
        cursor, done, reported = 0, 0, 0
        try:
            while True:
                cursor, entries = await self.store.scan_directory(cursor, BUILD_CHUNK)
                # SQLite lets go of the GIL while it works: the loop serves requests
                done += await asyncio.to_thread(index.put, entries)
                if done - reported >= max(10_000, total // 10):
                    reported = done
                    log.info("search index: %s of %s firms", f"{done:,}", f"{total:,}")
                if cursor == 0:
                    break
        except BaseException:
            index.close()
            raise
        self.close()
        self.index, self.position = index, position
        self.builds += 1
        self.built = Built(len(index), time.monotonic() - started, index.memory_bytes())
        log.info(
            "search index: %s firms in %.1f s, %.1f MB",
            f"{self.built.firms:,}",
            self.built.seconds,
            self.built.memory_bytes / 1e6,
        )

    async def _catch_up(self) -> bool:
        """Put the firms changed since the position; False when changes were lost."""
        assert self.index is not None
        while True:
            read = await self.store.directory_changes(self.position, CATCH_UP)
            if read.gap:
                return False
            if not read.changes:
                return True
            usccs = list(dict.fromkeys(uscc for _, uscc in read.changes))
            entries = await self.store.directory_entries(usccs)
            self.index.put((u, entries.get(u)) for u in usccs)
            self.position = read.changes[-1][0]
            if len(read.changes) < CATCH_UP:
                return True


def _search(where: EntryFilter, caller: Caller, after: str | None, limit: int) -> Search:
    return Search(
        name=None if where.name is None else name_text(where.name),
        address=where.address,  # normalized already
        either=where.either,
        scope=caller.district,
        after=after,
        limit=limit,
    )


async def search_page(
    feed: SearchFeed,
    store: ApiReads,
    caller: Caller,
    where: EntryFilter,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """A page of firms matching the name and address of `where` (and its other
    filters), in the caller's scope, in USCC order; the cursor is the last USCC read.
    Firms the directory no longer has, or that no longer match, are left out (a page
    may come back short with a cursor)."""
    valid_cursor(cursor)
    index = await feed.current()
    usccs = index.find(_search(where, caller, cursor, limit + 1))
    more = len(usccs) > limit
    usccs = usccs[:limit]
    entries = await store.directory_entries(usccs)
    items = [
        summary(u, entries[u]) for u in usccs if u in entries and where.matches(entries[u], caller)
    ]
    caller.saw(len(items))
    return {"items": items, "next_cursor": usccs[-1] if more else None}


def searched(where: EntryFilter) -> bool:
    """Whether a list under these filters is a search (by name or address)."""
    return where.name is not None or where.address is not None
