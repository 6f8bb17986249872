"""The warnings assigned to an account, from the assignee index the workbench's
assignments keep (streams/store/handling.py), not from a page of the newest."""

from __future__ import annotations

from typing import Any

from api.auth import Caller
from streams.store.ports import ApiReads


async def assigned_warnings(
    store: ApiReads, caller: Caller, account_id: str, limit: int = 50
) -> list[dict[str, Any]]:
    """The newest record of each warning whose latest assignment is to the account,
    the newest assignment first, in the caller's scope (closed ones included: a close
    record stands for its warning)."""
    pairs = await store.assigned_warnings(account_id=account_id, limit=limit)
    where = await store.districts(list({uscc for uscc, _ in pairs}))
    records: dict[str, list[dict[str, Any]]] = {}
    for uscc in dict.fromkeys(u for u, _ in pairs if caller.sees(where.get(u))):
        records[uscc] = await store.enterprise_warnings(uscc, 200)
    rows = []
    for uscc, wid in pairs:
        mine = [r for r in records.get(uscc, []) if r["warning_id"] == wid]
        if mine:
            rows.append(next((r for r in mine if r.get("status") == "closed"), mine[0]))
    caller.saw(len(rows))
    return rows
