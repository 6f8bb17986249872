"""Many enterprises at once: batch lookups (批量查询), lists filtered by grade, district,
tag or rule, CSV export, and search by name, address or person (regulators).

Lists and exports by district, industry, grade (and tag, rule, status among those)
read the indexes (api/indexed.py); name or address search reads this API process's
search index (api/search.py); a person search reads the person's index of firms
directly."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from api.access_log import record_access
from api.auth import Caller, Member, Regulator
from api.body_limit import LARGE_BODY
from api.deps import ReadsDep, SearchDep
from api.directory_views import CSV_COLUMNS, EntryFilter, csv_row, summaries_response, summary
from api.errors import ApiError, clip
from api.indexed import firm_page, iter_firms
from api.schemas import BatchRequest, BatchResult, EnterpriseSummary, Page
from api.search import SearchFeed, search_page, searched
from streams.contract.identifiers import id_problem, person_key, uscc_problem
from streams.store.api_ports import ApiReads

router = APIRouter(prefix="/enterprises", tags=["lookups"])

Grade = Literal["A", "B", "C", "D"]
Grades = Annotated[list[Grade] | None, Query(description="any of these grades")]
District = Annotated[
    str | None, Query(pattern=r"^\d{2,6}$", description="division-code prefix", examples=["4403"])
]
Tag = Annotated[str | None, Query(max_length=64, examples=["high_tech"])]
RuleId = Annotated[str | None, Query(max_length=64, description="with an open warning of it")]
Status = Annotated[Literal["active", "deregistered", "unregistered"] | None, Query()]
Industry = Annotated[str | None, Query(max_length=8, description="GB/T 4754 code prefix")]
#: firms read from the indexes per chunk of an export
EXPORT_CHUNK = 2000


async def _filters(
    grade: Grades = None,
    district: District = None,
    tag: Tag = None,
    rule_id: RuleId = None,
    status: Status = None,
    industry: Industry = None,
) -> EntryFilter:
    """The filters a list and an export share, from their query parameters."""
    return EntryFilter(frozenset(grade or ()), district, tag, rule_id, status, industry)


Filters = Annotated[EntryFilter, Depends(_filters)]


@router.post(
    "/batch",
    response_model=BatchResult,
    openapi_extra=LARGE_BODY,
    responses={422: {"description": "more than 1,000 USCCs, or none"}},
)
async def batch_lookup(body: BatchRequest, store: ReadsDep, caller: Member) -> Any:
    """Up to 1,000 enterprises in one call and one Redis round trip: their grade,
    score, open rules and status, in the order asked. Invalid USCCs and unknown ones
    are listed apart; duplicates are answered once."""
    asked = list(dict.fromkeys(body.usccs))
    problems = {u: uscc_problem(u) for u in asked}
    invalid = [{"uscc": clip(u), "problem": p} for u, p in problems.items() if p]
    valid = [u for u, p in problems.items() if not p]
    entries = await store.directory_entries(valid)
    seen = {u: e for u, e in entries.items() if caller.sees(e.get("district"))}
    caller.saw(len(seen))
    return summaries_response(
        {
            "items": [summary(u, seen[u]) for u in valid if u in seen],
            "missing": [u for u in valid if u not in seen],
            "invalid": invalid,
        }
    )


async def list_page(
    store: ApiReads,
    feed: SearchFeed,
    caller: Caller,
    where: EntryFilter,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """One page of the list, in USCC order: from the search index (api/search.py) when
    the filters search names or addresses, else from the console's indexes
    (api/indexed.py)."""
    if searched(where):
        return await search_page(feed, store, caller, where, cursor, limit)
    return await firm_page(store, caller, where, cursor, limit)


@router.get("", response_model=Page[EnterpriseSummary])
async def list_enterprises(
    store: ReadsDep,
    feed: SearchDep,
    caller: Member,
    where: Filters,
    limit: int = Query(100, ge=1, le=1000, description="at most this many per page"),
    cursor: str | None = Query(None, max_length=40, description="`next_cursor` of a page"),
) -> Any:
    """Enterprises by grade, district, tag, rule with an open warning, status or
    industry, in USCC order, a page at a time."""
    return summaries_response(await list_page(store, feed, caller, where, cursor, limit))


@router.get(
    "/search",
    response_model=Page[EnterpriseSummary],
    responses={422: {"description": "no search term, or an invalid ID number"}},
)
async def search_enterprises(
    store: ReadsDep,
    feed: SearchDep,
    caller: Regulator,
    name: str | None = Query(None, min_length=2, max_length=100, examples=["某某科技"]),
    address: str | None = Query(None, min_length=2, max_length=200, examples=["科技园路1号"]),
    person_id: str | None = Query(
        None, description="a natural person's ID number: every firm where they hold a key role"
    ),
    limit: int = Query(100, ge=1, le=1000),
    cursor: str | None = Query(None, max_length=40),
) -> Any:
    """Search by name or address (substrings, case-insensitive; an address is
    normalized first; both given, a firm must match both), a page at a time in USCC
    order, from an index (read-your-writes: a firm committed before the request is
    found), or by a person's ID number (the firms where they are legal representative,
    officer or shareholder, with their roles)."""
    if person_id is not None:
        problem = id_problem(person_id)
        if problem:
            raise ApiError(422, f"invalid ID number: {problem}", code="invalid_id_no")
        roles = await store.person_firms(person_key(person_id))
        entries = await store.directory_entries(sorted(roles))
        items = [
            summary(u, {**e, "roles": roles[u]})
            for u, e in entries.items()
            if caller.sees(e.get("district"))
        ]
        caller.saw(len(items))
        return summaries_response({"items": items, "next_cursor": None})
    if name is None and address is None:
        raise ApiError(422, "give a name, an address or a person_id to search for")
    where = EntryFilter(name=name, address=address)
    return summaries_response(await list_page(store, feed, caller, where, cursor, limit))


@router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 with a BOM"}},
)
async def export_enterprises(
    request: Request, store: ReadsDep, caller: Member, where: Filters
) -> StreamingResponse:
    """The list's filters, every match, as CSV (with a byte-order mark, so spreadsheet
    programs read the Chinese names right), in USCC order, streamed as the indexes are
    read. The
    access log gets a second record when the export ends, with the rows sent."""

    async def rows() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        yield "\ufeff" + buffer.getvalue()
        sent = 0
        async for entries in iter_firms(store, caller, where, EXPORT_CHUNK):
            buffer.seek(0)
            buffer.truncate()
            for uscc, entry in entries:
                writer.writerow(csv_row(uscc, entry))
                sent += 1
            yield buffer.getvalue()
        caller.records = sent
        record_access(request, "/enterprises/export.csv (completed)", 200)

    headers = {"Content-Disposition": 'attachment; filename="enterprises.csv"'}
    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8", headers=headers)
