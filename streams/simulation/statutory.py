"""The statutory calendar of the synthetic city: the annual reports every enterprise
owes, and the multi-year credit histories of background (NOISY) firms that run the
publicity and repair clocks. The rules' side is rules/clocks.py; the simulator keeps
its own copy of the few dates it needs (it never imports rules/).

- Annual reports (`plan_reports`): for every report year Y whose deadline, 30 June of
  Y + 1 (Beijing day, as every simulated time), falls inside the period, each
  enterprise the rule judges (established in or before Y, registered on or before the
  deadline, not deregistered before it) files its report for Y at an office time
  between 1 January of Y + 1 (or the day after its registration, if later) and the
  deadline. Not due: the (Y, firm) pairs planted for annual_report_missing
  (`Plan.skip_reports`), and a year for which a planted report (zero_annual_report,
  shell_company) comes in time. A planted report that comes after its deadline amends
  the ordinary one filed in time. A firm deregistered meanwhile by the background gets
  none: a background event takes its slot, so the count stays exact.
- Credit histories (`plan_histories`): a few NOISY firms of the initial load (never
  deregistered) get one recipe each, in turn, out of `_RECIPES`: ordinary-procedure
  penalties of every measure mix (criticism only, a fine of at most 30,000 with or
  without criticism, larger fines or a warning, food and drug violations), some
  revoked, some followed by `credit.repaired` (target penalty) approved when eligible
  (6 months after the decision, 12 for food and drug: on that day or up to 45 days
  later) or prematurely (1-5 days before), or both (rejected, then accepted); abnormal
  listings (`disclosure_missing`) removed, repaired, or left in force (36 months later
  due for the serious list: abnormal_overdue, when that falls 3+ days before the end).
  Never more than two ordinary penalties per firm, so penalty_frequency never fires.
"""

from __future__ import annotations

import calendar
import random
from datetime import date, timedelta
from typing import Any

from streams.simulation.data import VIOLATIONS
from streams.simulation.patterns import DAY, NOISY, Plan, office_time

HISTORY_SHARE = 0.01
"""Share of the `events` budget spent on credit histories (at most a quarter of what the
background has left)."""
SMALL_FINE = 30_000
FOOD_DRUG = ("销售不符合食品安全标准的食品", "经营超过保质期的食品", "违反药品经营质量管理规范")
PLAIN = tuple(v for v in VIOLATIONS if "食品" not in v and "药品" not in v)
OVERDUE_MONTHS = 36

