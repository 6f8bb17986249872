"""The output logs: warnings, grade changes and dead letters, newest first, paginated
(api/paging.py)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query

from api.auth import Member, Regulator
from api.deps import ReadsDep, valid_uscc
from api.handling import mark_snoozed
from api.paging import Cursor, Limit, Since, stream_page
from api.schemas import GradeChange, Page, Warning

router = APIRouter(tags=["outputs"])


@router.get("/warnings", response_model=Page[Warning])
async def list_warnings(
    store: ReadsDep,
    caller: Member,
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

    page = await stream_page(store, store.warnings_stream, limit, cursor, since, keep, caller)
    return {**page, "items": await mark_snoozed(store, page["items"])}


@router.get("/grade-changes", response_model=Page[GradeChange])
async def list_grade_changes(
    store: ReadsDep,
    caller: Member,
    uscc: str | None = None,
    since: Since = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    """Grade changes, newest first."""
    if uscc is not None:
        valid_uscc(uscc)
    return await stream_page(
        store,
        store.grades_stream,
        limit,
        cursor,
        since,
        lambda g: uscc is None or g["uscc"] == uscc,
        caller,
    )


@router.get("/dead-letters", response_model=Page[dict[str, Any]])
async def list_dead_letters(
    store: ReadsDep,
    caller: Regulator,
    reason: str | None = None,
    since: Since = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    """Events that broke the contract, with the reason and the original bytes."""
    return await stream_page(
        store,
        store.dead_letters_stream,
        limit,
        cursor,
        since,
        lambda d: reason is None or d["reason"] == reason,
        caller,
    )
