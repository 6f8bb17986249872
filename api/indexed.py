"""Lists read from the console's indexes (streams/store/indexes.py) rather than a scan
of every firm: the directory by district, industry and grade; open warnings overdue;
blind spots. Each reads the keys its filters and the caller's district scope select,
as the index counts name them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from api.auth import Caller
from api.directory_views import EntryFilter, summary
from api.errors import ApiError
from rules import inspections as ins
from rules.grading import GRADES
from streams.store.indexes import NONE, day_number
from streams.store.ports import ApiReads

_USCC = re.compile(r"^[0-9A-Z]{18}$")
#: USCCs read from the indexes per round of a list page, at least
ROUND = 200
#: rounds a page may take before it answers with what it found and a cursor
MAX_ROUNDS = 25


@dataclass(frozen=True)
class IndexKey:
    key: str
    family: str
    district: str  # "" for none
    parts: tuple[str, ...]  # what follows the district


def index_keys(store: ApiReads, counts: dict[str, int], family: str) -> list[IndexKey]:
    """The keys of a family with members, parsed."""
    found = []
    for key, n in counts.items():
        if n <= 0:
            continue
        parts = store.ix.parse(key)
        if parts[0] == family:
            district = "" if parts[1] == NONE else parts[1]
            found.append(IndexKey(key, family, district, parts[2:]))
    return found


def in_scope(key: IndexKey, caller: Caller, district: str | None) -> bool:
    """Whether the key's firms are in the caller's scope and under the district asked."""
    return caller.sees(key.district) and key.district.startswith(district or "")


def indexed(where: EntryFilter) -> bool:
    """Whether a list under these filters can be read from the indexes (name and
    address search are substring matches: they scan the directory)."""
    return where.name is None and where.address is None


def _division_matches(division: str, industry: str | None) -> bool:
    if not industry:
        return True
    return division.startswith(industry) if len(industry) <= 3 else industry.startswith(division)


def firm_keys(
    store: ApiReads, counts: dict[str, int], caller: Caller, where: EntryFilter
) -> list[str]:
    """The firm indexes a list under `where` reads: by district and grade, or by
    district, industry division and grade when an industry is asked."""
    family = "dig" if where.industry else "dg"
    keys = []
    for k in index_keys(store, counts, family):
        grade = k.parts[-1]
        if not in_scope(k, caller, where.district):
            continue
        if where.grades and grade not in where.grades:
            continue
        if family == "dig" and not _division_matches(k.parts[0], where.industry):
            continue
        keys.append(k.key)
    return sorted(keys)


async def firm_page(
    store: ApiReads, caller: Caller, where: EntryFilter, cursor: str | None, limit: int
) -> dict[str, Any]:
    """A page of firms in USCC order; the cursor is the last USCC read. Filters the
    indexes do not hold (tag, rule, status, a finer industry) are applied to the
    entries read, a round at a time: a page may come back short with a cursor."""
    if cursor is not None and not _USCC.match(cursor):
        raise ApiError(422, "invalid cursor: pass the next_cursor of a previous page")
    keys = firm_keys(store, await store.index_counts(), caller, where)
    items: list[dict[str, Any]] = []
    after, more = cursor, True
    for _ in range(MAX_ROUNDS):
        usccs, more = await store.firms_after(keys, after, max(limit - len(items), ROUND))
        entries = await store.directory_entries(usccs)
        for uscc in usccs:
            entry = entries.get(uscc)
            after = uscc
            if entry is not None and where.matches(entry, caller):
                items.append(summary(uscc, entry))
                if len(items) >= limit:
                    more = more or uscc != usccs[-1]
                    break
        if len(items) >= limit or not more:
            break
    caller.saw(len(items))
    return {"items": items, "next_cursor": after if more else None}


def _sums(rows: Iterable[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for group, grade, n in rows:
        out.setdefault(group, {})[grade] = out.get(group, {}).get(grade, 0) + n
    return out


def grades_by(
    store: ApiReads, counts: dict[str, int], caller: Caller, by: str
) -> dict[str, dict[str, int]]:
    """Firms by grade (`-`: not graded) per district ("district") or per industry
    section, the GB/T 4754 letter ("industry"), within the caller's scope."""
    if by == "district":
        rows = [
            (k.district or NONE, k.parts[-1], counts[k.key])
            for k in index_keys(store, counts, "dg")
            if in_scope(k, caller, None)
        ]
    else:
        rows = [
            (k.parts[0][:1], k.parts[-1], counts[k.key])
            for k in index_keys(store, counts, "dig")
            if in_scope(k, caller, None)
        ]
    return _sums(rows)


