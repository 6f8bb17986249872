"""The warning workbench (风险研判处置): assign a warning, record what was done about
it, snooze a rule for one firm; every action audited. Regulators act within their
district; departments read. The snooze's effect on pushes is in api/handling.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from api.auth import Caller, Member, Regulator
from api.deps import ReadsDep, StoreDep, Uscc, check_scope
from api.errors import ApiError, clip
from api.handling import DISPOSITIONS_DONE, due_at, in_force, snoozed
from api.schemas_handling import (
    AssignRequest,
    DispositionRequest,
    Snooze,
    SnoozeRequest,
    WarningHandling,
)
from rules.calendar import CHINA
from rules.dispositions import Judgement
from rules.indicators import all_rules
from streams.store.api_ports import ApiReads, ApiStore

router = APIRouter(tags=["warning workbench"])
MAX_SNOOZE_DAYS = 366
#: an action decided from a snooze that another changed meanwhile decides again, so often
_TRIES = 5
NO_WARNING: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such warning of this enterprise (or not in your district)"}
}

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[A-Za-z0-9_.:-]{1,100}$",
        description="a retry with the same key applies nothing twice and answers the same",
    ),
]


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def _warning(store: ApiReads, uscc: str, warning_id: str) -> tuple[dict[str, Any], str]:
    """The warning as it stands (open, from the state) or as recorded, and its status."""
    state = await store.get_enterprise(uscc)
    for open_warning in state.open_warnings.values() if state else ():
        if open_warning.get("warning_id") == warning_id:
            return open_warning, "open"
    for record in await store.enterprise_warnings(uscc, 200):
        if record.get("warning_id") == warning_id:
            return record, "closed"
    raise ApiError(404, f"no warning {clip(warning_id)!r} of enterprise {uscc}")


def _view(
    request: Request, warning: dict[str, Any], status: str, handling: dict[str, Any]
) -> dict[str, Any]:
    wid = warning["warning_id"]
    disposition = handling.get(f"d:{wid}")
    due = due_at(request.app.state.settings, warning)
    return WarningHandling(
        uscc=warning["uscc"],
        warning_id=wid,
        rule_id=warning["rule_id"],
        severity=warning.get("severity"),
        raised_at=warning["raised_at"],
        status="open" if status == "open" else "closed",
        assignment=handling.get(f"a:{wid}"),
        disposition=disposition,
        snoozed=snoozed(handling, warning),
        due_at=due.isoformat() if due and status == "open" and disposition is None else None,
    ).model_dump(mode="json")


async def _act(
    request: Request,
    store: ApiStore,
    caller: Caller,
    uscc: str,
    warning_id: str,
    key: str | None,
    action: str,
    value: dict[str, Any],
) -> dict[str, Any]:
    """Record an assignment or a disposition of a warning, with its audit entry."""
    await check_scope(store, caller, uscc)
    warning, status = await _warning(store, uscc, warning_id)
    field = f"{'a' if action == 'assign' else 'd'}:{warning_id}"
    if action == "dispose":
        value = {**value, "rule_id": warning["rule_id"]}
    handling = {**await store.handling(uscc), field: value}
    audit = {
        "action": action,
        "uscc": uscc,
        "rule_id": warning["rule_id"],
        "warning_id": warning_id,
        "by": value["by"],
        "at": value["at"],
        "assignment" if action == "assign" else "disposition": value,
    }
    answer = _view(request, warning, status, handling)
    count_rule = warning["rule_id"] if action == "dispose" else ""
    # what the rules read of a disposition: the warning as it stood when judged
    judgement = (
        Judgement(
            warning_id=warning_id,
            rule_id=warning["rule_id"],
            disposition=value["disposition"],
            evidence=list(warning.get("evidence") or []),
            message=warning.get("message") or "",
            at=value["at"],
        )
        if action == "dispose"
        else None
    )
    applied, found = await store.handle_warning(
        uscc, field, value, audit, answer, key, count_rule, dict(judgement) if judgement else None
    )
    if applied == "applied" and action == "dispose":
        DISPOSITIONS_DONE.labels(warning["rule_id"], value["disposition"]).inc()
    assert found is not None  # (no expected value: never "changed")
    return found


@router.get(
    "/enterprises/{uscc}/warnings/{warning_id}/handling",
    response_model=WarningHandling,
    responses=NO_WARNING,
)
async def warning_handling(
    request: Request, caller: Member, uscc: Uscc, warning_id: str, store: ReadsDep
) -> Any:
    """A warning and what has been done about it: its assignment, its latest
    disposition, whether it was raised under a snooze, and when it is overdue."""
    await check_scope(store, caller, uscc)
    warning, status = await _warning(store, uscc, warning_id)
    caller.saw(1)
    return _view(request, warning, status, await store.handling(uscc))


@router.put(
    "/enterprises/{uscc}/warnings/{warning_id}/assignment",
    response_model=WarningHandling,
    responses={**NO_WARNING, 422: {"description": "neither or both of account_id and unit"}},
)
async def assign_warning(
    request: Request,
    caller: Regulator,
    uscc: Uscc,
    warning_id: str,
    body: AssignRequest,
    store: StoreDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Assign a warning to an account or to a unit (free text); a new assignment
    replaces the last. Audited."""
    if body.account_id is not None and await store.get_account(body.account_id) is None:
        raise ApiError(422, f"no account {clip(body.account_id)!r}")
    value = {**body.model_dump(), "by": caller.account_id or "admin", "at": _now()}
    return await _act(request, store, caller, uscc, warning_id, idempotency_key, "assign", value)