# (penalty measure mix or "abnormal", what follows)
_RECIPES = (
    ("criticism", None), ("small_fine", "revoked"), ("large_fine", "repaired"),
    ("food_drug", "premature"), ("abnormal", "removed"), ("criticism_fine", None),
    ("large_fine", "premature_then_repaired"), ("food_drug", "repaired"),
    ("abnormal", "repaired"), ("large_fine", "revoked"), ("abnormal", None),
    ("two", None), ("small_fine", None), ("large_fine", "premature"),
)  # fmt: skip


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the end of that month (as rules/calendar.py).

    >>> add_months(date(2026, 8, 31), 6), add_months(date(2028, 2, 29), 36)
    (datetime.date(2027, 2, 28), datetime.date(2031, 2, 28))
    """
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def deadlines(start: date, days: int) -> list[tuple[int, int]]:
    """(report year, day number of its deadline) for the deadlines inside the period.

    >>> deadlines(date(2025, 1, 1), 400), deadlines(date(2026, 1, 5), 90)
    ([(2024, 180)], [])
    """
    found = []
    for year in range(start.year - 1, (start + timedelta(days=days)).year):
        day = (date(year + 1, 6, 30) - start).days
        if 0 <= day < days:
            found.append((year, day))
    return found


def establish(plan: Plan) -> None:
    """The establishment day of every enterprise: from the profile of a planted one,
    the registration day of a new one, 40 days to 10 years before the start for the
    initial load (drawn here, so the reports due are known when planning)."""
    rng = random.Random(f"creditwatch-sim-{plan.seed}-founded")
    start = plan.start.toordinal()
    days = []
    for e, t in enumerate(plan.reg_t):
        if e in plan.profiles:
            days.append(date.fromisoformat(plan.profiles[e]["established_on"]).toordinal())
        elif t < plan.load_end:
            days.append(start - rng.randrange(40, 3650))
        else:
            days.append(start + t // DAY)
    plan.established = days


def plan_reports(plan: Plan) -> None:
    """`plan.reports`: the annual reports due in the period (see the module docstring),
    as sorted stubs of kind "report"."""
    rng = random.Random(f"creditwatch-sim-{plan.seed}-reports")
    stubs: list[tuple[int, int, int, str, int, dict[str, Any]]] = []
    for year, deadline in deadlines(plan.start, plan.period // DAY):
        end = (deadline + 1) * DAY  # 1 July, 00:00: the deadline has passed
        first = (date(year + 1, 1, 1) - plan.start).days * DAY
        last_founded = date(year, 12, 31).toordinal()
        for e, reg in enumerate(plan.reg_t):
            if reg >= end or plan.established[e] > last_founded:
                continue
            if (year, e) in plan.skip_reports or plan.closes.get(e, end) < end:
                continue
            if plan.prefiled.get((year, e), end) < end:  # a planted report, in time
                continue
            lo = max(first, (reg // DAY + 1) * DAY)
            if lo >= end:  # registered on the deadline itself: later that day
                lo = min(reg + 1, end - 1)
            stubs.append((office_time(rng, lo, end), 5, len(stubs), "report", e, {"year": year}))
    stubs.sort()
    plan.reports = stubs


class _Histories:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.rng = random.Random(f"creditwatch-sim-{plan.seed}-history")
        self.days = plan.period // DAY
        self.stubs: list[tuple[int, str, int, dict[str, Any]]] = []  # t, kind, e, params
        self.noise: list[tuple[str, int]] = []  # (rule, firm) of the recipe being made
        self.tags = len(plan.stubs)

    def at(self, day: int) -> int:
        """An office time on day number `day`."""
        return day * DAY + 30_600 + self.rng.randrange(34_200)

    def start_day(self, room: int) -> int | None:
        """A day for the first event, with `room` days left after it (None: no room)."""
        hi = self.days - room
        return self.rng.randrange(0, hi) if hi > 0 else None

    def day_of(self, when: date) -> int:
        return (when - self.plan.start).days

    def penalty(self, e: int, mix: str, day: int) -> tuple[int, date, int]:
        """An ordinary penalty on `day`; returns (tag, decided_on, repair months)."""
        rng = self.rng
        violation = rng.choice(PLAIN)
        months = 6
        if mix == "criticism":
            measures, amount = ["criticism"], 0
        elif mix == "small_fine":
            measures, amount = ["fine"], rng.choice((2_000, 5_000, 10_000, 20_000, SMALL_FINE))
        elif mix == "criticism_fine":
            measures, amount = ["criticism", "fine"], rng.choice((3_000, 10_000, SMALL_FINE))
        elif mix == "food_drug":
            measures, amount = ["fine", "confiscation"], rng.randrange(5, 50) * 10_000
            violation, months = rng.choice(FOOD_DRUG), 12
        else:  # larger fines, or a warning (not a short-publicity measure)
            measures, amount = rng.choice(
                ((["fine"], 31_000), (["warning", "fine"], 50_000),
                 (["fine", "confiscation"], 100_000), (["warning"], 0), (["fine"], 200_000))
            )  # fmt: skip
        tag = self.tags
        self.tags += 1
        params = {"procedure": "ordinary", "measures": measures, "amount": amount,
                  "violation": violation, "tag": tag}  # fmt: skip
        self.stubs.append((self.at(day), "penalty", e, params))
        return tag, self.plan.start + timedelta(days=day), months

    def repair(self, e: int, target: str, day: int, **ref: Any) -> None:
        """`credit.repaired`, approved on day number `day` (`ref`: the penalty's tag)."""
        approved = (self.plan.start + timedelta(days=day)).isoformat()
        params = {"target": target, "approved_on": approved, **ref}
        self.stubs.append((self.at(day), "repair", e, params))

    def recipe(self, e: int, mix: str, then: str | None) -> None:
        rng = self.rng
        if mix == "two":  # two ordinary penalties, a small fine and a larger one
            for kind in ("small_fine", "large_fine"):
                day = self.start_day(3)
                if day is not None:
                    self.penalty(e, kind, day)
            return
        if mix == "abnormal":
            self.abnormal(e, then)
            return
        months = 12 if mix == "food_drug" else 6
        room = {"revoked": 125, None: 3}.get(then, months * 31 + 50)
        day = self.start_day(room)
        if day is None:
            day, then = self.start_day(3), None
            if day is None:
                return
        tag, decided, months = self.penalty(e, mix, day)
        if then == "revoked":
            self.stubs.append((self.at(day + rng.randint(15, 120)), "revoke", e, {"tag": tag}))
            return
        eligible = self.day_of(add_months(decided, months))
        if then in ("premature", "premature_then_repaired"):
            self.repair(e, "penalty", eligible - rng.randint(1, 5), tag=tag)
        if then in ("repaired", "premature_then_repaired"):
            self.repair(e, "penalty", eligible + rng.choice((0, 0, 3, 10, 30, 45)), tag=tag)

    def abnormal(self, e: int, then: str | None) -> None:
        rng, start = self.rng, self.plan.start
        reason = "disclosure_missing"
        if then is None:  # left in force: overdue after 36 months, if the period is that long
            latest = self.days - 3 - (add_months(start, OVERDUE_MONTHS) - start).days
            day = rng.randrange(0, latest) if latest > 0 else self.start_day(3)
        else:
            day = self.start_day(6 * 31 + 50)
            if day is None:
                day, then = self.start_day(3), None
        if day is None:
            return
        self.stubs.append((self.at(day), "abnormal", e, {"reason": reason}))
        self.noise.append(("abnormal_list", e))
        listed = start + timedelta(days=day)
        if then == "removed":
            removed = day + rng.randint(30, 200)
            self.stubs.append((self.at(removed), "unlist", e, {"reason": reason}))
        elif then == "repaired":
            eligible = self.day_of(add_months(listed, 6))
            self.repair(e, "abnormal", eligible + rng.choice((0, 5, 20, 45)))
        elif self.day_of(add_months(listed, OVERDUE_MONTHS)) <= self.days - 3:
            self.noise.append(("abnormal_overdue", e))


def plan_histories(plan: Plan, budget: int) -> int:
    """Add the credit histories of NOISY firms to `plan.stubs`, at most `budget` events
    in all (module docstring); returns how many events they hold."""
    h = _Histories(plan)
    firms = [e for e, t in enumerate(plan.reg_t) if plan.roles[e] == NOISY and t < plan.load_end]
    h.rng.shuffle(firms)
    used = 0
    for n, e in enumerate(firms):
        before = len(h.stubs)
        h.noise.clear()
        h.recipe(e, *_RECIPES[n % len(_RECIPES)])
        if used + len(h.stubs) - before > budget:
            del h.stubs[before:]
            break
        used += len(h.stubs) - before
        if len(h.stubs) > before:
            plan.history_firms.add(e)
        for rule, firm in h.noise:
            plan.noise.setdefault(rule, set()).add(firm)
    for t, kind, e, params in h.stubs:
        plan.stubs.append((t, 1, len(plan.stubs), kind, e, params))
    plan.stubs.sort()
    return used
