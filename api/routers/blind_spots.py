"""Blind spots (监管盲区): low-grade active firms nobody has inspected or penalised
lately, read from the index of firms by the day they were last seen (api/indexed.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Query

from api import indexed
from api.auth import Member
from api.deps import ReadsDep
from api.errors import ApiError, clip
from api.schemas_inspections import BlindSpots
from rules.calendar import CHINA, add_months
from rules.grading import GRADES

router = APIRouter(tags=["inspections"])


@router.get(
    "/blind-spots",
    response_model=BlindSpots,
    responses={422: {"description": "invalid grades, district or date"}},
)
async def blind_spots(
    store: ReadsDep,
    caller: Member,
    months: int = Query(12, ge=1, le=120, description="look back this many months"),
    grades: str = Query("C,D", description="comma-separated grades", examples=["C,D"]),
    district: str | None = Query(None, pattern=r"^\d{2,6}$", description="a prefix"),
    limit: int = Query(100, ge=1, le=1000),
    as_of: str | None = Query(
        None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="default today (Beijing)"
    ),
) -> Any:
    """Active firms of these grades with no inspection and no penalty in the last
    `months` months before `as_of` (by their latest dates), worst first: D before C,
    then the lowest score. Only the caller's district scope is searched, in the index
    of active graded firms by the day they were last inspected or penalised."""
    wanted = sorted({g.strip().upper() for g in grades.split(",") if g.strip()})
    if not wanted or any(g not in GRADES for g in wanted):
        raise ApiError(
            422, f"grades must be a comma-separated subset of A,B,C,D, not {clip(grades)!r}"
        )
    try:  # a date in the calendar: the pattern alone lets 2026-13-01 through
        today = date.fromisoformat(as_of) if as_of else datetime.now(CHINA).date()
        since = add_months(today, -months)  # before year 1 is a ValueError too
    except ValueError:
        raise ApiError(
            422, f"as_of {clip(str(as_of))!r} is not a date (YYYY-MM-DD) after year 1"
        ) from None
    total, found = await indexed.blind_spots(store, caller, wanted, district, since, limit)
    return {
        "as_of": today.isoformat(),
        "since": since.isoformat(),
        "months": months,
        "grades": wanted,
        "total": total,
        "items": found,
    }
