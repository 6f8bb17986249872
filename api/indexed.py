"""Lists read from the console's indexes (streams/store/indexes.py) rather than a scan
of every firm: the directory by district, industry and grade; open warnings overdue;
blind spots. Each reads the keys its filters and the caller's district scope select,
as the index counts name them."""

from __future__ import annotations

import heapq
import re
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from api.auth import Caller
from api.directory_views import EntryFilter, summary
from api.errors import ApiError
from rules import inspections as ins
from rules.grading import GRADES
from streams.store.api_ports import ApiReads
from streams.store.indexes import NONE, day_number

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


def valid_cursor(cursor: str | None) -> None:
    """A list's or a search's cursor: the last USCC of a page."""
    if cursor is not None and not _USCC.match(cursor):
        raise ApiError(422, "invalid cursor: pass the next_cursor of a previous page")


def division_matches(division: str, industry: str | None) -> bool:
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
        if family == "dig" and not division_matches(k.parts[0], where.industry):
            continue
        keys.append(k.key)
    return sorted(keys)


async def firm_page(
    store: ApiReads, caller: Caller, where: EntryFilter, cursor: str | None, limit: int
) -> dict[str, Any]:
    """A page of firms in USCC order; the cursor is the last USCC read. Filters the
    indexes do not hold (tag, rule, status, a finer industry) are applied to the
    entries read, a round at a time: a page may come back short with a cursor."""
    valid_cursor(cursor)
    keys = firm_keys(store, await store.index_counts(), caller, where)
    # the indexes hold district, grade and industry division: other filters may drop
    # entries read, so read more at a time
    exact = not (where.tag or where.rule_id or where.status) and len(where.industry or "") <= 3
    items: list[dict[str, Any]] = []
    after, more = cursor, True
    for _ in range(MAX_ROUNDS):
        wanted = limit - len(items)
        usccs, more = await store.firms_after(keys, after, wanted if exact else max(wanted, ROUND))
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


async def iter_firms(
    store: ApiReads, caller: Caller, where: EntryFilter, chunk: int = 1000
) -> AsyncGenerator[list[tuple[str, dict[str, Any]]], None]:
    """Every firm under `where` in the caller's scope, in USCC order, a chunk of
    (USCC, entry) at a time: the indexes the filters select, walked to their end."""
    keys = firm_keys(store, await store.index_counts(), caller, where)
    after: str | None = None
    while True:
        usccs, more = await store.firms_after(keys, after, chunk)
        entries = await store.directory_entries(usccs)
        yield [(u, entries[u]) for u in usccs if u in entries and where.matches(entries[u], caller)]
        if not more or not usccs:
            return
        after = usccs[-1]


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


@dataclass(frozen=True)
class Walked:
    at: float  # the member's score plus its key's shift
    key: IndexKey
    member: str


async def walk(
    store: ApiReads,
    keys: list[IndexKey],
    highs: list[str],
    shifts: list[float],
    page: int,
) -> AsyncGenerator[Walked, None]:
    """The members of these sorted sets, each up to its score `highs[i]`, in the order
    of their score plus their key's shift, across all of them: each key is read `page`
    members at a time, further only when the walk reaches the last read of it (one
    round trip for every key that needs it)."""
    offsets = [0] * len(keys)
    heap: list[tuple[float, int, str]] = []
    frontier: dict[int, float] = {}  # a key with more to read: its last score read

    async def read(which: list[int]) -> None:
        pages = await store.oldest_members(
            [keys[i].key for i in which],
            [highs[i] for i in which],
            [offsets[i] for i in which],
            page,
        )
        for i, found in zip(which, pages, strict=True):
            offsets[i] += len(found)
            for member, score in found:
                heapq.heappush(heap, (score + shifts[i], i, member))
            if len(found) == page:
                frontier[i] = found[-1][1] + shifts[i]
            else:
                frontier.pop(i, None)

    await read(list(range(len(keys))))
    while heap or frontier:
        top = heap[0][0] if heap else float("inf")
        behind = [i for i, edge in frontier.items() if edge < top]
        if behind:
            await read(behind)
            continue
        at, i, member = heapq.heappop(heap)
        yield Walked(at, keys[i], member)


