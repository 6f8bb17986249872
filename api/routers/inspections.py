"""Risk-weighted random inspection plans (双随机、一公开): draw, read, verify, publish
(blind spots, the firms a plan would want, are api/routers/blind_spots.py).

The draw is rules/inspections.py (pure); its population is read from the indexes
(api/draw_population.py); this module records the plan with its snapshot and seed
(streams/store/inspections.py) and reads each target's result from its state
(`plan_results`, filled when an `inspection.completed` event with the plan's id is
processed).
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Path, Query
from prometheus_client import Counter

from api import draw_population
from api.auth import Admin, Caller, Member
from api.body_limit import LARGE_BODY
from api.deps import StoreDep, Uscc
from api.errors import ApiError, clip
from api.schemas_inspections import (
    Plan,
    PlanListed,
    PlanPreview,
    PlanRequest,
    PlanTarget,
    ResultEntry,
    Verification,
)
from rules import inspections as ins
from rules.calendar import CHINA
from streams.store.api_ports import ApiOwns, ApiReads

router = APIRouter(tags=["inspections"])
PLANS = Counter("creditwatch_inspection_plans_total", "Inspection plans drawn")
PlanId = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


def _params(parameters: dict[str, Any]) -> ins.Params:
    """The draw's parameters from a plan's recorded `parameters`."""
    return ins.Params(
        ratios=parameters["ratios"],
        exempt_tags=tuple(parameters["exemptions"]["tags"]),
        grace_days=parameters["exemptions"]["grace_days"],
        inspectors=tuple(ins.Inspector(**i) for i in parameters["inspectors"]),
        inspectors_per_target=parameters["inspectors_per_target"],
        conflict=parameters["conflict"],
    )


def _filters(population: dict[str, Any]) -> ins.Filters:
    return ins.Filters(
        districts=tuple(population["districts"]),
        industries=tuple(population["industries"]),
        grades=tuple(population["grades"]),
        tags=tuple(population["tags"]),
        only_active=population["only_active"],
    )


async def _visible_plan(store: ApiOwns, caller: Caller, plan_id: str) -> dict[str, Any]:
    """The plan, or 404 if missing or outside the caller's district scope (as if
    missing, so a scoped account cannot probe other districts' plans)."""
    plan = await store.get_plan(plan_id)
    if plan is None or not ins.visible(plan["districts"], caller.district):
        raise ApiError(404, f"no inspection plan {plan_id}")
    plan_: dict[str, Any] = plan
    return plan_


