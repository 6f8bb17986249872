"""Turns the risk city's stubs (simulation/risk_plan.py) into contract events, in time
order. Payload shapes are those of the planted city (simulation/payload_makers.py); what
depends on earlier events (current legal rep, shareholders, address and phone, case and
decision numbers, the period of arrears to clear) is decided here, in stream order, so
the stream before a `drift_day` does not depend on what comes after it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import Any

from streams.simulation.data import (
    COMMENDATIONS,
    COMPLAINT_CATEGORIES,
    COMPLAINT_CHANNELS,
    INDUSTRY_INDEX,
    SERIOUS_REASONS,
    VIOLATIONS,
    Addresses,
    People,
    Phones,
    company_profile,
)
from streams.simulation.patterns import DAY, Plan
from streams.simulation.payload_makers import Built, Payloads
from streams.simulation.risk_plan import LOAD_END, Firm, Stub
from streams.simulation.stream import timestamp

_CHANGE_FIELDS = ("shareholders", "legal_rep", "address", "phone")
_SHOP_FIELDS = ("address", "phone")  # an individual business has no shareholders
_LARGE_FINES = (50_000, 80_000, 100_000, 200_000, 500_000)


class RiskEmitter(Payloads):
    """One pass over the stubs (create a new one per pass)."""

    def __init__(self, seed: int, start: date, days: int, firms: Sequence[Firm]) -> None:
        plan = Plan(seed, start, days * DAY, LOAD_END, days * DAY, usccs=[f.uscc for f in firms])
        super().__init__(plan, random.Random(f"creditwatch-risk-{seed}-stream"))
        self.firms, self.prefix, self.count = firms, f"risk-{seed}-", 0
        self.people = People(self.rng, set())
        self.addresses, self.phones = Addresses(self.rng), Phones(self.rng)
        n = len(firms)
        self.holders: list[list[dict[str, Any]]] = [[] for _ in range(n)]
        self.address = [""] * n
        self.phone_of: list[str | None] = [None] * n
        self.chains: dict[tuple[int, int], str] = {}  # (firm, chain) -> case_no
        self.periods: dict[tuple[int, int], str] = {}  # (firm, arrears n) -> period
        self.build: dict[str, Callable[[int, int, dict[str, Any]], Built]] = {
            "complaint": self.complaint, "change": self.change_one,
            "simple_penalty": self.simple_penalty, "penalty": self.ordinary_penalty,
            "tax_arrears": self.tax_arrears, "tax_cleared": self.tax_cleared,
            "si_arrears": self.si_arrears, "judgment": self.judgment,
            "enforcement": self.enforcement, "court_listed": self.court_listed,
            "pledge": self.pledge, "inspection": self.inspection, "abnormal": self.abnormal,
            "unlist": self.unlist, "commendation": self.commendation,
            "tax_violation": self.tax_violation, "serious": self.serious,
            "annual": self.annual, "rating": self.rating,
        }  # fmt: skip

    def events(self, stubs: Sequence[Stub]) -> Iterator[dict[str, Any]]:
        for t, e, _, n, kind, params in stubs:
            if kind == "reg":
                yield self.envelope(t, self.register(e), 1, 300)
            else:
                yield self.envelope(t, self.build[kind](e, t, {**params, "n": n}), 60, 6 * 3600)

    def envelope(self, t: int, built: Built, low: int, high: int) -> dict[str, Any]:
        etype, source, uscc, payload = built
        self.count += 1
        start = self.plan.start
        return {
            "event_id": f"{self.prefix}{self.count:08d}",
            "type": etype,
            "uscc": uscc,
            "occurred_at": timestamp(start, t),
            "reported_at": timestamp(start, t + low + int(self.rng.random() * (high - low))),
            "source": source,
            "payload": payload,
        }

    # registration -----------------------------------------------------------------
    def register(self, e: int) -> Built:
        firm, rng = self.firms[e], self.rng
        uscc = firm.uscc
        payload = company_profile(
            rng,
            self.people,
            uscc=uscc,
            address=self.addresses.next(uscc[2:8]),
            phone=self.phones.next() if rng.random() < 0.75 else None,
            established_on=firm.established,
            rep=self.people.adult(self.plan.start),
            ref=self.plan.start,
        )
        payload["registered_capital"] = firm.capital
        self.rep[e], self.holders[e] = payload["legal_rep"], payload["shareholders"]
        self.address[e], self.phone_of[e] = payload["address"], payload.get("phone")
        self.industry[e] = INDUSTRY_INDEX[payload["industry"]]
        return "enterprise.registered", "samr", uscc, payload

    def change_one(self, e: int, t: int, p: dict[str, Any]) -> Built:
        """A change of shareholders, legal rep, address or phone (not the first two for
        an individual business), in valid before/after shapes."""
        rng, uscc = self.rng, self.plan.usccs[e]
        field = rng.choice(_SHOP_FIELDS if uscc.startswith("92") else _CHANGE_FIELDS)
        before: Any
        after: Any
        if field == "shareholders":
            before = self.holders[e]
            newcomer = self.people.adult(self.plan.start)
            if len(before) == 1:  # the sole holder sells 40 %
                after = [{**before[0], "ratio": 0.6}, {**newcomer, "ratio": 0.4}]
            else:  # one holder (not the first) sells out to a newcomer
                k = rng.randrange(1, len(before))
                after = [*before[:k], {**newcomer, "ratio": before[k]["ratio"]}, *before[k + 1 :]]
            self.holders[e] = after
        elif field == "legal_rep":
            before, after = self.rep[e], self.people.adult(self.plan.start)
        elif field == "address":
            before = self.address[e]
            self.address[e] = after = self.addresses.next(uscc[2:8])
        else:
            before = self.phone_of[e]
            self.phone_of[e] = after = self.phones.next()
        return self.change(e, t, {"field": field, "before": before, "after": after})

    # precursors -------------------------------------------------------------------
    def complaint(self, e: int, t: int, p: dict[str, Any]) -> Built:
        rng = self.rng
        payload = {
            "channel": rng.choice(COMPLAINT_CHANNELS),
            "category": rng.choice(COMPLAINT_CATEGORIES),
        }
        return "complaint.received", "samr", self.plan.usccs[e], payload

    def simple_penalty(self, e: int, t: int, p: dict[str, Any]) -> Built:
        return self.penalty(e, t, {"procedure": "simple"})

    def tax_arrears(self, e: int, t: int, p: dict[str, Any]) -> Built:
        built = super().tax_arrears(e, t, {})
        self.periods[e, p["n"]] = built[3]["period"]
        return built

    def tax_cleared(self, e: int, t: int, p: dict[str, Any]) -> Built:
        payload = {"period": self.periods.pop((e, p["ref"]))}
        return "tax.arrears_cleared", "tax", self.plan.usccs[e], payload

    def judgment(self, e: int, t: int, p: dict[str, Any]) -> Built:
        """A judgment as defendant; one that opens a chain to a court listing numbers the
        case for its enforcement and listing too."""
        built = super().judgment(e, t, p)
        if "chain" in p:
            case_no = self.case_number(t, self.plan.usccs[e][2:8], "执")
            self.chains[e, p["chain"]] = built[3]["case_no"] = case_no
        return built

    def enforcement(self, e: int, t: int, p: dict[str, Any]) -> Built:
        built = super().enforcement(e, t, {"status": "filed"})
        if "chain" in p:
            built[3]["case_no"] = self.chains[e, p["chain"]]
        return built

    def court_listed(self, e: int, t: int, p: dict[str, Any]) -> Built:
        case_no = self.chains.pop((e, p["chain"]))
        return "court.dishonest_listed", "court", self.plan.usccs[e], {"case_no": case_no}

    def pledge(self, e: int, t: int, p: dict[str, Any]) -> Built:
        kind = self.rng.choice(("equity_pledge", "chattel_mortgage"))
        payload = {"kind": kind, "amount": self.rng.randrange(10, 5_000) * 10_000}
        return "pledge.registered", "bank", self.plan.usccs[e], payload

    def commendation(self, e: int, t: int, p: dict[str, Any]) -> Built:
        title, level = self.rng.choice(COMMENDATIONS)
        payload = {"title": title, "level": level}
        return "commendation.awarded", "samr", self.plan.usccs[e], payload

    # adverse and yearly -------------------------------------------------------------
    def ordinary_penalty(self, e: int, t: int, p: dict[str, Any]) -> Built:
        """Ordinary procedure, a fine over 30,000 (so published 3 years), maybe with
        confiscation."""
        rng = self.rng
        measures = ["fine"] if rng.random() < 0.6 else ["fine", "confiscation"]
        params = {"procedure": "ordinary", "amount": rng.choice(_LARGE_FINES),
                  "measures": measures, "violation": rng.choice(VIOLATIONS)}  # fmt: skip
        return self.penalty(e, t, params)

    def serious(self, e: int, t: int, p: dict[str, Any]) -> Built:
        return super().serious(e, t, {"reason": self.rng.choice(SERIOUS_REASONS)})

    def rating(self, e: int, t: int, p: dict[str, Any]) -> Built:
        payload = {"year": p["year"], "rating": p["rating"]}
        return "tax.credit_rated", "tax", self.plan.usccs[e], payload
