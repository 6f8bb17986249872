"""Risk-weighted random inspection plans (双随机、一公开) and blind spots (监管盲区): pure.

A draw is a pure function of (population snapshot, parameters, seed): the snapshot is
sorted by USCC, the inspector pool by inspector id, and every random choice comes from
one `random.Random(seed)` in a fixed order, so recording the three is enough to redraw
the plan and prove it was not chosen by hand (GET /inspections/plans/{id}/verify).

Per grade, ceil(ratio x eligible) firms are drawn (a ratio of 1.0 takes them all);
eligible = in the population and not exempt. Exemptions (inclusive supervision tags, a
grace period after registration) never apply to grade D: the sources exempt such firms
"unless they reach a high-risk grade".
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from rules.grading import GRADES

#: Nanchang's ratios: green 2%, yellow 5%, orange 20%, red 100%
DEFAULT_RATIOS: dict[str, float] = {"A": 0.02, "B": 0.05, "C": 0.20, "D": 1.0}
CONFLICT_RULES = ("own_district", "none")
#: recorded with each plan; change it with the algorithm, or old plans stop verifying
DRAW_VERSION = 1


@dataclass(frozen=True)
class Filters:
    """Who is in the population; an empty field admits everyone."""

    districts: tuple[str, ...] = ()  # division-code prefixes
    industries: tuple[str, ...] = ()  # industry-code prefixes
    grades: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # any of them
    only_active: bool = True

    def admits(self, entry: Mapping[str, Any]) -> bool:
        """
        >>> f = Filters(districts=("4403",), tags=("food",))
        >>> e = {"district": "440305", "tags": ["food"], "status": "active", "grade": "B"}
        >>> f.admits(e), f.admits({**e, "status": "deregistered"}), f.admits({**e, "tags": []})
        (True, False, False)
        """
        if entry.get("grade") not in GRADES:  # ungraded firms cannot be weighted by risk
            return False
        if self.only_active and entry.get("status") != "active":
            return False
        if self.grades and entry["grade"] not in self.grades:
            return False
        if not _prefixed(entry.get("district"), self.districts):
            return False
        if not _prefixed(entry.get("industry"), self.industries):
            return False
        return not self.tags or bool(set(self.tags) & set(entry.get("tags") or ()))


def _prefixed(value: str | None, prefixes: Sequence[str]) -> bool:
    return not prefixes or any((value or "").startswith(p) for p in prefixes)


@dataclass(frozen=True)
class Inspector:
    inspector_id: str
    name: str
    department: str
    district: str | None = None


@dataclass(frozen=True)
class Params:
    """What decides a draw besides the population and the seed."""

    ratios: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RATIOS))
    exempt_tags: tuple[str, ...] = ()
    grace_days: int = 0
    inspectors: tuple[Inspector, ...] = ()
    inspectors_per_target: int = 2
    conflict: str = "own_district"

    def __post_init__(self) -> None:
        bad = {g: r for g, r in self.ratios.items() if g not in GRADES or not 0 <= r <= 1}
        if bad:
            raise ValueError(f"ratios must be grades A-D mapped to 0..1, not {bad}")
        if self.conflict not in CONFLICT_RULES:
            raise ValueError(f"conflict must be one of {CONFLICT_RULES}")
        if self.inspectors_per_target < 1:
            raise ValueError("inspectors_per_target must be at least 1")


def quota(ratio: float, eligible: int) -> int:
    """ceil(ratio x eligible), exact for decimal ratios (0.07 x 100 is 7, not 8).

    >>> quota(0.07, 100), quota(0.02, 51), quota(1.0, 13), quota(0.0, 9), quota(0.2, 0)
    (7, 2, 13, 0, 0)
    """
    return min(eligible, math.ceil(Fraction(str(ratio)) * eligible))


def exempt_reason(
    grade: str, tags: Iterable[str], registered_on: str | None, params: Params, draw_day: date
) -> str | None:
    """Why a firm is exempt from this draw, or None. Grace: registered at most
    `grace_days` days before the draw day (0 turns it off).

    >>> p = Params(exempt_tags=("inclusive_supervision",), grace_days=30)
    >>> day = date(2026, 3, 31)
    >>> exempt_reason("B", ["inclusive_supervision"], "2020-01-01", p, day)
    'tag:inclusive_supervision'
    >>> exempt_reason("C", [], "2026-03-01", p, day), exempt_reason("C", [], "2026-02-28", p, day)
    ('grace:2026-03-01', None)
    >>> exempt_reason("D", ["inclusive_supervision"], "2026-03-30", p, day) is None
    True
    """
    if grade == "D":
        return None
    matched = sorted(set(params.exempt_tags) & set(tags))
    if matched:
        return f"tag:{matched[0]}"
    if params.grace_days > 0 and registered_on:
        try:
            registered = date.fromisoformat(registered_on)
        except ValueError:
            return None
        if registered >= draw_day - timedelta(days=params.grace_days):
            return f"grace:{registered_on}"
    return None


def member(uscc: str, entry: Mapping[str, Any], params: Params, draw_day: date) -> dict[str, Any]:
    """One firm of the population snapshot: what the draw reads, and its exemption."""
    tags = sorted(set(entry.get("tags") or ()))
    registered_on = entry.get("registered_on")
    grade = entry["grade"]
    return {
        "uscc": uscc,
        "grade": grade,
        "district": entry.get("district"),
        "tags": tags,
        "registered_on": registered_on,
        "exempt": exempt_reason(grade, tags, registered_on, params, draw_day),
    }


def snapshot(
    entries: Iterable[tuple[str, Mapping[str, Any]]],
    filters: Filters,
    params: Params,
    draw_day: date,
) -> list[dict[str, Any]]:
    """The population of a draw from directory entries, in canonical (USCC) order."""
    found = [member(u, e, params, draw_day) for u, e in entries if filters.admits(e)]
    return sorted(found, key=lambda m: m["uscc"])


def reassess(population: Iterable[Mapping[str, Any]], params: Params, draw_day: date) -> list[Any]:
    """A recorded snapshot with its exemptions worked out again (for verification)."""
    return sorted(
        (member(m["uscc"], m, params, draw_day) for m in population), key=lambda m: m["uscc"]
    )


def digest(population: Sequence[Mapping[str, Any]]) -> str:
    """SHA-256 of the snapshot's canonical JSON: what the audit record keeps."""
    canonical = sorted(population, key=lambda m: m["uscc"])
    text = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _free(inspector: Inspector, district: str | None, conflict: str) -> bool:
    """Whether the inspector may visit a firm of `district` under the conflict rule."""
    if conflict == "none" or inspector.district is None:
        return True
    return inspector.district != district


