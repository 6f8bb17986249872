"""Payloads of the synthetic city's events, one method per kind of planted or background
event (simulation/stream.py decides when and for whom). Numbers that must be unique
(decision, case, permit numbers) come from one running counter.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from streams.simulation.data import (
    CAUSES,
    FINDINGS,
    INDUSTRIES,
    SIMPLE_VIOLATIONS,
    TAX_TYPES,
    VIOLATIONS,
    authority_name,
    court_name,
    district_name,
)
from streams.simulation.patterns import DAY, Plan

Built = tuple[str, str, str | None, dict[str, Any]]  # type, source, uscc, payload


class Payloads:
    """Payload makers sharing the stream's random generator and its mutable state."""

    def __init__(self, plan: Plan, rng: random.Random) -> None:
        self.plan, self.rng = plan, rng
        n = len(plan.usccs)
        self.rep: list[dict[str, str]] = [{}] * n  # current legal representative
        self.industry = bytearray(n)
        self.permits: dict[int, list[str]] = {}
        self.cases: dict[int, str] = {}  # open enforcement case per enterprise
        self.arrears: dict[int, str] = {}  # period of the latest tax arrears per enterprise
        self.numbers = 0
        self.decisions: dict[int, str] = {}  # penalty tag -> decision_no (credit histories)
        self.days = [
            (plan.start + timedelta(days=d)).isoformat() for d in range(plan.period // DAY + 3)
        ]

    def day(self, t: int) -> str:
        return self.days[t // DAY]

    def number(self) -> int:
        self.numbers += 1
        return self.numbers

    def penalty(self, e: int, t: int, p: dict[str, Any]) -> Built:
        rng, district = self.rng, self.plan.usccs[e][2:8]
        if "measures" in p:  # set by the caller (credit histories)
            amount, measures, violation = p["amount"], p["measures"], p["violation"]
        elif p["procedure"] == "ordinary":  # (planted) published 3 years: not a fine of
            # 30,000 or less alone, which would count 3 months only (SAMR Order 45)
            amount = rng.choice((5_000, 10_000, 20_000, 30_000, 50_000, 100_000, 200_000))
            mixes = (["warning", "fine"], ["fine", "confiscation"])
            measures = rng.choice(mixes if amount <= 30_000 else (["fine"], *mixes))
            violation = rng.choice(VIOLATIONS)
        else:  # simple procedure: a warning or a fine of at most 3,000 for an organisation
            amount = rng.choice((0, 200, 500, 1_000, 2_000, 3_000))
            measures = ["fine"] if amount else ["warning"]
            violation = rng.choice(SIMPLE_VIOLATIONS)
        day = self.day(t)
        decision_no = f"深市监{district_name(district)[0]}罚〔{day[:4]}〕{self.number()}号"
        if "tag" in p:
            self.decisions[p["tag"]] = decision_no
        payload = {
            "decision_no": decision_no,
            "authority": authority_name(district),
            "violation": violation,
            "amount": amount,
            "procedure": p["procedure"],
            "measures": measures,
            "decided_on": day,
        }
        return "penalty.decided", "samr", self.plan.usccs[e], payload

    def case_number(self, t: int, district: str, kind: str) -> str:
        return f"({self.day(t)[:4]})粤03{district[4:]}{kind}{self.number()}号"

    def judgment(self, e: int, t: int, p: dict[str, Any]) -> Built:
        district = self.plan.usccs[e][2:8]
        payload = {
            "case_no": self.case_number(t, district, "民初"),
            "court": court_name(district),
            "role": p["role"],
            "cause": self.rng.choice(CAUSES),
            "amount": self.rng.randrange(10, 2_000) * 1_000,
            "judged_on": self.day(t),
        }
        return "court.judgment", "court", self.plan.usccs[e], payload

    def enforcement(self, e: int, t: int, p: dict[str, Any]) -> Built:
        if e not in self.cases or p["status"] == "filed":
            self.cases[e] = self.case_number(t, self.plan.usccs[e][2:8], "执")
        payload = {
            "case_no": self.cases[e],
            "amount": self.rng.randrange(10, 2_000) * 1_000,
            "status": p["status"],
        }
        return "court.enforcement", "court", self.plan.usccs[e], payload

    def court_listed(self, e: int, t: int, p: dict[str, Any]) -> Built:
        case_no = self.cases.get(e) or self.case_number(t, self.plan.usccs[e][2:8], "执")
        return "court.dishonest_listed", "court", self.plan.usccs[e], {"case_no": case_no}

    def person_listed(self, e: int, t: int, p: dict[str, Any]) -> Built:
        district = self.rng.choice(("440303", "440304", "440305", "440306", "440307"))
        payload = {
            "person": p["person"],
            "case_no": self.case_number(t, district, "执"),
            "court": court_name(district),
        }
        return "person.dishonest_listed", "court", None, payload

    def change(self, e: int, t: int, p: dict[str, Any]) -> Built:
        if p["field"] == "legal_rep":
            self.rep[e] = p["after"]
        payload = {"field": p["field"], "before": p["before"], "after": p["after"]}
        return "registration.changed", "samr", self.plan.usccs[e], payload

    def abnormal(self, e: int, t: int, p: dict[str, Any]) -> Built:
        return "list.abnormal_added", "samr", self.plan.usccs[e], {"reason": p["reason"]}

    def unlist(self, e: int, t: int, p: dict[str, Any]) -> Built:
        return "list.abnormal_removed", "samr", self.plan.usccs[e], {"reason": p["reason"]}

    def revoke(self, e: int, t: int, p: dict[str, Any]) -> Built:
        """The penalty tagged `p["tag"]` (emitted before) revoked."""
        payload = {"decision_no": self.decisions[p["tag"]]}
        return "penalty.revoked", "samr", self.plan.usccs[e], payload

    def repair(self, e: int, t: int, p: dict[str, Any]) -> Built:
        """`credit.repaired` of the penalty tagged `p["tag"]`, or of the abnormal listing
        (a repair decision number as `ref`)."""
        if p["target"] == "penalty":
            ref = self.decisions[p["tag"]]
        else:
            district = district_name(self.plan.usccs[e][2:8])[0]
            ref = f"深市监{district}信修〔{self.day(t)[:4]}〕{self.number()}号"
        payload = {"target": p["target"], "ref": ref, "approved_on": p["approved_on"]}
        return "credit.repaired", "samr", self.plan.usccs[e], payload

    def serious(self, e: int, t: int, p: dict[str, Any]) -> Built:
        return "list.serious_added", "samr", self.plan.usccs[e], {"reason": p["reason"]}

    def annual(self, e: int, t: int, p: dict[str, Any]) -> Built:
        rng, figures = self.rng, p.get("figures", "normal")
        if figures == "zero":
            staff = insured = 0
            revenue = profit = tax = 0.0
        elif figures == "partial":  # no revenue yet, but people on the payroll
            staff = insured = rng.randint(1, 5)
            revenue, tax, profit = 0.0, 0.0, -float(rng.randrange(50, 500) * 1_000)
        else:
            staff = max(1, int(rng.lognormvariate(2.3, 1.1)))
            insured = max(1, staff - rng.randrange(staff // 3 + 1))
            revenue = float(staff * rng.randrange(150, 1_500) * 1_000)
            profit = round(revenue * rng.uniform(-0.08, 0.15), 2)
            tax = round(revenue * rng.uniform(0.01, 0.06), 2)
        payload = {
            "year": p["year"],
            "employees": staff,
            "revenue": revenue,
            "profit": profit,
            "tax_paid": tax,
            "insured_employees": insured,
        }
        return "annual_report.filed", "samr", self.plan.usccs[e], payload

    def _period(self, t: int) -> str:
        day = date.fromisoformat(self.day(t))
        year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
        return f"{year}-{month:02d}"

    def tax_arrears(self, e: int, t: int, p: dict[str, Any]) -> Built:
        amount = p["amount"] if "amount" in p else self.rng.randrange(5, 800) * 1_000
        self.arrears[e] = period = self._period(t)
        payload = {"amount": amount, "tax_type": self.rng.choice(TAX_TYPES), "period": period}
        return "tax.arrears", "tax", self.plan.usccs[e], payload

    def tax_cleared(self, e: int, t: int, p: dict[str, Any]) -> Built:
        """The enterprise's latest arrears paid: same `period`."""
        payload = {"period": self.arrears.pop(e)}
        return "tax.arrears_cleared", "tax", self.plan.usccs[e], payload

    def tax_violation(self, e: int, t: int, p: dict[str, Any]) -> Built:
        case_no = f"深税稽罚〔{self.day(t)[:4]}〕{self.number()}号"
        payload = {"case_no": case_no, "amount": self.rng.randrange(20, 5_000) * 1_000}
        return "tax.violation", "tax", self.plan.usccs[e], payload

    def si_arrears(self, e: int, t: int, p: dict[str, Any]) -> Built:
        payload = {"amount": self.rng.randrange(2, 300) * 1_000, "period": self._period(t)}
        return "social_insurance.arrears", "hrss", self.plan.usccs[e], payload

    def inspection(self, e: int, t: int, p: dict[str, Any]) -> Built:
        payload: dict[str, Any] = {
            "plan_id": f"SZ-{self.day(t)[:4]}-SSJ-{1 + int(self.rng.random() * 39):03d}",
            "result": p["result"],
        }
        if p["result"] == "issues_found":
            payload["findings"] = self.rng.sample(FINDINGS, self.rng.randint(1, 2))
        elif p["result"] == "unreachable":
            payload["findings"] = ["通过登记的住所或者经营场所无法联系"]
        return "inspection.completed", "samr", self.plan.usccs[e], payload

    def permit(self, e: int, t: int, p: dict[str, Any]) -> Built:
        """`permit.granted` of the kind the enterprise's industry needs (it needs one),
        valid until `p["valid_until"]`, by default 5 years."""
        kind = INDUSTRIES[self.industry[e]][3] or ""
        district, year = self.plan.usccs[e][2:8], self.day(t)[:4]
        prefix = "JY1" if kind == "食品经营许可证" else "粤"
        permit_no = f"{prefix}{district}{year}{self.number():07d}"
        self.permits.setdefault(e, []).append(permit_no)
        valid = p.get("valid_until")
        if valid is None:
            valid = (date.fromisoformat(self.day(t)) + timedelta(days=5 * 365)).isoformat()
        payload = {"permit_no": permit_no, "kind": kind, "valid_until": valid}
        return "permit.granted", "samr", self.plan.usccs[e], payload

    def _permit(self, e: int, t: int) -> Built | None:
        """A background permit, unless the industry needs none or the permits are planted."""
        if INDUSTRIES[self.industry[e]][3] is None or e in self.plan.own_permits:
            return None
        return self.permit(e, t, {})
