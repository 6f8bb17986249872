"""The overview's map (电子地图): the districts' boundaries the deployer names in
CREDITWATCH_CONSOLE_GEOJSON, each drawn in the colour of its firms' grade.

Matching a boundary to the firms: firms carry their district as a GB/T 2260 division
code (their directory entry's `district`), so each GeoJSON feature must carry the code
of the district it outlines, as the property `adcode` (the name DataV.GeoAtlas and most
published Chinese boundary files use) or `code`, a string or a number. Names are not
matched: the same district is written 南山区, 深圳市南山区 or Nanshan, and two cities
have districts of the same name. A feature without a code is drawn grey, cannot be
clicked, and is named in the map's notes; a district with firms and no feature is in
the notes too. A feature's `name` is its label."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.console.render import GRADE_COLOURS

GRADE_VALUE = {"A": 1, "B": 2, "C": 3, "D": 4}
NO_FIRMS = "#d5dbe1"


@dataclass
class DistrictMap:
    """The GeoJSON as served, and its features' (code, name)."""

    body: bytes
    features: list[tuple[str | None, str]]


@dataclass
class Region:
    code: str
    label: str
    grade: str | None  # the firms' mean grade, rounded
    colour: str
    counts: dict[str, int]
    href: str


@dataclass
class MapView:
    regions: list[Region]
    notes: list[str] = field(default_factory=list)


def feature_code(properties: dict[str, Any]) -> str | None:
    """A feature's division code, from `adcode` or `code`.

    >>> feature_code({"adcode": 440305}), feature_code({"code": "440305"}), feature_code({})
    ('440305', '440305', None)
    """
    for name in ("adcode", "code"):
        value = properties.get(name)
        if isinstance(value, (int, str)) and str(value).strip():
            return str(value).strip()
    return None


def load_map(path: Path) -> DistrictMap:
    body = path.read_bytes()
    found = json.loads(body)
    features = []
    for feature in found.get("features", []):
        properties = feature.get("properties") or {}
        code = feature_code(properties)
        features.append((code, str(properties.get("name") or code or "?")))
    return DistrictMap(body, features)


def mean_grade(counts: dict[str, int]) -> str | None:
    """The grade nearest the firms' mean grade (A=1 ... D=4), None without graded firms.

    >>> mean_grade({"A": 3, "D": 1}), mean_grade({"C": 1, "D": 1}), mean_grade({"-": 4})
    ('B', 'D', None)
    """
    graded = {g: n for g, n in counts.items() if g in GRADE_VALUE and n > 0}
    total = sum(graded.values())
    if not total:
        return None
    mean = sum(GRADE_VALUE[g] * n for g, n in graded.items()) / total
    return min(GRADE_VALUE, key=lambda g: (abs(GRADE_VALUE[g] - mean), -GRADE_VALUE[g]))


def map_view(found: DistrictMap, by_district: dict[str, dict[str, int]]) -> MapView:
    """The regions to draw from the firms' grades per district (those in scope)."""
    view = MapView([])
    codes = set()
    for code, label in found.features:
        if code is None:
            view.notes.append(f"{label}: no adcode")
            continue
        codes.add(code)
        counts = by_district.get(code, {})
        grade = mean_grade(counts)
        view.regions.append(
            Region(
                code=code,
                label=label,
                grade=grade,
                colour=GRADE_COLOURS[grade] if grade else NO_FIRMS,
                counts={g: counts.get(g, 0) for g in GRADE_VALUE},
                href=f"/console/enterprises?district={code}",
            )
        )
    missing = sorted(
        d for d, c in by_district.items() if d not in codes and d != "-" and any(c.values())
    )
    if missing:
        view.notes.append("not on the map: " + ", ".join(missing))
    return view
