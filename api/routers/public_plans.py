"""一公开: the inspection plans as the public sees them: no inspectors, no personal data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from api.auth import OPTIONAL_KEY, Anyone
from api.deps import StoreDep
from api.errors import ApiError
from api.routers.inspections import PlanId, target_results
from api.schemas_inspections import PublicPlan
from rules import inspections as ins

router = APIRouter(tags=["inspections"])


def _public(plan: dict[str, Any], results: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    """A plan, or a plan's summary (rules/plan_listing.py) without results."""
    view: dict[str, Any] = {
        "plan_id": plan["plan_id"],
        "name": plan["name"],
        "drawn_at": plan["drawn_at"],
        "ratios": plan["ratios"],
        "counts": plan["counts"],
    }
    if results is not None:
        done = [results.get(t["uscc"], {}).get("result") for t in plan["targets"]]
        view["targets"] = [
            {"uscc": t["uscc"], "name": t.get("name"), "result": r or "pending"}
            for t, r in zip(plan["targets"], done, strict=True)
        ]
        view["progress"] = ins.progress(done)
    return view


@router.get(
    "/public/inspections/plans", response_model=list[PublicPlan], openapi_extra=OPTIONAL_KEY
)
async def public_plans(
    store: StoreDep, caller: Anyone, limit: int = Query(50, ge=1, le=1000)
) -> Any:
    """Published plans, newest first: name, date, ratios and counts per grade."""
    plans = await store.list_plans(None, limit) or []
    caller.saw(len(plans))
    return [_public(p, None) for p in plans]


@router.get(
    "/public/inspections/plans/{plan_id}",
    response_model=PublicPlan,
    openapi_extra=OPTIONAL_KEY,
    responses={404: {"description": "no such plan"}},
)
async def public_plan(store: StoreDep, caller: Anyone, plan_id: str = PlanId) -> Any:
    """A published plan: each target's USCC, name and result (or pending)."""
    plan = await store.get_plan(plan_id)
    if plan is None:
        raise ApiError(404, f"no inspection plan {plan_id}")
    caller.saw(len(plan["targets"]))
    return _public(
        {**plan, "ratios": plan["parameters"]["ratios"]}, await target_results(store, plan)
    )
