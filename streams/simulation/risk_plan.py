"""The latent process of the risk city (simulation/risk.py): each firm's risk z(t), and
when its events happen, as stubs that simulation/risk_emit.py turns into events.

Every firm draws from its own generators, one per process (registration, adverse
events, yearly filings, each precursor kind), seeded from the city's generator. So the
draws of one process never shift another's, and a `drift_day` changes nothing before
it: arrivals are drawn segment by segment (exponential gaps over the constant-rate
segments), and drift only splits the last segment of the observed process.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from streams.simulation.data import CAPITALS, DISTRICT_CODES, DISTRICT_WEIGHTS
from streams.simulation.patterns import DAY

BASE = 0.0004
"""Daily hazard of a serious adverse event at z = 0 (see risk.py for the calibration)."""
LOADING = 1.2  # of the adverse hazard on z
DETERIORATE_SHARE, BOOST = 0.15, 1.5
NEW_SHARE = 0.05  # firms registered during the period (the rest: initial load on day 0)
SHOP_SHARE = 0.1  # individual businesses (USCC prefix 92)
LOAD_END = 8 * 3600  # the initial load registers in the first 8 hours of day 0
OFFICE_START, OFFICE_SPAN = 30_600, 34_200  # 08:30, 9.5 hours

# precursor kind, events per year at z = 0, loading on the observed z
PRECURSORS: tuple[tuple[str, float, float], ...] = (
    ("complaint", 2.0, 0.6),
    ("change", 1.0, 0.8),
    ("simple_penalty", 0.6, 0.9),
    ("tax_arrears", 0.5, 1.1),
    ("si_arrears", 0.4, 1.0),
    ("judgment", 0.4, 0.9),
    ("enforcement", 0.2, 1.1),
    ("pledge", 0.3, 0.6),
    ("inspection", 1.0, 0.6),
    ("abnormal", 0.04, 1.2),
    ("commendation", 0.08, -1.0),  # good firms: not a precursor, but observed like one
)
# serious adverse kinds and their shares
ADVERSE: tuple[tuple[str, float], ...] = (
    ("penalty", 0.55),
    ("tax_violation", 0.30),
    ("dishonest", 0.10),
    ("serious", 0.05),
)
REG, ADV, YEARLY, FIRST_PRECURSOR = 0, 1, 2, 3  # process numbers

Stub = tuple[int, int, int, int, str, dict[str, Any]]
"""(time in seconds from the start, firm, process, n within the process, kind, params):
unique on its first four, so sorting never compares the params."""
Segment = tuple[int, int, float]  # first day, end day (exclusive), z


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def office(day: float) -> int:
    """Seconds from the start for a time in days: the day, and its fraction mapped onto
    office hours (so the order within a day is kept)."""
    d = int(day)
    return d * DAY + OFFICE_START + int((day - d) * OFFICE_SPAN)


@dataclass
class Firm:
    """One enterprise: identity, static attributes, latent risk and its events' stubs.
    `steps` is z(t) as (first day, z) steps; `first` the first day of its processes."""

    index: int
    uscc: str
    seed: int
    reg_t: int = 0
    first: int = 0
    established: date = date(2000, 1, 1)
    capital: float = 0.0
    steps: tuple[tuple[int, float], ...] = ()
    z_drift: float = 0.0
    adverse: list[int] = field(default_factory=list)
    stubs: list[Stub] = field(default_factory=list)

    def rng(self, process: int) -> random.Random:
        return random.Random((self.seed << 6) | process)

    def z(self, day: int) -> float:
        value = self.steps[0][1]
        for first, z in self.steps:
            if day >= first:
                value = z
        return value

    def segments(self, days: int, drift: int | None = None) -> list[Segment]:
        """z as constant segments over [first, days); from `drift` on, `z_drift`."""
        bounds = [*(first for first, _ in self.steps[1:]), days]
        found = [(a, b, z) for (a, z), b in zip(self.steps, bounds, strict=True) if a < b]
        if drift is None or drift >= days:
            return found
        kept = [(a, min(b, drift), z) for a, b, z in found if a < drift]
        return [*kept, (max(drift, self.first), days, self.z_drift)]

    def add(self, t: int, process: int, kind: str, params: dict[str, Any] | None = None) -> int:
        n = len(self.stubs)
        self.stubs.append((t, self.index, process, n, kind, params or {}))
        return n


def arrivals(rng: random.Random, segments: list[Segment], rate: float, loading: float
             ) -> Iterator[tuple[float, float]]:  # fmt: skip
    """Poisson arrival times (in days) and z, at daily rate `rate * exp(loading * z)` on
    each segment: exponential gaps, restarted at each segment (memoryless)."""
    for a, b, z in segments:
        lam = rate * math.exp(loading * z)
        t = a + rng.expovariate(lam)
        while t < b:
            yield t, z
            t += rng.expovariate(lam)


def static(firm: Firm, start: date, days: int, shop: bool) -> None:
    """Registration time, latent z, deterioration and the static attributes correlated
    with z (a higher z: a smaller registered capital, a younger firm; noisily)."""
    rng = firm.rng(REG)
    z0 = rng.gauss(0.0, 1.0)
    firm.z_drift = rng.gauss(0.0, 1.0)
    new = days > 2 and rng.random() < NEW_SHARE
    reg_day = rng.randrange(1, days - 1) if new else 0
    firm.reg_t = office(reg_day + rng.random()) if new else rng.randrange(LOAD_END)
    firm.first = reg_day + 1 if new else 0
    firm.steps = ((firm.first, z0),)
    turn = rng.randrange(firm.first + 1, days) if firm.first + 1 < days else days
    if rng.random() < DETERIORATE_SHARE and turn < days:
        firm.steps = ((firm.first, z0), (turn, z0 + BOOST))
    size = sigmoid(-0.9 * z0 + rng.gauss(0.0, 1.8))  # 0..1, larger for a lower z
    scale = [c // 10 for c in CAPITALS[:3]] if shop else list(CAPITALS)
    firm.capital = scale[min(len(scale) - 1, int(size * len(scale)))]
    age = sigmoid(-0.8 * z0 + rng.gauss(0.0, 1.6))
    firm.established = start + timedelta(days=reg_day if new else -40 - int(age * 3600))


def adverse(firm: Firm, days: int) -> None:
    """Serious adverse events at hazard BASE * exp(LOADING * z(t)); a court listing
    comes 30-120 days after its judgment and enforcement (same case), so with too
    little history before it, it is an ordinary penalty instead."""
    rng = firm.rng(ADV)
    for t, _ in arrivals(rng, firm.segments(days), BASE, LOADING):
        day, kind = int(t), adverse_kind(rng.random())
        g1, g2 = rng.randint(60, 120), rng.random()
        if kind == "dishonest" and day - firm.first < 45:
            kind = "penalty"
        firm.adverse.append(day)
        if kind != "dishonest":
            firm.add(office(t), ADV, kind)
            continue
        g1 = min(g1, day - firm.first)
        g2_days = 30 + int(g2 * (g1 - 44))  # 30 .. g1 - 15
        chain = len(firm.stubs)  # the judgment's n
        judgment = {"role": "defendant", "chain": chain}
        firm.add(office(day - g1 + rng.random()), ADV, "judgment", judgment)
        firm.add(office(day - g2_days + rng.random()), ADV, "enforcement", {"chain": chain})
        firm.add(office(t), ADV, "court_listed", {"chain": chain})


def adverse_kind(u: float) -> str:
    """The kind of adverse event for `u` uniform in [0, 1), by the ADVERSE shares."""
    for kind, share in ADVERSE:
        if u < share:
            return kind
        u -= share
    return ADVERSE[-1][0]


def precursors(firm: Firm, days: int, drift: int | None) -> None:
    """The observable processes, driven by z_obs (z, or `z_drift` from `drift` on)."""
    segments = firm.segments(days, drift)
    for k, (kind, per_year, loading) in enumerate(PRECURSORS, FIRST_PRECURSOR):
        rng, listed_until = firm.rng(k), -1.0
        for t, z in arrivals(rng, segments, per_year / 365.0, loading):
            params: dict[str, Any] = {}
            if kind == "inspection":
                u, unreachable = rng.random(), sigmoid(-4.0 + z)
                issues = unreachable + (1 - unreachable) * sigmoid(-1.2 + 0.8 * z)
                params["result"] = (
                    "unreachable" if u < unreachable else "issues_found" if u < issues else "passed"
                )
            elif kind == "judgment":
                params["role"] = "defendant"
            elif kind == "tax_arrears":
                cleared, after = rng.random() < sigmoid(2.0 - z), rng.uniform(10, 60)
                n = firm.add(office(t), k, kind)
                if cleared and t + after < days:
                    firm.add(office(t + after), k, "tax_cleared", {"ref": n})
                continue
            elif kind == "abnormal":
                removed, after = rng.random() < 0.5, rng.uniform(30, 240)
                if t < listed_until:
                    continue  # still listed for the same reason
                listed_until = t + after if removed else math.inf
                firm.add(office(t), k, kind, {"reason": "unreachable_address"})
                if t + after < days and removed:
                    firm.add(office(t + after), k, "unlist", {"reason": "unreachable_address"})
                continue
            firm.add(office(t), k, kind, params)


def yearly(firm: Firm, start: date, days: int, drift: int | None) -> None:
    """For each report year Y: the annual report (1 January - 30 June of Y + 1; all
    zero more often as z_obs rises) and the tax credit rating (April of Y + 1; M for a
    firm established in Y, else A B C D from z_obs plus noise), when inside the period,
    after registration and for a firm established by the end of Y."""
    rng = firm.rng(YEARLY)
    end = start + timedelta(days=days)
    for year in range(start.year - 1, end.year):
        report = (date(year + 1, 1, 1) - start).days + rng.random() * 181
        rating = (date(year + 1, 4, 1) - start).days + rng.random() * 30
        u_report, score = rng.random(), rng.gauss(0.0, 0.7)
        if firm.established.year > year:
            continue
        if firm.first <= report < days:
            z = firm_z_obs(firm, int(report), drift)
            figures = "zero" if u_report < sigmoid(-3.5 + 1.2 * z) else "normal"
            firm.add(office(report), YEARLY, "annual", {"year": year, "figures": figures})
        if firm.first <= rating < days:
            s = firm_z_obs(firm, int(rating), drift) + score
            grade = "A" if s < -0.5 else "B" if s < 1.0 else "C" if s < 2.0 else "D"
            grade = "M" if firm.established.year == year else grade
            firm.add(office(rating), YEARLY, "rating", {"year": year, "rating": grade})


def firm_z_obs(firm: Firm, day: int, drift: int | None) -> float:
    return firm.z_drift if drift is not None and day >= drift else firm.z(day)


def district(rng: random.Random) -> str:
    return rng.choices(DISTRICT_CODES, DISTRICT_WEIGHTS)[0]
