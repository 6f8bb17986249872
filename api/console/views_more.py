"""Read-only screens: the rule set in force (规则), inspection plans (双随机) and blind
spots (监管盲区), through the API's own route functions."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.console.render import render
from api.console.views_session import guard
from api.routers import inspections, rules, warnings_review

router = APIRouter(prefix="/console")


@router.get("/rules")
async def rules_page(request: Request) -> Response:
    page, caller = await guard(request, "rules")
    store = request.app.state.store
    page.values = {
        "ruleset": await rules.get_rules(store, caller),
        # city-wide figures about rules, the API's summary (not narrowed by district)
        "rates": await warnings_review.dispositions_summary(caller, store),
    }
    return render(page, "rules.html")


@router.get("/inspections")
async def inspections_page(request: Request) -> Response:
    page, caller = await guard(request, "inspections")
    store = request.app.state.store
    plans = await inspections.list_plans(store, caller, 50)
    spots = await inspections.blind_spots(store, caller, 12, "C,D", None, 50, None)
    page.values = {"plans": plans, "spots": spots}
    return render(page, "inspections.html")
