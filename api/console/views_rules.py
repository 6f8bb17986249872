"""规则: the rule set in force and its versions, candidates (upload, their settings
against those in force, deletion), a backtest's progress and figures, publication; all
through the API's own route functions, as the session's caller."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import Caller, RoleName
from api.console.forms import read_form, rules_document
from api.console.render import GRADE_COLOURS, Page, render
from api.console.views_session import guard
from api.errors import ApiError
from api.routers import rule_candidates as candidates
from api.routers import rules, warnings_review
from api.schemas_rules import BacktestStart

router = APIRouter(prefix="/console/rules")
#: who may run a backtest (the API's `Regulator`); uploads and publication: admin
BACKTESTERS: tuple[RoleName, ...] = ("admin", "regulator")


async def _rules_page(request: Request, page: Page, caller: Caller, status: int = 200) -> Response:
    store = request.app.state.store
    may_see = caller.role in BACKTESTERS
    page.values |= {
        "ruleset": await rules.get_rules(store, caller),
        # city-wide figures about rules, the API's summary (not narrowed by district)
        "rates": await warnings_review.dispositions_summary(caller, store),
        "history": await candidates.ruleset_history(store, caller, 20),
        "candidates": await candidates.list_candidates(store, caller, 20) if may_see else [],
        "is_admin": caller.role == "admin",
    }
    return render(page, "rules.html", status=status)


@router.get("")
async def rules_page(request: Request) -> Response:
    page, caller = await guard(request, "rules")
    asked = request.query_params
    page.values = {
        "request_published": asked.get("published") == "1",
        "request_deleted": asked.get("deleted") == "1",
    }
    return await _rules_page(request, page, caller)


@router.post("/candidates")
async def upload(request: Request) -> Response:
    """Upload a candidate (a file, or text pasted): checked, stored, not in force. A
    refusal shows on the rules page with the API's words."""
    try:
        document, token = await rules_document(request)
    except ApiError as exc:
        _, _, sent = await read_form(request)
        page, caller = await guard(request, "rules", "admin", form_token=sent)
        page.values = {"upload_error": exc.message}
        return await _rules_page(request, page, caller, status=exc.status)
    _, caller = await guard(request, "rules", "admin", form_token=token)
    made = await candidates.upload(document, request.app.state.store, caller)
    return RedirectResponse(f"/console/rules/candidates/{made['candidate_id']}", status_code=303)


def _differences(in_force: list[dict[str, Any]], candidate: list[dict[str, Any]]) -> list[Any]:
    """(rule id, setting, in force, candidate) for every setting the candidate changes.

    >>> a = [{"rule_id": "r", "enabled": True, "deduction": 5, "params": {"n": 3}}]
    >>> b = [{"rule_id": "r", "enabled": False, "deduction": 5, "params": {"n": 4}}]
    >>> _differences(a, b)
    [('r', 'enabled', True, False), ('r', 'n', 3, 4)]
    """
    found = []
    before = {r["rule_id"]: r for r in in_force}
    for rule in candidate:
        old = before.get(rule["rule_id"], {})
        for key in ("enabled", "severity", "deduction", "bonus"):
            if key in rule and rule[key] != old.get(key):
                found.append((rule["rule_id"], key, old.get(key), rule[key]))
        params, old_params = rule.get("params", {}), old.get("params", {})
        for key in sorted(set(params) | set(old_params)):
            if params.get(key) != old_params.get(key):
                found.append((rule["rule_id"], key, old_params.get(key), params.get(key)))
    return found


@router.get("/candidates/{candidate_id}")
async def candidate_page(request: Request, candidate_id: str) -> Response:
    page, caller = await guard(request, "rules", *BACKTESTERS)
    store = request.app.state.store
    found = await candidates.get_candidate(store, caller, candidate_id)
    in_force = await rules.get_rules(store, caller)
    page.values = {
        "c": found,
        "in_force": in_force,
        "changes": _differences(in_force["rules"], found["ruleset"]["rules"]),
        "grading_changed": in_force["grading"] != found["ruleset"]["grading"],
        "is_admin": caller.role == "admin",
    }
    return render(page, "rule_candidate.html")


@router.post("/candidates/{candidate_id}/backtests")
async def backtest(request: Request, candidate_id: str) -> Response:
    fields, _, token = await read_form(request)
    _, caller = await guard(request, "rules", *BACKTESTERS, form_token=token)
    limit = fields.get("max_firms", "").strip()
    body = BacktestStart(max_firms=int(limit) if limit.isdigit() and int(limit) > 0 else None)
    store = request.app.state.store
    job = await candidates.start_backtest(request, body, store, caller, candidate_id)
    return RedirectResponse(f"/console/rules/backtests/{job['job_id']}", status_code=303)


@router.get("/backtests/{job_id}")
async def backtest_page(request: Request, job_id: str) -> Response:
    """The backtest: its progress while it runs (the part below polls itself), then
    its figures. htmx asks for the part alone; once the job is over it has the page
    reloaded (HX-Refresh), so that its charts are drawn."""
    page, caller = await guard(request, "rules", *BACKTESTERS)
    job = await candidates.get_backtest(request.app.state.store, caller, job_id)
    grades = (job.get("figures") or {}).get("grades", {})
    colours = [GRADE_COLOURS.get(g, "#9aa5b1") for g in grades]
    page.values = {"job": job, "is_admin": caller.role == "admin", "colours": colours}
    if not request.headers.get("HX-Request"):
        return render(page, "rule_backtest.html")
    response = render(page, "_backtest.html")
    if job["status"] != "running":  # done: the whole page again, its charts drawn
        response.headers["HX-Refresh"] = "true"
    return response


@router.post("/candidates/{candidate_id}/publish")
async def publish(request: Request, candidate_id: str) -> Response:
    _, _, token = await read_form(request)
    _, caller = await guard(request, "rules", "admin", form_token=token)
    await candidates.publish_candidate(request.app.state.store, caller, candidate_id)
    return RedirectResponse("/console/rules?published=1", status_code=303)


@router.post("/candidates/{candidate_id}/delete")
async def delete(request: Request, candidate_id: str) -> Response:
    """Delete a candidate, its box ticked to confirm (the API's refusals as the API
    words them: a backtest of it running, or published)."""
    fields, _, token = await read_form(request)
    _, caller = await guard(request, "rules", "admin", form_token=token)
    if fields.get("confirm") != "1":
        raise ApiError(422, "tick the box to confirm the deletion")
    await candidates.delete_candidate(request.app.state.store, caller, candidate_id)
    return RedirectResponse("/console/rules?deleted=1", status_code=303)
