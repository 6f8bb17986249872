"""The enterprise directory (filters, search, CSV export) and an enterprise's profile.
Every read goes through the API's own route functions: scope and masking are theirs."""

from __future__ import annotations

import re
from typing import Literal

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.console.actions import ACTING_ROLES
from api.console.render import render
from api.console.views_pages import one_per_warning
from api.console.views_session import guard
from api.deps import valid_uscc
from api.directory_views import EntryFilter
from api.errors import ApiError
from api.routers import (
    enterprises,
    history,
    lookups,
    overrides,
    related,
    warnings_handling,
    warnings_review,
)
from api.schemas import Enterprise, HistoryEntry
from api.schemas_handling import DispositionEntry
from rules.catalogue import REGISTRY

router = APIRouter(prefix="/console")
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")
_ID_NO = re.compile(r"^\d{17}[\dXx]$")
Grade = Literal["A", "B", "C", "D"]


@router.get("/enterprises")
async def directory(
    request: Request,
    q: str | None = Query(None, max_length=200),
    grade: Grade | Literal[""] | None = None,
    district: str | None = Query(None, pattern=r"^(\d{2,6})?$"),
    industry: str | None = Query(None, max_length=8),
    cursor: str | None = Query(None, max_length=40),
) -> Response:
    """A page of the list under the filters; with `q`, a search: a USCC opens that
    profile, an ID number finds the person's firms, other text the firms whose name or
    address holds it (regulators: the API's search index)."""
    page, caller = await guard(request, "directory")
    store, search = request.app.state.store, request.app.state.search
    q = (q or "").strip()
    where = _where(grade, district, industry)
    if q and _USCC.match(q.upper()):
        return Response(status_code=303, headers={"Location": f"/console/enterprises/{q.upper()}"})
    if q and _ID_NO.match(q):
        found = await lookups.search_enterprises(store, search, caller, None, None, q, 100, None)
        result = orjson.loads(found.body)  # the access log keeps the person's key only
    elif q:
        if not caller.personal_data:
            raise ApiError(403, "search by name, address or person is for regulators")
        where = EntryFilter(name=q, address=q, either=True)
        result = await lookups.list_page(store, search, caller, where, cursor, 50)
    else:
        result = await lookups.list_page(store, search, caller, where, cursor, 50)
    filters = {"grade": grade or "", "district": district or "", "industry": industry or ""}
    page.values = {"q": q, "result": result, "filters": filters}
    return render(page, "directory.html")


def _where(grade: str | None, district: str | None, industry: str | None) -> EntryFilter:
    grades = frozenset([grade] if grade else ())
    return EntryFilter(grades=grades, district=district or None, industry=industry or None)


@router.get("/enterprises/export.csv")
async def export(
    request: Request,
    grade: Grade | Literal[""] | None = None,
    district: str | None = Query(None, pattern=r"^(\d{2,6})?$"),
    industry: str | None = Query(None, max_length=8),
) -> Response:
    """The API's CSV export under the list's filters."""
    _, caller = await guard(request, "directory")
    where = _where(grade, district, industry)
    return await lookups.export_enterprises(request, request.app.state.store, caller, where)


@router.get("/enterprises/{uscc}")
async def profile(request: Request, uscc: str) -> Response:
    page, caller = await guard(request, "directory")
    valid_uscc(uscc)
    store = request.app.state.store
    firm = await enterprises.get_enterprise(caller, uscc, store, None)
    assert isinstance(firm, Enterprise)  # without as_of: the enterprise as it stands
    # the history mixes grade changes and dispositions: the chart and the timeline take
    # the grade changes, the dispositions have their own table
    found = await history.grade_history(caller, uscc, store, 1000, ["grade_change"])
    changes = [c for c in found if isinstance(c, HistoryEntry)]
    found = await history.grade_history(caller, uscc, store, 1000, ["disposition"])
    disposed = [d for d in found if isinstance(d, DispositionEntry)]
    warnings = one_per_warning(
        await enterprises.enterprise_warnings(caller, uscc, store, None, 100)
    )
    snoozes = await warnings_handling.enterprise_snoozes(caller, uscc, store, True)
    acting = caller.role in ACTING_ROLES
    audit = (  # the workbench's audit is the acting roles' to read, as in the API
        await warnings_review.handling_audit(store, caller, uscc, 100) if acting else None
    )
    # related parties and the overrides' record: regulators', as in the API
    related_firms = await related.related_parties(caller, uscc, store) if acting else None
    override_log = await overrides.override_audit(store, caller, 50, uscc) if acting else None
    # each warning with its latest disposition (the history is newest first)
    latest: dict[str, DispositionEntry] = {}
    for d in disposed:
        latest.setdefault(d.warning_id, d)
    # oldest first for the chart: one point per grade change the API's history holds
    points = [
        {"at": c.at, "grade": c.to_grade, "score": c.score, "cause": c.caused_by}
        for c in reversed(changes)
    ]
    contributions = sorted(
        (
            (rule, value, REGISTRY[rule].title if rule in REGISTRY else rule)
            for rule, value in firm.contributions.items()
        ),
        key=lambda item: item[1],
    )
    page.values = {
        "f": firm,
        "profile": firm.profile,
        "changes": changes,
        "points": points,
        "contributions": contributions,
        "warnings": warnings,
        "snoozes": snoozes,
        "dispositions": disposed,
        "latest_disposition": latest,
        "audit": audit,
        "related": related_firms,
        "override_log": override_log,
        "inspections": firm.inspections,
        "total": sum(firm.contributions.values()),
    }
    return render(page, "profile.html")
