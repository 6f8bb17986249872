"""Pages of an output stream (warnings, grade changes, dead letters, logs), newest
first, behind an opaque cursor: the Redis stream id of the last item seen."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query

from api.auth import Caller
from api.deps import Instant
from api.errors import ApiError
from streams.store.ports import ApiReads

_CURSOR = re.compile(r"^\d{1,20}-\d{1,20}$")
Limit = Annotated[int, Query(ge=1, le=500, description="items per page")]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page")]
Since = Annotated[
    Instant | None, Query(description="only items raised at or after this RFC 3339 time")
]


async def stream_page(
    store: ApiReads,
    stream: str,
    limit: int,
    cursor: str | None,
    since: datetime | None,
    keep: Callable[[dict[str, Any]], bool],
    caller: Caller | None = None,
) -> dict[str, Any]:
    """One page of a stream's records that `keep` accepts (and, for a district-scoped
    caller, that concern an enterprise of its district), with the cursor to the next."""
    if cursor is not None and not _CURSOR.match(cursor):
        raise ApiError(422, "invalid cursor: pass the next_cursor of a previous page")
    if since is not None and since.tzinfo is None:
        raise ApiError(422, "since must carry a UTC offset, e.g. 2026-03-01T00:00:00+08:00")
    # stream ids start at the epoch: an earlier `since` takes everything
    since_ms = max(0, int(since.timestamp() * 1000)) if since else None
    scoped = caller is not None and caller.district is not None
    districts: dict[str, str | None] = {}
    items: list[dict[str, Any]] = []
    last_id: str | None = None
    async for entry_id, record in store.scan_stream(stream, before=cursor, since_ms=since_ms):
        if not keep(record):
            continue
        if scoped and caller is not None:
            uscc = record.get("uscc", "")
            if uscc not in districts:
                districts[uscc] = (await store.districts([uscc])).get(uscc)
            if not caller.sees(districts[uscc]):
                continue
        items.append(record)
        last_id = entry_id
        if len(items) == limit:
            break
    else:
        last_id = None
    if caller is not None:
        caller.saw(len(items))
    return {"items": items, "next_cursor": last_id}
