"""双随机: plans drawn (a draw's counts previewed before it is made), a plan's targets,
their inspectors and results entered one by one, the public summary; and blind spots
(监管盲区). Through the API's own route functions, as the session's caller."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.auth import Caller
from api.console.forms import plan_request, read_form
from api.console.render import Page, render
from api.console.views_session import guard
from api.deps import valid_uscc
from api.errors import ApiError, invalid_request
from api.routers import blind_spots, inspections
from api.schemas_inspections import ResultEntry
from rules.grading import GRADES
from rules.inspections import DEFAULT_RATIOS, RESULTS

router = APIRouter(prefix="/console/inspections")


PLANS_PER_PAGE = 50


async def _list_page(
    request: Request,
    page: Page,
    caller: Caller,
    form: dict[str, Any],
    status: int = 200,
    before: str | None = None,
) -> Response:
    """The draw form, a page of plans (the newest, or those after `before`) and the
    blind spots."""
    store = request.app.state.store
    plans = await inspections.list_plans(store, caller, PLANS_PER_PAGE, before)
    spots = await blind_spots.blind_spots(store, caller, 12, "C,D", None, 50, None)
    more = plans[-1]["plan_id"] if len(plans) == PLANS_PER_PAGE else None
    page.values |= {"plans": plans, "spots": spots, "form": form, "older": more}
    page.values |= {"before": before}
    page.values |= {"grades": GRADES, "default_ratios": DEFAULT_RATIOS}
    return render(page, "inspections.html", status=status)


@router.get("")
async def inspections_page(request: Request, before: str | None = None) -> Response:
    page, caller = await guard(request, "inspections")
    return await _list_page(request, page, caller, {}, before=before or None)


@router.post("/preview")
async def preview(request: Request) -> Response:
    """The counts a draw with the form's settings would make, and the button to make
    it: from htmx the part alone, without script the page with it."""
    fields, pairs, token = await read_form(request)
    page, caller = await guard(request, "inspections", form_token=token)
    try:
        body = plan_request(fields, pairs)
        found = await inspections.preview_plan(body, request.app.state.store, caller)
        page.values, status = {"preview": found, "error": None}, 200
    except ApiError as exc:  # shown where the counts would be
        page.values, status = {"preview": None, "error": exc.message}, exc.status
    page.values["grades"] = GRADES
    if request.headers.get("HX-Request"):  # the part, swapped in whatever it says
        return render(page, "_plan_preview.html")
    return await _list_page(request, page, caller, {"fields": fields, "pairs": pairs}, status)


@router.post("/plans")
async def draw(request: Request) -> Response:
    """Draw the plan previewed; then its page (from htmx: by HX-Redirect). A refusal
    shows where the counts were."""
    fields, pairs, token = await read_form(request)
    page, caller = await guard(request, "inspections", form_token=token)
    partial = bool(request.headers.get("HX-Request"))
    try:
        body = plan_request(fields, pairs)
        plan = await inspections.draw_plan(body, request.app.state.store, caller)
    except ApiError as exc:
        if partial:
            page.values = {"preview": None, "error": exc.message}
            return render(page, "_plan_preview.html")
        page.values = {"draw_error": exc.message}
        form = {"fields": fields, "pairs": pairs}
        return await _list_page(request, page, caller, form, exc.status)
    where = f"/console/inspections/plans/{plan['plan_id']}"
    if partial:
        return Response(status_code=204, headers={"HX-Redirect": where})
    return RedirectResponse(where, status_code=303)


@router.get("/plans/{plan_id}")
async def plan_page(request: Request, plan_id: str) -> Response:
    page, caller = await guard(request, "inspections")
    plan = await inspections.get_plan(request.app.state.store, caller, plan_id)
    page.values = {"plan": plan, "grades": GRADES, "results": RESULTS}
    return render(page, "plan.html")


@router.post("/plans/{plan_id}/targets/{uscc}/result")
async def enter_result(request: Request, plan_id: str, uscc: str) -> Response:
    """A target's result: from htmx its row again (with the API's refusal in it, if
    any), without script back to the plan."""
    fields, _, token = await read_form(request)
    page, caller = await guard(request, "inspections", form_token=token)
    valid_uscc(uscc)
    findings = [line.strip() for line in fields.get("findings", "").splitlines() if line.strip()]
    store = request.app.state.store
    error = None
    try:
        try:
            body = ResultEntry.model_validate(
                {"result": fields.get("result"), "findings": findings}
            )
        except ValidationError as exc:
            raise invalid_request(exc.errors()) from exc
        target = await inspections.enter_result(body, store, caller, uscc, plan_id)
    except ApiError as exc:
        if not request.headers.get("HX-Request"):
            raise
        plan = await inspections.get_plan(store, caller, plan_id)
        target = next((t for t in plan["targets"] if t["uscc"] == uscc), None)
        if target is None:
            raise
        error = exc.message
    if not request.headers.get("HX-Request"):
        return RedirectResponse(f"/console/inspections/plans/{plan_id}", status_code=303)
    page.values = {"plan": {"plan_id": plan_id}, "tg": target, "results": RESULTS}
    page.values |= {"error": error, "saved": error is None}
    return render(page, "_plan_target.html")
