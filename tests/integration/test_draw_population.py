"""The inspection draw's population read from the indexes is the population a scan of
the directory finds, for every kind of filter and exemption: the same firms (so the
same snapshot, digest and draw for a seed), and the preview counted from the indexes
alone says what the snapshot says. Firms committed through the real commit script on
a real Redis, then moved (regraded, deactivated, retagged) so the indexes must follow."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest

from api import draw_population
from rules import inspections as ins
from rules.state import EnterpriseState
from streams.store import Commit, Store

pytestmark = pytest.mark.integration
DISTRICTS = ("440305", "440304", "440306", None)
INDUSTRIES = ("I6513", "C1311", "F5123", None)
TAGS = ((), ("inclusive_supervision",), ("food",), ("food", "high_tech_grace"), ("a:b",))
DAY = date(2026, 3, 31)


def firm(rng: random.Random, n: int) -> EnterpriseState:
    status = rng.choice(("active", "active", "active", "deregistered"))
    grade = rng.choice(("A", "B", "C", "D", None))
    s = EnterpriseState(f"9144030000000{n:04}X", status=status, grade=grade, score=60)
    s.profile = {
        "name": f"第{n}号公司",
        "district": rng.choice(DISTRICTS),
        "industry": rng.choice(INDUSTRIES),
        "tags": list(rng.choice(TAGS)),
        "established_on": rng.choice(("2026-03-20", "2025-01-01", None)),
    }
    return s


@pytest.fixture
async def firms(store: Store) -> None:
    rng = random.Random(5)
    states = [firm(rng, n) for n in range(160)]
    assert await store.commit([Commit(s.uscc, [f"e{s.uscc}"], s) for s in states], [])
    for s in states[::3]:  # each moves: the indexes drop what it left
        moved = firm(rng, int(s.uscc[13:17]))
        assert await store.commit([Commit(s.uscc, [f"f{s.uscc}"], moved)], [])


CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({}, {}),
    ({}, {"exempt_tags": ("inclusive_supervision", "high_tech_grace")}),
    ({"districts": ("440305",), "grades": ("C", "D")}, {"exempt_tags": ("food",)}),
    ({"districts": ("4403",)}, {}),
    ({"tags": ("food",)}, {"exempt_tags": ("high_tech_grace", "inclusive_supervision")}),
    ({"tags": ("food", "a:b"), "districts": ("440304",)}, {"exempt_tags": ("a:b",)}),
    ({"only_active": False}, {"exempt_tags": ("food",)}),
    ({"only_active": False, "tags": ("food",)}, {}),
    ({"industries": ("I",)}, {}),
    ({"industries": ("I65", "C1311"), "only_active": False, "grades": ("A",)}, {}),
    ({"industries": ("F5123",), "tags": ("food",)}, {}),
    ({}, {"grace_days": 30, "exempt_tags": ("food",)}),
]


@pytest.mark.parametrize(("where", "exempt"), CASES)
async def test_the_indexed_population_is_the_scanned_one(
    store: Store, firms: None, where: dict[str, Any], exempt: dict[str, Any]
) -> None:
    filters, params = ins.Filters(**where), ins.Params(**exempt)
    scanned = sorted([(u, e) async for u, e in store.iter_directory() if filters.admits(e)])
    read = await draw_population.entries(store, filters)
    assert read == scanned and read  # every case admits someone
    population = ins.snapshot(read, filters, params, DAY)
    assert population == ins.snapshot(scanned, filters, params, DAY)
    assert ins.draw(population, params, "s") == ins.draw(
        ins.snapshot(scanned, filters, params, DAY), params, "s"
    )
    counted = await draw_population.counted(store, filters, params)
    countable = filters.only_active and not filters.industries and not params.grace_days
    assert (counted is not None) == countable
    if counted is not None:
        assert ins.tally(*counted, params) == ins.preview(population, params)


async def test_the_counts_see_exempt_firms(store: Store, firms: None) -> None:
    params = ins.Params(exempt_tags=("food",))
    counted = await draw_population.counted(store, ins.Filters(), params)
    assert counted is not None
    sizes, exempt = counted
    assert sum(exempt.values()) > 0 and exempt["D"] == 0 and sum(sizes.values()) > 0
