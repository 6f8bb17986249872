"""A city's plan: the planted patterns of simulation/patterns.py and
simulation/registry_patterns.py, the ordinary firms, then the statutory calendar of
simulation/statutory.py."""

from __future__ import annotations

import random
from datetime import date

from streams.simulation.data import INDUSTRIES, INDUSTRY_INDEX
from streams.simulation.patterns import (
    _PLANTERS,
    DAY,
    MIN_ENTERPRISES_TO_PLANT,
    Plan,
    _Planter,
    permit_window,
)
from streams.simulation.registry_patterns import MORE_PLANTERS
from streams.simulation.statutory import establish, plan_reports


def plan_city(
    *, seed: int, enterprises: int, start: date, days: int, planted_within_days: int | None
) -> Plan:
    period = days * DAY
    load_end = min(8 * 3600, period // 4)
    window = period if planted_within_days is None else min(period, planted_within_days * DAY)
    plan = Plan(seed, start, period, load_end, max(window, load_end + 3600))
    rng = random.Random(f"creditwatch-sim-{seed}-plan")
    pl = _Planter(plan, rng)
    if enterprises >= MIN_ENTERPRISES_TO_PLANT:
        k = max(1, round(enterprises * 0.004))  # firms per single-firm pattern
        kd = max(1, round(enterprises * 0.002))  # decoys per variant
        kg = max(1, round(enterprises * 0.0008))  # groups per multi-firm pattern
        pl.big = enterprises >= 200
        for plant in (*_PLANTERS, *MORE_PLANTERS):
            plant(pl, k, kd, kg)
        if len(plan.usccs) > enterprises:
            raise ValueError(f"{enterprises} enterprises are too few for the planted patterns")
    pl.fill(enterprises)
    plan.order = sorted(range(enterprises), key=plan.reg_t.__getitem__)
    plan.stubs.sort()
    for e, t in enumerate(plan.reg_t):  # new firms needing a permit get it within 25 days
        if t >= load_end and e not in plan.own_permits and permit_window(t, period):
            industry = plan.industry.get(e)
            if industry is None:
                industry = INDUSTRY_INDEX[plan.profiles[e]["industry"]]
            if INDUSTRIES[industry][3] is not None:
                plan.new_permits.add(e)
    establish(plan)
    plan_reports(plan)
    return plan
