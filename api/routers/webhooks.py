"""Webhooks: a department registers a URL with a filter and a secret; each warning or
grade change that passes is POSTed to it, signed (api/signing.py), by the delivery loop
(api/webhook_delivery.py). A caller manages its own account's webhooks; admins all."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from api.auth import Caller, Member
from api.deps import OwnsDep
from api.errors import ApiError, clip
from api.schemas_webhooks import Delivery, NewWebhook, Notice, Webhook, WebhookRequest
from api.webhook_policy import DestinationPolicy, DestinationRefused, resolver_of

router = APIRouter(tags=["webhooks"])
Limit = Annotated[int, Query(ge=1, le=500, description="entries, newest first")]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such webhook of yours"}}


def _public(webhook: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in webhook.items() if k != "secret"}


async def _owned(store: OwnsDep, caller: Caller, webhook_id: str) -> dict[str, Any]:
    """The webhook, if the caller may manage it; others' are 404, as if unknown."""
    webhook = await store.get_webhook(webhook_id)
    if webhook is None or (caller.role != "admin" and webhook["account_id"] != caller.account_id):
        raise ApiError(404, f"no webhook {clip(webhook_id)!r}")
    return webhook


_CREATE_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "the account has as many webhooks as it may"},
    422: {"description": "invalid, or a destination the policy refuses (docs/webhooks.md)"},
}


@router.post("/webhooks", response_model=NewWebhook, status_code=201, responses=_CREATE_ERRORS)
async def create_webhook(
    body: WebhookRequest, request: Request, store: OwnsDep, caller: Member
) -> Any:
    """Register a URL: warnings and grade changes appended from now on that pass
    `filters` (and lie in the caller's district, for a scoped account) are POSTed to
    it. The secret is in this response only. The URL must be https and reach a public
    address, unless the operator allows otherwise (docs/webhooks.md)."""
    account_id = caller.account_id or "admin"
    settings = request.app.state.settings
    limit: int = settings.webhook_max_per_account
    if len(await store.list_webhooks(account_id)) >= limit:
        raise ApiError(409, f"an account may have at most {limit} webhooks", code="conflict")
    try:
        policy = DestinationPolicy.from_settings(settings)
        await policy.check(body.url, resolver_of(request.app))
    except DestinationRefused as exc:
        raise ApiError(
            422,
            f"webhook destination refused: {exc}",
            details=[{"field": "body.url", "message": str(exc)}],
            code="destination_refused",
        ) from None
    webhook: dict[str, Any] = {
        "webhook_id": f"wh_{secrets.token_hex(8)}",
        "account_id": account_id,
        "url": body.url,
        "filters": body.filters.model_dump(),
        "description": body.description,
        "district": caller.district,
        "secret": body.secret or secrets.token_urlsafe(32),
        "created_at": datetime.now(UTC).isoformat(),
        "created_by": caller.key_id,
    }
    await store.create_webhook(webhook)
    return await store.get_webhook(webhook["webhook_id"])


@router.get("/webhooks", response_model=list[Webhook])
async def list_webhooks(store: OwnsDep, caller: Member) -> Any:
    """The caller's webhooks (an admin's: everyone's), oldest first."""
    found = await store.list_webhooks(None if caller.role == "admin" else caller.account_id)
    caller.saw(len(found))
    return [_public(w) for w in found]


@router.get("/webhooks/notices", response_model=list[Notice])
async def list_notices(store: OwnsDep, caller: Member, limit: Limit = 50) -> Any:
    """Notices for the caller's account, newest first: e.g. a webhook paused after its
    deliveries kept failing."""
    found = await store.webhook_notices(caller.account_id or "admin", limit)
    caller.saw(len(found))
    return found


@router.get("/webhooks/{webhook_id}", response_model=Webhook, responses=_NOT_FOUND)
async def get_webhook(webhook_id: str, store: OwnsDep, caller: Member) -> Any:
    return _public(await _owned(store, caller, webhook_id))


@router.delete("/webhooks/{webhook_id}", status_code=204, responses=_NOT_FOUND)
async def delete_webhook(webhook_id: str, store: OwnsDep, caller: Member) -> Response:
    await _owned(store, caller, webhook_id)
    await store.delete_webhook(webhook_id)
    return Response(status_code=204)


@router.post("/webhooks/{webhook_id}/resume", response_model=Webhook, responses=_NOT_FOUND)
async def resume_webhook(webhook_id: str, store: OwnsDep, caller: Member) -> Any:
    """Un-pause: delivery starts again from the record that failed, so nothing is lost."""
    await _owned(store, caller, webhook_id)
    if not await store.resume_webhook(webhook_id):
        raise ApiError(404, f"no webhook {clip(webhook_id)!r}")
    return _public(await _owned(store, caller, webhook_id))


@router.get(
    "/webhooks/{webhook_id}/deliveries", response_model=list[Delivery], responses=_NOT_FOUND
)
async def list_deliveries(
    webhook_id: str, store: OwnsDep, caller: Member, limit: Limit = 50
) -> Any:
    """The delivery log, newest first: one entry per record delivered or given up on,
    with its attempts and the last answer."""
    await _owned(store, caller, webhook_id)
    found = await store.webhook_deliveries(webhook_id, limit)
    caller.saw(len(found))
    return found
