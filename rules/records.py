"""The records the rules hand to the rest of the system: warnings, grade changes,
timeline snapshots and directory entries. The store writes them, the relay publishes
them and the API reads them back; docs/api.md describes them as the API serves them.

TypedDicts: at run time each is the plain dict that is written as JSON, so typing them
changes nothing on the wire. The enterprise state's own internals are not typed here.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


class WarningRecord(TypedDict):
    """A warning, as raised (status open) and as closed; one open per rule and firm."""

    warning_id: str
    uscc: str
    rule_id: str
    rule_version: int
    ruleset_version: str
    severity: str | None
    message: str
    evidence: list[str]
    raised_at: str
    #: the event time of what raised it
    occurred_at: str
    status: Literal["open", "closed"]
    #: rule-specific figures, for the rules that give them
    details: NotRequired[dict[str, Any]]
    #: new evidence for a warning already open
    updated_at: NotRequired[str]
    closed_at: NotRequired[str]
    closed_by: NotRequired[str]
    #: closed because a disposition covers its rule's hit (rules/dispositions.py)
    disposition: NotRequired[str]


class Reason(TypedDict):
    """An indicator contribution that moved between two evaluations."""

    rule_id: str
    before: int
    after: int


#: a regulator's override around a grade change ("from" and "to" are keywords)
OverrideChange = TypedDict("OverrideChange", {"from": str | None, "to": str | None})


class GradeChange(TypedDict):
    uscc: str
    from_grade: str
    to_grade: str | None
    score: int | None
    reasons: list[Reason]
    changed_at: str
    caused_by: str
    override: NotRequired[OverrideChange]


class Snapshot(TypedDict):
    """The grade as of an instant of event time: one entry of an enterprise's timeline."""

    at: str | None
    grade: str | None
    score: int | None
    indicators: dict[str, int]
    override: str | None
    cause: str
    ruleset_version: str | None


class DirectoryEntry(TypedDict):
    """What lookups, lists, search and the inspection draw filter on (cw:directory)."""

    name: str | None
    address: str | None
    district: str | None
    industry: str | None
    tags: list[str]
    status: str
    grade: str | None
    score: int | None
    #: the rules with an open warning
    rules: list[str]
    registered_on: str | None
    last_inspected: str | None
    last_penalized: str | None
