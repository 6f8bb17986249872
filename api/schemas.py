"""Response models: the API's contract, shown in the OpenAPI document."""

from __future__ import annotations

from datetime import date
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from api.schemas_handling import Assignment, DispositionRecord, Snooze


class Warning(BaseModel):
    warning_id: str
    uscc: str
    rule_id: str
    severity: Literal["yellow", "orange", "red"]
    message: str
    evidence: list[str]
    raised_at: str
    occurred_at: str
    rule_version: int | None = None
    ruleset_version: str | None = None
    status: Literal["open", "closed"] = "open"
    updated_at: str | None = Field(None, description="last new evidence, while open")
    closed_at: str | None = None
    closed_by: str | None = Field(
        None, description="event id, recheck:TIME, or disposition:WARNING_ID"
    )
    disposition: Literal["false_alarm", "rectified"] | None = Field(
        None, description="closed because this disposition covers its rule's hit (no new evidence)"
    )
    snoozed: bool = Field(
        False, description="raised while its rule was snoozed for the firm: not pushed"
    )


class GradeChange(BaseModel):
    uscc: str
    from_grade: str
    to_grade: str
    score: int
    reasons: list[dict[str, Any]]
    changed_at: str
    caused_by: str


class RiskLabel(BaseModel):
    zh: str = Field(examples=["较高"])
    en: str = Field(examples=["relatively high"])
    colour: str = Field(examples=["orange"])


class Repair(BaseModel):
    target: Literal["penalty", "abnormal", "serious", "dishonest"]
    ref: str
    approved_on: str
    event_id: str
    status: Literal["accepted", "rejected", "pending"] | None = Field(
        None, description="pending: its target is not known yet"
    )
    reason: str | None = Field(None, description="why it was rejected or is pending")


class Override(BaseModel):
    uscc: str | None = Field(None, description="in lists of overrides")
    grade: Literal["A", "B", "C", "D"]
    reason: str
    set_at: str
    expires_on: str = Field(description="the last day it holds (Beijing time)")
    set_by: str
    override_id: str


class OverrideRequest(BaseModel):
    grade: Literal["A", "B", "C", "D"]
    reason: str = Field(min_length=1, max_length=1000, examples=["现场核查发现虚假注册，待立案"])
    expires_on: date = Field(description="the last day it holds (Beijing time), at most 2 years")


class Indicator(BaseModel):
    rule_id: str
    title: str
    points: int = Field(description="its contribution to the score (negative: a deduction)")


class Reason(BaseModel):
    rule_id: str
    title: str
    before: int
    after: int


class GradeAsOf(BaseModel):
    uscc: str
    as_of: str = Field(description="the date or instant asked for")
    at: str = Field(description="event time of the evaluation in force then")
    grade: str
    score: int
    risk: RiskLabel
    override: str | None = Field(None, description="a regulator's grade was in force")
    indicators: list[Indicator]
    caused_by: str
    ruleset_version: str | None


class HistoryEntry(BaseModel):
    kind: Literal["grade_change"] = "grade_change"
    at: str = Field(description="event time of the change")
    from_grade: str | None
    to_grade: str
    score: int
    override: str | None = None
    caused_by: str = Field(description="event id, recheck:TIME (a clock) or the override")
    reasons: list[Reason] = Field(description="indicator contributions that moved")


class Enterprise(BaseModel):
    uscc: str = Field(examples=["91440300708461136T"])
    status: str = Field(examples=["active"], description="unregistered | active | deregistered")
    profile: dict[str, Any]
    grade: str | None = Field(examples=["B"])
    score: int | None = Field(examples=[85])
    risk: RiskLabel | None
    contributions: dict[str, int]
    ruleset_version: str | None = Field(
        None, description="rule set of its latest evaluation; GET /rules shows the one in force"
    )
    warnings: list[Warning] = Field(description="open warnings")
    computed_grade: str | None = Field(None, description="the rules' grade, under an override")
    override: Override | None = Field(None, description="a regulator's grade in force")
    repairs: list[Repair] = Field(default_factory=list, description="credit repairs received")
    recheck_at: str | None = Field(None, description="when a clock next looks again")
    snoozes: list[Snooze] = Field(
        default_factory=list, description="rules snoozed for it now (the warning workbench)"
    )
    inspections: list[InspectionResult] = Field(
        default_factory=list, description="inspection plans' results, newest first"
    )
    events_seen: int
    last_event_at: str | None


class InspectionResult(BaseModel):
    """The result an inspection plan's visit recorded (`inspection.completed`), or the
    result entered for it through the API when that counts in its place."""

    plan_id: str
    result: Literal["passed", "issues_found", "unreachable"] | str
    at: str = Field(description="when the inspection was completed (event time) or entered")
    event_id: str | None = Field(None, description="none: entered through the API")


