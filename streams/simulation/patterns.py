"""The plan of a synthetic city: which enterprises exist, when they register, and which
risk patterns are planted on whom (with decoys that look close but must not fire).

Planning (simulation/planning.py) is pure bookkeeping: it decides USCCs, registration
times, roles and the planted events as small stubs `(t, 1, seq, kind, enterprise,
params)`, where `t` is seconds since the start of the simulated period.
simulation/stream.py turns stubs into contract events. Ordinary (non-planted)
enterprises get their profiles only when the stream is generated, so planning 100,000
enterprises stays cheap. This module holds the plan, the planters' toolkit and the
first planters; the planters of registry records are in simulation/registry_patterns.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from streams.contract.identifiers import make_uscc
from streams.simulation.data import (
    DISTRICT_CODES,
    DISTRICT_WEIGHTS,
    Addresses,
    People,
    Phones,
    company_profile,
    draw_industry,
)

DAY = 86_400
CLEAN, NOISY, PLANTED = 0, 1, 2
PATTERNS = (
    "penalty_frequency", "dishonest_enterprise", "dishonest_legal_rep", "address_cluster",
    "person_many_firms", "abnormal_age", "frequent_changes", "abnormal_list",
    "serious_violation_list", "unreachable", "zero_annual_report", "tax_arrears",
    "tax_violation", "social_insurance_arrears", "permit_expiring", "permit_missing",
    "shell_company", "annual_report_missing",
)  # fmt: skip
MIN_ENTERPRISES_TO_PLANT = 80  # some 60 planted firms at most below 200 enterprises
NEW_FIRM_SHARE = 0.08  # ordinary firms registered during the period (the rest: initial load)
CLEAN_SHARE = 0.55  # of ordinary firms; the others (NOISY) get low-grade noise (complaints,
# and for a few a credit history: simulation/statutory.py)

Stub = tuple[int, int, int, str, int, dict[str, Any]]


@dataclass
class Plan:
    seed: int
    start: date
    period: int  # seconds
    load_end: int  # existing enterprises register in [0, load_end)
    window_end: int  # planted patterns complete before this
    usccs: list[str] = field(default_factory=list)
    reg_t: list[int] = field(default_factory=list)
    roles: bytearray = field(default_factory=bytearray)
    profiles: dict[int, dict[str, Any]] = field(default_factory=dict)
    stubs: list[Stub] = field(default_factory=list)
    order: list[int] = field(default_factory=list)  # enterprises by registration time
    hits: dict[str, set[int]] = field(default_factory=lambda: {p: set() for p in PATTERNS})
    decoys: dict[str, set[int]] = field(default_factory=lambda: {p: set() for p in PATTERNS})
    # planted annual reports: (year, enterprise) -> time (the stream files no other)
    prefiled: dict[tuple[int, int], int] = field(default_factory=dict)
    skip_reports: set[tuple[int, int]] = field(default_factory=set)  # (year, e) never due
    closes: dict[int, int] = field(default_factory=dict)  # planted deregistration times
    established: list[int] = field(default_factory=list)  # ordinal day, every enterprise
    reports: list[Stub] = field(default_factory=list)  # annual reports due (statutory.py)
    history_firms: set[int] = field(default_factory=set)  # NOISY firms with a credit history
    noise: dict[str, set[int]] = field(default_factory=dict)  # rule -> NOISY firms it hits
    industry: dict[int, int] = field(default_factory=dict)  # of ordinary new firms
    own_permits: set[int] = field(default_factory=set)  # permits planted only, none else
    new_permits: set[int] = field(default_factory=set)  # permit 1-25 days after registration
    allowed_addresses: set[str] = field(default_factory=set)  # approved shared addresses
    used_ids: set[str] = field(default_factory=set)
    addresses: Addresses | None = None
    phones: Phones | None = None

    def day(self, t: int) -> date:
        return self.start + timedelta(days=t // DAY)


def office_time(rng: random.Random, lo: int, hi: int) -> int:
    """A time in [lo, hi), in office hours (08:30-18:00) when the range allows."""
    if hi <= lo + 1:
        return lo
    if hi - lo >= 2 * DAY:
        for _ in range(8):
            t = rng.randrange(lo // DAY, (hi - 1) // DAY + 1) * DAY + 30_600
            t += rng.randrange(34_200)
            if lo <= t < hi:
                return t
    return rng.randrange(lo, hi)


def permit_window(reg_t: int, period: int) -> tuple[int, int] | None:
    """When a firm registered at `reg_t` (after the initial load) in an industry needing a
    permit gets it: 1 to 25 days after registration, within the period (None: no room)."""
    lo, hi = reg_t + DAY, min(reg_t + 25 * DAY, period)
    return (lo, hi) if lo < hi else None


class _Planter:
    def __init__(self, plan: Plan, rng: random.Random) -> None:
        self.plan, self.rng = plan, rng
        self.people = People(rng, plan.used_ids)
        self.addresses = plan.addresses = Addresses(rng)
        self.phones = plan.phones = Phones(rng)
        self.seen: set[str] = set()
        self.L, self.W, self.P = plan.load_end, plan.window_end, plan.period
        self.big = False  # groups of 5-7 firms when True, else of 5
        # planted clusters and groups: (kind, firms, complete at, holds at least until)
        self.groups: list[tuple[str, list[int], int, int]] = []

    def group_size(self) -> int:
        return self.rng.randint(5, 7) if self.big else 5

    # time ------------------------------------------------------------------------
    def when(self, lo: int, hi: int) -> int:
        """A time in [lo, hi), in office hours (08:30-18:00) when the range allows."""
        return office_time(self.rng, lo, hi)

    def spread(self, count: int, lo: int, hi: int, span: int) -> list[int]:
        """`count` times in [lo, hi), all within `span` seconds of the first."""
        first = self.when(lo, max(lo + 1, hi - span))
        rest = (self.when(first + 1, min(hi, first + span)) for _ in range(count - 1))
        return sorted([first, *rest])

    # enterprises and events ------------------------------------------------------------
    def uscc(self, district: str, prefix: str = "91") -> str:
        while True:
            code = make_uscc(self.rng, district, prefix)
            if code not in self.seen:
                self.seen.add(code)
                return code

    def district(self) -> str:
        return self.rng.choices(DISTRICT_CODES, DISTRICT_WEIGHTS)[0]

    def firm(
        self,
        *,
        reg_t: int | None = None,
        rep: dict[str, str] | None = None,
        address: str | None = None,
        district: str | None = None,
        age_days: tuple[int, int] = (400, 3650),
        industry: int | None = None,
    ) -> int:
        """A planted enterprise with its profile made now. With `reg_t` None it is in the
        initial load, established `age_days` (a range) before the start; `industry` (an
        index in INDUSTRIES) is drawn when None."""
        plan, rng = self.plan, self.rng
        district = district or self.district()
        uscc = self.uscc(district)
        if reg_t is None:
            reg_t = rng.randrange(self.L)
            established = plan.start - timedelta(days=rng.randrange(*age_days))
        else:
            established = plan.day(reg_t)
        idx = len(plan.usccs)
        plan.usccs.append(uscc)
        plan.reg_t.append(reg_t)
        plan.roles.append(PLANTED)
        plan.profiles[idx] = company_profile(
            rng,
            self.people,
            uscc=uscc,
            address=address or self.addresses.next(district),
            phone=self.phones.next() if rng.random() < 0.8 else None,
            established_on=established,
            rep=rep or self.people.adult(plan.start),
            ref=plan.start,
            industry=industry,
        )
        return idx

    def rep(self, idx: int) -> dict[str, str]:
        rep: dict[str, str] = self.plan.profiles[idx]["legal_rep"]
        return rep

    def ev(self, t: int, ent: int, kind: str, **params: Any) -> None:
        stubs = self.plan.stubs
        stubs.append((t, 1, len(stubs), kind, ent, params))

    def hit(self, pattern: str, *firms: int) -> None:
        self.plan.hits[pattern].update(firms)

    def decoy(self, pattern: str, *firms: int) -> None:
        self.plan.decoys[pattern].update(firms)

    def aged_on(self, t: int, low: int, high: int) -> dict[str, str]:
        return self.people.aged(self.plan.day(t), low, high)

    def young_on(self, t: int) -> dict[str, str]:
        """15 to 16 years old on the day of `t`."""
        day = self.plan.day(t).toordinal()
        return self.people.born(date.fromordinal(day - self.rng.randrange(15 * 366, 16 * 365)))

    def fill(self, n: int) -> None:
        """Ordinary enterprises up to `n`: USCC, registration time and role only (and the
        industry of new firms, which decides whether the stream grants them a permit)."""
        plan, rng = self.plan, self.rng
        for n_ordinary in range(n - len(plan.usccs)):
            new = n_ordinary > 0 and self.P > self.L + DAY and rng.random() < NEW_FIRM_SHARE
            plan.reg_t.append(self.when(self.L, self.P) if new else rng.randrange(self.L))
            shop = rng.random() < 0.12
            if new:
                plan.industry[len(plan.usccs)] = draw_industry(rng, shop=shop)
            plan.usccs.append(self.uscc(self.district(), "92" if shop else "91"))
            plan.roles.append(CLEAN if rng.random() < CLEAN_SHARE else NOISY)


def _penalties(pl: _Planter, k: int, kd: int, kg: int) -> None:
    L, W, P, rng = pl.L, pl.W, pl.P, pl.rng
    for _ in range(k):
        e = pl.firm()
        pl.hit("penalty_frequency", e)
        for t in pl.spread(rng.choice((3, 3, 4)), L, W, min(300 * DAY, W - L)):
            pl.ev(t, e, "penalty", procedure="ordinary")
    for _ in range(kd):
        two, simple = pl.firm(), pl.firm()
        pl.decoy("penalty_frequency", two, simple)
        for t in pl.spread(2, L, P, 300 * DAY):
            pl.ev(t, two, "penalty", procedure="ordinary")
        for t in pl.spread(rng.randint(3, 5), L, P, 120 * DAY):
            pl.ev(t, simple, "penalty", procedure="simple")
        if P - L >= 420 * DAY:  # three ordinary ones, never three within 365 days
            e = pl.firm()
            pl.decoy("penalty_frequency", e)
            t = pl.when(L, P - 420 * DAY)
            for _ in range(3):
                pl.ev(t, e, "penalty", procedure="ordinary")
                t += rng.randrange(190 * DAY, 205 * DAY)


def _courts(pl: _Planter, k: int, kd: int, kg: int) -> None:
    for n in range(k + kd):
        e = pl.firm()
        t1, t2, t3 = pl.spread(3, pl.L, pl.W if n < k else pl.P, min(120 * DAY, pl.W - pl.L))
        pl.ev(t1, e, "judgment", role="defendant")
        pl.ev(t2, e, "enforcement", status="filed")
        if n < k:
            pl.hit("dishonest_enterprise", e)
            pl.ev(t3, e, "court_listed")
        else:  # paid up: enforcement concluded, never listed
            pl.decoy("dishonest_enterprise", e)
            pl.ev(t3, e, "enforcement", status="concluded")


def _dishonest_people(pl: _Planter, k: int, kd: int, kg: int) -> None:
    L, W, plan = pl.L, pl.W, pl.plan
    for n in range(max(4, k)):
        e = pl.firm()
        pl.hit("dishonest_legal_rep", e)
        variant = n % 4
        if variant == 0:  # the legal representative since registration gets listed
            pl.ev(pl.when(L, W), -1, "person_listed", person=pl.rep(e))
        elif variant == 3:  # an officer (the supervisor) gets listed
            pl.ev(
                pl.when(L, W), -1, "person_listed", person=_person(plan.profiles[e]["officers"][1])
            )
        else:  # 1: listed first, appointed later; 2: appointed first, listed later
            debtor = pl.people.adult(plan.start)
            t1, t2 = pl.spread(2, L, W, min(90 * DAY, W - L))
            t_list, t_appoint = (t1, t2) if variant == 1 else (t2, t1)
            pl.ev(t_list, -1, "person_listed", person=debtor)
            pl.ev(t_appoint, e, "change", field="legal_rep", before=pl.rep(e), after=debtor)
    for _ in range(kd):  # a namesake of the legal representative is listed, not the rep
        e = pl.firm()
        pl.decoy("dishonest_legal_rep", e)
        namesake = pl.people.born(date(1980, 1, 1) + timedelta(days=pl.rng.randrange(7000)),
                                  name=pl.rep(e)["name"])  # fmt: skip
        pl.ev(pl.when(L, pl.P), -1, "person_listed", person=namesake)


def _person(entry: dict[str, Any]) -> dict[str, str]:
    return {"name": entry["name"], "id_no": entry["id_no"]}


def _clusters(pl: _Planter, k: int, kd: int, kg: int) -> None:
    L, W = pl.L, pl.W
    for _ in range(kg):  # one business centre, several firms registered within 25 days
        district = pl.district()
        address = pl.addresses.shared(district, pl.rng)
        size = pl.group_size()
        base = pl.when(L, max(L + 1, W - 25 * DAY))
        times = sorted(pl.when(base, min(W, base + 25 * DAY)) for _ in range(size))
        firms = [pl.firm(reg_t=t, address=address, district=district) for t in times]
        pl.hit("address_cluster", *firms)
        pl.groups.append(("cluster", firms, times[-1], W))
    for _ in range(kd):  # two long-standing firms sharing an office
        district = pl.district()
        address = pl.addresses.next(district)
        pair = [pl.firm(address=address, district=district) for _ in range(2)]
        pl.decoy("address_cluster", *pair)


def _one_person_many_firms(pl: _Planter, k: int, kd: int, kg: int) -> None:
    for _ in range(kg):
        boss = pl.people.adult(pl.plan.start)
        firms = [pl.firm(rep=boss) for _ in range(pl.group_size() - 1)]
        last = pl.firm()
        t = pl.when(pl.L, pl.W)
        pl.ev(t, last, "change", field="legal_rep", before=pl.rep(last), after=boss)
        pl.hit("person_many_firms", *firms, last)
        pl.groups.append(("person", [*firms, last], t, pl.W))
    for _ in range(kd):  # legal rep of two firms and director of a third
        boss = pl.people.adult(pl.plan.start)
        firms = [pl.firm(rep=boss), pl.firm(rep=boss), pl.firm()]
        pl.plan.profiles[firms[2]]["officers"].append({**boss, "role": "董事"})
        pl.decoy("person_many_firms", *firms)


def _ages(pl: _Planter, k: int, kd: int, kg: int) -> None:
    L, W, start = pl.L, pl.W, pl.plan.start
    for n in range(max(4, k)):
        variant = n % 4
        t = pl.when(L, W)
        if variant == 0:  # a new firm with a 15-year-old legal representative
            e = pl.firm(reg_t=t, rep=pl.young_on(t))
        elif variant == 1:  # an old firm whose legal representative is over 80
            e = pl.firm(rep=pl.people.aged(start, 80, 88), age_days=(400, 1400))
        else:  # a young or very old person appointed legal representative
            e = pl.firm()
            after = pl.young_on(t) if variant == 2 else pl.aged_on(t, 78, 90)
            pl.ev(t, e, "change", field="legal_rep", before=pl.rep(e), after=after)
        pl.hit("abnormal_age", e)
    for _ in range(kd):  # young and old, but inside 18..75
        young = pl.firm(rep=pl.people.aged(start, 20, 22), age_days=(40, 300))
        old = pl.firm(rep=pl.people.aged(start, 66, 70))
        pl.decoy("abnormal_age", young, old)


_PLANTERS = (_penalties, _courts, _dishonest_people, _clusters, _one_person_many_firms, _ages)
