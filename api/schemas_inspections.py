"""Request and response models of inspection plans (双随机、一公开) and blind spots."""

from __future__ import annotations

from typing import Annotated, Literal, cast

from pydantic import BaseModel, Field, field_validator

from rules.inspections import DEFAULT_RATIOS

Grade = Literal["A", "B", "C", "D"]
Ratio = Annotated[float, Field(ge=0, le=1)]
_PREFIX = Annotated[str, Field(pattern=r"^\d{2,6}$", examples=["4403"])]
Result = Literal["pending", "passed", "issues_found", "unreachable"]


class PopulationFilters(BaseModel):
    """Which firms may be drawn; an empty list admits all. A district-scoped caller's
    population is further limited to its district."""

    districts: list[_PREFIX] = Field(default_factory=list, max_length=100)
    industries: list[Annotated[str, Field(min_length=1, max_length=8)]] = Field(
        default_factory=list, max_length=100, description="industry-code prefixes"
    )
    grades: list[Grade] = Field(default_factory=list)
    tags: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=100, description="firms with any of these tags"
    )
    only_active: bool = True


class Exemptions(BaseModel):
    """Never applied to grade D."""

    tags: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default=["inclusive_supervision", "high_tech_grace"], max_length=100
    )
    grace_days: int = Field(
        default=0,
        ge=0,
        le=3650,
        description="exempt firms registered at most this many days "
        "before the draw day (0: no grace period)",
    )


class InspectorIn(BaseModel):
    inspector_id: str = Field(min_length=1, max_length=64, examples=["ZF440305-0012"])
    name: str = Field(min_length=1, max_length=100, examples=["李执法"])
    department: str = Field(min_length=1, max_length=64, examples=["samr"])
    district: str | None = Field(None, pattern=r"^\d{2,6}$", examples=["440305"])


class PlanRequest(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["2026年第二季度双随机抽查"])
    population: PopulationFilters = Field(default_factory=lambda: PopulationFilters())
    ratios: dict[Grade, Ratio] = Field(
        default_factory=lambda: cast(dict[Grade, float], dict(DEFAULT_RATIOS)),
        description="share of eligible firms drawn per grade; grades left out keep "
        "their default (A 0.02, B 0.05, C 0.20, D 1.0)",
    )
    exemptions: Exemptions = Field(default_factory=lambda: Exemptions())
    inspectors: list[InspectorIn] = Field(default_factory=list, max_length=10_000)
    inspectors_per_target: int = Field(2, ge=1, le=10)
    conflict: Literal["own_district", "none"] = Field(
        "own_district", description="own_district: no inspector visits a firm of his district"
    )
    seed: str | None = Field(
        None, min_length=1, max_length=128, description="generated (and recorded) if absent"
    )

    @field_validator("inspectors")
    @classmethod
    def _unique(cls, inspectors: list[InspectorIn]) -> list[InspectorIn]:
        ids = [i.inspector_id for i in inspectors]
        if len(set(ids)) != len(ids):
            raise ValueError("inspector_id must be unique in the pool")
        return inspectors


class ResultEntry(BaseModel):
    """A target's result as the inspectors report it."""

    result: Literal["passed", "issues_found", "unreachable"]
    findings: list[Annotated[str, Field(min_length=1, max_length=1000)]] = Field(
        default_factory=list, max_length=50
    )


class GradeCounts(BaseModel):
    population: int
    exempt: int
    eligible: int
    drawn: int


class PlanPreview(BaseModel):
    districts: list[str] = Field(description="the population's district prefixes")
    draw_day: str
    population_size: int
    counts: dict[Grade, GradeCounts] = Field(description="what a draw would count per grade")


class AssignedInspector(BaseModel):
    inspector_id: str
    name: str
    department: str


class PlanTarget(BaseModel):
    uscc: str
    name: str | None = None
    grade: Grade
    district: str | None = None
    inspectors: list[AssignedInspector]
    result: Result = "pending"
    result_at: str | None = None
    result_by: str | None = Field(
        None, description="the account that entered it (none: an inspection.completed event)"
    )
    findings: list[str] = Field(default_factory=list)


class Progress(BaseModel):
    pending: int
    passed: int
    issues_found: int
    unreachable: int


class PlanSummary(BaseModel):
    plan_id: str
    name: str
    drawn_at: str
    draw_day: str = Field(description="Beijing date the grace period counts from")
    drawn_by: str | None
    seed: str
    districts: list[str] = Field(description="the population's district prefixes")
    population_size: int
    population_digest: str = Field(description="SHA-256 of the population snapshot")
    counts: dict[Grade, GradeCounts]
    targets_count: int
    unassigned: list[str] = Field(description="targets no conflict-free inspector may visit")


class PlanListed(PlanSummary):
    results_entered: int = Field(
        description="targets with a result entered through the API (not those only "
        "reported by an inspection.completed event)"
    )


class Plan(PlanSummary):
    draw_version: int
    parameters: dict[str, object]
    targets: list[PlanTarget]
    progress: Progress | None = None


class Verification(BaseModel):
    plan_id: str
    matches: bool = Field(description="the redraw equals the recorded plan")
    digest_matches: bool = Field(description="the stored snapshot has the recorded digest")
    exemptions_match: bool
    targets_match: bool
    counts_match: bool
    population_digest: str
    seed: str


class PublicTarget(BaseModel):
    uscc: str
    name: str | None = None
    result: Result


class PublicPlan(BaseModel):
    plan_id: str
    name: str
    drawn_at: str
    ratios: dict[Grade, float]
    counts: dict[Grade, GradeCounts]
    targets: list[PublicTarget] | None = Field(None, description="in the one plan's view")
    progress: Progress | None = None


class BlindSpot(BaseModel):
    uscc: str
    name: str | None = None
    district: str | None = None
    industry: str | None = None
    grade: Grade
    score: int | None = None
    rules: list[str] = Field(description="open warnings")
    last_inspected: str | None = None
    last_penalized: str | None = None
    reason: str


class BlindSpots(BaseModel):
    as_of: str
    since: str = Field(description="inspections and penalties after this day count")
    months: int
    grades: list[Grade]
    total: int
    items: list[BlindSpot]
