"""A backtest of one enterprise's journal: both rule sets see the related parties the
caller hands in, so a candidate that moves an address's threshold shows its effect."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rules import backtest
from rules.addresses import address_key, normalize_address
from rules.backtest import FirmRun, Tally, run_firm
from rules.related import RelatedData, view
from rules.ruleset import RuleSet

ADDRESS = "广东省深圳市龙岗区龙城街道龙翔大道2号创业中心6层"
AKEY = address_key(normalize_address(ADDRESS))
FIRM = "91440307890186870H"
NEIGHBOURS = [
    "91440307287576348J",
    "91440307MA0W4EEH4G",
    "91440300708461136T",
    "91440300MA5F0YJ85E",
]
AT = "2025-01-23T03:52:08+00:00"
JOURNAL = [[AT, "enterprise.registered", "e-x", {"name": "X", "address": ADDRESS}]]
IN_FORCE = RuleSet("in-force")
#: a crowded address only from six active firms on (five by default)
CANDIDATE = RuleSet("candidate", {"address_cluster": {"active_threshold": 6}})


def index() -> RelatedData:
    """The address as the store's index holds it: the firm and four neighbours."""
    firms = {u: "2024-06-01|2024-06-01T00:00:00+00:00" for u in NEIGHBOURS}
    return RelatedData(address_firms={AKEY: {FIRM: f"2025-01-23|{AT}", **firms}})


def test_the_address_cluster_fires_in_force_and_not_with_the_candidate() -> None:
    data = index()
    until = "2025-01-24T00:00:00+00:00"
    in_force = run_firm(FIRM, JOURNAL, IN_FORCE, until, lambda s: view(s, data))
    candidate = run_firm(FIRM, JOURNAL, CANDIDATE, until, lambda s: view(s, data))
    assert in_force.warnings["address_cluster"] == 1
    assert candidate.warnings["address_cluster"] == 0
    tally = Tally()
    tally.add(FIRM, in_force, candidate)
    figures = tally.figures()
    assert figures["warnings"]["address_cluster"] == {"in_force": 1, "candidate": 0}
    assert figures["firms"] == 1
    moved = in_force.grade != candidate.grade
    assert figures["changed_total"] == int(moved)
    assert sum(g["in_force"] for g in figures["grades"].values()) == 1


def test_the_firms_listed_are_bounded_and_the_count_is_not(monkeypatch: Any) -> None:
    monkeypatch.setattr(backtest, "MAX_CHANGED", 2)
    tally = Tally()
    for n in range(3):
        tally.add(f"U{n}", FirmRun("A", Counter()), FirmRun("B", Counter(r=1)))
    tally.add("U9", FirmRun("C", Counter()), FirmRun("C", Counter()))
    figures = tally.figures()
    assert figures["changed_total"] == 3 and figures["firms"] == 4
    assert [c["uscc"] for c in figures["changed"]] == ["U0", "U1"]
    assert figures["grades"]["A"] == {"in_force": 3, "candidate": 0}
    assert figures["warnings"] == {"r": {"in_force": 0, "candidate": 3}}


def test_tallies_of_chunks_merge_into_the_tally_of_all() -> None:
    runs = [
        ("U1", FirmRun("B", Counter(r=1)), FirmRun("C", Counter(r=2))),
        ("U2", FirmRun("A", Counter()), FirmRun("A", Counter(q=1))),
        ("U3", FirmRun("D", Counter(r=1)), FirmRun("B", Counter())),
    ]
    whole, first, second = Tally(), Tally(), Tally()
    for run in runs:
        whole.add(*run)
    first.add(*runs[0])
    for run in runs[1:]:
        second.add(*run)
    first.merge(second)
    assert first.figures() == whole.figures()
    assert first.figures()["changed_total"] == 2
