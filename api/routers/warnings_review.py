"""The workbench's lists: warnings overdue for handling, the audit of every action,
and the dispositions per rule (the false-alarm rate)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request

from api import indexed
from api.assigned import assigned_page
from api.auth import Member, Regulator
from api.deps import ReadsDep, StoreDep, valid_uscc
from api.errors import ApiError
from api.handling import rule_rates
from api.schemas import AssignedWarning, Page
from api.schemas_handling import (
    DISPOSITIONS,
    HandlingAudit,
    OverdueWarning,
    RuleDispositions,
)

router = APIRouter(tags=["warning workbench"])
_CHUNK = 500


def _district_prefix(district: str | None) -> str | None:
    if district is not None and not (district.isdigit() and 2 <= len(district) <= 6):
        raise ApiError(422, "district must be a 2- to 6-digit division-code prefix")
    return district


@router.get("/warnings/overdue", response_model=list[OverdueWarning])
async def overdue_warnings(
    request: Request,
    caller: Member,
    store: ReadsDep,
    district: str | None = Query(None, description="a division-code prefix", examples=["4403"]),
    severity: Literal["yellow", "orange", "red"] | None = None,
    rule_id: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> Any:
    """Open warnings with no disposition past their due time (by severity, set by
    `CREDITWATCH_HANDLING_DUE_DAYS_*`), most overdue first, in the caller's district
    and the `district` asked, from the index of open warnings by district and severity."""
    wanted = _district_prefix(district)
    found = await indexed.overdue(
        store, request.app.state.settings, caller, wanted, severity, rule_id, limit
    )
    return [OverdueWarning(**w) for w in found]


@router.get(
    "/warnings/assigned",
    response_model=Page[AssignedWarning],
    responses={403: {"description": "another account's or a unit's list, asked by a department"}},
)
async def warnings_assigned(
    caller: Member,
    store: ReadsDep,
    account_id: str | None = Query(
        None, min_length=1, max_length=100, description="default: the caller's own account"
    ),
    unit: str | None = Query(None, min_length=1, max_length=200),
    status: Literal["open", "closed"] | None = Query(None, description="the warning's status now"),
    rule_id: str | None = Query(None, max_length=64),
    severity: Literal["yellow", "orange", "red"] | None = None,
    cursor: str | None = Query(None, max_length=300),
    limit: int = Query(50, ge=1, le=500),
) -> Any:
    """The warnings whose latest assignment is to an account (by default the caller's)
    or to a unit, newest assignment first, each with its status now and its handling
    (assignment, latest disposition), in the caller's district; from the assignee
    index each assignment keeps. Another account's or a unit's: regulators and admins."""
    if account_id is not None and unit is not None:
        raise ApiError(422, "give either account_id or unit, not both")
    own = unit is None and account_id in (None, caller.account_id)
    if not own and caller.role not in ("regulator", "admin"):
        raise ApiError(403, "only regulators and admins read another account's or a unit's")
    if unit is None and (account_id or caller.account_id) is None:
        return {"items": [], "next_cursor": None}  # the bootstrap key: no account of its own
    who = f"u:{unit}" if unit is not None else f"a:{account_id or caller.account_id}"
    return await assigned_page(store, caller, who, cursor, limit, status, rule_id, severity)


@router.get("/warnings/handling/audit", response_model=list[HandlingAudit])
async def handling_audit(
    store: StoreDep,
    caller: Regulator,
    uscc: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> Any:
    """Every workbench action (assign, dispose, snooze, lift_snooze), newest first:
    who, what, when and why; in the caller's district."""
    if uscc is not None:
        valid_uscc(uscc)
    items: list[dict[str, Any]] = []
    seen: dict[str, bool] = {}  # USCC -> in the caller's scope, asked once each
    async for _id, record in store.scan_stream(store.handling_audit, before=None, since_ms=None):
        firm = record.get("uscc", "")
        if uscc is not None and firm != uscc:
            continue
        if firm not in seen:
            district = (await store.districts([firm])).get(firm)
            seen[firm] = caller.sees(district)
        if seen[firm]:
            items.append(record)
        if len(items) >= limit:
            break
    caller.saw(len(items))
    return items


@router.get("/warnings/dispositions/summary", response_model=list[RuleDispositions])
async def dispositions_summary(caller: Member, store: ReadsDep) -> Any:
    """Per rule, the warnings by their latest disposition and the false-alarm rate
    (false_alarm / all with a disposition). City-wide figures: a rule's rate is not
    an enterprise's record, so district scope does not narrow it."""
    rules = rule_rates(await store.disposition_counts())
    found = []
    for rule_id, counts in rules.items():
        total = sum(counts.values())
        known = {d: counts.get(d, 0) for d in DISPOSITIONS}
        rate = known["false_alarm"] / total
        found.append(RuleDispositions(rule_id=rule_id, total=total, false_alarm_rate=rate, **known))
    caller.saw(len(found))
    return found
