"""An enterprise's history: every grade change with its cause and reasons, and every
disposition of its warnings (the warning workbench)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from api.auth import Member
from api.deps import ReadsDep, Uscc, check_scope
from api.errors import ApiError
from api.grades import history_view
from api.schemas import HistoryEntry
from api.schemas_handling import DispositionEntry

router = APIRouter(prefix="/enterprises", tags=["enterprises"])
HistoryKind = Literal["grade_change", "disposition"]
KindsQuery = Annotated[
    list[HistoryKind] | None,
    Query(description="only these kinds of entry (repeatable); both by default"),
]


@router.get(
    "/{uscc}/history",
    response_model=list[HistoryEntry | DispositionEntry],
    responses={404: {"description": "no record of this enterprise"}},
)
async def grade_history(
    caller: Member,
    uscc: Uscc,
    store: ReadsDep,
    limit: int = Query(100, ge=1, le=1000),
    kind: KindsQuery = None,
) -> Any:
    """Every grade change, newest first, in event time: when it took effect, what caused
    it (an event id, `recheck:TIME` when a statutory clock ran out, or an override), and
    the indicator contributions that moved between the two grades; and every
    disposition of its warnings (`kind: disposition`), at the time it was recorded."""
    await check_scope(store, caller, uscc)
    entries = await store.timeline(uscc)
    if not entries:
        raise ApiError(404, f"no record of enterprise {uscc}")
    kinds = set(kind or ("grade_change", "disposition"))
    found: list[HistoryEntry | DispositionEntry] = []
    if "grade_change" in kinds:
        found += history_view(entries)
    if "disposition" in kinds:
        found += [
            DispositionEntry(**action["disposition"], warning_id=action["warning_id"])
            for action in await store.handling_log(uscc)
            if action.get("action") == "dispose"
        ]
    # ISO times with offsets sort as instants once read as such
    found.sort(key=lambda e: _instant(e.at), reverse=True)
    caller.saw(min(len(found), limit))
    return found[:limit]


def _instant(at: str) -> float:
    moment = datetime.fromisoformat(at)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
