"""Inspection results entered by regulators (the console, `PUT /inspections/plans/{id}/
targets/{uscc}/result`) counted by the rules as the `inspection.completed` event with
the plan's id would count. Pure: the store hands the worker the firm's entered results
(`state.entered_results`, plan_id -> {result, at}) as it hands it the dispositions, and
the rules read the firm's inspections through `inspections` below.

One result per plan and firm: a later entry replaces the earlier one (so entering the
same result twice counts once), and an `inspection.completed` event from the
inspection system for the same plan at the same time or later takes its place. An
entered result counts from the moment it was entered (in the rules' clock): the engine
looks again at that instant (`pending`, `made_at`), so a replay of the journal with
the same entered results gives the same states and timeline, whatever order they
come in. The failed-inspection count the models read (`failed_inspections`) is kept
from events only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypedDict

from rules.folding import note_inspection
from rules.state import EnterpriseState


class EnteredResult(TypedDict):
    """A target's result as entered, as the worker reads it (plan_id -> this)."""

    result: str  # passed | issues_found | unreachable
    #: when it was entered (RFC 3339): it counts from then on
    at: str


def _utc(at: str) -> str:
    return datetime.fromisoformat(at).astimezone(UTC).isoformat()


def evidence_id(plan_id: str) -> str:
    """What stands for an entered result where an event id would (the evidence)."""
    return f"entered:{plan_id}"


def counted(state: EnterpriseState) -> list[tuple[str, str, str]]:
    """(plan_id, result, at in UTC) of the entered results that count at the state's
    clock: entered by then and not replaced by the inspection system's event.

    >>> s = EnterpriseState("91440300708461136T", clock="2026-05-01T00:00:00+00:00")
    >>> s.entered_results = {"P1": {"result": "passed", "at": "2026-04-01T10:00:00+08:00"},
    ...                      "P2": {"result": "passed", "at": "2026-06-01T00:00:00+00:00"}}
    >>> counted(s)
    [('P1', 'passed', '2026-04-01T02:00:00+00:00')]
    >>> s.plan_results = {"P1": {"result": "issues_found", "at": "2026-04-02T00:00:00+00:00"}}
    >>> counted(s)
    []
    """
    if not state.entered_results or state.clock is None:  # (most firms: nothing to do)
        return []
    found = []
    for plan_id, entered in sorted(state.entered_results.items()):
        at = _utc(entered["at"])
        event = state.plan_results.get(plan_id)
        if at <= state.clock and not (event and event.get("at", "") >= at):
            found.append((plan_id, entered["result"], at))
    return found


def inspections(state: EnterpriseState) -> dict[str, str]:
    """The firm's inspections (EnterpriseState.inspections) with its entered results
    counted as the events would be: what the rules and the directory read.

    >>> s = EnterpriseState("91440300708461136T", clock="2026-05-01T00:00:00+00:00")
    >>> s.inspections = {"latest": "2026-03-01T00:00:00+00:00", "latest_by": "e1",
    ...                  "result": "passed", "reached": "2026-03-01T00:00:00+00:00"}
    >>> s.entered_results = {"P1": {"result": "unreachable", "at": "2026-04-01T00:00:00Z"}}
    >>> seen = inspections(s)
    >>> seen["result"], seen["unreachable_by"], s.inspections["result"]
    ('unreachable', 'entered:P1', 'passed')
    """
    found = counted(state)
    if not found:
        return state.inspections
    seen = dict(state.inspections)
    for plan_id, result, at in found:
        note_inspection(seen, result, evidence_id(plan_id), at)
    return seen


def pending(entered: Mapping[str, Any], clock: str | None) -> list[str]:
    """The instants (UTC ISO) of results entered later than `clock`: the engine looks
    again at each, so that a replay meets them where they were entered.

    >>> e = {"P1": {"result": "passed", "at": "2026-03-01T08:00:00+08:00"}}
    >>> pending(e, "2026-02-28T00:00:00+00:00"), pending(e, "2026-03-01T00:00:00+00:00")
    (['2026-03-01T00:00:00+00:00'], [])
    """
    if not entered:
        return []
    return sorted(
        at for at in (_utc(r["at"]) for r in entered.values()) if clock is None or at > clock
    )


def made_at(entered: Mapping[str, Any], at: str) -> str | None:
    """The plan whose result was entered at exactly `at` (UTC ISO), if any: the cause
    a look again there is given.

    >>> made_at({"P1": {"result": "passed", "at": "2026-03-01T08:00:00+08:00"}},
    ...         "2026-03-01T00:00:00+00:00")
    'P1'
    """
    if not entered:
        return None
    found = sorted(plan for plan, r in entered.items() if _utc(r["at"]) == at)
    return found[-1] if found else None
