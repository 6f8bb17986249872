"""The workbench's actions on a warning (assign, disposition, snooze): the one place
that wires the console's forms to the workbench API. Until that API is in this build,
`perform` refuses with 501 and says so."""

from __future__ import annotations

from dataclasses import dataclass

from api.auth import Caller
from api.errors import ApiError


@dataclass(frozen=True)
class Action:
    name: str
    #: the workbench API's operation this form maps to
    method: str
    path: str
    fields: tuple[str, ...]


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("assign", "POST", "/warnings/{warning_id}/assign", ("assignee",)),
        Action("disposition", "POST", "/warnings/{warning_id}/disposition", ("outcome", "note")),
        Action("snooze", "POST", "/enterprises/{uscc}/snoozes", ("rule_id", "until", "reason")),
    )
}
OUTCOMES = ("verified", "false_alarm", "referred", "rectified")


async def perform(
    caller: Caller, action: Action, uscc: str, warning_id: str, form: dict[str, str]
) -> None:
    """Carry out `action` as `caller`."""
    raise ApiError(
        501,
        f"{action.method} {action.path.format(warning_id=warning_id, uscc=uscc)} "
        "is not available in this build",
        code="not_implemented",
    )
