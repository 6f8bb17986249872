"""The rule set in force: every registered rule with its defaults, overridden by a rules
file. A rules file is TOML (or the same structure as JSON):

    version = "2026.2"                 # required: recorded on every warning

    [rules.address_cluster]
    active_threshold = 6               # any default parameter, same type
    severity = "red"                   # yellow | orange | red | none (scores, no warning)
    deduction = 12                     # points off the score while it fires
    enabled = true

    [rules.tax_credit_a]
    bonus = 5                          # a credit indicator adds points instead

    [rules.model_risk]
    deduction = 15                     # the forecaster's weight: points at probability 1,
                                       # at most 30 (0: the forecast never weighs)
    threshold = 0.5                    # warn from this probability on

    [grading]                          # the score model (rules/grading.py)
    baseline = 100
    max_score = 100
    thresholds = {A = 90, B = 75, C = 60}

Unknown rules, unknown parameters and wrong types are errors, never silently ignored:
a typo in a threshold must not switch a rule off.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from rules.catalogue import SEVERITIES, Rule
from rules.grading import GRADING_DEFAULTS, GradingModel
from rules.indicators import all_rules

DEFAULT_VERSION = "2026.1"
_RULE_KEYS = ("enabled", "severity", "deduction", "bonus")
#: the severity a rules file gives a rule that should score without warning
NO_WARNING = "none"
#: the most points the models may move a score: they assist the rules, never outvote them
MAX_MODEL_WEIGHT = 30
#: settings whose values are rule ids
_RULE_REFERENCES = ("structure", "signals")


class RulesFileError(ValueError):
    """A rules file that cannot be put in force; the message says what to fix."""


@dataclass(frozen=True)
class ActiveRule:
    rule: Rule
    severity: str | None
    deduction: int
    params: Mapping[str, Any]
    bonus: int = 0


@dataclass(frozen=True)
class RuleSet:
    version: str
    #: the overrides as given (rule_id -> key -> value): what is stored and shown
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str = "defaults"
    #: the score model's settings as given ([grading]); defaults for the rest
    grading: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _validate(self.version, self.overrides)
        _validate_grading(self.grading)

    @cached_property
    def model(self) -> GradingModel:
        return GradingModel.from_settings(self.grading)

    def active(self) -> list[ActiveRule]:
        """The enabled rules, in evaluation order, with their effective settings."""
        return self._active

    @cached_property
    def _active(self) -> list[ActiveRule]:  # resolved once: it is read for every event
        return [a for a, enabled in self._resolved() if enabled]

    def describe(self) -> list[dict[str, Any]]:
        """Every rule with its effective settings, for the API and the CLI."""
        return [
            {
                "rule_id": a.rule.rule_id,
                "version": a.rule.version,
                "title": a.rule.title,
                "aspect": a.rule.aspect,
                "category": a.rule.category,
                "enabled": enabled,
                "severity": a.severity,
                "deduction": a.deduction,
                "bonus": a.bonus,
                "veto_grade": a.rule.veto_grade,
                "params": dict(a.params),
                "basis": a.rule.basis,
            }
            for a, enabled in self._resolved()
        ]

    def _resolved(self) -> list[tuple[ActiveRule, bool]]:
        out = []
        for rule in all_rules():
            given = self.overrides.get(rule.rule_id, {})
            params = {**rule.defaults, **{k: v for k, v in given.items() if k not in _RULE_KEYS}}
            severity = given.get("severity", rule.severity)
            active = ActiveRule(
                rule,
                None if severity == NO_WARNING else severity,
                given.get("deduction", rule.deduction),
                params,
                given.get("bonus", rule.bonus),
            )
            out.append((active, bool(given.get("enabled", True))))
        return out

    def grading_settings(self) -> dict[str, Any]:
        """The score model in force, every setting filled in."""
        model = self.model
        return {
            "baseline": model.baseline,
            "max_score": model.max_score,
            "thresholds": dict(model.thresholds),
        }

    def to_json(self) -> str:
        body = {"version": self.version, "source": self.source, "rules": self.overrides}
        if self.grading:
            body["grading"] = self.grading
        return json.dumps(body, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | bytes) -> RuleSet:
        body = json.loads(raw)
        return cls(
            body["version"],
            body.get("rules") or {},
            body.get("source", "stored"),
            body.get("grading") or {},
        )


def default_ruleset() -> RuleSet:
    return RuleSet(DEFAULT_VERSION)


def load_rules_file(path: Path) -> RuleSet:
    """Read and check a rules file (.toml or .json).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.toml"
    >>> _ = p.write_text('version = "t1"\\n[rules.address_cluster]\\nactive_threshold = "5"\\n')
    >>> load_rules_file(p)
    Traceback (most recent call last):
    ...
    rules.ruleset.RulesFileError: ...: rules.address_cluster.active_threshold must be int, got str
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RulesFileError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    return parse_rules(text, str(path), json_format=path.suffix == ".json")


