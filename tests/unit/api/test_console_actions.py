"""The console's workbench forms become the API's requests, checked by the API's own
models and roles, and go to its route functions."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from api.auth import Caller
from api.console import actions
from api.console.actions import Target, perform
from api.errors import ApiError

USCC, WID = "91440300MA5F0X1234", "3f1c"


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """The workbench's route functions, replaced by recorders of what they were sent."""
    seen: list[tuple[str, Any]] = []

    def recorder(name: str, index: int) -> Any:
        async def record(*args: Any) -> None:
            seen.append((name, args[index]))

        return record

    handling = actions.handling
    monkeypatch.setattr(handling, "assign_warning", recorder("assign", 4))
    monkeypatch.setattr(handling, "dispose_warning", recorder("dispose", 4))
    monkeypatch.setattr(handling, "snooze_rule", recorder("snooze", 3))
    monkeypatch.setattr(handling, "lift_snooze", recorder("lift", 4))
    return seen


def target(role: str = "regulator", rule_id: str = "") -> Target:
    request: Any = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(store=None)))
    return Target(request, Caller(role, "reg-1"), USCC, WID, rule_id)  # type: ignore[arg-type]


async def test_an_assignment_goes_to_an_account_or_a_unit(calls: list[tuple[str, Any]]) -> None:
    await perform(target(), "assign", {"assignee_kind": "account", "assignee": "reg-2"})
    await perform(target(), "assign", {"assignee_kind": "unit", "assignee": "网格3", "note": ""})
    assert [(n, b.account_id, b.unit, b.note) for n, b in calls] == [
        ("assign", "reg-2", None, None),
        ("assign", None, "网格3", None),
    ]


async def test_a_refusal_is_the_api_models_own(calls: list[tuple[str, Any]]) -> None:
    form = {"disposition": "referred", "note": "涉税线索", "department": ""}
    with pytest.raises(ApiError) as refused:
        await perform(target(), "disposition", form)
    assert refused.value.status == 422 and "department is required" in refused.value.message
    await perform(target(), "disposition", {**form, "department": "市税务局"})
    assert calls[0][1].department == "市税务局"


async def test_snooze_and_lift(calls: list[tuple[str, Any]]) -> None:
    rule = target(rule_id="complaint_frequency")
    await perform(rule, "snooze", {"until": "2027-01-31", "reason": "已立案"})
    with pytest.raises(ApiError) as refused:
        await perform(rule, "lift", {"reason": " "})
    assert refused.value.status == 422
    await perform(rule, "lift", {"reason": "调查结束"})
    assert [(n, str(v) if n == "lift" else str(v.until)) for n, v in calls] == [
        ("snooze", "2027-01-31"),
        ("lift", "调查结束"),
    ]


async def test_a_department_may_not_act_and_unknown_actions_are_not_found(
    calls: list[tuple[str, Any]],
) -> None:
    with pytest.raises(ApiError) as refused:
        await perform(target("department"), "disposition", {"disposition": "verified"})
    assert refused.value.status == 403
    with pytest.raises(ApiError) as unknown:
        await perform(target(), "close", {})
    assert unknown.value.status == 404 and calls == []
