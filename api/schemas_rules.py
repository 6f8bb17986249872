"""Request and response models of candidate rule sets, their backtests and the
history of the rule sets published."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas import RuleSetView


class CandidateSummary(BaseModel):
    candidate_id: str
    version: str
    uploaded_by: str | None
    uploaded_at: str
    published_at: str | None = Field(None, description="when it was put in force, if it was")


class Candidate(CandidateSummary):
    ruleset: RuleSetView = Field(description="the candidate's catalogue (not in force)")


class BacktestStart(BaseModel):
    max_firms: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description="replay at most this many enterprises (at most the deployment's limit)",
    )


class Both(BaseModel):
    in_force: int
    candidate: int


class ChangedFirm(BaseModel):
    uscc: str
    in_force: str = Field(description="its grade replayed with the rule set in force")
    candidate: str = Field(description="its grade replayed with the candidate")


class BacktestFigures(BaseModel):
    firms: int = Field(description="enterprises replayed")
    warnings: dict[str, Both] = Field(description="rule -> warnings raised by each")
    grades: dict[str, Both] = Field(description="grade -> enterprises at it by each")
    changed_total: int = Field(description="enterprises whose grade would change")
    changed: list[ChangedFirm] = Field(description="the first 1,000 of them, by USCC")


class Backtest(BaseModel):
    job_id: str
    candidate_id: str
    candidate_version: str
    in_force_version: str
    status: Literal["running", "done", "failed", "cancelled"]
    owner: str | None = Field(None, description="the API process running it (host:pid)")
    done: int = Field(description="enterprises replayed so far")
    total: int | None = Field(description="enterprises to replay (null: still counting)")
    limited: bool = Field(False, description="the directory holds more than were replayed")
    started_at: str
    started_by: str | None
    updated_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    figures: BacktestFigures | None = None


class RuleSetVersion(BaseModel):
    version: str
    published_at: str
    published_by: str | None
    candidate_id: str | None = Field(None, description="the candidate published, if one was")
    source: str = Field(description="candidate, or api (PUT /rules)")


class RulesAuditRecord(BaseModel):
    action: Literal["upload", "backtest", "publish", "delete"]
    by: str | None
    role: str
    at: str
    version: str
    candidate_id: str | None = None
    job_id: str | None = None
