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
    warnings: list[Warning] = Field(description="open warnings")
    events_seen: int
    last_event_at: str | None


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        None, description="pass as `cursor` for the next (older) page; null at the end"
    )


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    redis: bool
