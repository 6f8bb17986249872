"""Dependencies shared by the routers, as Annotated aliases; who may call what is in
api/auth.py."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BeforeValidator

from api.auth import Caller
from api.errors import ApiError, clip
from api.search import SearchFeed
from streams.contract.identifiers import uscc_problem
from streams.store.api_ports import ApiOwns, ApiReads, ApiStore

# Dependencies are `async def` even when they never await: FastAPI runs a plain `def`
# one in a worker thread, a thread hop per dependency per request.


async def get_store(request: Request) -> ApiStore:
    store: ApiStore = request.app.state.store
    return store


async def get_search(request: Request) -> SearchFeed:
    feed: SearchFeed = request.app.state.search
    return feed


def valid_uscc(uscc: str) -> str:
    problem = uscc_problem(uscc)
    if problem:
        raise ApiError(422, f"invalid USCC {clip(uscc)!r}: {problem}", code="invalid_uscc")
    return uscc


async def uscc_path(uscc: str) -> str:
    """The `{uscc}` of a path, checked."""
    return valid_uscc(uscc)


async def check_scope(store: ApiReads, caller: Caller, uscc: str) -> None:
    """Refuse an enterprise outside a district-scoped caller's district, as if unknown
    (404), so a scoped account cannot probe which enterprises exist elsewhere."""
    if caller.district is None:
        return
    entry = (await store.directory_entries([uscc])).get(uscc)
    if entry is None or not caller.sees(entry.get("district")):
        raise ApiError(404, f"no record of enterprise {uscc}")


def _iso_text(value: Any) -> Any:
    """Dates and times as ISO text only: pydantic would also take a bare number as a
    Unix time, which the API documents nowhere."""
    if not (isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value)):
        raise ValueError("expected ISO 8601 text, e.g. 2026-03-01 or 2026-03-01T00:00:00+08:00")
    return value


#: an RFC 3339 date-time, a date (YYYY-MM-DD): as text, never a number
Instant = Annotated[datetime, BeforeValidator(_iso_text)]
Day = Annotated[date, BeforeValidator(_iso_text)]

#: the store as a route sees it: what the API reads, what it owns, or both
ReadsDep = Annotated[ApiReads, Depends(get_store)]
#: this process's name and address search index (api/search.py)
SearchDep = Annotated[SearchFeed, Depends(get_search)]
OwnsDep = Annotated[ApiOwns, Depends(get_store)]
StoreDep = Annotated[ApiStore, Depends(get_store)]
Uscc = Annotated[str, Depends(uscc_path)]