def _page(limit: int, keys: list[IndexKey]) -> int:
    """Members read from each key at a time: about twice its share of a page."""
    return min(limit + 1, max(16, -(-2 * limit // max(1, len(keys)))))


async def overdue(
    store: ApiReads,
    settings: Any,
    caller: Caller,
    district: str | None,
    severity: str | None,
    rule_id: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Open warnings with no disposition past their due time, most overdue first: the
    open-warning indexes of the districts in scope walked in due order (raised time
    plus the severity's days), the dispositions checked a chunk at a time."""
    now = datetime.now(UTC).timestamp()
    keys = [
        k
        for k in index_keys(store, await store.index_counts(), "open")
        if in_scope(k, caller, district) and (severity is None or k.parts[0] == severity)
    ]
    shifts = [due_days(settings, k.parts[0]) * 86400 for k in keys]
    highs = [repr(now - shift) for shift in shifts]
    found: list[dict[str, Any]] = []
    chunk: list[tuple[Walked, str, str, str]] = []

    async def check() -> None:
        handled = await store.handling_of([(uscc, wid) for _, uscc, wid, _ in chunk])
        for (w, uscc, wid, rule), (disposition, assignment) in zip(chunk, handled, strict=True):
            if disposition is None and len(found) < limit:
                shift = due_days(settings, w.key.parts[0]) * 86400
                found.append(
                    {
                        "uscc": uscc,
                        "district": w.key.district or None,
                        "warning_id": wid,
                        "rule_id": rule,
                        "severity": None if w.key.parts[0] == NONE else w.key.parts[0],
                        "raised_at": datetime.fromtimestamp(w.at - shift, UTC).isoformat(),
                        "due_at": datetime.fromtimestamp(w.at, UTC).isoformat(),
                        "assignment": assignment,
                    }
                )
        chunk.clear()

    async for w in walk(store, keys, highs, shifts, _page(limit, keys)):
        uscc, wid, rule = w.member.split("|", 2)
        if rule_id is None or rule == rule_id:
            chunk.append((w, uscc, wid, rule))
        if len(chunk) >= limit - len(found):
            await check()
            if len(found) >= limit:
                break
    if chunk:
        await check()
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
    inspection and penalty are on or before `since` (none counts as never). How many:
    counts of the firms by the day last seen; the worst: the firms by credit score,
    grade by grade from D, walked until `limit` were last seen by `since`."""
    counts = await store.index_counts()
    cut = day_number(since.isoformat())
    unseen = [
        k
        for k in index_keys(store, counts, "unseen")
        if in_scope(k, caller, district) and k.parts[0] in grades
    ]
    total = sum(await store.count_ranges([(k.key, "-inf", str(cut)) for k in unseen]))
    worst = [
        k
        for k in index_keys(store, counts, "worst")
        if in_scope(k, caller, district) and k.parts[0] in grades
    ]
    top: list[str] = []
    for grade in sorted(grades, key=GRADES.index, reverse=True):
        keys = [k for k in worst if k.parts[0] == grade]
        steps = walk(store, keys, ["+inf"] * len(keys), [0.0] * len(keys), _page(limit, keys))
        async for w in steps:
            seen, uscc = w.member.split("|", 1)
            if int(seen) <= cut:
                top.append(uscc)
                if len(top) >= limit:
                    break
        await steps.aclose()
        if len(top) >= limit:
            break
    entries = await store.directory_entries(top)
    items = []
    for uscc in top:
        entry = entries.get(uscc)
        reason = ins.blind_spot(entry, grades, since) if entry else None
        if entry is not None and reason:
            items.append({**entry, "uscc": uscc, "reason": reason})
    caller.saw(len(items))
    return total, items
