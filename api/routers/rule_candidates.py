"""Candidate rule sets: upload one (checked, stored, not in force), backtest it over
the stored history against the rule set in force, publish it; and the history of the
rule sets published. Uploads, publications and deletions are the admin's; every step is
audited."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Path, Query, Request

from api import backtests
from api.auth import Admin, Caller, Member, Regulator
from api.body_limit import LARGE_BODY
from api.deps import StoreDep
from api.errors import ApiError, clip
from api.routers.rules import audit_record, checked_ruleset, publish, ruleset_view
from api.schemas import RulesDocument, RuleSetView
from api.schemas_rules import (
    Backtest,
    BacktestStart,
    Candidate,
    CandidateSummary,
    RulesAuditRecord,
    RuleSetVersion,
)
from rules.ruleset import RuleSet, default_ruleset
from streams.store.api_ports import ApiStore

router = APIRouter(tags=["rules"])
CandidateId = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
JobId = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
NO_CANDIDATE: dict[int | str, dict[str, Any]] = {404: {"description": "no such candidate"}}


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _audit(caller: Caller, action: str, version: str, **more: str) -> dict[str, Any]:
    return audit_record(caller, action, version) | more


async def _candidate(store: ApiStore, candidate_id: str) -> dict[str, Any]:
    found = await store.get_candidate(candidate_id)
    if found is None:
        raise ApiError(404, f"no candidate rule set {clip(candidate_id)!r}")
    return found


def _summary(candidate: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in candidate.items() if k != "body"}


async def upload(document: RulesDocument, store: ApiStore, caller: Caller) -> dict[str, Any]:
    """Check and store a candidate (the console's upload calls this too)."""
    ruleset = checked_ruleset(document, "candidate")
    candidate_id = f"C{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(5)}"
    candidate = {
        "candidate_id": candidate_id,
        "version": ruleset.version,
        "body": ruleset.to_json(),
        "uploaded_by": caller.account_id or "admin",
        "uploaded_at": _now(),
        "published_at": None,
    }
    audit = _audit(caller, "upload", ruleset.version, candidate_id=candidate_id)
    await store.put_candidate(candidate, audit)
    return {**_summary(candidate), "ruleset": ruleset_view(ruleset, False)}


@router.post(
    "/rules/candidates",
    status_code=201,
    response_model=Candidate,
    responses={422: {"description": "not a valid rules file"}},
    openapi_extra=LARGE_BODY,
)
async def upload_candidate(document: RulesDocument, store: StoreDep, caller: Admin) -> Any:
    """Store a candidate rule set (the rules-file structure as JSON), checked as a
    published one would be. It is not in force until published."""
    return await upload(document, store, caller)


@router.get("/rules/candidates", response_model=list[CandidateSummary])
async def list_candidates(
    store: StoreDep, caller: Regulator, limit: int = Query(50, ge=1, le=1000)
) -> Any:
    """Candidates, newest first."""
    found = [_summary(c) for c in (await store.list_candidates())[:limit]]
    caller.saw(len(found))
    return found


@router.get("/rules/candidates/{candidate_id}", response_model=Candidate, responses=NO_CANDIDATE)
async def get_candidate(store: StoreDep, caller: Regulator, candidate_id: str = CandidateId) -> Any:
    """A candidate with its catalogue as it would be in force."""
    candidate = await _candidate(store, candidate_id)
    caller.saw(1)
    ruleset = RuleSet.from_json(candidate["body"])
    return {**_summary(candidate), "ruleset": ruleset_view(ruleset, False)}


@router.delete(
    "/rules/candidates/{candidate_id}",
    response_model=CandidateSummary,
    responses={
        **NO_CANDIDATE,
        409: {"description": "a backtest of it is running, or it was published"},
    },
)
async def delete_candidate(store: StoreDep, caller: Admin, candidate_id: str = CandidateId) -> Any:
    """Remove a candidate that was never published and has no backtest running (its
    backtests' records stay). A published candidate stays: it is the record of what was
    put in force."""
    candidate = await _candidate(store, candidate_id)
    if candidate.get("published_at"):
        raise ApiError(409, f"candidate {candidate_id} was published: it is kept", code="conflict")
    mine = [j for j in await store.running_backtests() if j.get("candidate_id") == candidate_id]
    for job in mine:  # (a job whose lease lapsed is failed by reading it)
        if (await backtests.as_read(store, job))["status"] == "running":
            raise ApiError(
                409,
                f"backtest {job['job_id']} of candidate {candidate_id} is running:"
                " wait for it, or cancel it (DELETE /rules/backtests/{job_id})",
                code="conflict",
            )
    audit = _audit(caller, "delete", candidate["version"], candidate_id=candidate_id)
    await store.delete_candidate(candidate_id, audit)
    caller.saw(1)
    return _summary(candidate)


@router.post(
    "/rules/candidates/{candidate_id}/backtests",
    status_code=202,
    response_model=Backtest,
    responses={
        **NO_CANDIDATE,
        409: {"description": "as many backtests as the deployment allows are running"},
    },
)
async def start_backtest(
    request: Request,
    body: BacktestStart,
    store: StoreDep,
    caller: Regulator,
    candidate_id: str = CandidateId,
) -> Any:
    """Replay every stored enterprise's journal (at most `max_firms`, and at most the
    deployment's limit) with the candidate and with the rule set in force, as a job:
    poll `GET /rules/backtests/{job_id}` for its progress, then its figures."""
    candidate = await _candidate(store, candidate_id)
    in_force = await store.get_ruleset() or default_ruleset()
    settings = request.app.state.settings
    limit = settings.backtest_max_firms
    job_id = f"B{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(5)}"
    lease_ms, most_running = int(settings.backtest_lease_s * 1000), settings.backtest_max_running
    await backtests.close_lapsed(store)
    taken, held = await store.claim_backtest_slot(job_id, lease_ms, most_running)
    if not taken:
        raise ApiError(
            409,
            f"{held} backtest(s) running city-wide, the most this deployment runs at once"
            " (CREDITWATCH_BACKTEST_MAX_RUNNING): wait for one to finish, or have an admin"
            " cancel it (DELETE /rules/backtests/{job_id})",
            code="conflict",
        )
    job = {
        "job_id": job_id,
        "owner": backtests.OWNER,
        "candidate_id": candidate_id,
        "candidate_version": candidate["version"],
        "in_force_version": in_force.version,
        "status": "running",
        "done": 0,
        "total": None,
        "limited": False,
        "started_at": _now(),
        "started_by": caller.account_id or "admin",
    }
    audit = _audit(
        caller, "backtest", candidate["version"], candidate_id=candidate_id, job_id=job["job_id"]
    )
    await store.put_backtest(job, audit)
    most = min(limit, body.max_firms or limit)
    candidate_rules = RuleSet.from_json(candidate["body"])
    backtests.start(request.app, dict(job), in_force, candidate_rules, most)
    return job


@router.get(
    "/rules/backtests/{job_id}",
    response_model=Backtest,
    responses={404: {"description": "no such backtest"}},
)
async def get_backtest(store: StoreDep, caller: Regulator, job_id: str = JobId) -> Any:
    """A backtest: its progress while it runs; once done, per rule the warnings each
    rule set raises, the grade distribution under each, and the enterprises whose grade
    would change."""
    found = await store.get_backtest(job_id)
    if found is None:
        raise ApiError(404, f"no backtest {clip(job_id)!r}")
    caller.saw(1)
    return await backtests.as_read(store, found)


@router.delete(
    "/rules/backtests/{job_id}",
    response_model=Backtest,
    responses={
        404: {"description": "no such backtest"},
        409: {"description": "the backtest is not running"},
    },
)
async def cancel_backtest(
    request: Request, store: StoreDep, caller: Admin, job_id: str = JobId
) -> Any:
    """Cancel a running backtest: it stops after the chunk it is replaying, whichever
    API process runs it, and frees its slot at once."""
    found = await store.get_backtest(job_id)
    if found is None:
        raise ApiError(404, f"no backtest {clip(job_id)!r}")
    job = await backtests.as_read(store, found)
    if job["status"] != "running":
        raise ApiError(409, f"backtest {job_id} is {job['status']}, not running", code="conflict")
    job.update(
        status="cancelled",
        finished_at=_now(),
        error=f"{backtests.CANCELLED} by {caller.account_id or 'admin'}",
    )
    if not await store.update_backtest(job):  # it finished meanwhile
        raise ApiError(409, f"backtest {job_id} is no longer running", code="conflict")
    backtests.cancel_local(request.app, job_id)
    await store.release_backtest_slot(job_id)
    caller.saw(1)
    return job


@router.post(
    "/rules/candidates/{candidate_id}/publish",
    response_model=RuleSetView,
    responses=NO_CANDIDATE,
)
async def publish_candidate(store: StoreDep, caller: Admin, candidate_id: str = CandidateId) -> Any:
    """Put the candidate in force: running workers switch to it at their next batch."""
    candidate = await _candidate(store, candidate_id)
    ruleset = RuleSet.from_json(candidate["body"])
    await publish(store, caller, ruleset, candidate_id)
    await store.mark_published(candidate_id, _now())
    return ruleset_view(ruleset, True)


@router.get("/rules/history", response_model=list[RuleSetVersion])
async def ruleset_history(
    store: StoreDep, caller: Member, limit: int = Query(100, ge=1, le=1000)
) -> Any:
    """The rule sets published, newest first: which version, who, when, from what."""
    found = await store.ruleset_versions(limit)
    caller.saw(len(found))
    return found


@router.get("/rules/audit", response_model=list[RulesAuditRecord])
async def rules_audit(
    store: StoreDep, caller: Admin, limit: int = Query(100, ge=1, le=1000)
) -> Any:
    """Every upload, backtest, publication and deletion, newest first."""
    found = await store.rules_audit_records(limit)
    caller.saw(len(found))
    return found
