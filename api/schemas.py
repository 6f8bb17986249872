"""Response models: the API's contract, shown in the OpenAPI document."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field


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
    closed_by: str | None = Field(None, description="event id, or recheck:TIME")


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
    events_seen: int
    last_event_at: str | None


class RulesDocument(BaseModel):
    """A rules file's structure: `{"version": ..., "rules": {rule_id: {setting: value}}}`."""

    version: str = Field(examples=["2026.2"])
    rules: dict[str, dict[str, Any]] = Field(
        default_factory=dict, examples=[{"address_cluster": {"active_threshold": 6}}]
    )


class RuleView(BaseModel):
    rule_id: str
    version: int
    title: str
    aspect: str
    category: str
    enabled: bool
    severity: str
    deduction: int
    veto_grade: str | None
    params: dict[str, Any]
    basis: str


class RuleSetView(BaseModel):
    version: str
    source: str
    published: bool = Field(description="false: no rule set published, the defaults apply")
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
