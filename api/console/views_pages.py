"""The warning workbench (list, live feed, a warning, its actions) and
the admin page."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.auth import MEMBER_ROLES, Caller
from api.console.assigned import assigned_warnings
from api.console.overview import SEVERITIES
from api.console.render import Page, render
from api.console.views_session import guard
from api.errors import invalid_request
from api.routers import admin, outputs, subscriptions
from api.schemas_admin import AccountRequest
from rules.catalogue import REGISTRY

router = APIRouter(prefix="/console")
Severity = Literal["yellow", "orange", "red"]


def one_per_warning(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per warning from the output records (one per status change), newest
    first: the warning's newest record, closed if a close record is among those read."""
    rows: dict[str, dict[str, Any]] = {}
    for record in records:
        if record["warning_id"] not in rows or record.get("status", "open") == "closed":
            rows[record["warning_id"]] = record  # keeps its place: the newest record's
    return list(rows.values())


def _filters(
    district: str | None,
    rule_id: str | None,
    severity: str | None,
    status: str | None,
    mine: bool,
) -> dict[str, str]:
    found = {"district": district, "rule_id": rule_id, "severity": severity, "status": status}
    return {k: v for k, v in found.items() if v} | ({"mine": "1"} if mine else {})


async def _warnings(
    request: Request,
    district: str | None,
    rule_id: str | None,
    severity: Severity | None,
    status: Literal["open", "closed"] | None,
    cursor: str | None,
    mine: bool,
) -> Response:
    partial = bool(request.headers.get("HX-Request"))
    page, caller = await guard(request, "workbench")
    store = request.app.state.store
    found = await outputs.list_warnings(
        store, caller, None, rule_id or None, severity, status, None, 50, cursor
    )
    items = one_per_warning(found["items"])
    if mine and caller.account_id is not None:  # from the assignee index, not the page
        items = [
            w
            for w in await assigned_warnings(store, caller, caller.account_id)
            if (not rule_id or w["rule_id"] == rule_id)
            and (not severity or w.get("severity") == severity)
            and (not status or w.get("status", "open") == status)
        ]
        found["next_cursor"] = None
    if district:  # the page's firms only: one round trip
        where = await store.districts([w["uscc"] for w in items])
        items = [w for w in items if (where.get(w["uscc"]) or "").startswith(district)]
    # the page's firms' handling records: one round trip, as for the districts
    handlings = await store.handlings(list({w["uscc"] for w in items}))
    for w in items:
        record = handlings.get(w["uscc"], {})
        w["handling"] = {
            "assignment": record.get(f"a:{w['warning_id']}"),
            "disposition": record.get(f"d:{w['warning_id']}"),
        }
    if mine:  # assigned to the caller's account (the latest assignment)
        items = [w for w in items if _assigned_to(w, caller.account_id)]
    page.values = {
        "items": items,
        "next_cursor": found["next_cursor"],
        "filters": _filters(district, rule_id, severity, status, mine),
        "rules": sorted(r for r, rule in REGISTRY.items() if rule.severity),
        "severities": SEVERITIES,
    }
    return render(page, "_warning_rows.html" if partial else "workbench.html")


def _assigned_to(warning: dict[str, Any], account_id: str | None) -> bool:
    assignment = warning["handling"]["assignment"] or {}
    return account_id is not None and assignment.get("account_id") == account_id


@router.get("/warnings")
async def workbench(
    request: Request,
    district: str | None = Query(None, max_length=12),
    rule_id: str | None = Query(None, max_length=64),
    severity: Severity | Literal[""] | None = None,
    status: Literal["open", "closed", ""] | None = None,
    cursor: str | None = Query(None, max_length=44),
    mine: bool = False,
) -> Response:
    """The workbench: the newest warnings under the filters, then the live feed."""
    return await _warnings(
        request, district, rule_id, severity or None, status or None, cursor or None, mine
    )


@router.get("/stream")
async def live(
    request: Request,
    district: str | None = Query(None, max_length=12),
    rule_id: str | None = Query(None, max_length=64),
    severity: Severity | Literal[""] | None = None,
) -> Response:
    """The API's live stream of warnings (SSE) for the session's caller."""
    _, caller = await guard(request, "workbench")
    fields: dict[str, Any] = {"kinds": ["warning"]}
    fields |= {"districts": [district]} if district else {}
    fields |= {"rule_ids": [rule_id]} if rule_id else {}
    fields |= {"severities": [severity]} if severity else {}
    last = request.headers.get("Last-Event-ID")
    return await subscriptions.stream(
        request, caller, fields, None, "now" if last is None else None, last
    )


@router.get("/admin")
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
    page.values |= {"roles": MEMBER_ROLES}
    return render(page, "admin.html")


async def _form(request: Request) -> tuple[dict[str, str], str | None]:
    form = {k: str(v) for k, v in (await request.form()).items()}
    return form, form.pop("csrf_token", None)


@router.post("/admin/accounts")
async def create_account(request: Request) -> Response:
    """Open an account (the API's operation, its checks and its 409)."""
    form, token = await _form(request)
    _, caller = await guard(request, "admin", "admin", form_token=token)
    try:
        body = AccountRequest(**{k: v for k, v in form.items() if v})  # type: ignore[arg-type]
    except ValidationError as exc:
        raise invalid_request(exc.errors()) from exc
    await admin.create_account(body, request.app.state.store, caller)
    return RedirectResponse("/console/admin", status_code=303)


@router.post("/admin/accounts/{account_id}/keys")
async def create_key(request: Request, account_id: str) -> Response:
    """A new key for the account, shown on this page once (never stored in clear)."""
    form, token = await _form(request)
    page, caller = await guard(request, "admin", "admin", form_token=token)
    label = form.get("label") or None
    made = await admin.create_key(account_id, request.app.state.store, caller, label)
    return await _admin(request, page, caller, None, new_key=str(made["key"]))


@router.post("/admin/keys/{key_id}/revoke")
async def revoke_key(request: Request, key_id: str) -> Response:
    form = await request.form()
    token = form.get("csrf_token")
    _, caller = await guard(request, "admin", "admin", form_token=str(token) if token else None)
    await admin.revoke_key(key_id, request.app.state.store, caller)
    return RedirectResponse("/console/admin", status_code=303)
