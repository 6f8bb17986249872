"""Turns a city plan (simulation/patterns.py) into contract events, in time order.

Five sorted sources are merged on `(t, priority, seq)`: registrations, planted stubs
(and the credit histories of simulation/statutory.py), the annual reports due,
background times and broken-item times; a sixth, a heap of events scheduled on the fly
(the permit of a new firm, 1-25 days after its registration), is merged in by hand.
Everything that depends on what was emitted before (who is registered, current legal
representative, which annual reports were filed) is decided at emission, in stream
order, so the output is reproducible.
"""

from __future__ import annotations

import bisect
import copy
import functools
import heapq
import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

from streams.simulation.data import (
    COMMENDATIONS,
    COMPLAINT_CATEGORIES,
    COMPLAINT_CHANNELS,
    INDUSTRIES,
    INDUSTRY_INDEX,
    People,
    company_profile,
    enterprise_name,
)
from streams.simulation.invalid import broken
from streams.simulation.patterns import (
    CLEAN,
    DAY,
    NOISY,
    PLANTED,
    Plan,
    Stub,
    office_time,
    permit_window,
)
from streams.simulation.payload_makers import Built, Payloads
from streams.simulation.statutory import deadlines

# background kinds: (name, weight January-June, weight July-December)
_BACKGROUND = (
    ("annual", 40, 0), ("inspection", 12, 14), ("complaint", 10, 12), ("change", 8, 9),
    ("permit", 6, 7), ("tax_rating", 6, 1), ("simple_penalty", 3, 4), ("judgment", 3, 3),
    ("pledge", 2, 2), ("commendation", 1, 1), ("enforcement", 1, 1), ("person_listed", 1, 1),
    ("permit_revoked", 0.5, 0.5), ("deregistered", 0.3, 0.3),
)  # fmt: skip
_CLEAN_KINDS = frozenset(("annual", "inspection", "change", "permit", "tax_rating", "commendation"))
_CLEAN_FIELDS = ("phone", "address", "registered_capital", "business_scope", "name")
_SCOPE_EXTRAS = ("货物进出口", "技术进出口", "会议及展览服务", "供应链管理服务", "技术服务")


def timestamp(start: date, t: int) -> str:
    """RFC 3339 in China Standard Time for `t` seconds after midnight of `start`."""
    d, s = divmod(t, DAY)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{start + timedelta(days=d)}T{h:02d}:{m:02d}:{s:02d}+08:00"


@functools.cache
def _clock() -> list[str]:
    """'THH:MM:SS+08:00' for every second of a day."""
    return [f"T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+08:00" for s in range(DAY)]


def _cumulative(column: int, without: str = "") -> tuple[list[float], list[str]]:
    total, cum = 0.0, []
    for row in _BACKGROUND:
        total += 0.0 if row[0] == without else float(row[column])
        cum.append(total)
    return cum, [row[0] for row in _BACKGROUND]


