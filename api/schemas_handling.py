"""The warning workbench's requests and records (风险研判处置): assignments,
dispositions, snoozes, the audit trail, overdue warnings and the rates per rule."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field, model_validator

Disposition = Literal["verified", "false_alarm", "referred", "rectified"]
DISPOSITIONS: tuple[Disposition, ...] = ("verified", "false_alarm", "referred", "rectified")
HandlingActionName = Literal["assign", "dispose", "snooze", "lift_snooze"]


class AssignRequest(BaseModel):
    """To one account or to a unit named in free text (a street office, a grid), not both."""

    account_id: str | None = Field(None, min_length=1, max_length=100, examples=["reg-futian-1"])
    unit: str | None = Field(None, min_length=1, max_length=200, examples=["福田区沙头街道网格3"])
    note: str | None = Field(None, max_length=1000)

    @model_validator(mode="after")
    def _one_assignee(self) -> AssignRequest:
        if (self.account_id is None) == (self.unit is None):
            raise ValueError("give either account_id or unit")
        return self


class Assignment(BaseModel):
    account_id: str | None = None
    unit: str | None = None
    note: str | None = None
    by: str = Field(description="the account that assigned it")
    at: str


class DispositionRequest(BaseModel):
    disposition: Disposition
    note: str = Field(min_length=1, max_length=2000, examples=["现场核查属实，已责令整改"])
    department: str | None = Field(
        None, min_length=1, max_length=200, description="where it was referred (referred only)"
    )

    @model_validator(mode="after")
    def _department_when_referred(self) -> DispositionRequest:
        if (self.disposition == "referred") != (self.department is not None):
            raise ValueError("department is required for referred, and only for it")
        return self


class DispositionRecord(BaseModel):
    disposition: Disposition
    note: str
    department: str | None = None
    rule_id: str
    by: str
    at: str


class WarningHandling(BaseModel):
    """A warning and what has been done about it."""

    uscc: str
    warning_id: str
    rule_id: str
    severity: str | None
    raised_at: str
    status: Literal["open", "closed"]
    assignment: Assignment | None = None
    disposition: DispositionRecord | None = Field(None, description="the latest disposition")
    snoozed: bool = Field(description="raised while its rule was snoozed for the firm")
    due_at: str | None = Field(None, description="when it is overdue without a disposition")


class SnoozeRequest(BaseModel):
    until: date = Field(description="the last day it holds (Beijing time), at most a year")
    reason: str = Field(min_length=1, max_length=1000, examples=["已立案调查，处置期间暂缓提醒"])


class Snooze(BaseModel):
    uscc: str
    rule_id: str
    until: str = Field(description="the last day it holds (Beijing time)")
    reason: str
    set_by: str
    set_at: str
    lifted_at: str | None = None
    lifted_by: str | None = None
    lift_reason: str | None = None
    in_force: bool


class HandlingAudit(BaseModel):
    """One action of the workbench: who, what, when, why."""

    action: HandlingActionName
    uscc: str
    rule_id: str
    warning_id: str | None = None
    by: str
    at: str
    reason: str | None = Field(None, description="a snooze's or a lift's reason")
    assignment: Assignment | None = None
    disposition: DispositionRecord | None = None
    until: str | None = Field(None, description="a snooze's last day")


class OverdueWarning(BaseModel):
    uscc: str
    district: str | None
    warning_id: str
    rule_id: str
    severity: str | None
    raised_at: str
    due_at: str
    assignment: Assignment | None = None


class RuleDispositions(BaseModel):
    rule_id: str
    total: int = Field(description="warnings with a disposition")
    verified: int = 0
    false_alarm: int = 0
    referred: int = 0
    rectified: int = 0
    false_alarm_rate: float = Field(description="false_alarm / total")


class DispositionEntry(BaseModel):
    """A disposition in an enterprise's history."""

    kind: Literal["disposition"] = "disposition"
    at: str = Field(description="when it was recorded")
    warning_id: str
    rule_id: str
    disposition: Disposition
    note: str
    department: str | None = None
    by: str
