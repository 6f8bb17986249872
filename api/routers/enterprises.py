"""One enterprise: its profile, grade, score and open warnings."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Role, StoreDep, Uscc
from api.errors import ApiError
from api.schemas import Enterprise, RiskLabel
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
        warnings=list(state.open_warnings.values()),  # type: ignore[arg-type]
        events_seen=state.events_seen,
        last_event_at=state.last_event_at,
    )