class Emitter(Payloads):
    """One pass over a plan; holds the state the stream changes (create a new one per pass)."""

    def __init__(self, plan: Plan, background: int, invalid: int) -> None:
        assert plan.addresses is not None and plan.phones is not None
        super().__init__(plan, random.Random(f"creditwatch-sim-{plan.seed}-stream"))
        self.background, self.invalid = background, invalid
        self.prefix = f"sim-{plan.seed}-"
        self.people = People(self.rng, set(plan.used_ids))
        self.addresses, self.phones = plan.addresses.copy(), copy.copy(plan.phones)
        n = len(plan.usccs)
        self.name: list[str] = [""] * n
        self.address: list[str] = [""] * n
        self.capital: list[float] = [0.0] * n
        self.phone: list[str | None] = [None] * n
        self.founded = [0] * n  # year established
        self.gone = bytearray(n)
        self.closed = 0
        self.registered: list[int] = []
        self.scope: dict[int, str] = {}
        self.rep_changed: set[int] = set()
        self.pending: list[Stub] = []  # scheduled on the fly, a heap
        self.awaiting: set[int] = set()  # new firms whose permit is pending
        self.filed: dict[tuple[str, int], bytearray] = {}
        for year, e in plan.prefiled:
            self._yearly("annual", year)[e] = 1
        self.count = 0
        # January-June, July-December, and January-June when last year's reports are due
        # in the period (statutory.py files them all: no background ones)
        self.weights = (_cumulative(1), _cumulative(2), _cumulative(1, "annual"))
        self.due_years = {year for year, _ in deadlines(plan.start, plan.period // DAY)}
        self.kinds: dict[str, Callable[[int, int, dict[str, Any]], Built]] = {
            "penalty": self.penalty, "judgment": self.judgment, "enforcement": self.enforcement,
            "court_listed": self.court_listed, "person_listed": self.person_listed,
            "change": self.change, "abnormal": self.abnormal, "serious": self.serious,
            "annual": self.annual, "tax_arrears": self.tax_arrears,
            "tax_violation": self.tax_violation, "si_arrears": self.si_arrears,
            "inspection": self.inspection, "permit": self.permit,
            "tax_cleared": self.tax_cleared, "new_permit": self.new_permit,
            "report": self.report, "deregister": self.deregister, "revoke": self.revoke,
            "repair": self.repair, "unlist": self.unlist,
        }  # fmt: skip

    # sources ----------------------------------------------------------------------
    def _registrations(self) -> Iterator[Stub]:
        reg_t = self.plan.reg_t
        for e in self.plan.order:
            yield (reg_t[e], 0, e, "reg", e, {})

    def _times(self, count: int, priority: int, kind: str, salt: str) -> Iterator[Stub]:
        """`count` office-hour times spread over the days after the initial load
        (weekends quieter), exactly, in order."""
        plan = self.plan
        rng = random.Random(f"creditwatch-sim-{plan.seed}-{salt}")
        ndays = plan.period // DAY
        weights = [
            1.0 if (plan.start + timedelta(days=d)).weekday() < 5 else 0.3 for d in range(ndays)
        ]
        total, cum, done, seq = sum(weights), 0.0, 0, 0
        for d, w in enumerate(weights):
            cum += w
            upto = count if d == ndays - 1 else int(cum * count / total)
            base = d * DAY + 30_600
            for s in sorted([int(rng.random() * 34_200) for _ in range(upto - done)]):
                yield (base + s, priority, seq, kind, -1, {})
                seq += 1
            done = upto

    def events(self) -> Iterator[dict[str, Any] | bytes]:
        merged = heapq.merge(
            self._registrations(),
            iter(self.plan.stubs),
            iter(self.plan.reports),
            self._times(self.background, 2, "bg", "background"),
            self._times(self.invalid, 3, "bad", "invalid"),
        )
        kinds = self.kinds
        for t, _, _, kind, e, params in self._with_pending(merged):
            if kind == "reg":
                yield self.envelope(t, self.register(e, t), 1, 300)
            elif kind == "bg":
                yield self.envelope(t, self.background_event(t), 60, 6 * 3600)
            elif kind == "bad":
                yield broken(self, t)
            else:
                yield self.envelope(t, kinds[kind](e, t, copy.deepcopy(params)), 60, 6 * 3600)

    def _with_pending(self, merged: Iterator[Stub]) -> Iterator[Stub]:
        """`merged` with the stubs pushed on `self.pending` meanwhile, in order (each
        is pushed while an earlier stub is emitted)."""
        pending = self.pending
        for stub in merged:
            while pending and pending[0] < stub:
                yield heapq.heappop(pending)
            yield stub
        while pending:
            yield heapq.heappop(pending)

    # envelope -------------------------------------------------------------------------
    def ts(self, t: int) -> str:
        return self.days[t // DAY] + _clock()[t % DAY]

    def envelope(self, t: int, built: Built, low: int, high: int) -> dict[str, Any]:
        etype, source, uscc, payload = built
        self.count += 1
        event: dict[str, Any] = {"event_id": f"{self.prefix}{self.count:09d}", "type": etype}
        if uscc is not None:
            event["uscc"] = uscc
        event["occurred_at"] = self.ts(t)
        event["reported_at"] = self.ts(t + low + int(self.rng.random() * (high - low)))
        event["source"] = source
        event["payload"] = payload
        return event

    def _yearly(self, what: str, year: int) -> bytearray:
        key = (what, year)
        if key not in self.filed:
            self.filed[key] = bytearray(len(self.plan.usccs))
        return self.filed[key]

    # registration -------------------------------------------------------------------
    def register(self, e: int, t: int) -> Built:
        plan, rng = self.plan, self.rng
        uscc = plan.usccs[e]
        if e in plan.profiles:
            payload = copy.deepcopy(plan.profiles[e])
        else:
            district = uscc[2:8]
            established = date.fromordinal(plan.established[e])  # (clocks.establish)
            corporate = None
            if self.registered and rng.random() < 0.08:
                other = self.registered[rng.randrange(len(self.registered))]
                corporate = (self.name[other], plan.usccs[other])
            payload = company_profile(
                rng,
                self.people,
                uscc=uscc,
                address=self.addresses.next(district),
                phone=self.phones.next() if rng.random() < 0.75 else None,
                established_on=established,
                rep=self.people.adult(plan.start),
                ref=plan.start,
                industry=plan.industry.get(e),
                corporate=corporate,
            )
        self.name[e], self.address[e] = payload["name"], payload["address"]
        self.capital[e], self.phone[e] = payload["registered_capital"], payload.get("phone")
        self.rep[e] = payload["legal_rep"]
        self.industry[e] = INDUSTRY_INDEX[payload["industry"]]
        self.founded[e] = int(payload["established_on"][:4])
        self.registered.append(e)
        window = permit_window(t, plan.period) if e in plan.new_permits else None
        if window is not None:  # the permit the industry needs, 1-25 days later
            heapq.heappush(self.pending, (office_time(rng, *window), 4, e, "new_permit", e, {}))
            self.awaiting.add(e)
        return "enterprise.registered", "samr", uscc, payload

    def new_permit(self, e: int, t: int, p: dict[str, Any]) -> Built:
        self.awaiting.discard(e)
        return self.permit(e, t, p)

    def report(self, e: int, t: int, p: dict[str, Any]) -> Built:
        """An annual report due (statutory.py); a firm deregistered meanwhile owes none, and
        a background event takes its place."""
        if self.gone[e]:
            return self.background_event(t)
        self._yearly("annual", p["year"])[e] = 1
        return self.annual(e, t, p)

    def deregister(self, e: int, t: int, p: dict[str, Any]) -> Built:
        self.gone[e] = 1
        return "enterprise.deregistered", "samr", self.plan.usccs[e], {"reason": "决议解散"}

    # background -----------------------------------------------------------------------
    def pick(self, *, clean_ok: bool) -> int | None:
        """A registered, still active enterprise; with `clean_ok` False, not a clean one."""
        reg, rng, roles, gone = self.registered, self.rng, self.plan.roles, self.gone
        for _ in range(30 if reg else 0):
            e = reg[int(rng.random() * len(reg))]
            if not gone[e] and (clean_ok or roles[e] != CLEAN):
                return e
        return None

    def background_event(self, t: int) -> Built:
        rng = self.rng
        day = self.days[t // DAY]
        if day[5:7] > "06":
            cum, names = self.weights[1]
        else:
            cum, names = self.weights[2 if int(day[:4]) - 1 in self.due_years else 0]
        for _ in range(4):  # a kind that does not apply (report already filed...): draw again
            built = self._background(names[bisect.bisect_right(cum, rng.random() * cum[-1])], t)
            if built is not None:
                return built
        e = self.pick(clean_ok=True)
        if e is None:  # nothing registered yet (tiny cities): an unrelated court listing
            return self.person_listed(-1, t, {"person": self.people.adult(self.plan.start)})
        return self._inspect(e, t)

    def _inspect(self, e: int, t: int) -> Built:
        passed = self.plan.roles[e] == CLEAN or self.rng.random() < 0.6
        return self.inspection(e, t, {"result": "passed" if passed else "issues_found"})

    def _background(self, kind: str, t: int) -> Built | None:
        rng = self.rng
        if kind == "person_listed":
            person = self.people.adult(self.plan.start)
            return self.person_listed(-1, t, {"person": person})
        e = self.pick(clean_ok=kind in _CLEAN_KINDS)
        if e is None:
            return None
        if kind == "inspection":
            return self._inspect(e, t)
        uscc, role = self.plan.usccs[e], self.plan.roles[e]
        if kind in ("annual", "tax_rating"):
            year = int(self.day(t)[:4]) - 1
            done = self._yearly(kind, year)
            if done[e] or self.founded[e] > year:
                return None
            done[e] = 1
            if kind == "annual":
                return self.annual(e, t, {"year": year})
            rating = rng.choice("AABBBMC" if role != CLEAN else "AABBBM")
            return "tax.credit_rated", "tax", uscc, {"year": year, "rating": rating}
        if kind == "change":
            return self._change(e, t)
        if kind == "permit":
            return self._permit(e, t)
        if kind == "simple_penalty":
            return self.penalty(e, t, {"procedure": "simple"})
        if kind == "complaint":
            channel = COMPLAINT_CHANNELS[int(rng.random() * len(COMPLAINT_CHANNELS))]
            category = COMPLAINT_CATEGORIES[int(rng.random() * len(COMPLAINT_CATEGORIES))]
            return "complaint.received", "samr", uscc, {"channel": channel, "category": category}
        if kind == "judgment":
            return self.judgment(
                e, t, {"role": rng.choice(("defendant", "plaintiff", "plaintiff"))}
            )
        if kind == "enforcement":
            return self.enforcement(e, t, {"status": rng.choice(("filed", "concluded"))})
        if kind == "pledge":
            pledge = rng.choice(("equity_pledge", "chattel_mortgage"))
            amount = rng.randrange(10, 5_000) * 10_000
            return "pledge.registered", "bank", uscc, {"kind": pledge, "amount": amount}
        if kind == "commendation":
            title, level = rng.choice(COMMENDATIONS)
            return "commendation.awarded", "samr", uscc, {"title": title, "level": level}
        if kind == "permit_revoked" and self.permits.get(e) and self._revocable(e):
            return "permit.revoked", "samr", uscc, {"permit_no": self.permits[e].pop()}
        # (not with a permit on the way, nor a credit history to come)
        closing = role == NOISY and e not in self.awaiting and e not in self.plan.history_firms
        if kind == "deregistered" and closing and self.closed * 50 < len(self.registered):
            self.closed += 1
            self.gone[e] = 1
            return "enterprise.deregistered", "samr", uscc, {"reason": "决议解散"}
        return None

    def _revocable(self, e: int) -> bool:  # (a new firm left with no permit: permit_missing)
        return self.plan.reg_t[e] < self.plan.load_end and e not in self.plan.own_permits

    def _change(self, e: int, t: int) -> Built:
        rng, role = self.rng, self.plan.roles[e]
        fields = (
            _CLEAN_FIELDS if role != PLANTED else ("phone", "registered_capital", "business_scope")
        )
        if role == NOISY and e not in self.rep_changed and rng.random() < 0.15:
            self.rep_changed.add(e)
            newcomer = self.people.adult(self.plan.start)
            params = {"field": "legal_rep", "before": self.rep[e], "after": newcomer}
            return self.change(e, t, params)
        field = rng.choice(fields)
        uscc = self.plan.usccs[e]
        before: Any
        after: Any
        if field == "name" and uscc.startswith("91"):
            before = self.name[e]
            self.name[e] = after = enterprise_name(rng, self.industry[e])
        elif field == "address":
            before = self.address[e]
            self.address[e] = after = self.addresses.next(uscc[2:8])
        elif field == "registered_capital":
            before = self.capital[e]
            self.capital[e] = after = before * rng.choice((2, 3, 5))
        elif field == "business_scope":
            before = self.scope.get(e, INDUSTRIES[self.industry[e]][2])
            self.scope[e] = after = before + "；" + rng.choice(_SCOPE_EXTRAS)
        else:
            field, before = "phone", self.phone[e]
            self.phone[e] = after = self.phones.next()
        return (
            "registration.changed",
            "samr",
            uscc,
            {"field": field, "before": before, "after": after},
        )
