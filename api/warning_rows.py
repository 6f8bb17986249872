"""Warnings one row each, with their status now: what a work queue lists.

The warnings stream holds one record per status change (raised, closed), newest first.
A warning is shown once, at its newest record: a closed one at its close record; a raised
record is shown only while its warning is still open (the firm's state says so), since
a warning that closed has a newer close record that stands for it. So a `status=open`
list never shows a warning that has since closed, and a page boundary between a
warning's two records never shows it twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from api.auth import Caller
from streams.store.api_ports import ApiReads

#: stream records examined per round trip of state reads
_CHUNK = 200


def _open_now(record: dict[str, Any], open_ids: dict[str, set[str]]) -> bool:
    ids = open_ids.get(record["uscc"])
    return ids is None or record["warning_id"] in ids  # no state: as recorded


async def warning_rows(
    store: ApiReads,
    caller: Caller,
    keep: Callable[[dict[str, Any]], bool],
    status: Literal["open", "closed"] | None,
    limit: int,
    cursor: str | None,
    district: str | None = None,
) -> dict[str, Any]:
    """A page of warnings, newest first, one row each (its newest record, `status` its
    status now), that `keep` accepts, in the caller's scope and `district` (a
    division-code prefix); with the cursor to the next page (a stream id)."""
    districts: dict[str, str | None] = {}
    open_ids: dict[str, set[str]] = {}
    rows: list[dict[str, Any]] = []
    pending: list[tuple[str, dict[str, Any]]] = []

    async def settle() -> str | None:
        """Decide the pending records (two round trips for their new firms: districts
        and states); the id of the last row taken if the page filled up (the records
        after it are read again for the next page)."""
        firms = sorted({r["uscc"] for _, r in pending if r["uscc"] not in districts})
        if firms:
            found = await store.districts(firms)
            districts.update({uscc: found.get(uscc) for uscc in firms})
            states = await store.get_enterprises(firms)
            for uscc, state in states.items():
                open_ids[uscc] = {w.get("warning_id", "") for w in state.open_warnings.values()}
        for entry_id, record in pending:
            where = districts.get(record["uscc"]) or ""
            if not caller.sees(where) or (district is not None and not where.startswith(district)):
                continue
            closed = record.get("status", "open") == "closed"
            if not closed and not _open_now(record, open_ids):
                continue  # closed since: its close record is its row
            if status is not None and status != ("closed" if closed else "open"):
                continue
            rows.append(record)
            if len(rows) == limit:
                return entry_id
        pending.clear()
        return None

    async for entry_id, record in store.scan_stream(
        store.warnings_stream, before=cursor, since_ms=None
    ):
        if status == "open" and record.get("status", "open") == "closed":
            continue  # the close record of a warning: not open now
        if not keep(record):
            continue
        pending.append((entry_id, record))
        if len(pending) >= _CHUNK or len(rows) + len(pending) >= limit:
            last = await settle()
            if last is not None:
                caller.saw(len(rows))
                return {"items": rows, "next_cursor": last}
    await settle()
    caller.saw(len(rows))
    return {"items": rows, "next_cursor": None}
