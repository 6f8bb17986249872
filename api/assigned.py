"""Warnings by assignee, from the assignee index each assignment keeps
(`{prefix}:ix:assigned:a:ACCOUNT`, `:u:UNIT`; streams/store/handling.py), newest
assignment first: `GET /warnings/assigned` and the console's "assigned to me" alike.

Each warning is shown with its status now, as api/warning_rows.py decides it: open
while the firm's state holds it open; otherwise at its close record (or, when the
firm's state no longer holds it and no close record is at hand, closed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from api.auth import Caller
from api.errors import ApiError
from streams.store.api_ports import ApiReads

#: index entries read per round, at least; rounds a page may take before it answers short
ROUND = 200
MAX_ROUNDS = 10
_CURSOR = re.compile(r"^(\d{1,12}):([0-9A-Z]{18}\|.{1,200})$")


def parse_cursor(cursor: str | None) -> tuple[int, str] | None:
    """A cursor is `SCORE:USCC|WARNING_ID`: the last entry of the previous page."""
    if cursor is None:
        return None
    match = _CURSOR.match(cursor)
    if match is None:
        raise ApiError(422, "invalid cursor: pass the next_cursor of a previous page")
    return int(match.group(1)), match.group(2)


def _row(
    uscc: str, wid: str, records: list[dict[str, Any]], open_ids: set[str] | None
) -> dict[str, Any] | None:
    """The warning's newest record with its status now (None: no record at hand)."""
    mine = [r for r in records if r.get("warning_id") == wid]
    if not mine:
        return None
    closing = next((r for r in mine if r.get("status") == "closed"), None)
    if open_ids is not None and wid in open_ids:
        return {**mine[0], "status": "open"}
    if closing is not None:
        return dict(closing)
    # the state no longer holds it open: it closed (no state: as recorded)
    return {**mine[0], "status": "closed" if open_ids is not None else mine[0].get("status")}


async def assigned_page(
    store: ApiReads,
    caller: Caller,
    who: str,
    cursor: str | None,
    limit: int,
    status: Literal["open", "closed"] | None = None,
    rule_id: str | None = None,
    severity: str | None = None,
    district: str | None = None,
) -> dict[str, Any]:
    """A page of the warnings whose latest assignment is to `who` (`a:ACCOUNT` or
    `u:UNIT`), newest assignment first, in the caller's scope and under the filters,
    each with `assigned_at` and its `handling` (assignment, latest disposition); with
    the cursor to the next page (None at the end of the index)."""
    before = parse_cursor(cursor)
    rows: list[dict[str, Any]] = []
    for _ in range(MAX_ROUNDS):
        entries = await store.assigned_after(who, before, max(limit, ROUND))
        if not entries:
            before = None
            break
        firms = list(dict.fromkeys(u for _, u, _ in entries))
        where = await store.districts(firms)
        seen = [
            u
            for u in firms
            if caller.sees(where.get(u)) and (where.get(u) or "").startswith(district or "")
        ]
        states = await store.get_enterprises(seen)
        handlings = await store.handlings(seen)
        records = {u: await store.enterprise_warnings(u, 200) for u in seen}
        for score, uscc, wid in entries:
            before = (score, f"{uscc}|{wid}")
            if uscc not in records:
                continue
            state = states.get(uscc)
            open_ids = (
                {w.get("warning_id", "") for w in state.open_warnings.values()} if state else None
            )
            row = _row(uscc, wid, records[uscc], open_ids)
            if row is None or (rule_id and row.get("rule_id") != rule_id):
                continue
            if (severity and row.get("severity") != severity) or (
                status and row.get("status", "open") != status
            ):
                continue
            handling = handlings.get(uscc, {})
            row["assigned_at"] = datetime.fromtimestamp(score, UTC).isoformat()
            row["handling"] = {
                "assignment": handling.get(f"a:{wid}"),
                "disposition": handling.get(f"d:{wid}"),
            }
            rows.append(row)
            if len(rows) >= limit:
                break
        if len(rows) >= limit:
            break
        if len(entries) < max(limit, ROUND):
            before = None  # the index's end
            break
    caller.saw(len(rows))
    return {"items": rows, "next_cursor": f"{before[0]}:{before[1]}" if before else None}
