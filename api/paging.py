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
from streams.store.api_ports import ApiReads

_CURSOR = re.compile(r"^\d{1,20}-\d{1,20}$")
#: records of a scoped caller's page whose districts are looked up together
_BATCH = 200
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
    caller, that concern an enterprise of its district: their firms' districts are
    looked up a batch of records at a time), with the cursor to the next."""
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
    batch: list[tuple[str, dict[str, Any]]] = []
    done = False

    async def take() -> bool:
        """The batch's records in scope, until the page is full (True then)."""
        nonlocal last_id
        if scoped:  # the batch's firms' districts in one round trip
            unknown = list({r.get("uscc", "") for _, r in batch} - districts.keys())
            districts.update(await store.districts(unknown))
        for entry_id, record in batch:
            if (
                scoped
                and caller is not None
                and not caller.sees(districts.get(record.get("uscc", "")))
            ):
                continue
            items.append(record)
            last_id = entry_id
            if len(items) == limit:
                return True
        batch.clear()
        return False

    async for entry_id, record in store.scan_stream(stream, before=cursor, since_ms=since_ms):
        if not keep(record):
            continue
        batch.append((entry_id, record))
        # unscoped, every record kept is an item: no more than the page is read
        if len(batch) >= (_BATCH if scoped else limit - len(items)):
            done = await take()
            if done:
                break
    if not done and batch:
        done = await take()
    if not done:
        last_id = None
    if caller is not None:
        caller.saw(len(items))
    return {"items": items, "next_cursor": last_id}
