"""An enterprise's grade history: every change with its cause and reasons."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from api.auth import Member
from api.deps import ReadsDep, Uscc, check_scope
from api.errors import ApiError
from api.grades import history_view
from api.schemas import HistoryEntry

router = APIRouter(prefix="/enterprises", tags=["enterprises"])


@router.get(
    "/{uscc}/history",
    response_model=list[HistoryEntry],
    responses={404: {"description": "no record of this enterprise"}},
)
async def grade_history(
    caller: Member, uscc: Uscc, store: ReadsDep, limit: int = Query(100, ge=1, le=1000)
) -> Any:
    """Every grade change, newest first, in event time: when it took effect, what caused
    it (an event id, `recheck:TIME` when a statutory clock ran out, or an override), and
    the indicator contributions that moved between the two grades."""
    await check_scope(store, caller, uscc)
    entries = await store.timeline(uscc)
    caller.saw(len(entries))
    if not entries:
        raise ApiError(404, f"no record of enterprise {uscc}")
    return history_view(entries)[:limit]
