"""What the list of inspection plans shows of a plan, and which district scopes see it:
kept with each plan when it is drawn so the list reads neither its targets nor its
population (streams/store/inspections.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: left out of a plan's summary: the targets (thousands for a city) and the parameters
#: (the inspector pool); the public list still needs the ratios
_LEFT_OUT = ("targets", "parameters")


def summary(plan: Mapping[str, Any]) -> dict[str, Any]:
    """The plan without its targets and parameters, with its target count and ratios.

    >>> summary({"plan_id": "P1", "targets": [{}, {}], "parameters": {"ratios": {"A": 0.1}}})
    {'plan_id': 'P1', 'targets_count': 2, 'ratios': {'A': 0.1}}
    """
    return {
        **{k: v for k, v in plan.items() if k not in _LEFT_OUT},
        "targets_count": len(plan["targets"]),
        "ratios": plan["parameters"]["ratios"],
    }


def scopes(districts: Sequence[str]) -> list[str]:
    """Every district scope that sees a plan of these district prefixes (as
    rules/inspections.py `visible` says: the whole population within the scope), i.e.
    every prefix of their common prefix; none for a plan of all districts, which
    only an unscoped caller sees.

    >>> scopes(["440305", "440304"]), scopes(["4403"]), scopes([])
    (['4', '44', '440', '4403', '44030'], ['4', '44', '440', '4403'], [])
    """
    if not districts:
        return []
    # the common prefix of all is that of the first and last in order
    first, last = min(districts), max(districts)
    common = 0
    while common < len(first) and first[common] == last[common]:
        common += 1
    return [first[:n] for n in range(1, common + 1)]