def parse_rules(text: str, source: str, json_format: bool = False) -> RuleSet:
    """Check a rules file's text (TOML, or JSON with `json_format`); `source` names it
    in errors and on the rule set.

    >>> parse_rules('version = "t2"\\n[rules.address_cluster]\\nenabled = false', "up").version
    't2'
    >>> parse_rules('{"version": "t3", "colour": 1}', "up", json_format=True)
    Traceback (most recent call last):
    ...
    rules.ruleset.RulesFileError: up: unknown top-level keys ['colour']
    """
    try:
        body = json.loads(text) if json_format else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if json_format else "TOML"
        raise RulesFileError(f"{source}: not valid {kind}: {exc}") from exc
    if not isinstance(body, dict):
        raise RulesFileError(f"{source}: the top level must be a table")
    unknown = set(body) - {"version", "rules", "grading"}
    if unknown:
        raise RulesFileError(f"{source}: unknown top-level keys {sorted(unknown)}")
    try:
        return RuleSet(
            body.get("version", ""), body.get("rules") or {}, source, body.get("grading") or {}
        )
    except RulesFileError as exc:
        raise RulesFileError(f"{source}: {exc}") from None


def _validate(version: Any, overrides: Any) -> None:
    if not isinstance(version, str) or not version.strip() or len(version) > 64:
        raise RulesFileError("version must be a non-empty string of at most 64 characters")
    if not isinstance(overrides, Mapping):
        raise RulesFileError("rules must be a table of rule ids")
    known = {rule.rule_id: rule for rule in all_rules()}
    for rule_id, given in overrides.items():
        rule = known.get(rule_id)
        if rule is None:
            raise RulesFileError(f"unknown rule {rule_id!r}; known: {', '.join(sorted(known))}")
        if not isinstance(given, Mapping):
            raise RulesFileError(f"rules.{rule_id} must be a table")
        for key, value in given.items():
            _check_value(rule, key, value)


def _validate_grading(grading: Any) -> None:
    """The [grading] table: known keys, whole numbers, thresholds A > B > C within
    0..max_score."""
    if not isinstance(grading, Mapping):
        raise RulesFileError("grading must be a table")
    for key, value in grading.items():
        where = f"grading.{key}"
        if key not in GRADING_DEFAULTS:
            raise RulesFileError(f"{where} is not a setting; known: {', '.join(GRADING_DEFAULTS)}")
        if key == "thresholds":
            if not isinstance(value, Mapping) or set(value) - {"A", "B", "C"}:
                raise RulesFileError(f"{where} must be a table of A, B and C")
            for grade, floor in value.items():
                _whole(f"{where}.{grade}", floor)
        else:
            _whole(where, value)
    model = GradingModel.from_settings(grading)
    floors = [floor for _, floor in model.thresholds]
    if floors != sorted(floors, reverse=True) or len(set(floors)) != len(floors):
        raise RulesFileError("grading.thresholds must fall strictly from A to C")
    if floors[0] > model.max_score:
        raise RulesFileError("grading.thresholds.A must not exceed max_score")


def _whole(where: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RulesFileError(f"{where} must be int, got {type(value).__name__}")
    if value < 0:
        raise RulesFileError(f"{where} must not be negative")


def _check_value(rule: Rule, key: str, value: Any) -> None:
    where = f"rules.{rule.rule_id}.{key}"
    if key in ("severity", "deduction") and rule.positive:
        raise RulesFileError(f"{where}: a credit indicator has a bonus, not a {key}")
    if key == "bonus" and not rule.positive:
        raise RulesFileError(f"{where}: only credit indicators have a bonus")
    if key == "enabled":
        expected: Any = True
    elif key == "severity":
        if value not in (*SEVERITIES, NO_WARNING):
            allowed = ", ".join((*SEVERITIES, NO_WARNING))
            raise RulesFileError(f"{where} must be one of {allowed}, got {value!r}")
        return
    elif key in ("deduction", "bonus"):
        expected = 0
    elif key in rule.defaults:
        expected = rule.defaults[key]
    else:
        allowed = ", ".join([*_RULE_KEYS, *rule.defaults])
        raise RulesFileError(f"{where} is not a setting of this rule; it has: {allowed}")
    if not _same_type(expected, value):
        raise RulesFileError(
            f"{where} must be {type(expected).__name__}, got {type(value).__name__}"
        )
    if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        raise RulesFileError(f"{where} must not be negative")
    if key == "deduction" and rule.aspect == "model" and value > MAX_MODEL_WEIGHT:
        raise RulesFileError(f"{where}: a model weighs at most {MAX_MODEL_WEIGHT} points")
    if key in ("threshold", "percentile") and rule.aspect == "model" and not 0 < value <= 1:
        raise RulesFileError(f"{where} must be a share in (0, 1]")
    if key in _RULE_REFERENCES:  # a combination must name rules that exist
        known = {r.rule_id for r in all_rules()}
        unknown = [v for v in value if v not in known]
        if unknown:
            raise RulesFileError(f"{where} names unknown rules {unknown}")


def _same_type(expected: Any, value: Any) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool):
        return isinstance(expected, bool) and isinstance(value, bool)
    if isinstance(expected, float):
        return isinstance(value, int | float)
    if isinstance(expected, list | tuple):
        return isinstance(value, list) and all(
            _same_type(expected[0], v) for v in value if expected
        )
    return isinstance(value, type(expected))
