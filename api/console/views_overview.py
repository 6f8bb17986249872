"""The overview (总览) and its map's boundaries: for members (admin, regulator,
department), as the API's lists are; a district-scoped account gets its districts'
figures only (api/console/overview.py)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.auth import MEMBER_ROLES
from api.console.district_map import DistrictMap, load_map, map_view
from api.console.overview import GRADES, SEVERITIES, overview
from api.console.render import GRADE_COLOURS, render
from api.console.views_session import guard
from api.errors import ApiError

router = APIRouter(prefix="/console")


def _district_map(request: Request) -> DistrictMap | None:
    """The deployer's boundaries (CREDITWATCH_CONSOLE_GEOJSON), read once."""
    path = request.app.state.console_settings.geojson
    if path is None:
        return None
    cached: DistrictMap | None = getattr(request.app.state, "district_map", None)
    if cached is None:
        cached = load_map(path)
        request.app.state.district_map = cached
    return cached


@router.get("/")
async def overview_page(request: Request) -> Response:
    page, caller = await guard(request, "overview", *MEMBER_ROLES)
    found = await overview(request.app.state.store, caller)
    boundaries = _district_map(request)
    drawn = map_view(boundaries, dict(found.by_district)) if boundaries else None
    # the districts' names where the map has them, else their codes
    names = {code: label for code, label in boundaries.features if code} if boundaries else {}
    page.values = {
        "o": found,
        "grades": GRADES,
        "severities": SEVERITIES,
        "counts": [found.grade_counts.get(g, 0) for g in GRADES],
        "colours": [GRADE_COLOURS[g] for g in GRADES],
        "map": drawn,
        "district_labels": [f"{names[d]} {d}" if d in names else d for d, _ in found.by_district],
        "regions": [asdict(r) for r in drawn.regions] if drawn else [],
        "series": {
            "grades": [asdict(s) for s in found.grades_over_time],
            "opened": [asdict(s) for s in found.opened],
            "closed": [asdict(s) for s in found.closed],
        },
    }
    return render(page, "overview.html")


@router.get("/map/districts.geojson")
async def district_boundaries(request: Request) -> Response:
    """The districts' boundaries the map draws (from this origin: CSP 'self')."""
    await guard(request, "overview", *MEMBER_ROLES)
    boundaries = _district_map(request)
    if boundaries is None:
        raise ApiError(404, "no district boundaries are configured (CREDITWATCH_CONSOLE_GEOJSON)")
    headers = {"Cache-Control": "private, max-age=3600"}
    return Response(boundaries.body, media_type="application/geo+json", headers=headers)
