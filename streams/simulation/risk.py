"""A synthetic city with a KNOWN latent risk process, to evaluate an online forecaster
("a serious adverse event within 180 days?") against a rules-only score: unlike the
planted-pattern city (simulation/__init__.py), every firm's true hazard is known.

>>> city = generate_risk_city(seed=1, enterprises=40, days=200)
>>> events = list(city.events())
>>> len(events) == city.total, events[0]["type"], events[-1]["occurred_at"] < "2025-07-20"
(True, 'enterprise.registered', True)
>>> uscc = events[0]["uscc"]
>>> city.hazard(uscc, 10) == BASE * math.exp(LOADING * city.z(uscc, 10))
True
>>> list(generate_risk_city(seed=1, enterprises=40, days=200).events()) == events
True

The process (simulation/risk_plan.py draws it, simulation/risk_emit.py emits it):
- each firm has z ~ N(0, 1); 15 % deteriorate: on a random day z rises by 1.5 for
  good. z(t) is a step function (`RiskCity.latent`);
- serious adverse events are Poisson at daily hazard BASE * exp(1.2 z(t)): 55 %
  ordinary-procedure penalties (a fine over 30,000, maybe confiscation), 30 %
  `tax.violation`, 10 % `court.dishonest_listed` (after a `court.judgment` as defendant
  and a `court.enforcement` filed, 30-120 days before, all three with the same
  case_no), 5 % `list.serious_added`. `RiskCity.adverse` holds their days;
- precursors are Poisson at r_k * exp(b_k z_obs(t)), b_k in 0.6-1.2 (risk_plan.PRECURSORS):
  complaints, registration changes (shareholders, legal rep, address, phone),
  simple-procedure penalties, tax arrears (cleared 10-60 days later, less often for a
  high z), social-insurance arrears, judgments as defendant, enforcement filed,
  pledges, inspections (unreachable or issues found more often for a high z), and
  abnormal listings for an unreachable address (half removed 30-240 days later).
  Commendations come the other way (rate falling with z);
- yearly: the annual report (all zero more often for a high z) and the tax credit rating
  (A B C D from z plus noise; M in the year a firm was founded);
- statically, a higher z means a smaller registered capital and a younger firm (noisily);
- z_obs(t) = z(t), but from `drift_day` on an independent N(0, 1) per firm: the
  observable signals (precursors, commendations, yearly filings) stop carrying
  information while the adverse hazard still follows z(t). The stream before
  `drift_day` is the same, event for event, with or without a drift;
- every firm registers in the first 8 hours of day 0 (established 40 days to 10 years
  before), except ~5 % registered during the period (at an office time, established
  that day; their processes start the next day and their hazard is 0 until then).
  Other events are at office times (08:30-18:00 +08:00, weekends included).

Calibration (BASE = 0.0004 a day): of the (firm, day) points with a full 180-day
horizon, 13-14 % have a serious adverse event in the next 180 days; an average firm
has ~13 events a year besides its registration (2,000 firms x 730 days: ~1.1 s).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from streams.contract.identifiers import make_uscc
from streams.simulation.risk_emit import RiskEmitter
from streams.simulation.risk_plan import (
    BASE,
    LOADING,
    PRECURSORS,
    REG,
    SHOP_SHARE,
    Firm,
    Stub,
    adverse,
    district,
    precursors,
    static,
    yearly,
)

__all__ = ["BASE", "LOADING", "PRECURSORS", "RiskCity", "generate_risk_city"]


@dataclass(frozen=True)
class RiskCity:
    """A generated risk city. `latent[uscc]`: z(t) as (first day index, z) steps;
    `drift_z[uscc]`: the z_obs used from `drift_day` on (drawn even without a drift);
    `first_day[uscc]`: the first day of its processes (0, or the day after a mid-period
    registration); `adverse[uscc]`: the day indexes of its serious adverse events;
    `total`: the number of events `events()` yields; `firms`, `stubs`: the plan it
    replays."""

    seed: int
    start: date
    days: int
    drift_day: int | None
    latent: Mapping[str, tuple[tuple[int, float], ...]]
    drift_z: Mapping[str, float]
    first_day: Mapping[str, int]
    adverse: dict[str, list[int]]
    total: int
    firms: tuple[Firm, ...] = field(repr=False, compare=False)
    stubs: tuple[Stub, ...] = field(repr=False, compare=False)

    def z(self, uscc: str, day: int) -> float:
        """The latent risk z(t) of `uscc` on day index `day`."""
        value = math.nan
        for first, z in self.latent[uscc]:
            if day >= first or math.isnan(value):
                value = z
        return value

    def hazard(self, uscc: str, day: int) -> float:
        """The daily hazard of a serious adverse event of `uscc` on day index `day`
        (0 before its processes start)."""
        if day < self.first_day[uscc]:
            return 0.0
        return BASE * math.exp(LOADING * self.z(uscc, day))

    def events(self) -> Iterator[dict[str, Any]]:
        """Contract events (dicts) ordered by `occurred_at` (ties in a fixed order); the
        same stream on every call."""
        return RiskEmitter(self.seed, self.start, self.days, self.firms).events(self.stubs)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self.events()

    def __len__(self) -> int:
        return self.total

    def positive_share(self, horizon: int = 180) -> float:
        """Share of (firm, day) points, on days from the firm's first day with a full
        horizon left, that have a serious adverse event in the next `horizon` days
        (days d+1 .. d+horizon): the base rate of the forecaster's label."""
        last = self.days - horizon  # points are days < last
        points = positives = 0
        for uscc, first in self.first_day.items():
            points += max(0, last - first)
            covered = -1  # points up to this day are counted already
            for a in self.adverse[uscc]:  # sorted; positive points: a - horizon .. a - 1
                lo, hi = max(a - horizon, first, covered + 1), min(a - 1, last - 1)
                if hi >= lo:
                    positives += hi - lo + 1
                covered = max(covered, hi)
        return positives / points if points else 0.0


