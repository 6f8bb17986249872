"""The output logs: warnings, grade changes and dead letters, newest first, paginated
by an opaque cursor (the Redis stream id of the last item seen)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from api.deps import Role, StoreDep, valid_uscc
from api.errors import ApiError
from api.schemas import GradeChange, Page, Warning

router = APIRouter(tags=["outputs"])

_CURSOR = re.compile(r"^\d{1,20}-\d{1,20}$")
Limit = Annotated[int, Query(ge=1, le=500, description="items per page")]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page")]
Since = Annotated[
    datetime | None, Query(description="only items raised at or after this RFC 3339 time")
]


async def _page(
    store: StoreDep,
    stream: str,
    limit: int,
    cursor: str | None,
    since: datetime | None,
    keep: Callable[[dict[str, Any]], bool],
) -> dict[str, Any]:
    """One page of a stream's records that `keep` accepts, with the cursor to the next."""
    if cursor is not None and not _CURSOR.match(cursor):
        raise ApiError(422, "invalid cursor: pass the next_cursor of a previous page")
    if since is not None and since.tzinfo is None:
        raise ApiError(422, "since must carry a UTC offset, e.g. 2026-03-01T00:00:00+08:00")
    since_ms = int(since.timestamp() * 1000) if since else None
    items: list[dict[str, Any]] = []
    last_id: str | None = None
    async for entry_id, record in store.scan_stream(stream, before=cursor, since_ms=since_ms):
        if keep(record):
            items.append(record)
            last_id = entry_id
            if len(items) == limit:
                return {"items": items, "next_cursor": last_id}
    return {"items": items, "next_cursor": None}


@router.get("/warnings", response_model=Page[Warning])
async def list_warnings(
    store: StoreDep,
    _role: Role,
    uscc: str | None = None,
    rule_id: str | None = None,
    severity: Literal["yellow", "orange", "red"] | None = None,
    status: Literal["open", "closed"] | None = Query(
        None, description="open: raised records; closed: records of warnings that cleared"
    ),
    since: Since = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    """Warning records, newest first: one when a warning is raised (status open) and one
    when it closes (status closed), filtered by enterprise, rule, severity, status and
    time."""
    if uscc is not None:
        valid_uscc(uscc)

    def keep(w: dict[str, Any]) -> bool:
        return (
            (uscc is None or w["uscc"] == uscc)
            and (rule_id is None or w["rule_id"] == rule_id)
            and (severity is None or w["severity"] == severity)
            and (status is None or w.get("status", "open") == status)
        )

    return await _page(store, store.warnings_stream, limit, cursor, since, keep)


@router.get("/grade-changes", response_model=Page[GradeChange])
async def list_grade_changes(
    store: StoreDep,
    _role: Role,
    uscc: str | None = None,
    since: Since = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    """Grade changes, newest first."""
    if uscc is not None:
        valid_uscc(uscc)
    return await _page(
        store,
        store.grades_stream,
        limit,
        cursor,
        since,
        lambda g: uscc is None or g["uscc"] == uscc,
    )


@router.get("/dead-letters", response_model=Page[dict[str, Any]])
async def list_dead_letters(
    store: StoreDep,
    _role: Role,
    reason: str | None = None,
    since: Since = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    """Events that broke the contract, with the reason and the original bytes."""
    return await _page(
        store,
        store.dead_letters_stream,
        limit,
        cursor,
        since,
        lambda d: reason is None or d["reason"] == reason,
    )