async def target_results(store: ApiReads, plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """USCC -> {result, at, ...} of this plan's targets: from their states (an
    `inspection.completed` event with the plan's id) or as entered through the API,
    the later of the two."""
    states, entered = await asyncio.gather(
        store.get_enterprises([t["uscc"] for t in plan["targets"]]),
        store.entered_results(plan["plan_id"]),
    )
    found: dict[str, dict[str, Any]] = dict(entered)
    for uscc, state in states.items():
        event = state.plan_results.get(plan["plan_id"])
        if event and _instant(event["at"]) >= _instant(found.get(uscc, {}).get("at")):
            found[uscc] = event
    return found


def _instant(at: str | None) -> float:
    if not at:
        return float("-inf")
    moment = datetime.fromisoformat(at)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _with_results(plan: dict[str, Any], results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    targets = [
        {
            **t,
            "result": results.get(t["uscc"], {}).get("result", "pending"),
            "result_at": results.get(t["uscc"], {}).get("at"),
            "result_by": results.get(t["uscc"], {}).get("by"),
            "findings": results.get(t["uscc"], {}).get("findings") or [],
        }
        for t in plan["targets"]
    ]
    done = [results.get(t["uscc"], {}).get("result") for t in plan["targets"]]
    return {
        **plan,
        "targets_count": len(targets),
        "targets": targets,
        "progress": ins.progress(done),
    }


def _parameters(caller: Caller, body: PlanRequest) -> dict[str, Any]:
    """A draw's recorded parameters: the body's, its districts cut to the caller's scope."""
    districts = ins.narrow(body.population.districts, caller.district)
    if districts is None:
        raise ApiError(403, f"the districts asked for are outside your scope {caller.district}")
    return {
        "population": {**body.population.model_dump(), "districts": districts},
        "ratios": {**ins.DEFAULT_RATIOS, **body.ratios},
        "exemptions": {
            "tags": sorted(set(body.exemptions.tags)),
            "grace_days": body.exemptions.grace_days,
        },
        "inspectors": [i.model_dump() for i in body.inspectors],
        "inspectors_per_target": body.inspectors_per_target,
        "conflict": body.conflict,
    }


@router.post(
    "/inspections/plans/preview",
    response_model=PlanPreview,
    responses={403: {"description": "the districts asked for are outside the caller's scope"}},
    openapi_extra=LARGE_BODY,
)
async def preview_plan(body: PlanRequest, store: StoreDep, caller: Member) -> Any:
    """What a draw with these filters and ratios would count per grade (population,
    exempt, eligible, drawn), before drawing: nothing is recorded, and no inspector
    pool is needed. Counted from the indexes; a grace period, an industry or inactive
    firms read the population's entries instead."""
    parameters = _parameters(caller, body)
    params, filters = _params(parameters), _filters(parameters["population"])
    draw_day = datetime.now(CHINA).date()
    found = await draw_population.counted(store, filters, params)
    if found is not None:
        counts = ins.tally(*found, params)
    else:
        entries = await draw_population.entries(store, filters)
        counts = ins.preview(ins.snapshot(entries, filters, params, draw_day), params)
    size = sum(c["population"] for c in counts.values())
    caller.saw(size)
    return {
        "districts": parameters["population"]["districts"],
        "draw_day": draw_day.isoformat(),
        "population_size": size,
        "counts": counts,
    }


@router.post(
    "/inspections/plans",
    status_code=201,
    response_model=Plan,
    responses={
        403: {"description": "the districts asked for are outside the caller's scope"},
        422: {"description": "invalid parameters, or an empty inspector pool"},
    },
    openapi_extra=LARGE_BODY,  # up to 10,000 inspectors
)
async def draw_plan(body: PlanRequest, store: StoreDep, caller: Member) -> Any:
    """Draw a plan: random targets by grade (ceil(ratio x eligible)), random
    conflict-free inspectors from different departments where possible. The
    population (the firms of the index keys the filters select, each entry checked
    against them), parameters and seed are recorded so the draw can be verified;
    every draw is audited. A district-scoped caller draws from its district only."""
    if not body.inspectors:
        raise ApiError(422, "the inspector pool is empty", code="empty_pool")
    parameters = _parameters(caller, body)
    params, filters = _params(parameters), _filters(parameters["population"])
    districts = parameters["population"]["districts"]
    draw_day = datetime.now(CHINA).date()
    entries = await draw_population.entries(store, filters)
    population = ins.snapshot(entries, filters, params, draw_day)
    now = datetime.now(UTC)
    seed = body.seed or secrets.token_hex(16)
    drawn = ins.draw(population, params, seed)
    names = {u: e.get("name") for u, e in entries}
    pool = {i.inspector_id: i for i in params.inspectors}
    plan_id = f"P{draw_day:%Y%m%d}-{secrets.token_hex(5)}"
    plan = {
        "plan_id": plan_id,
        "name": body.name,
        "drawn_at": now.isoformat(),
        "draw_day": draw_day.isoformat(),
        "drawn_by": caller.account_id,
        "seed": seed,
        "draw_version": ins.DRAW_VERSION,
        "parameters": parameters,
        "districts": districts,
        "population_size": len(population),
        "population_digest": drawn["population_digest"],
        "counts": drawn["counts"],
        "unassigned": drawn["unassigned"],
        "targets": [
            {
                **t,
                "name": names.get(t["uscc"]),
                "inspectors": [
                    {"inspector_id": i, "name": pool[i].name, "department": pool[i].department}
                    for i in t["inspectors"]
                ],
            }
            for t in drawn["targets"]
        ],
    }
    audit = {
        "action": "draw",
        "plan_id": plan_id,
        "by": caller.account_id,
        "role": caller.role,
        "at": plan["drawn_at"],
        "seed": seed,
        "counts": drawn["counts"],
        "population_size": len(population),
        "population_digest": drawn["population_digest"],
    }
    await store.save_plan(plan, population, audit)
    PLANS.inc()
    caller.saw(len(plan["targets"]))
    return _with_results(plan, {})


@router.get(
    "/inspections/plans",
    response_model=list[PlanListed],
    responses={404: {"description": "`before` is no plan within the caller's scope"}},
)
async def list_plans(
    store: StoreDep,
    caller: Member,
    limit: int = Query(50, ge=1, le=1000),
    before: str | None = Query(
        None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="the next page: the plans listed after this one (the last plan_id seen)",
    ),
) -> Any:
    """Plans within the caller's district scope (all for an unscoped one), newest
    first, without their targets, from the summary kept with each plan."""
    plans = await store.list_plans(caller.district, limit, before)
    if plans is None:
        raise ApiError(404, f"no inspection plan {before} within your scope")
    caller.saw(len(plans))
    return plans


@router.get(
    "/inspections/plans/{plan_id}",
    response_model=Plan,
    responses={404: {"description": "no such plan within the caller's scope"}},
)
async def get_plan(store: StoreDep, caller: Member, plan_id: str = PlanId) -> Any:
    """A plan with its targets, their inspectors and results, and its progress."""
    plan = await _visible_plan(store, caller, plan_id)
    caller.saw(len(plan["targets"]))
    return _with_results(plan, await target_results(store, plan))


@router.get(
    "/inspections/plans/{plan_id}/verify",
    response_model=Verification,
    responses={404: {"description": "no such plan (or its snapshot) within the scope"}},
)
async def verify_plan(store: StoreDep, caller: Member, plan_id: str = PlanId) -> Any:
    """Redraw the plan from its recorded snapshot, parameters and seed, and say
    whether the exemptions, the targets, their inspectors and the counts match."""
    plan = await _visible_plan(store, caller, plan_id)
    population = await store.plan_population(plan_id)
    if population is None:
        raise ApiError(404, f"the population snapshot of plan {plan_id} is missing")
    params = _params(plan["parameters"])
    again = ins.reassess(population, params, date.fromisoformat(plan["draw_day"]))
    redrawn = ins.draw(again, params, plan["seed"])
    recorded = [(t["uscc"], [i["inspector_id"] for i in t["inspectors"]]) for t in plan["targets"]]
    checks = {
        "digest_matches": ins.digest(population) == plan["population_digest"],
        "exemptions_match": again == sorted(population, key=lambda m: m["uscc"]),
        "targets_match": [(t["uscc"], t["inspectors"]) for t in redrawn["targets"]] == recorded
        and redrawn["unassigned"] == plan["unassigned"],
        "counts_match": redrawn["counts"] == plan["counts"],
    }
    caller.saw(1)
    return {
        "plan_id": plan_id,
        "matches": all(checks.values()),
        **checks,
        "population_digest": plan["population_digest"],
        "seed": plan["seed"],
    }


@router.put(
    "/inspections/plans/{plan_id}/targets/{uscc}/result",
    response_model=PlanTarget,
    responses={404: {"description": "no such plan within the scope, or not its target"}},
)
async def enter_result(
    body: ResultEntry, store: StoreDep, caller: Member, uscc: Uscc, plan_id: str = PlanId
) -> Any:
    """Enter a target's result (a later entry replaces it; each is audited). It shows
    on the plan and its public summary, and counts in the firm's indicators and grade
    as the `inspection.completed` event would, from now on (the worker re-evaluates
    the firm at once); the same result entered again changes nothing. An
    `inspection.completed` event for the plan from the inspection system, if later,
    takes its place."""
    plan = await _visible_plan(store, caller, plan_id)
    target = next((t for t in plan["targets"] if t["uscc"] == uscc), None)
    if target is None:
        raise ApiError(404, f"{uscc} is not a target of plan {clip(plan_id)!r}")
    before = (await store.entered_results(plan_id)).get(uscc)
    if before and before["result"] == body.result:  # counted once, from the first entry
        at = before["at"]
    else:  # whole seconds: the worker's nudge is as of this instant exactly
        at = datetime.now(UTC).replace(microsecond=0).isoformat()
    record = {**body.model_dump(), "at": at, "by": caller.account_id or "admin"}
    audit = {
        "action": "result",
        "plan_id": plan_id,
        "uscc": uscc,
        "result": body.result,
        "by": record["by"],
        "role": caller.role,
        "at": at,
    }
    await store.enter_result(plan_id, uscc, record, audit)
    caller.saw(1)
    found = _with_results({**plan, "targets": [target]}, await target_results(store, plan))
    return found["targets"][0]


@router.get("/inspections/audit", response_model=list[dict[str, Any]])
async def inspection_audit(
    store: StoreDep, caller: Admin, limit: int = Query(100, ge=1, le=1000)
) -> Any:
    """Every draw (who, when, plan, seed, counts, population digest) and every result
    entered (who, when, plan, target, result), newest first."""
    records = await store.inspection_audit_records(limit)
    caller.saw(len(records))
    return records
