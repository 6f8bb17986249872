"""The grade's timeline: one snapshot per evaluation that changed something, keyed by
its event time. It answers "what was the grade on date D" (the last snapshot before
the end of D) and "why did it change" (the difference of indicator contributions
between two consecutive snapshots).

Snapshots are written in event time, so the timeline of an enterprise whose events
arrive in order is complete as it is written. An event that arrives late (older than
the enterprise's clock) invalidates what was written after its time: `replay`
(rules/rebuild.py) rebuilds that stretch from the enterprise's journal (every event
applied to it), evaluating at each event and at each day a rule asked to be looked at
again, exactly as a replay of the stream cut at any of those dates would. Pure: the
store holds the journal and the timeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from rules import jsoncodec, packing
from rules.records import Reason, Snapshot
from rules.state import EnterpriseState

#: [occurred_at (UTC ISO), type, event_id, payload]: an event as the journal keeps it
JournalEntry = list[Any]
#: the parts of a snapshot that say what the grade was (the rest says why and when)
_VALUE = ("grade", "score", "indicators", "override")


def snapshot(state: EnterpriseState, cause: str) -> Snapshot:
    """The enterprise's grade as of its clock."""
    return {
        "at": state.clock,
        "grade": state.grade,
        "score": state.score,
        "indicators": dict(sorted(state.contributions.items())),
        "override": state.overridden,
        "cause": cause,
        "ruleset_version": state.ruleset_version,
    }


#: a rule's code in a packed snapshot: its place here. Only ever appended to: a rule
#: not listed is packed by its name.
RULE_CODES = (
    "shell_company", "complaint_frequency", "dishonest_enterprise", "dishonest_legal_rep",
    "commended", "tax_credit_a", "inspection_passed", "tax_arrears", "tax_violation",
    "social_insurance_arrears", "tax_credit_low", "abnormal_list", "abnormal_overdue",
    "serious_violation_list", "unreachable", "zero_annual_report", "model_risk",
    "model_anomaly", "penalty_frequency", "penalty_record", "permit_expiring",
    "permit_missing", "abnormal_age", "frequent_changes", "address_cluster",
    "person_many_firms", "annual_report_missing",
)  # fmt: skip
_CODE_OF = {rule_id: code for code, rule_id in enumerate(RULE_CODES)}


def pack_snapshot(snap: Snapshot) -> bytes:
    """A snapshot as the store keeps it in the timeline: a packed list (rules/packing.py)
    with the rules by code, small enough for Redis's compact encoding of sorted sets.

    >>> snap = {"at": "2025-01-25T02:17:59+00:00", "grade": "A", "score": 100,
    ...         "indicators": {"tax_credit_a": 5, "new_rule": -1}, "override": None,
    ...         "cause": "sim-7-000000463", "ruleset_version": "2026.1"}
    >>> unpack_snapshot(pack_snapshot(snap)) == snap, len(pack_snapshot(snap))
    (True, 47)
    """
    indicators = [x for r, v in snap["indicators"].items() for x in (_CODE_OF.get(r, r), v)]
    return packing.pack(
        [snap["at"], snap["grade"], snap["score"], indicators, snap["override"],
         snap["cause"], snap["ruleset_version"]]
    )  # fmt: skip


def unpack_snapshot(raw: bytes) -> Snapshot:
    """A stored snapshot: packed (`pack_snapshot`), or JSON as they were stored before."""
    if raw[:1] == b"{":
        return cast(Snapshot, jsoncodec.loads(raw))
    at, grade, score, flat, override, cause, version = packing.unpack(raw)
    indicators = {
        RULE_CODES[r] if isinstance(r, int) else r: v
        for r, v in zip(flat[::2], flat[1::2], strict=True)
    }
    return {
        "at": at, "grade": grade, "score": score, "indicators": indicators,
        "override": override, "cause": cause, "ruleset_version": version,
    }  # fmt: skip


def same(a: Mapping[str, Any] | None, b: Mapping[str, Any]) -> bool:
    return a is not None and all(a.get(k) == b.get(k) for k in _VALUE)


def reasons(before: dict[str, int], after: dict[str, int]) -> list[Reason]:
    """The indicator contributions that moved, as a regulator reads them.

    >>> reasons({"penalty_record": -10}, {"penalty_record": -10, "abnormal_list": -10})
    [{'rule_id': 'abnormal_list', 'before': 0, 'after': -10}]
    """
    return [
        {"rule_id": rule_id, "before": before.get(rule_id, 0), "after": after.get(rule_id, 0)}
        for rule_id in sorted(set(before) | set(after))
        if before.get(rule_id, 0) != after.get(rule_id, 0)
    ]


def compact(
    snapshots: Iterable[Snapshot], previous: Mapping[str, Any] | None = None
) -> list[Snapshot]:
    """The snapshots worth keeping, in time order: the last one of each instant, and
    only where it differs from the one before. `previous` is the entry already stored
    before these: one at its instant that says the same leaves it in place, cause and
    all (a recheck redelivered, or come due behind the enterprise's clock, re-evaluates
    as of that instant and must not take the credit for its grade).

    >>> a = {"at": "1", "grade": "A", "score": 100, "indicators": {}, "cause": "e1"}
    >>> compact([{**a, "cause": "recheck:0"}], previous=a)
    []
    """
    by_time: dict[str, Snapshot] = {}
    for snap in snapshots:
        if snap["at"]:
            by_time[snap["at"]] = snap
    kept: list[Snapshot] = []
    before: Mapping[str, Any] | None = previous
    for at in sorted(by_time):
        snap = by_time[at]
        if not same(before, snap):
            kept.append(snap)
        before = snap
    return kept


def history(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The grade changes of a timeline (oldest first), each with its cause and reasons.

    >>> t = [{"at": "1", "grade": "A", "score": 100, "indicators": {}, "cause": "e1"},
    ...      {"at": "2", "grade": "B", "score": 85, "indicators": {"penalty_frequency": -15},
    ...       "cause": "e2"}]
    >>> [(h["from_grade"], h["to_grade"], h["caused_by"]) for h in history(t)]
    [(None, 'A', 'e1'), ('A', 'B', 'e2')]
    """
    changes: list[dict[str, Any]] = []
    before: dict[str, Any] | None = None
    for entry in entries:
        if before is None or entry["grade"] != before["grade"]:
            changes.append(
                {
                    "at": entry["at"],
                    "from_grade": before["grade"] if before else None,
                    "to_grade": entry["grade"],
                    "score": entry["score"],
                    "override": entry.get("override"),
                    "caused_by": entry["cause"],
                    "reasons": reasons(before["indicators"] if before else {}, entry["indicators"]),
                }
            )
        before = entry
    return changes
