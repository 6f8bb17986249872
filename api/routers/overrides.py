"""A regulator's grade override: set with a reason and an expiry, audited, lifted by
hand or by its expiry. The worker applies it (rules/engine.py) and records it in the
grade's history."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query, Response

from api.auth import Caller, Regulator
from api.deps import ReadsDep, StoreDep, Uscc, check_scope, valid_uscc
from api.errors import ApiError
from api.schemas import Override, OverrideRequest
from rules.calendar import CHINA
from streams.store.api_ports import ApiReads

router = APIRouter(tags=["overrides"])
MAX_DAYS = 731


def _today() -> date:
    return datetime.now(CHINA).date()


@router.put(
    "/enterprises/{uscc}/override",
    response_model=Override,
    responses={422: {"description": "invalid grade, reason or expiry"}},
)
async def set_override(
    caller: Regulator, uscc: Uscc, body: OverrideRequest, store: StoreDep
) -> Any:
    """Put a grade in force for an enterprise until the end of `expires_on` (Beijing
    time), whatever its indicators say. The enterprise is re-evaluated at once; the
    grade change, its history and the audit record name the override and its reason."""
    await check_scope(store, caller, uscc)
    today = _today()
    if body.expires_on < today or body.expires_on > today + timedelta(days=MAX_DAYS):
        raise ApiError(422, f"expires_on must be between {today} and {MAX_DAYS} days later")
    now = datetime.now(UTC).isoformat()
    override = {
        "grade": body.grade,
        "reason": body.reason,
        "set_at": now,
        "expires_on": body.expires_on.isoformat(),
        "set_by": caller.account_id,
        "override_id": uuid.uuid4().hex[:16],
    }
    audit = {"action": "set", "uscc": uscc, **override, "at": now, "by": caller.account_id}
    await store.set_override(uscc, override, audit)
    return override


@router.delete(
    "/enterprises/{uscc}/override",
    status_code=204,
    responses={404: {"description": "no override for this enterprise"}},
)
async def lift_override(
    caller: Regulator,
    uscc: Uscc,
    store: StoreDep,
    reason: str = Query(..., min_length=1, max_length=1000, description="why it is lifted"),
) -> Response:
    """Lift an override before its expiry; the enterprise is re-evaluated at once."""
    await check_scope(store, caller, uscc)
    now = datetime.now(UTC).isoformat()
    audit = {"action": "lift", "uscc": uscc, "reason": reason, "at": now, "by": caller.account_id}
    if not await store.lift_override(uscc, audit):
        raise ApiError(404, f"no override for enterprise {uscc}")
    return Response(status_code=204)


@router.get("/overrides", response_model=list[Override])
async def overrides_in_force(store: ReadsDep, caller: Regulator) -> Any:
    """Overrides that have not expired (by Beijing date)."""
    today = _today().isoformat()
    found = await store.overrides_in_store()
    seen = await _in_scope(store, caller, found)
    return [
        {**o, "uscc": u} for u, o in sorted(found.items()) if o["expires_on"] >= today and u in seen
    ]


@router.get("/overrides/audit", response_model=list[dict[str, Any]])
async def override_audit(
    store: StoreDep,
    caller: Regulator,
    limit: int = Query(100, ge=1, le=1000),
    uscc: str | None = Query(None, description="one enterprise's only"),
) -> Any:
    """Every override set or lifted, newest first: who, what, why and when."""
    if uscc is not None:
        valid_uscc(uscc)
    wanted = uscc
    items: list[dict[str, Any]] = []
    seen: dict[str, bool] = {}  # USCC -> in the caller's scope, asked once each
    async for _id, record in store.scan_stream(store.override_audit, before=None, since_ms=None):
        uscc = record.get("uscc", "")
        if wanted is not None and uscc != wanted:
            continue
        if uscc not in seen:
            seen[uscc] = uscc in await _in_scope(store, caller, [uscc])
        if seen[uscc]:
            items.append(record)
        if len(items) >= limit:
            break
    return items


async def _in_scope(store: ApiReads, caller: Caller, usccs: Iterable[str]) -> set[str]:
    """Those of `usccs` in a district-scoped caller's district (all for others)."""
    wanted = list(usccs)
    if caller.district is None:
        return set(wanted)
    return {u for u, district in (await store.districts(wanted)).items() if caller.sees(district)}