def due_days(settings: Any, severity: str) -> float:
    return float(
        {
            "red": settings.handling_due_days_red,
            "orange": settings.handling_due_days_orange,
        }.get(severity, settings.handling_due_days_yellow)
    )


async def overdue(
    store: ApiReads,
    settings: Any,
    caller: Caller,
    district: str | None,
    severity: str | None,
    rule_id: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Open warnings with no disposition past their due time, most overdue first, from
    the open-warning indexes of the districts in scope. Each index is read oldest first
    (its due time is its raised time plus its severity's days), `limit` at a time; the
    candidates are walked in due order, their dispositions checked a chunk at a time,
    and an index read further only when the walk reaches the last it read of it."""
    now = datetime.now(UTC).timestamp()
    keys = [
        k
        for k in index_keys(store, await store.index_counts(), "open")
        if in_scope(k, caller, district) and (severity is None or k.parts[0] == severity)
    ]
    days = {k.key: due_days(settings, k.parts[0]) for k in keys}
    highs = {k.key: repr(now - days[k.key] * 86400) for k in keys}
    offsets = {k.key: 0 for k in keys}
    #: (due, key, uscc, warning id, rule) read and not walked yet
    pending: list[tuple[float, IndexKey, str, str, str]] = []
    #: a key read to its end has no frontier; else the due of the last member read
    frontier: dict[str, float] = {}

    async def read(more: list[IndexKey]) -> None:
        pages = await store.oldest_members(
            [k.key for k in more],
            [highs[k.key] for k in more],
            [offsets[k.key] for k in more],
            limit,
        )
        for k, page in zip(more, pages, strict=True):
            offsets[k.key] += len(page)
            for member, raised in page:
                uscc, wid, rule = member.split("|", 2)
                if rule_id is None or rule == rule_id:
                    pending.append((raised + days[k.key] * 86400, k, uscc, wid, rule))
            if len(page) == limit:
                frontier[k.key] = page[-1][1] + days[k.key] * 86400
            else:
                frontier.pop(k.key, None)

    await read(keys)
    found: list[dict[str, Any]] = []
    while pending and len(found) < limit:
        pending.sort(key=lambda p: p[0])
        edge = min(frontier.values(), default=float("inf"))
        chunk = [p for p in pending[: limit - len(found)] if p[0] <= edge]
        if not chunk:  # the walk reached the last read of an index: read it further
            for key in [k for k in keys if frontier.get(k.key) == edge]:
                await read([key])
            continue
        del pending[: len(chunk)]
        handled = await store.handling_of([(p[2], p[3]) for p in chunk])
        for (due, k, uscc, wid, rule), (disposition, assignment) in zip(
            chunk, handled, strict=True
        ):
            if disposition is not None:
                continue
            found.append(
                {
                    "uscc": uscc,
                    "district": k.district or None,
                    "warning_id": wid,
                    "rule_id": rule,
                    "severity": None if k.parts[0] == NONE else k.parts[0],
                    "raised_at": datetime.fromtimestamp(due - days[k.key] * 86400, UTC).isoformat(),
                    "due_at": datetime.fromtimestamp(due, UTC).isoformat(),
                    "assignment": assignment,
                }
            )
    caller.saw(len(found))
    return found


async def blind_spots(
    store: ApiReads,
    caller: Caller,
    grades: list[str],
    district: str | None,
    since: date,
    limit: int,
) -> tuple[int, list[dict[str, Any]]]:
    """(how many, the worst `limit`): active firms of these grades in scope whose last
    inspection and penalty are on or before `since` (none counts as never)."""
    keys = [
        k
        for k in index_keys(store, await store.index_counts(), "unseen")
        if in_scope(k, caller, district) and k.parts[0] in grades
    ]
    cut = str(day_number(since.isoformat()))
    members = await store.members_by_score([k.key for k in keys], "-inf", cut)
    ranked = sorted(
        (-GRADES.index(k.parts[0]), member)
        for k, found in zip(keys, members, strict=True)
        for member in found
    )
    top = [member.split("|", 1)[1] for _, member in ranked[:limit]]
    entries = await store.directory_entries(top)
    items = []
    for uscc in top:
        entry = entries.get(uscc)
        reason = ins.blind_spot(entry, grades, since) if entry else None
        if entry is not None and reason:
            items.append({**entry, "uscc": uscc, "reason": reason})
    caller.saw(len(items))
    return len(ranked), items
