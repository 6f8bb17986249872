"""The workbench's actions on a warning (assign, disposition, snooze, lift a snooze):
the one place that turns the console's forms into calls of the workbench API's own
route functions, as the session's caller. The API's request models check the fields,
so a refusal reads as the API words it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from api.auth import Caller
from api.errors import ApiError, invalid_request
from api.routers import warnings_handling as handling
from api.schemas_handling import (
    DISPOSITIONS,
    AssignRequest,
    DispositionRequest,
    SnoozeRequest,
)

#: the roles the workbench API lets act (its `Regulator` dependency)
ACTING_ROLES = ("admin", "regulator")
OUTCOMES = DISPOSITIONS
Form = dict[str, str]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Target:
    """What an action is about: the firm, and the warning or the rule."""

    request: Request
    caller: Caller
    uscc: str
    warning_id: str
    rule_id: str


def _body(model: type[M], form: Form) -> M:
    """The API's request model from the form's non-empty fields (a 422 in its words)."""
    try:
        return model.model_validate({k: v for k, v in form.items() if v.strip()})
    except ValidationError as exc:
        raise invalid_request(exc.errors()) from exc


async def _assign(t: Target, form: Form) -> None:
    who = form.pop("assignee", "").strip()
    kind = form.pop("assignee_kind", "unit")
    form = {**form, ("account_id" if kind == "account" else "unit"): who}
    body = _body(AssignRequest, form)
    store = t.request.app.state.store
    await handling.assign_warning(t.request, t.caller, t.uscc, t.warning_id, body, store)


async def _dispose(t: Target, form: Form) -> None:
    body = _body(DispositionRequest, form)
    store = t.request.app.state.store
    await handling.dispose_warning(t.request, t.caller, t.uscc, t.warning_id, body, store)


async def _snooze(t: Target, form: Form) -> None:
    body = _body(SnoozeRequest, form)
    await handling.snooze_rule(t.caller, t.uscc, t.rule_id, body, t.request.app.state.store)


async def _lift(t: Target, form: Form) -> None:
    reason = form.get("reason", "").strip()
    if not reason:  # the API's `reason` query parameter is required
        raise ApiError(422, "reason: Field required")
    await handling.lift_snooze(t.caller, t.uscc, t.rule_id, t.request.app.state.store, reason)


ACTIONS: dict[str, Callable[[Target, Form], Awaitable[None]]] = {
    "assign": _assign,
    "disposition": _dispose,
    "snooze": _snooze,
    "lift": _lift,
}


async def perform(target: Target, name: str, form: Form) -> None:
    """Carry out the action `name` as the target's caller, with the API's checks."""
    action = ACTIONS.get(name)
    if action is None:
        raise ApiError(404, f"no action {name}")
    if target.caller.role not in ACTING_ROLES:  # as the API's dependency refuses it
        raise ApiError(403, f"the {target.caller.role} role may not do this")
    await action(target, form)
