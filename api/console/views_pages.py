"""The warning workbench (list, live feed, a warning, its actions)."""

from __future__ import annotations

import re
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.assigned import assigned_page
from api.console.overview import SEVERITIES
from api.console.render import render
from api.console.session import session_group
from api.console.views_session import guard
from api.errors import ApiError
from api.routers import subscriptions
from api.warning_rows import warning_rows
from rules.catalogue import REGISTRY

router = APIRouter(prefix="/console")
Severity = Literal["yellow", "orange", "red"]
_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
#: rows a page of the workbench holds
PAGE = 50


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
    by_me = mine and caller.account_id is not None  # (the bootstrap key has no list)
    if cursor is not None and not by_me and not _STREAM_ID.match(cursor):
        raise ApiError(422, "invalid cursor: pass the next_cursor of a previous page")

    def keep(w: dict[str, Any]) -> bool:  # (a form's empty field: any)
        return (not rule_id or w["rule_id"] == rule_id) and (
            not severity or w.get("severity") == severity
        )

    if by_me:  # from the assignee index (its own cursor, which assigned_page checks)
        found = await assigned_page(
            store,
            caller,
            f"a:{caller.account_id}",
            cursor,
            PAGE,
            status or None,
            rule_id or None,
            severity or None,
            district or None,
        )
        items = found["items"]
    else:
        # one row per warning with its status now, whatever page its records fall on
        found = await warning_rows(store, caller, keep, status, PAGE, cursor, district or None)
        items = found["items"]
        # the page's firms' handling records: one round trip, as for the districts
        handlings = await store.handlings(list({w["uscc"] for w in items}))
        for w in items:
            record = handlings.get(w["uscc"], {})
            w["handling"] = {
                "assignment": record.get(f"a:{w['warning_id']}"),
                "disposition": record.get(f"d:{w['warning_id']}"),
            }
    page.values = {
        "items": items,
        "next_cursor": found["next_cursor"],
        "filters": _filters(district, rule_id, severity, status, mine),
        "more": cursor is not None,  # a page after the first: appended to the rows
        "rules": sorted(r for r, rule in REGISTRY.items() if rule.severity),
        "severities": SEVERITIES,
    }
    return render(page, "_warning_rows.html" if partial else "workbench.html")


@router.get("/warnings")
async def workbench(
    request: Request,
    district: str | None = Query(None, max_length=12),
    rule_id: str | None = Query(None, max_length=64),
    severity: Severity | Literal[""] | None = None,
    status: Literal["open", "closed", ""] | None = None,
    cursor: str | None = Query(None, max_length=300),
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
    """The API's live stream of warnings (SSE) for the session's caller. The session's
    tabs share one of the account's live slots (api/live_slots.py)."""
    page, caller = await guard(request, "workbench")
    request.state.live_slot_group = session_group(page.csrf or "")
    fields: dict[str, Any] = {"kinds": ["warning"]}
    fields |= {"districts": [district]} if district else {}
    fields |= {"rule_ids": [rule_id]} if rule_id else {}
    fields |= {"severities": [severity]} if severity else {}
    last = request.headers.get("Last-Event-ID")
    return await subscriptions.stream(
        request, caller, fields, None, "now" if last is None else None, last
    )
