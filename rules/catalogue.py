"""Rules as data: each rule is an id, a version, a severity, a score deduction and its
basis, plus a pure function that looks at an enterprise and says whether it fires.

A rule function takes a `RuleInput` and returns a `Hit` (message and evidence) or None.
It must handle an empty state. The registry is the single list the engine evaluates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from rules.state import EnterpriseState

Severity = Literal["yellow", "orange", "red"]


@dataclass(frozen=True)
class RuleInput:
    """What a rule may look at: the enterprise, and the dishonest-list status of its key
    people (person_key -> event ids of the listings in force)."""

    state: EnterpriseState
    listed_people: Mapping[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    message: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    rule_id: str
    version: int
    title: str
    severity: Severity
    deduction: int
    basis: str
    evaluate: Callable[[RuleInput], Hit | None]
    #: a veto: while the rule fires the grade is at least this bad
    veto_grade: str | None = None


RULESET_VERSION = "2026.1"
_REGISTRY: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    if rule.rule_id in _REGISTRY:
        raise ValueError(f"rule {rule.rule_id} registered twice")
    _REGISTRY[rule.rule_id] = rule
    return rule


def all_rules() -> list[Rule]:
    """Every registered rule, in registration order."""
    from rules import first_rules  # noqa: F401  (registers on import)

    return list(_REGISTRY.values())


def get_rule(rule_id: str) -> Rule:
    all_rules()
    return _REGISTRY[rule_id]
