"""Admin: accounts (open, change, disable and enable again), their keys (create,
revoke) and the access log, through the admin API's own route functions."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.auth import MEMBER_ROLES, Caller
from api.console.forms import read_form
from api.console.render import Page, render
from api.console.views_session import guard
from api.errors import invalid_request
from api.routers import admin
from api.schemas_admin import AccountChange, AccountRequest

router = APIRouter(prefix="/console/admin")


@router.get("")
async def admin_page(request: Request, cursor: str | None = Query(None, max_length=44)) -> Response:
    page, caller = await guard(request, "admin", "admin")
    return await _admin(request, page, caller, cursor)


async def _admin(
    request: Request, page: Page, caller: Caller, cursor: str | None, new_key: str | None = None
) -> Response:
    store = request.app.state.store
    accounts = await admin.list_accounts(store, caller)
    keys = await admin.list_keys(store, caller, None)
    log = await admin.access_log(request, store, caller, None, None, None, None, None, 50, cursor)
    page.values = {"accounts": accounts, "keys": keys, "log": log, "new_key": new_key}
    page.values |= {"roles": MEMBER_ROLES, "done": request.query_params.get("done")}
    return render(page, "admin.html")


@router.post("/accounts")
async def create_account(request: Request) -> Response:
    """Open an account (the API's operation, its checks and its 409)."""
    form, _, token = await read_form(request)
    _, caller = await guard(request, "admin", "admin", form_token=token)
    try:
        body = AccountRequest.model_validate({k: v for k, v in form.items() if v})
    except ValidationError as exc:
        raise invalid_request(exc.errors()) from exc
    await admin.create_account(body, request.app.state.store, caller)
    return RedirectResponse("/console/admin", status_code=303)


@router.post("/accounts/{account_id}/disabled")
async def set_disabled(request: Request, account_id: str) -> Response:
    """Disable an account (its keys are refused from the next request) or enable it."""
    form, _, token = await read_form(request)
    _, caller = await guard(request, "admin", "admin", form_token=token)
    disabled = form.get("disabled") == "1"
    change = AccountChange.model_validate({"disabled": disabled})
    await admin.change_account(account_id, change, request.app.state.store, caller)
    done = "disabled" if disabled else "enabled"
    return RedirectResponse(f"/console/admin?done={done}", status_code=303)


@router.post("/accounts/{account_id}")
async def change_account(request: Request, account_id: str) -> Response:
    """Change an account from its edit form: role, district scope, rate limit and
    whether it is disabled (the API's operation: it notes who changed it, when). The
    form sends every field: an empty district is every district, an empty rate limit
    the role's."""
    form, _, token = await read_form(request)
    _, caller = await guard(request, "admin", "admin", form_token=token)
    fields = {
        "role": form.get("role"),
        "district": form.get("district", "").strip() or None,
        "rate_limit": form.get("rate_limit", "").strip() or None,
        "disabled": form.get("disabled") == "1",
    }
    try:
        change = AccountChange.model_validate(fields)
    except ValidationError as exc:
        raise invalid_request(exc.errors()) from exc
    await admin.change_account(account_id, change, request.app.state.store, caller)
    return RedirectResponse("/console/admin?done=changed", status_code=303)


@router.post("/accounts/{account_id}/keys")
async def create_key(request: Request, account_id: str) -> Response:
    """A new key for the account, shown on this page once (never stored in clear)."""
    form, _, token = await read_form(request)
    page, caller = await guard(request, "admin", "admin", form_token=token)
    label = form.get("label", "").strip()[:200] or None
    made = await admin.create_key(account_id, request.app.state.store, caller, label)
    return await _admin(request, page, caller, None, new_key=str(made["key"]))


@router.post("/keys/{key_id}/revoke")
async def revoke_key(request: Request, key_id: str) -> Response:
    _, _, token = await read_form(request)
    _, caller = await guard(request, "admin", "admin", form_token=token)
    await admin.revoke_key(key_id, request.app.state.store, caller)
    return RedirectResponse("/console/admin", status_code=303)
