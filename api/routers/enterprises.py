"""One enterprise: its profile, grade, score and open warnings."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query

from api.deps import Role, StoreDep, Uscc
from api.errors import ApiError
from api.schemas import Enterprise, RiskLabel, Warning
from rules.grading import GRADE_LABELS

router = APIRouter(prefix="/enterprises", tags=["enterprises"])


@router.get(
    "/{uscc}",
    response_model=Enterprise,
    responses={
        404: {"description": "no record of this enterprise"},
        422: {"description": "not a valid USCC"},
    },
)
async def get_enterprise(uscc: Uscc, store: StoreDep, _role: Role) -> Enterprise:
    state = await store.get_enterprise(uscc)
    if state is None:
        raise ApiError(404, f"no record of enterprise {uscc}")
    risk = None
    if state.grade:
        zh, en, colour = GRADE_LABELS[state.grade]
        risk = RiskLabel(zh=zh, en=en, colour=colour)
    return Enterprise(
        uscc=state.uscc,
        status=state.status,
        profile=state.profile,
        grade=state.grade,
        score=state.score,
        risk=risk,
        contributions=state.contributions,
        ruleset_version=state.ruleset_version,
        warnings=list(state.open_warnings.values()),  # type: ignore[arg-type]
        events_seen=state.events_seen,
        last_event_at=state.last_event_at,
    )


@router.get(
    "/{uscc}/warnings",
    response_model=list[Warning],
    responses={422: {"description": "not a valid USCC"}},
)
async def enterprise_warnings(
    uscc: Uscc,
    store: StoreDep,
    _role: Role,
    status: Literal["open", "closed"] | None = None,
    limit: int = Query(50, ge=1, le=200),
) -> Any:
    """The enterprise's warnings: open ones as they stand now (with their latest
    evidence), closed ones from its history, newest first."""
    if status == "open":
        state = await store.get_enterprise(uscc)
        items = list(state.open_warnings.values()) if state else []
        return sorted(items, key=lambda w: w["raised_at"], reverse=True)[:limit]
    history = await store.enterprise_warnings(uscc, 200)
    return [w for w in history if status is None or w.get("status", "open") == status][:limit]