def generate_risk_city(
    seed: int,
    enterprises: int = 2000,
    days: int = 730,
    start: date = date(2025, 1, 1),
    drift_day: int | None = None,
) -> RiskCity:
    """Draw a risk city: same arguments, same city, event for event. With `drift_day`
    (a day index, 0 <= drift_day <= days), the observable signals follow an independent
    z from that day on (see the module docstring)."""
    if enterprises < 1 or days < 1:
        raise ValueError("need at least one enterprise and one day")
    if drift_day is not None and not 0 <= drift_day <= days:
        raise ValueError(f"drift_day must be between 0 and days ({days})")
    rng = random.Random(seed)
    firms: list[Firm] = []
    seen: set[str] = set()
    for e in range(enterprises):
        shop = rng.random() < SHOP_SHARE
        uscc = make_uscc(rng, district(rng), "92" if shop else "91")
        while uscc in seen:
            uscc = make_uscc(rng, uscc[2:8], uscc[:2])
        seen.add(uscc)
        firm = Firm(e, uscc, rng.getrandbits(64))
        static(firm, start, days, shop)
        firm.add(firm.reg_t, REG, "reg")
        adverse(firm, days)
        precursors(firm, days, drift_day)
        yearly(firm, start, days, drift_day)
        firms.append(firm)
    stubs = sorted(stub for firm in firms for stub in firm.stubs)
    return RiskCity(
        seed=seed,
        start=start,
        days=days,
        drift_day=drift_day,
        latent={f.uscc: f.steps for f in firms},
        drift_z={f.uscc: f.z_drift for f in firms},
        first_day={f.uscc: f.first for f in firms},
        adverse={f.uscc: sorted(f.adverse) for f in firms},
        total=len(stubs),
        firms=tuple(firms),
        stubs=tuple(stubs),
    )
