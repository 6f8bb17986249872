"""Which warnings and grade changes a subscriber wants: one filter for live streams
(SSE, WebSocket) and webhooks alike."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from api.errors import clip
from streams.contract.identifiers import uscc_problem

Kind = Literal["warning", "grade_change"]
Direction = Literal["worse", "better", "new"]
_RANK = {"A": 0, "B": 1, "C": 2, "D": 3}


def direction(change: dict[str, Any]) -> Direction:
    """worse (towards D), better (towards A), or new (a first grade).

    >>> direction({"from_grade": "A", "to_grade": "C"})
    'worse'
    >>> direction({"from_grade": None, "to_grade": "B"})
    'new'
    """
    before, after = _RANK.get(change.get("from_grade") or ""), _RANK[change["to_grade"]]
    if before is None:
        return "new"
    return "worse" if after > before else "better"


class OutputFilter(BaseModel):
    """Every field narrows; an empty or missing field admits everything. `rule_ids`
    and `severities` narrow warnings only, `directions` grade changes only."""

    kinds: list[Kind] = Field(default=["warning", "grade_change"], min_length=1)
    usccs: list[str] | None = Field(None, max_length=1000, examples=[["91110000MA00000001"]])
    rule_ids: list[str] | None = Field(None, max_length=100, examples=[["dishonest_legal_rep"]])
    severities: list[Literal["yellow", "orange", "red"]] | None = None
    districts: list[str] | None = Field(
        None, max_length=100, description="division-code prefixes", examples=[["4403"]]
    )
    directions: list[Direction] | None = None

    @field_validator("usccs")
    @classmethod
    def _valid_usccs(cls, usccs: list[str] | None) -> list[str] | None:
        for uscc in usccs or []:
            problem = uscc_problem(uscc)
            if problem:
                raise ValueError(f"invalid USCC {clip(uscc)!r}: {problem}")
        return usccs

    @field_validator("districts")
    @classmethod
    def _valid_districts(cls, districts: list[str] | None) -> list[str] | None:
        for d in districts or []:
            if not (d.isdigit() and 2 <= len(d) <= 6):
                raise ValueError(
                    f"district {clip(d)!r} is not a 2- to 6-digit division-code prefix"
                )
        return districts

    @property
    def needs_district(self) -> bool:
        return bool(self.districts)

    def matches(
        self,
        kind: Kind,
        record: dict[str, Any],
        district: str | None = None,
        snoozed: frozenset[str] | set[str] = frozenset(),
    ) -> bool:
        """Whether a record of this kind passes; `district` is its enterprise's, needed
        only when `needs_district`; `snoozed` the warning_ids raised under a snooze
        (api/handling.py), which no subscriber is sent."""
        if kind not in self.kinds:
            return False
        if self.usccs and record.get("uscc") not in self.usccs:
            return False
        if self.districts and not any((district or "").startswith(d) for d in self.districts):
            return False
        if kind == "warning":
            if record.get("warning_id") in snoozed:
                return False
            if self.rule_ids and record.get("rule_id") not in self.rule_ids:
                return False
            return not (self.severities and record.get("severity") not in self.severities)
        return not (self.directions and direction(record) not in self.directions)
