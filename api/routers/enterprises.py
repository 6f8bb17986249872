"""One enterprise: its profile, grade, score and open warnings, or its grade as it was
on a past date."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query

from api.auth import Member
from api.deps import ReadsDep, Uscc, check_scope
from api.errors import ApiError
from api.grades import as_of_view, parse_as_of, risk_label
from api.handling import in_force, mark_snoozed
from api.privacy import masked_profile
from api.schemas import Enterprise, GradeAsOf, InspectionResult, Warning
from rules import entered_results
from rules.state import EnterpriseState

router = APIRouter(prefix="/enterprises", tags=["enterprises"])


@router.get(
    "/{uscc}",
    response_model=Enterprise | GradeAsOf,
    responses={
        404: {"description": "no record of this enterprise (on that date)"},
        422: {"description": "not a valid USCC or date"},
    },
)
async def get_enterprise(
    caller: Member,  # first: the key is checked before the input
    uscc: Uscc,
    store: ReadsDep,
    as_of: str | None = Query(
        None,
        description="a date (YYYY-MM-DD: as at the end of that day, Beijing time) or an "
        "RFC 3339 instant: the grade, score and indicators as they were then",
        examples=["2025-06-30"],
    ),
) -> Enterprise | GradeAsOf:
    """The enterprise as it stands (or stood `as_of`); personal data is masked unless
    the caller's role may see it."""
    await check_scope(store, caller, uscc)
    caller.saw(1)
    if as_of is not None:
        at, inclusive = parse_as_of(as_of)
        entry = await store.as_of(uscc, at, inclusive=inclusive)
        if entry is None:
            raise ApiError(404, f"no grade of enterprise {uscc} as of {as_of}")
        return as_of_view(uscc, as_of, entry)
    state = await store.get_enterprise(uscc)
    if state is None:
        raise ApiError(404, f"no record of enterprise {uscc}")
    handling = await store.handling(uscc)
    snoozes = [
        {**s, "in_force": True}
        for field, s in sorted(handling.items())
        if field.startswith("s:") and in_force(s)
    ]
    return Enterprise(
        uscc=state.uscc,
        status=state.status,
        profile=state.profile if caller.personal_data else masked_profile(state.profile),
        grade=state.grade,
        score=state.score,
        risk=risk_label(state.grade) if state.grade else None,
        contributions=state.contributions,
        ruleset_version=state.ruleset_version,
        warnings=await mark_snoozed(store, list(state.open_warnings.values())),  # type: ignore[arg-type]
        computed_grade=state.computed_grade,
        override=state.override if state.overridden else None,  # type: ignore[arg-type]
        repairs=list(state.repairs.values()),  # type: ignore[arg-type]
        recheck_at=state.recheck_at,
        snoozes=snoozes,  # type: ignore[arg-type]
        inspections=_inspections(state),
        events_seen=state.events_seen,
        last_event_at=state.last_event_at,
    )


def _inspections(state: EnterpriseState) -> list[InspectionResult]:
    """Each plan's result, newest first: its event's, or the one entered if it counts
    in its place (rules/entered_results.py; no event id)."""
    found = {plan: InspectionResult(plan_id=plan, **r) for plan, r in state.plan_results.items()}
    for plan, result, at in entered_results.counted(state):
        found[plan] = InspectionResult(plan_id=plan, result=result, at=at, event_id=None)
    return sorted(found.values(), key=lambda r: r.at, reverse=True)


@router.get(
    "/{uscc}/warnings",
    response_model=list[Warning],
    responses={422: {"description": "not a valid USCC"}},
)
async def enterprise_warnings(
    caller: Member,
    uscc: Uscc,
    store: ReadsDep,
    status: Literal["open", "closed"] | None = None,
    limit: int = Query(50, ge=1, le=200),
) -> Any:
    """The enterprise's warnings: open ones as they stand now (with their latest
    evidence), closed ones from its history, newest first."""
    await check_scope(store, caller, uscc)
    if status == "open":
        state = await store.get_enterprise(uscc)
        items = list(state.open_warnings.values()) if state else []
        found = sorted(items, key=lambda w: w["raised_at"], reverse=True)[:limit]
    else:
        history = await store.enterprise_warnings(uscc, 200)
        found = [w for w in history if status is None or w.get("status", "open") == status]
        found = found[:limit]
    caller.saw(len(found))
    return await mark_snoozed(store, found)
