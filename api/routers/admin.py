"""Accounts, API keys and the access log: admins only. A key is shown once, when it is
created; the store keeps only its hash."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request, Response

from api.auth import OPTIONAL_KEY, Admin, Anyone, RoleName, new_key
from api.deps import OwnsDep, StoreDep
from api.errors import ApiError, clip
from api.paging import Cursor, Limit, Since, stream_page
from api.schemas import Page
from api.schemas_admin import (
    AccessRecord,
    Account,
    AccountChange,
    AccountRequest,
    ApiKey,
    Me,
    NewKey,
)

router = APIRouter(tags=["admin"])


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def _account(store: OwnsDep, account_id: str) -> dict[str, Any]:
    account = await store.get_account(account_id)
    if account is None:
        raise ApiError(404, f"no account {clip(account_id)!r}")
    return account


@router.get("/me", response_model=Me, openapi_extra=OPTIONAL_KEY)
async def who_am_i(caller: Anyone) -> Any:
    """The caller as the API sees it: account, role, district scope; anonymous callers
    are the public."""
    return Me(
        account_id=caller.account_id,
        role=caller.role,
        district=caller.district,
        department=caller.department,
        key_id=caller.key_id,
        personal_data=caller.personal_data,
    )


@router.post(
    "/admin/accounts",
    response_model=Account,
    status_code=201,
    responses={409: {"description": "the account exists"}},
)
async def create_account(body: AccountRequest, store: OwnsDep, caller: Admin) -> Any:
    """Open an account for a department or a person's role; then create its keys."""
    if await store.get_account(body.account_id) is not None:
        raise ApiError(409, f"account {clip(body.account_id)!r} exists", code="conflict")
    account = {**body.model_dump(), "created_at": _now(), "created_by": caller.account_id}
    account["disabled"] = False
    await store.put_account(account)
    return account


@router.get("/admin/accounts", response_model=list[Account])
async def list_accounts(store: OwnsDep, caller: Admin) -> Any:
    accounts = await store.list_accounts()
    caller.saw(len(accounts))
    return accounts


@router.get("/admin/accounts/{account_id}", response_model=Account, responses={404: {}})
async def get_account(account_id: str, store: OwnsDep, _caller: Admin) -> Any:
    return await _account(store, account_id)


@router.patch("/admin/accounts/{account_id}", response_model=Account, responses={404: {}})
async def change_account(
    account_id: str, body: AccountChange, store: OwnsDep, caller: Admin
) -> Any:
    """Change an account's role, scope or rate limit, or disable it (its keys stop
    working at once) or enable it again."""
    account = await _account(store, account_id)
    account.update(body.model_dump(exclude_unset=True))
    account["changed_at"], account["changed_by"] = _now(), caller.account_id
    await store.put_account(account)
    return account


@router.post(
    "/admin/accounts/{account_id}/keys",
    response_model=NewKey,
    status_code=201,
    responses={404: {}},
)
async def create_key(
    account_id: str,
    store: OwnsDep,
    caller: Admin,
    label: str | None = Query(None, max_length=200, description="what the key is for"),
) -> Any:
    """A new API key for the account. The key is in this response only: keep it."""
    await _account(store, account_id)
    key_id, key, key_hash = new_key()
    record = {
        "key_id": key_id,
        "account_id": account_id,
        "label": label,
        "created_at": _now(),
        "created_by": caller.account_id,
        "revoked_at": None,
    }
    await store.put_key(key_hash, record)
    return {**record, "key": key}


@router.get("/admin/keys", response_model=list[ApiKey])
async def list_keys(
    store: OwnsDep, caller: Admin, account_id: str | None = Query(None, max_length=64)
) -> Any:
    keys = [
        record
        for _, record in await store.list_keys()
        if account_id is None or record["account_id"] == account_id
    ]
    caller.saw(len(keys))
    return sorted(keys, key=lambda k: k["created_at"])


@router.delete("/admin/keys/{key_id}", status_code=204, responses={404: {}})
async def revoke_key(key_id: str, store: OwnsDep, caller: Admin) -> Response:
    """Revoke a key: it stops working at the next request."""
    for key_hash, record in await store.list_keys():
        if record["key_id"] == key_id:
            if record.get("revoked_at") is None:
                record["revoked_at"], record["revoked_by"] = _now(), caller.account_id
                await store.put_key(key_hash, record)
            return Response(status_code=204)
    raise ApiError(404, f"no key {clip(key_id)!r}")


@router.get("/admin/access-log", response_model=Page[AccessRecord])
async def access_log(
    request: Request,
    store: StoreDep,
    caller: Admin,
    account_id: str | None = Query(None, max_length=64),
    role: RoleName | None = None,
    path_prefix: str | None = Query(None, max_length=200, description="e.g. /enterprises"),
    status: int | None = Query(None, ge=100, le=599),
    since: Since = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    """Every data request, newest first: who, what, when, the status and how many
    records it returned (监管留痕)."""

    def keep(r: dict[str, Any]) -> bool:
        return (
            (account_id is None or r["account_id"] == account_id)
            and (role is None or r["role"] == role)
            and (path_prefix is None or r["path"].startswith(path_prefix))
            and (status is None or r["status"] == status)
        )

    await request.app.state.access_log.flush()  # this process's records so far, too
    return await stream_page(store, store.access_log, limit, cursor, since, keep, caller)