def _assign(
    district: str | None,
    pool: Sequence[Inspector],
    params: Params,
    rng: random.Random,
    load: Counter[str],
) -> list[Inspector]:
    """Random conflict-free inspectors for one target: the least loaded first (random
    among equals), one per department while departments last (a joint inspection)."""
    free = [i for i in pool if _free(i, district, params.conflict)]
    order = sorted(rng.sample(free, len(free)), key=lambda i: load[i.inspector_id])
    chosen: list[Inspector] = []
    departments: set[str] = set()
    for i in order:
        if len(chosen) < params.inspectors_per_target and i.department not in departments:
            chosen.append(i)
            departments.add(i.department)
    for i in order:
        if len(chosen) < params.inspectors_per_target and i not in chosen:
            chosen.append(i)
    for i in chosen:
        load[i.inspector_id] += 1
    return chosen


def preview(population: Sequence[Mapping[str, Any]], params: Params) -> dict[str, dict[str, int]]:
    """Per grade, what a draw of `population` would count (population, exempt,
    eligible, drawn), without drawing: the counts do not depend on the seed.

    >>> pop = [{"uscc": f"U{i}", "grade": "C", "exempt": "tag" if i < 2 else None}
    ...        for i in range(10)]
    >>> preview(pop, Params(ratios={"C": 0.2}))["C"]
    {'population': 10, 'exempt': 2, 'eligible': 8, 'drawn': 2}
    """
    sizes = Counter(m["grade"] for m in population)
    exempt = Counter(m["grade"] for m in population if m["exempt"])
    return tally(sizes, exempt, params)


def tally(
    sizes: Mapping[str, int], exempt: Mapping[str, int], params: Params
) -> dict[str, dict[str, int]]:
    """Per grade, the counts of a draw from how many firms of the grade are in the
    population and how many of them are exempt (what the indexes can count).

    >>> tally({"C": 10, "D": 3}, {"C": 2}, Params(ratios={"C": 0.2}))["C"]
    {'population': 10, 'exempt': 2, 'eligible': 8, 'drawn': 2}
    """
    found = {}
    for grade in GRADES:
        eligible = sizes.get(grade, 0) - exempt.get(grade, 0)
        found[grade] = {
            "population": sizes.get(grade, 0),
            "exempt": exempt.get(grade, 0),
            "eligible": eligible,
            "drawn": quota(params.ratios.get(grade, 0.0), eligible),
        }
    return found