@router.put(
    "/enterprises/{uscc}/warnings/{warning_id}/disposition",
    response_model=WarningHandling,
    responses={**NO_WARNING, 422: {"description": "unknown disposition, or no department"}},
)
async def dispose_warning(
    request: Request,
    caller: Regulator,
    uscc: Uscc,
    warning_id: str,
    body: DispositionRequest,
    store: StoreDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Record what was done: verified, false_alarm, referred (to `department`) or
    rectified, with a note. A later disposition replaces the last (both stay in the
    audit and the enterprise's history)."""
    value = {**body.model_dump(), "by": caller.account_id or "admin", "at": _now()}
    return await _act(request, store, caller, uscc, warning_id, idempotency_key, "dispose", value)


def _known_rule(rule_id: str) -> str:
    if rule_id not in {rule.rule_id for rule in all_rules()}:
        raise ApiError(422, f"no rule {clip(rule_id)!r}")
    return rule_id


def _snooze_view(value: dict[str, Any]) -> dict[str, Any]:
    return Snooze(**value, in_force=in_force(value)).model_dump(mode="json")


@router.get("/enterprises/{uscc}/snoozes", response_model=list[Snooze])
async def enterprise_snoozes(
    caller: Member,
    uscc: Uscc,
    store: ReadsDep,
    past: bool = Query(False, description="also snoozes lifted or over (each rule's latest)"),
) -> Any:
    """The rules snoozed for this enterprise: their warnings are recorded and listed
    (marked `snoozed`) but not pushed to live streams or webhooks."""
    await check_scope(store, caller, uscc)
    handling = await store.handling(uscc)
    found = [_snooze_view(v) for k, v in sorted(handling.items()) if k.startswith("s:")]
    found = [s for s in found if past or s["in_force"]]
    caller.saw(len(found))
    return found


@router.put(
    "/enterprises/{uscc}/snoozes/{rule_id}",
    response_model=Snooze,
    responses={
        404: {"description": "no record of this enterprise"},
        409: {"description": "other actions kept changing this snooze meanwhile: retry"},
        422: {"description": "unknown rule, or a day outside the next year"},
    },
)
async def snooze_rule(
    caller: Regulator,
    uscc: Uscc,
    rule_id: str,
    body: SnoozeRequest,
    store: StoreDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Snooze a rule for one enterprise through the end of `until` (Beijing time): the
    rule still evaluates and its warnings are recorded, but not pushed. Snoozing again
    while one holds changes its end and reason. Audited."""
    await check_scope(store, caller, uscc)
    _known_rule(rule_id)
    if not await store.enterprise_known(uscc):
        raise ApiError(404, f"no record of enterprise {uscc}")
    today = datetime.now(CHINA).date()
    if not today <= body.until <= today + timedelta(days=MAX_SNOOZE_DAYS):
        raise ApiError(422, f"until must be between {today} and {MAX_SNOOZE_DAYS} days later")
    by, field = caller.account_id or "admin", f"s:{rule_id}"
    current = (await store.handling(uscc)).get(field)
    for _ in range(_TRIES):
        now = _now()
        # a snooze that still holds keeps its start: its earlier warnings stay snoozed
        start = current["set_at"] if current and in_force(current) else now
        value = {
            "uscc": uscc,
            "rule_id": rule_id,
            "until": body.until.isoformat(),
            "reason": body.reason,
            "set_by": by,
            "set_at": start,
            "lifted_at": None,
            "lifted_by": None,
            "lift_reason": None,
        }
        audit: dict[str, Any] = {"action": "snooze", "uscc": uscc, "rule_id": rule_id}
        audit |= {"by": by, "at": now}
        audit |= {"reason": body.reason, "until": value["until"]}
        applied, found = await store.handle_warning(
            uscc, field, value, audit, _snooze_view(value), idempotency_key, expected=current
        )
        if applied != "changed":
            return found
        current = found  # another action came first: decide again from what it left
    raise _busy(rule_id, uscc)


def _busy(rule_id: str, uscc: str) -> ApiError:
    return ApiError(
        409,
        f"the snooze of {clip(rule_id)!r} for enterprise {uscc} kept changing; try again",
        code="conflict",
    )


@router.delete(
    "/enterprises/{uscc}/snoozes/{rule_id}",
    status_code=204,
    responses={
        404: {"description": "no snooze of this rule in force for this enterprise"},
        409: {"description": "other actions kept changing this snooze meanwhile: retry"},
    },
)
async def lift_snooze(
    caller: Regulator,
    uscc: Uscc,
    rule_id: str,
    store: StoreDep,
    reason: str = Query(..., min_length=1, max_length=1000, description="why it is lifted"),
) -> Response:
    """Lift a snooze before its end: the rule's next warnings are pushed again. Audited."""
    await check_scope(store, caller, uscc)
    field = f"s:{rule_id}"
    current = (await store.handling(uscc)).get(field)
    for _ in range(_TRIES):
        if current is None or not in_force(current):
            raise ApiError(404, f"no snooze of {clip(rule_id)!r} in force for enterprise {uscc}")
        now, by = _now(), caller.account_id or "admin"
        value = {**current, "lifted_at": now, "lifted_by": by, "lift_reason": reason}
        audit: dict[str, Any] = {"action": "lift_snooze", "uscc": uscc, "rule_id": rule_id}
        audit |= {"by": by, "at": now}
        audit |= {"reason": reason, "until": current["until"]}
        applied, found = await store.handle_warning(
            uscc, field, value, audit, _snooze_view(value), expected=current
        )
        if applied != "changed":
            return Response(status_code=204)
        current = found  # another action came first: decide again from what it left
    raise _busy(rule_id, uscc)
