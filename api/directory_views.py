"""Directory entries (rules/directory.py) as the API shows them, and the filters that
lists, exports and search apply to them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Response

from api.auth import Caller
from api.grades import risk_label
from api.schemas import EnterpriseSummary
from api.search_index import address_text, name_text
from rules.grading import GRADE_LABELS
from rules.jsoncodec import dumpb

CSV_COLUMNS = (
    "uscc", "name", "district", "industry", "status", "grade", "score", "rules", "tags",
    "registered_on", "last_inspected", "last_penalized",
)  # fmt: skip
#: `RiskLabel` of each grade, as its JSON
RISK_LABELS = {g: risk_label(g).model_dump() for g in GRADE_LABELS}
#: `EnterpriseSummary`'s fields in its order, with their defaults (None if required)
_SUMMARY_FIELDS = tuple(
    (name, None if field.is_required() else field.get_default(call_default_factory=True))
    for name, field in EnterpriseSummary.model_fields.items()
)


def summary(uscc: str, entry: dict[str, Any]) -> dict[str, Any]:
    """An `EnterpriseSummary` as the dict its model would dump, built without the model:
    a batch or a page of them is serialized at once (`summaries_response`)."""
    line = {name: entry.get(name, default) for name, default in _SUMMARY_FIELDS}
    line["uscc"] = uscc  # a key already there keeps its place
    line["status"] = entry["status"]  # required: no entry is without one
    grade = entry.get("grade")
    line["risk"] = RISK_LABELS[grade] if grade else None
    return line


def summaries_response(content: dict[str, Any]) -> Response:
    """A batch result or a page of summaries, already in its response model's shape
    (tests/unit/api/test_summaries.py holds them to it), serialized as is: validating
    each line with pydantic was a third of a batch lookup's time."""
    return Response(dumpb(content), media_type="application/json")


def csv_row(uscc: str, entry: dict[str, Any]) -> list[Any]:
    row = {**entry, "uscc": uscc}
    row["rules"] = " ".join(entry.get("rules") or [])
    row["tags"] = " ".join(entry.get("tags") or [])
    return [row.get(c) if row.get(c) is not None else "" for c in CSV_COLUMNS]


@dataclass(frozen=True)
class EntryFilter:
    """Every given field narrows. Text fields match as substrings (api/search_index.py
    finds them): `name` on the enterprise name, casefolded; `address` on the normalized
    address. With `either`, a firm matching the name or the address passes."""

    grades: frozenset[str] = frozenset()
    district: str | None = None
    tag: str | None = None
    rule_id: str | None = None
    status: str | None = None
    industry: str | None = None
    name: str | None = None
    address: str | None = None
    either: bool = False

    def __post_init__(self) -> None:
        if self.address is not None:
            object.__setattr__(self, "address", address_text(self.address))

    def matches(self, entry: dict[str, Any], caller: Caller) -> bool:
        district = entry.get("district") or ""
        return (
            caller.sees(district)
            and (not self.grades or entry.get("grade") in self.grades)
            and (self.district is None or district.startswith(self.district))
            and (self.tag is None or self.tag in (entry.get("tags") or []))
            and (self.rule_id is None or self.rule_id in (entry.get("rules") or []))
            and (self.status is None or entry.get("status") == self.status)
            and (self.industry is None or (entry.get("industry") or "").startswith(self.industry))
            and self._text_matches(entry)
        )

    def _text_matches(self, entry: dict[str, Any]) -> bool:
        found = []
        if self.name is not None:
            found.append(name_text(self.name) in name_text(entry.get("name")))
        if self.address is not None:
            found.append(self.address in address_text(entry.get("address")))
        return not found or (any(found) if self.either else all(found))
