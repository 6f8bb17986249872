"""The rule set in force (read and publish) and the address allow-list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Response

from api.auth import Admin, Caller, Member, Regulator
from api.body_limit import LARGE_BODY
from api.deps import ReadsDep, StoreDep
from api.errors import ApiError
from api.schemas import AllowedAddress, RulesDocument, RuleSetView
from rules.addresses import normalize_address
from rules.ruleset import RuleSet, RulesFileError, default_ruleset
from streams.store.api_ports import ApiStore

router = APIRouter(tags=["rules"])


def ruleset_view(ruleset: RuleSet, published: bool) -> dict[str, Any]:
    return {
        "version": ruleset.version,
        "source": ruleset.source,
        "published": published,
        "grading": ruleset.grading_settings(),
        "rules": ruleset.describe(),
    }


@router.get("/rules", response_model=RuleSetView)
async def get_rules(store: ReadsDep, _caller: Member) -> Any:
    """The rule set in force: its version (recorded on every warning), and every
    indicator with its aspect, category, severity, deduction and thresholds."""
    published = await store.get_ruleset()
    return ruleset_view(published or default_ruleset(), published is not None)


@router.put(
    "/rules",
    response_model=RuleSetView,
    responses={422: {"description": "invalid"}},
    openapi_extra=LARGE_BODY,
)
async def put_rules(document: RulesDocument, store: StoreDep, caller: Admin) -> Any:
    """Publish a rule set (the rules-file structure as JSON). Running workers switch to
    it at their next batch; nothing changes if it is invalid. It is recorded in
    `GET /rules/history`; to backtest one first, upload it to `/rules/candidates`."""
    ruleset = checked_ruleset(document, "api")
    await publish(store, caller, ruleset, None)
    return ruleset_view(ruleset, True)


def checked_ruleset(document: RulesDocument, source: str) -> RuleSet:
    """The rule set of a rules document, or the 422 naming the offending key."""
    try:
        return RuleSet(document.version, document.rules, source, document.grading)
    except RulesFileError as exc:
        raise ApiError(422, str(exc), code="invalid_rules") from None


def audit_record(caller: Caller, action: str, version: str) -> dict[str, Any]:
    """An entry of the rules' audit: who did what to which version, when."""
    by = caller.account_id or "admin"
    at = datetime.now(UTC).isoformat()
    return {"action": action, "by": by, "role": caller.role, "at": at, "version": version}


async def publish(
    store: ApiStore, caller: Caller, ruleset: RuleSet, candidate_id: str | None
) -> None:
    """Put a rule set in force with its history entry and its audit record."""
    audit = audit_record(caller, "publish", ruleset.version)
    entry = {
        "version": ruleset.version,
        "published_at": audit["at"],
        "published_by": audit["by"],
        "candidate_id": candidate_id,
        "source": "candidate" if candidate_id else "api",
    }
    await store.publish_ruleset(
        ruleset, entry, audit | ({"candidate_id": candidate_id} if candidate_id else {})
    )


@router.get("/address-allowlist", response_model=list[str])
async def list_allowed(store: ReadsDep, _caller: Regulator) -> Any:
    """Approved cluster addresses (normalized): 一址多照 never fires there."""
    return await store.allowed_addresses()


@router.post(
    "/address-allowlist",
    status_code=201,
    response_model=AllowedAddress,
    responses={200: {"model": AllowedAddress, "description": "it was approved already"}},
)
async def allow(
    body: AllowedAddress, store: StoreDep, _caller: Regulator, response: Response
) -> Any:
    """Approve an address; the enterprises registered there are re-evaluated."""
    if not normalize_address(body.address):
        raise ApiError(422, "the address is empty")
    if not await store.allow_address(body.address):
        response.status_code = 200  # already approved
    return {"address": normalize_address(body.address)}


@router.delete("/address-allowlist", status_code=204)
async def disallow(
    store: StoreDep, _caller: Regulator, address: str = Query(min_length=1, max_length=500)
) -> Response:
    """Withdraw an approval; the enterprises there are re-evaluated."""
    if not await store.disallow_address(address):
        raise ApiError(404, "that address is not on the allow-list")
    return Response(status_code=204)
