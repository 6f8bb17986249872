"""Batch lookups, lists and search answer their summaries serialized without their
response models (api/directory_views.py): the bytes must be what the models give."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from api.directory_views import summaries_response, summary
from api.grades import risk_label
from api.schemas import BatchResult, EnterpriseSummary, Page
from rules.directory import directory_entry
from rules.state import EnterpriseState

FULL = {
    "name": "深圳市某某科技有限公司",
    "address": "广东省深圳市南山区科技园路1号",
    "district": "440305",
    "industry": "I65",
    "tags": ["high_tech"],
    "status": "active",
    "grade": "C",
    "score": 64,
    "rules": ["abnormal_list", "address_cluster"],
    "registered_on": "2018-09-12",
    "last_inspected": "2025-04-07",
    "last_penalized": None,
}


def _from_state() -> dict[str, Any]:
    state = EnterpriseState("91110000MA00000000", status="active", grade="D", score=31)
    state.profile = {"name": "某某公司", "district": "110105", "tags": ["a", "b"]}
    state.open_warnings = {"dishonest_enterprise": {}}
    return directory_entry(state)


ENTRIES = [
    FULL,
    {**FULL, "grade": None, "score": None},  # not graded yet
    {"status": "unregistered"},  # every optional field missing
    {**FULL, "roles": ["legal_rep", "shareholder"]},  # a person search
    {**FULL, "unknown_field": 1},  # a field the model does not show
    _from_state(),
]


@pytest.mark.parametrize("entry", ENTRIES)
def test_a_summary_is_what_its_model_dumps(entry: dict[str, Any]) -> None:
    uscc = "91440300708461136T"
    grade = entry.get("grade")
    model = EnterpriseSummary(uscc=uscc, **entry, risk=risk_label(grade) if grade else None)
    assert summaries_response(summary(uscc, entry)).body == model.model_dump_json().encode()


def test_a_batch_and_a_page_are_what_their_models_dump() -> None:
    items = [summary(f"9144030070846113{i}T", e) for i, e in enumerate(ENTRIES)]
    batch = {"items": items, "missing": ["91110000MA00000001"], "invalid": []}
    batch["invalid"] = [{"uscc": "X", "problem": "length is 1, expected 18"}]
    page = {"items": items, "next_cursor": "42"}
    for content, model in ((batch, BatchResult), (page, Page[EnterpriseSummary])):
        adapter = TypeAdapter(model)
        expected = adapter.dump_json(adapter.validate_python(content))
        response = summaries_response(content)
        assert response.body == expected
        assert response.media_type == "application/json"
