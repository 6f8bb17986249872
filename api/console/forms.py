"""The console's forms read into the API's own request models: a form's fields as
text, a plan's draw form as a `PlanRequest`, an uploaded rules file as a
`RulesDocument`. A form that does not fit the model is the API's 422, in its words."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from api.console.session import CSRF_FIELD
from api.errors import ApiError, invalid_request
from api.schemas import RulesDocument
from api.schemas_inspections import PlanRequest
from rules.grading import GRADES
from rules.ruleset import RulesFileError, parse_rules

Form = dict[str, str]


async def read_form(request: Request) -> tuple[Form, list[tuple[str, str]], str | None]:
    """(the last value of each text field, every (name, value) pair in order, the CSRF
    token); uploaded files are left out (see `rules_document`)."""
    form = await request.form()
    pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    fields = dict(pairs)
    return fields, pairs, fields.pop(CSRF_FIELD, None)


def _model(model: type[BaseModel], body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise invalid_request(exc.errors()) from exc


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", ",").split(",") if part.strip()]


def inspectors(text: str) -> list[dict[str, str | None]]:
    """The pool from a text area: one inspector a line, `id, name, department[,
    district]`.

    >>> inspectors("ZF-1, 张执法, samr, 440305\\n\\nZF-2,李执法,tax")
    [{'inspector_id': 'ZF-1', 'name': '张执法', 'department': 'samr', 'district': '440305'}, \
{'inspector_id': 'ZF-2', 'name': '李执法', 'department': 'tax', 'district': None}]
    """
    pool = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace(",", ",").split(",")]
        if len(parts) not in (3, 4):
            raise ApiError(422, f"inspectors, line {number}: id, name, department[, district]")
        district = parts[3] if len(parts) == 4 and parts[3] else None
        pool.append(
            {
                "inspector_id": parts[0],
                "name": parts[1],
                "department": parts[2],
                "district": district,
            }
        )
    return pool


def plan_request(fields: Form, pairs: list[tuple[str, str]]) -> PlanRequest:
    """The draw form as the API's request: lists as comma-separated text, a checkbox per
    grade, a ratio per grade, the pool one inspector a line."""
    body: dict[str, Any] = {
        "name": fields.get("name", "").strip(),
        "population": {
            "districts": _list(fields.get("districts", "")),
            "industries": _list(fields.get("industries", "")),
            "grades": [v for k, v in pairs if k == "grades"],
            "tags": _list(fields.get("tags", "")),
            "only_active": fields.get("only_active") == "1",
        },
        "ratios": {g: fields[f"ratio_{g}"] for g in GRADES if fields.get(f"ratio_{g}", "").strip()},
        "exemptions": {
            "tags": _list(fields.get("exempt_tags", "")),
            "grace_days": fields.get("grace_days", "").strip() or 0,
        },
        "inspectors": inspectors(fields.get("inspectors", "")),
        "inspectors_per_target": fields.get("inspectors_per_target", "").strip() or 2,
        "conflict": fields.get("conflict") or "own_district",
    }
    if fields.get("seed", "").strip():
        body["seed"] = fields["seed"].strip()
    found: PlanRequest = _model(PlanRequest, body)
    return found


async def rules_document(request: Request) -> tuple[RulesDocument, str | None]:
    """An uploaded rules file (TOML or JSON; else the text pasted), checked as the rules
    CLI checks one, as the API's request; and the form's CSRF token."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    upload = form.get("rules_file")
    name, text = "pasted", str(form.get("rules_text") or "")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read()  # the form is at most CREDITWATCH_MAX_BODY_BYTES
        try:
            name, text = upload.filename, raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(
                422, f"{upload.filename}: not UTF-8 text", code="invalid_rules"
            ) from None
    if not text.strip():
        raise ApiError(422, "choose a rules file (TOML or JSON) or paste one", code="invalid_rules")
    as_json = name.endswith(".json") or (name == "pasted" and text.lstrip().startswith("{"))
    try:
        ruleset = parse_rules(text, name, json_format=as_json)
    except RulesFileError as exc:
        raise ApiError(422, str(exc), code="invalid_rules") from None
    body = {"version": ruleset.version, "rules": ruleset.overrides, "grading": ruleset.grading}
    document: RulesDocument = _model(RulesDocument, body)
    return document, str(token) if isinstance(token, str) else None
