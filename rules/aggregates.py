"""What the rules read of an enterprise's own records, kept current as events are
folded (pure), so that no rule rescans a list that grows with events.

Each aggregate keeps the event times or days that decide it, so a late or reordered
event puts its entry in its place and the rules read the same thing whatever the
arrival order:

- `penalty_days`: [decided_on, decision_no] of the penalties that may count (ordinary
  procedure, dated, not revoked), in day order: a rule reads them from the newest back
  and stops at the first one whose longest publicity (3 years) is over.
- `open_cases`: the case numbers of the dishonest listings in force (listed, not
  removed), in order.
- `commendation_days`: [day awarded, event_id] of the commendations, in day order.
- `permit_expiries`: permit kind -> [valid_until, event_id] of the latest expiry among
  the kind's permits not revoked (kinds with a permit that never expires left out);
  `permit_held`: some permit granted and not revoked.
- `arrears_open`: the open tax arrears (not cleared): their total, the oldest day one
  was reported and their event ids, or None.

The updates touch one entry (a penalty, a case, a commendation) or summarize one
small record kind (permits, arrears periods) when an event of that kind arrives;
`rebuild` derives them all from the records, for a state stored before them.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from typing import TYPE_CHECKING, Any, TypedDict

from rules.clocks import penalty_window

if TYPE_CHECKING:
    from rules.state import EnterpriseState


class ArrearsOpen(TypedDict):
    """The tax arrears not cleared: what `tax_arrears` judges."""

    total: float
    oldest: str
    evidence: list[str]


def rebuild(state: EnterpriseState) -> None:
    """Derive every aggregate from the records.

    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> s.penalties = {"P2": {"procedure": "ordinary", "decided_on": "2026-05-01"},
    ...                "P1": {"procedure": "ordinary", "decided_on": "2026-03-01"},
    ...                "P0": {"procedure": "simple", "decided_on": "2026-01-01"}}
    >>> rebuild(s)
    >>> s.penalty_days
    [['2026-03-01', 'P1'], ['2026-05-01', 'P2']]
    """
    state.penalty_days = sorted(
        [penalty["decided_on"], no] for no, penalty in state.penalties.items() if _counts(penalty)
    )
    state.open_cases = sorted(no for no, case in state.dishonest_cases.items() if _open(case))
    state.commendation_days = sorted([c["on"], eid] for eid, c in state.commendations.items())
    summarize_permits(state)
    summarize_arrears(state)


def place_penalty(state: EnterpriseState, decision_no: str, before: dict[str, Any]) -> None:
    """Move a penalty's entry after its record changed from `before` (empty: new).

    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> s.penalties["P1"] = {"procedure": "ordinary", "decided_on": "2026-03-01"}
    >>> place_penalty(s, "P1", {}); s.penalty_days
    [['2026-03-01', 'P1']]
    >>> s.penalties["P1"]["revoked"] = True
    >>> place_penalty(s, "P1", {"procedure": "ordinary", "decided_on": "2026-03-01"})
    >>> s.penalty_days
    []
    """
    after = state.penalties[decision_no]
    old = [before["decided_on"], decision_no] if _counts(before) else None
    new = [after["decided_on"], decision_no] if _counts(after) else None
    _replace(state.penalty_days, old, new)


def place_case(state: EnterpriseState, case_no: str) -> None:
    """Put a dishonest case in or out of the cases in force."""
    cases = state.open_cases
    at = bisect_left(cases, case_no)
    present = at < len(cases) and cases[at] == case_no
    if _open(state.dishonest_cases[case_no]) and not present:
        cases.insert(at, case_no)
    elif present and not _open(state.dishonest_cases[case_no]):
        del cases[at]


def place_commendation(state: EnterpriseState, event_id: str, before: str | None) -> None:
    """Put a commendation in day order (`before`: the day it was recorded on, if any)."""
    old = [before, event_id] if before is not None else None
    _replace(state.commendation_days, old, [state.commendations[event_id]["on"], event_id])


def summarize_permits(state: EnterpriseState) -> None:
    """The latest expiry of each permit kind, and whether a permit is held; read in the
    records' order, so of two permits of a kind expiring on one day the first counts.

    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> s.permits = {"A": {"kind": "K", "granted": "t", "valid_until": "2026-07-01",
    ...                    "event_id": "g1"},
    ...              "B": {"kind": "K", "granted": "t", "valid_until": "2027-07-01",
    ...                    "revoked": True, "event_id": "g2"},
    ...              "C": {"kind": "L", "granted": "t", "valid_until": None, "event_id": "g3"}}
    >>> summarize_permits(s); s.permit_expiries, s.permit_held
    ({'K': ['2026-07-01', 'g1']}, True)
    """
    latest: dict[str, list[str]] = {}
    lasting: set[str] = set()
    for permit in state.permits.values():
        if permit.get("revoked") or not permit.get("kind"):
            continue
        kind = permit["kind"]
        if permit.get("valid_until") is None:
            lasting.add(kind)
        elif kind not in latest or permit["valid_until"] > latest[kind][0]:
            latest[kind] = [permit["valid_until"], permit["event_id"]]
    state.permit_expiries = {k: v for k, v in latest.items() if k not in lasting}
    state.permit_held = any(
        x.get("granted") and not x.get("revoked") for x in state.permits.values()
    )


def summarize_arrears(state: EnterpriseState) -> None:
    """The open tax arrears: summed in the records' order (a float sum depends on it),
    the evidence in the order of their day, amount and event id.

    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> s.tax_arrears = {"2026-02": {"amount": 5.0, "since": "2026-03-10", "event_id": "t2"},
    ...                  "2026-01": {"amount": 20.0, "since": "2026-02-15", "event_id": "t1"}}
    >>> summarize_arrears(s); s.arrears_open
    {'total': 25.0, 'oldest': '2026-02-15', 'evidence': ['t1', 't2']}
    """
    open_ = [
        (x["since"], x["amount"], x["event_id"])
        for x in state.tax_arrears.values()
        if not x.get("cleared") and x.get("since")
    ]
    if not open_:
        state.arrears_open = None
        return
    state.arrears_open = ArrearsOpen(
        total=sum(amount for _, amount, _ in open_),
        oldest=min(since for since, _, _ in open_),
        evidence=[eid for _, _, eid in sorted(open_)],
    )


def _counts(penalty: dict[str, Any]) -> bool:
    return penalty_window(penalty, None) is not None


def _open(case: dict[str, str | None]) -> bool:
    return bool(case.get("listed_by")) and not case.get("removed_by")


def _replace(entries: list[list[str]], old: list[str] | None, new: list[str] | None) -> None:
    """Swap `old` for `new` in a sorted list of entries (either may be None)."""
    if old == new:
        return
    if old is not None:
        at = bisect_left(entries, old)
        if at < len(entries) and entries[at] == old:
            del entries[at]
    if new is not None:
        insort(entries, new)
