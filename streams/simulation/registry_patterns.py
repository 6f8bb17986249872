"""More planters of the synthetic city (simulation/patterns.py holds the first ones and
the `_Planter` toolkit they share): registration changes, lists and arrears, permits,
address bursts and approved incubators, shell companies. Each takes `(pl, k, kd, kg)`:
firms per single-firm pattern, decoys per variant, groups per multi-firm pattern.

Time-driven patterns (permits) are planted so that the rule's due time is at least 3
days before the end of the period (the stream's last events drive the timers); a
variant that cannot fit in a short period is not planted. So is annual_report_missing
(due on 1 July).
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import zip_longest
from typing import Any

from streams.simulation.data import FREE_INDUSTRIES, PERMIT_INDUSTRIES, SERIOUS_REASONS
from streams.simulation.patterns import DAY, _Planter


def _changes(pl: _Planter, k: int, kd: int, kg: int) -> None:
    L, W, P, rng = pl.L, pl.W, pl.P, pl.rng
    for _ in range(k):
        e = pl.firm()
        pl.hit("frequent_changes", e)
        _change_chain(pl, e, pl.spread(rng.choice((3, 3, 4)), L, W, min(150 * DAY, W - L)))
    for _ in range(kd):
        e = pl.firm()
        pl.decoy("frequent_changes", e)
        _change_chain(pl, e, pl.spread(2, L, P, 150 * DAY))
        if P - L >= 260 * DAY:  # three changes, never three within 180 days
            e = pl.firm()
            pl.decoy("frequent_changes", e)
            t = pl.when(L, P - 260 * DAY)
            times = [t, t + rng.randrange(110 * DAY, 125 * DAY)]
            _change_chain(pl, e, [*times, times[1] + rng.randrange(110 * DAY, 125 * DAY)])


def _change_chain(pl: _Planter, e: int, times: list[int]) -> None:
    """Alternating legal representative and shareholder changes at `times`."""
    profile = pl.plan.profiles[e]
    rep = profile["legal_rep"]
    holders: list[dict[str, Any]] = profile["shareholders"]
    for n, t in enumerate(times):
        newcomer = pl.people.adult(pl.plan.start)
        if n % 2 == 0:
            pl.ev(t, e, "change", field="legal_rep", before=rep, after=newcomer)
            rep = newcomer
        else:
            after = [dict(h) for h in holders]
            if len(after) == 1:
                after = [{**after[0], "ratio": 0.6}, {**newcomer, "ratio": 0.4}]
            else:
                after[-1] = {**newcomer, "ratio": after[-1]["ratio"]}
            pl.ev(t, e, "change", field="shareholders", before=holders, after=after)
            holders = after


def _lists_and_arrears(pl: _Planter, k: int, kd: int, kg: int) -> None:
    L, W, rng = pl.L, pl.W, pl.rng
    reasons = ("annual_report_missing", "disclosure_missing", "falsified_disclosure")
    simple: dict[str, tuple[str, dict[str, Any]]] = {
        "abnormal_list": ("abnormal", {"reason": ""}),
        "serious_violation_list": ("serious", {"reason": ""}),
        "tax_arrears": ("tax_arrears", {}),
        "tax_violation": ("tax_violation", {}),
        "social_insurance_arrears": ("si_arrears", {}),
    }
    for pattern, (kind, params) in simple.items():
        for _ in range(k):
            e = pl.firm()
            pl.hit(pattern, e)
            if kind == "abnormal":
                params = {"reason": rng.choice(reasons)}
            elif kind == "serious":
                params = {"reason": rng.choice(SERIOUS_REASONS)}
            elif kind == "tax_arrears":  # 100,000 CNY or more: the rule fires at once
                params = {"amount": rng.randrange(100, 800) * 1_000}
            pl.ev(pl.when(L, W), e, kind, **params)
    for _ in range(k):  # unreachable at the registered address: inspection, then listing
        e = pl.firm()
        pl.hit("unreachable", e)
        pl.hit("abnormal_list", e)
        t1, t2 = pl.spread(2, L, W, min(60 * DAY, W - L))
        pl.ev(t1, e, "inspection", result="unreachable")
        pl.ev(t2, e, "abnormal", reason="unreachable_address")
    for n in range(k + kd):  # all-zero annual report; decoys report zero revenue only
        e = pl.firm()
        t = pl.when(L, W if n < k else pl.P)
        if n < k:
            pl.hit("zero_annual_report", e)
        else:
            pl.decoy("zero_annual_report", e)
        _report(pl, e, t, "zero" if n < k else "partial")
    for _ in range(kd if pl.P - 11 * DAY > L else 0):  # arrears under 100,000, soon cleared
        e = pl.firm()
        pl.decoy("tax_arrears", e)
        t = pl.when(L, pl.P - 11 * DAY)
        pl.ev(t, e, "tax_arrears", amount=rng.randrange(5, 91) * 1_000)
        pl.ev(pl.when(t + 10 * DAY, min(t + 60 * DAY, pl.P)), e, "tax_cleared")


def _report(pl: _Planter, e: int, t: int, figures: str, year: int | None = None) -> None:
    """An annual report for `year` (default: the year before `t`), and no background
    one for that year; made by the deadline, it counts as the one due (statutory.py)."""
    if year is None:
        year = pl.plan.day(t).year - 1
    pl.plan.prefiled[(year, e)] = t
    pl.ev(t, e, "annual", year=year, figures=figures)


def _permits_missing(pl: _Planter, k: int, kd: int, kg: int) -> None:
    """New firms in an industry needing a permit, never granted one: the rule is due on
    established_on + 30 days. Decoys: granted on day 26-29; an industry needing none."""
    L, W, rng, plan = pl.L, pl.W, pl.rng, pl.plan
    last = pl.P - 35 * DAY  # registered before: due 5+ days before the end
    if last <= L:
        return
    for _ in range(k):
        e = pl.firm(reg_t=pl.when(L, min(W, last)), industry=rng.choice(PERMIT_INDUSTRIES))
        plan.own_permits.add(e)
        pl.hit("permit_missing", e)
    for _ in range(kd):
        t = pl.when(L, last)
        late = pl.firm(reg_t=t, industry=rng.choice(PERMIT_INDUSTRIES))
        day0 = t - t % DAY  # established_on
        pl.ev(pl.when(day0 + 26 * DAY, day0 + 30 * DAY), late, "permit")
        plan.own_permits.add(late)
        free = pl.firm(reg_t=pl.when(L, last), industry=rng.choice(FREE_INDUSTRIES))
        pl.decoy("permit_missing", late, free)


def _permits_expiring(pl: _Planter, k: int, kd: int, kg: int) -> None:
    """Old firms granted a permit valid 45-200 days: the rule is due on valid_until - 30
    days. Decoys: valid beyond the period + 60 days; renewed 5+ days before due."""
    L, W, rng, plan = pl.L, pl.W, pl.rng, pl.plan
    days = pl.P // DAY
    last = (days - 17) * DAY  # granted before: due 3+ days before the end

    def soon(t: int) -> int:  # day number of valid_until
        return rng.randint(t // DAY + 45, min(t // DAY + 200, days + 27))

    def iso(day_number: int) -> str:
        return (plan.start + timedelta(days=day_number)).isoformat()

    if last <= L:
        return
    for _ in range(k):
        e = pl.firm(industry=rng.choice(PERMIT_INDUSTRIES))
        t = pl.when(L, min(W, last))
        pl.ev(t, e, "permit", valid_until=iso(soon(t)))
        plan.own_permits.add(e)
        pl.hit("permit_expiring", e)
    for _ in range(kd):
        far, renewed = (pl.firm(industry=rng.choice(PERMIT_INDUSTRIES)) for _ in range(2))
        pl.ev(pl.when(L, pl.P), far, "permit", valid_until=iso(days + rng.randint(61, 400)))
        t = pl.when(L, last)
        until = soon(t)
        pl.ev(t, renewed, "permit", valid_until=iso(until))
        pl.ev(pl.when(t + 1, (until - 35) * DAY), renewed, "permit")  # valid 5 years
        plan.own_permits.update((far, renewed))
        pl.decoy("permit_expiring", far, renewed)


def _bursts_and_incubators(pl: _Planter, k: int, kd: int, kg: int) -> None:
    """address_cluster: 3 new firms at one address within 20 days. Decoys: 5-6 old firms
    at an approved incubator (allow-listed), one of them filing an all-zero report."""
    L, W, rng = pl.L, pl.W, pl.rng
    for _ in range(kg):
        district = pl.district()
        address = pl.addresses.shared(district, rng)
        base = pl.when(L, max(L + 1, W - 20 * DAY))
        times = sorted(pl.when(base, min(W, base + 20 * DAY)) for _ in range(3))
        firms = [pl.firm(reg_t=t, address=address, district=district) for t in times]
        pl.hit("address_cluster", *firms)
        first_day = times[0] - times[0] % DAY  # the 3 count as a burst for 30 days
        pl.groups.append(("burst", firms, times[-1], min(W, first_day + 28 * DAY)))
    for _ in range(kd):
        district = pl.district()
        address = pl.addresses.shared(district, rng)
        pl.plan.allowed_addresses.add(address)
        firms = [pl.firm(address=address, district=district) for _ in range(rng.randint(5, 6))]
        pl.decoy("address_cluster", *firms)
        pl.decoy("shell_company", *firms)
        pl.hit("zero_annual_report", firms[0])
        _report(pl, firms[0], pl.when(L, W), "zero")


def _shells(pl: _Planter, k: int, kd: int, kg: int) -> None:
    """shell_company: while a planted address cluster or person_many_firms group holds
    (complete, and for a burst within 28 days of its first registration), some members
    (at least 2 in all, at most all but two per group) file an all-zero annual report
    (old firms) or are put on the abnormal list (new firms). Decoys: the other members;
    the firms with such a record alone (no cluster, no group)."""
    plan, rng = pl.plan, pl.rng
    lone = plan.hits["zero_annual_report"] | plan.hits["abnormal_list"]
    by_kind: dict[str, list[tuple[list[int], int, int]]] = {
        kind: [] for kind in ("person", "cluster", "burst")
    }
    for kind, firms, done, until in pl.groups:
        by_kind[kind].append((firms, done, until))
    ordered = [g for row in zip_longest(*by_kind.values()) for g in row if g is not None]
    picks: list[tuple[int, int, int]] = []  # round robin over the groups
    for n in range(max((len(g[0]) for g in ordered), default=0)):
        picks += [(firms[n], done, until) for firms, done, until in ordered if n < len(firms) - 2]
    shells = set()
    for e, done, until in picks[: max(2, k)]:
        t = pl.when(done + 1, max(until, done + 2))
        if plan.reg_t[e] < pl.L:  # established long ago: files an all-zero annual report
            _report(pl, e, t, "zero")
            pl.hit("zero_annual_report", e)
        else:  # registered weeks ago: put on the abnormal list
            reason = rng.choice(("disclosure_missing", "falsified_disclosure"))
            pl.ev(t, e, "abnormal", reason=reason)
            pl.hit("abnormal_list", e)
        pl.hit("shell_company", e)
        shells.add(e)
    members = {e for _, firms, _, _ in pl.groups for e in firms}
    pl.decoy("shell_company", *(members - shells), *lone)


def _reports_missing(pl: _Planter, k: int, kd: int, kg: int) -> None:
    """annual_report_missing, for a report year Y whose 1 July (Y + 1) is at least 3 days
    before the end: old firms that never file Y; every second one files it late (1 July
    or later, within the planted window, if the window reaches that far: the warning
    is raised on 1 July, then closed). Decoys: one files on 30 June at 17:30-23:59
    (Beijing); one is deregistered between 1 January and 30 June of Y + 1, filing
    nothing; a new firm registered then (so established after Y) files nothing for Y."""
    plan, rng, L, W, P = pl.plan, pl.rng, pl.L, pl.W, pl.P
    start, days = plan.start, P // DAY
    years = []  # (Y, day number of 1 July Y + 1)
    for year in range(start.year - 1, (start + timedelta(days=days)).year):
        july = (date(year + 1, 7, 1) - start).days
        if 1 <= july <= days - 3:
            years.append((year, july))
    if not years:
        return
    for n in range(max(2, k)):
        year, july = rng.choice(years)
        e = pl.firm()
        pl.hit("annual_report_missing", e)
        plan.skip_reports.add((year, e))
        late = july * DAY
        if n % 2 == 1 and late + DAY < W:
            _report(pl, e, pl.when(late, min(W, late + 60 * DAY)), "normal", year)
    for _ in range(kd):
        year, july = rng.choice(years)
        first = max(L, (date(year + 1, 1, 1) - start).days * DAY)
        on_time = pl.firm()
        _report(pl, on_time, (july - 1) * DAY + rng.randrange(63_000, DAY), "normal", year)
        gone = pl.firm()
        plan.closes[gone] = t = pl.when(first, july * DAY)
        pl.ev(t, gone, "deregister")
        new = pl.firm(reg_t=pl.when(first, july * DAY))
        pl.decoy("annual_report_missing", on_time, gone, new)


MORE_PLANTERS = (_changes, _lists_and_arrears, _permits_missing, _permits_expiring,
                 _bursts_and_incubators, _shells, _reports_missing)  # fmt: skip
