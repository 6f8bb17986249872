"""A warning with its handling and the workbench's actions (htmx partials), and the
overdue list: every read and action goes through the workbench API's route functions
as the session's caller."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import Caller
from api.console.actions import ACTING_ROLES, OUTCOMES, Target, perform
from api.console.overview import SEVERITIES
from api.console.render import render
from api.console.views_session import guard
from api.deps import valid_uscc
from api.errors import ApiError
from api.routers import enterprises, warnings_handling, warnings_review
from rules.catalogue import REGISTRY

router = APIRouter(prefix="/console")


async def _handling_values(
    request: Request, caller: Caller, uscc: str, wid: str
) -> dict[str, object]:
    """The warning's handling and its firm's snoozes, as the API answers them."""
    store = request.app.state.store
    found = await warnings_handling.warning_handling(request, caller, uscc, wid, store)
    snoozes = await warnings_handling.enterprise_snoozes(caller, uscc, store, False)
    rule_snooze = next((s for s in snoozes if s["rule_id"] == found["rule_id"]), None)
    return {
        "h": found,
        "snooze": rule_snooze,
        "outcomes": OUTCOMES,
        "may_act": caller.role in ACTING_ROLES,
    }


@router.get("/warnings/{uscc}/{warning_id}")
async def warning_page(request: Request, uscc: str, warning_id: str) -> Response:
    page, caller = await guard(request, "workbench")
    valid_uscc(uscc)
    store = request.app.state.store
    records = await enterprises.enterprise_warnings(caller, uscc, store, None, 200)
    found = [w for w in records if w["warning_id"] == warning_id]
    if not found:
        raise ApiError(404, f"no warning {warning_id} of enterprise {uscc}")
    warning = found[0]
    page.values = {"w": warning, "rule": REGISTRY.get(warning["rule_id"])}
    page.values |= await _handling_values(request, caller, uscc, warning_id)
    return render(page, "warning.html")


@router.post("/warnings/{uscc}/{warning_id}/{name}")
async def warning_action(request: Request, uscc: str, warning_id: str, name: str) -> Response:
    """One of the workbench's actions, posted from the warning's page (CSRF-checked).
    From htmx: the handling part of the page again, with the API's refusal if any (at
    its status: console.js swaps it in); without script: back to the page."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    page, caller = await guard(request, "workbench", form_token=form.pop("csrf_token", None))
    valid_uscc(uscc)
    partial = bool(request.headers.get("HX-Request"))
    status, error = 200, None
    try:
        rule_id = form.pop("rule_id", "")
        await perform(Target(request, caller, uscc, warning_id, rule_id), name, form)
    except ApiError as exc:
        if not partial:
            raise
        status, error = exc.status, exc.message
    if not partial:
        return RedirectResponse(f"/console/warnings/{uscc}/{warning_id}", status_code=303)
    page.values = {"error": error, "done": None if error else name}
    page.values |= await _handling_values(request, caller, uscc, warning_id)
    return render(page, "_handling.html", status=status)


@router.get("/warnings/overdue")
async def overdue_page(
    request: Request,
    district: str | None = Query(None, pattern=r"^(\d{2,6})?$"),
    severity: Literal["yellow", "orange", "red", ""] | None = None,
) -> Response:
    """The API's overdue list: open warnings with no disposition past their due time."""
    page, caller = await guard(request, "workbench")
    store = request.app.state.store
    items = await warnings_review.overdue_warnings(
        request, caller, store, district or None, severity or None, None, 200
    )
    page.values = {
        "items": items,
        "filters": {"district": district or "", "severity": severity or ""},
        "severities": SEVERITIES,
    }
    return render(page, "overdue.html")