def draw(population: Sequence[Mapping[str, Any]], params: Params, seed: str) -> dict[str, Any]:
    """The plan: targets (D first, then by USCC) with their inspectors' ids, the targets
    no inspector may visit (`unassigned`), counts per grade and the snapshot's digest.

    >>> pop = [{"uscc": f"U{i:02}", "grade": "CD"[i % 2], "district": "440305",
    ...         "tags": [], "registered_on": None, "exempt": None} for i in range(10)]
    >>> pool = (Inspector("i1", "甲", "samr", "440304"), Inspector("i2", "乙", "tax", None))
    >>> plan = draw(pop, Params(inspectors=pool), "s1")
    >>> plan == draw(pop, Params(inspectors=pool), "s1")
    True
    >>> plan["counts"]["D"], plan["counts"]["C"]["drawn"]
    ({'population': 5, 'exempt': 0, 'eligible': 5, 'drawn': 5}, 1)
    >>> plan["targets"][0]["inspectors"], plan["unassigned"]
    (['i1', 'i2'], [])
    """
    members = sorted(population, key=lambda m: m["uscc"])
    pool = sorted(params.inspectors, key=lambda i: i.inspector_id)
    rng = random.Random(seed)
    counts: dict[str, dict[str, int]] = {}
    picked: list[Mapping[str, Any]] = []
    for grade in GRADES:
        of_grade = [m for m in members if m["grade"] == grade]
        eligible = [m for m in of_grade if not m["exempt"]]
        chosen = rng.sample(eligible, quota(params.ratios.get(grade, 0.0), len(eligible)))
        counts[grade] = {
            "population": len(of_grade),
            "exempt": len(of_grade) - len(eligible),
            "eligible": len(eligible),
            "drawn": len(chosen),
        }
        picked.extend(chosen)
    load: Counter[str] = Counter()
    # assigned in the drawn (random) order, so no firm is always served last
    assigned = {m["uscc"]: _assign(m["district"], pool, params, rng, load) for m in picked}
    targets = [
        {
            "uscc": m["uscc"],
            "grade": m["grade"],
            "district": m["district"],
            "inspectors": sorted(i.inspector_id for i in assigned[m["uscc"]]),
        }
        for m in sorted(picked, key=lambda m: (-GRADES.index(m["grade"]), m["uscc"]))
    ]
    return {
        "targets": targets,
        "unassigned": [t["uscc"] for t in targets if not t["inspectors"]],
        "counts": counts,
        "population_digest": digest(members),
    }


# --- who may see a plan: district scope ----------------------------------------------
def narrow(districts: Sequence[str], scope: str | None) -> list[str] | None:
    """The district prefixes of a draw by a caller scoped to `scope`: each filter
    prefix cut down to the scope; None when nothing is left (outside the scope).

    >>> narrow([], "4403"), narrow(["44"], "440305"), narrow(["440305", "4401"], "4403")
    (['4403'], ['440305'], ['440305'])
    >>> narrow(["4401"], "4403") is None, narrow([], None)
    (True, [])
    """
    if scope is None:
        return sorted(set(districts))
    if not districts:
        return [scope]
    # a wider prefix shrinks to the scope; a narrower one stays; a disjoint one goes
    kept = {scope for p in districts if scope.startswith(p)}
    kept |= {p for p in districts if p.startswith(scope)}
    return sorted(kept) or None


def visible(plan_districts: Sequence[str], scope: str | None) -> bool:
    """A scoped caller sees a plan whose whole population lies within its district.

    >>> visible([], None), visible([], "4403"), visible(["440305"], "4403")
    (True, False, True)
    """
    if scope is None:
        return True
    return bool(plan_districts) and all(p.startswith(scope) for p in plan_districts)


# --- results --------------------------------------------------------------------------
RESULTS = ("passed", "issues_found", "unreachable")


def progress(results: Iterable[str | None]) -> dict[str, int]:
    """How many targets are pending and how many ended each way.

    >>> progress(["passed", None, "unreachable", "passed"])
    {'pending': 1, 'passed': 2, 'issues_found': 0, 'unreachable': 1}
    """
    found = Counter(r or "pending" for r in results)
    return {k: found[k] for k in ("pending", *RESULTS)}


# --- blind spots (监管盲区) -----------------------------------------------------------
def blind_spot(entry: Mapping[str, Any], grades: Sequence[str], since: date) -> str | None:
    """Why an active firm of these grades is a blind spot (no inspection and no penalty
    after `since`), or None if it is not one.

    >>> e = {"status": "active", "grade": "D", "last_inspected": "2025-01-01",
    ...      "last_penalized": None}
    >>> blind_spot(e, ("C", "D"), date(2025, 3, 1))
    'not inspected since 2025-01-01; never penalised'
    >>> blind_spot({**e, "last_penalized": "2025-06-01"}, ("C", "D"), date(2025, 3, 1))
    """
    if entry.get("status") != "active" or entry.get("grade") not in grades:
        return None
    inspected, penalised = entry.get("last_inspected"), entry.get("last_penalized")
    cut = since.isoformat()
    if (inspected and inspected > cut) or (penalised and penalised > cut):
        return None
    seen = f"not inspected since {inspected}" if inspected else "never inspected"
    fined = f"not penalised since {penalised}" if penalised else "never penalised"
    return f"{seen}; {fined}"


def worst_first(entry: Mapping[str, Any]) -> tuple[int, float, str]:
    """Sort key: D before C, then the lowest score (unscored last), then the USCC."""
    score = entry.get("score")
    return (
        -GRADES.index(entry["grade"]),
        float(score) if score is not None else math.inf,
        entry.get("uscc") or "",
    )