class EnterpriseSummary(BaseModel):
    """One line of a batch lookup, a list, a search or an export."""

    uscc: str = Field(examples=["91440300708461136T"])
    name: str | None = Field(None, examples=["深圳市某某科技有限公司"])
    address: str | None = None
    district: str | None = Field(None, examples=["440305"])
    industry: str | None = Field(None, examples=["I65"])
    tags: list[str] = Field(default_factory=list)
    status: str = Field(examples=["active"])
    grade: str | None = Field(None, examples=["C"])
    score: int | None = Field(None, examples=[64])
    risk: RiskLabel | None = None
    rules: list[str] = Field(default_factory=list, description="rules with an open warning")
    registered_on: str | None = None
    last_inspected: str | None = Field(None, description="day of the latest inspection")
    last_penalized: str | None = Field(None, description="day of the latest penalty decided")
    roles: list[str] | None = Field(None, description="a person search: the person's roles here")


class BatchRequest(BaseModel):
    usccs: list[str] = Field(
        min_length=1, max_length=1000, examples=[["91440300708461136T", "91110000MA00000001"]]
    )


class BatchProblem(BaseModel):
    uscc: str
    problem: str


class BatchResult(BaseModel):
    items: list[EnterpriseSummary] = Field(description="found, in the order asked")
    missing: list[str] = Field(description="valid USCCs with no record (or outside your scope)")
    invalid: list[BatchProblem] = Field(description="not valid USCCs")


class RulesDocument(BaseModel):
    """A rules file's structure: `{"version": ..., "rules": {rule_id: {setting: value}}}`."""

    version: str = Field(examples=["2026.2"])
    rules: dict[str, dict[str, Any]] = Field(
        default_factory=dict, examples=[{"address_cluster": {"active_threshold": 6}}]
    )
    grading: dict[str, Any] = Field(
        default_factory=dict, examples=[{"thresholds": {"A": 90, "B": 75, "C": 60}}]
    )


class RuleView(BaseModel):
    rule_id: str
    version: int
    title: str
    aspect: str
    category: str
    enabled: bool
    severity: str | None = Field(description="null: it scores without warning")
    deduction: int
    bonus: int = Field(0, description="points a credit indicator adds")
    veto_grade: str | None
    params: dict[str, Any]
    basis: str


class RuleSetView(BaseModel):
    version: str
    source: str
    published: bool = Field(description="false: no rule set published, the defaults apply")
    grading: dict[str, Any] = Field(
        examples=[{"baseline": 100, "max_score": 100, "thresholds": {"A": 90, "B": 75, "C": 60}}]
    )
    rules: list[RuleView]


class AllowedAddress(BaseModel):
    address: str = Field(min_length=1, max_length=500)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        None, description="pass as `cursor` for the next (older) page; null at the end"
    )


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    redis: bool


class ModelEvent(BaseModel):
    kind: str = Field(description="suspended | restored | drift", examples=["suspended"])
    at: str | None = Field(description="event time of the label that decided it")
    reason: str = Field(examples=["recent AUC 0.571 < 0.6"])
    labels: int
    recent_auc: float | None


class ModelQuality(BaseModel):
    scored: int = Field(description="labels scored with the probability their sample got")
    auc: float | None = Field(description="progressive ROC AUC since the start")
    log_loss: float | None
    recent_labels: int
    recent_auc: float | None = Field(description="over the recent window, since any drift")
    recent_log_loss: float | None
    calibration_error: float | None = Field(description="expected calibration error")
    calibration: list[dict[str, Any]] = Field(
        examples=[[{"band": "0.1-0.2", "predicted": 0.15, "observed": 0.14, "labels": 812}]]
    )
    drifts: int = Field(description="rises of the log loss found by ADWIN")


class ModelView(BaseModel):
    published: bool = Field(description="false before the trainer's first snapshot")
    version: int | None = None
    in_force: bool = Field(False, description="whether the forecaster weighs on grades")
    labels: int = 0
    positives: int = 0
    observed: int = 0
    duplicates: int = 0
    settings: dict[str, Any] = Field(default_factory=dict)
    quality: ModelQuality | None = None
    events: list[ModelEvent] = Field(default_factory=list, description="newest first")


class RelatedParties(BaseModel):
    """Firms related to one enterprise through its address or its legal representative
    (for regulators)."""

    uscc: str
    address: str | None = Field(None, description="the normalized address the index keys")
    at_address: list[EnterpriseSummary] = Field(
        description="other active firms registered at the same address"
    )
    legal_rep_firms: list[EnterpriseSummary] = Field(
        description="other firms where the legal representative holds a key role (`roles`)"
    )
    elsewhere: int = Field(description="related firms outside the caller's district")


class ItsHandling(BaseModel):
    assignment: Assignment | None = None
    disposition: DispositionRecord | None = Field(None, description="the latest disposition")


class AssignedWarning(Warning):
    """A warning whose latest assignment is to the account (or unit) asked, with its
    status now and its handling."""

    assigned_at: str = Field(description="when it was assigned (to the second)")
    handling: ItsHandling
