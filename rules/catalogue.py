"""Rules as data: the indicator catalogue.

Indicators are grouped the way the regulators group them (Dezhou's five aspects, each
with its categories; Guangzhou's system has the same shape at 5 / 24 / 72). Each rule
is an id, a version, a severity, a score deduction, default thresholds and its basis,
plus a pure function that looks at an enterprise and says whether it fires.

Two kinds of indicator: risk indicators deduct points and, when they have a severity,
raise a warning while they fire; credit indicators (a commendation, tax rating A, a
passed inspection) add `bonus` points and never warn. A risk indicator without a
severity only scores (a penalty still in its publicity period is not news).

A rule function takes a `RuleInput` and the rule's parameters (defaults merged with the
rules file in force, see rules/ruleset.py) and returns a `Hit` or None. It must handle
an empty state. A rule whose verdict can change with time alone asks to be looked at
again with `data.recheck(day)`; the engine keeps the earliest such day as a timer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from rules.calendar import local_day
from rules.state import EnterpriseState

Severity = Literal["yellow", "orange", "red"]
SEVERITIES = ("yellow", "orange", "red")
Params = Mapping[str, Any]

#: aspect -> (label, {category: label}); every rule names one aspect and one category
ASPECTS: dict[str, tuple[str, dict[str, str]]] = {
    "registration": (
        "登记与许可 registration and permits",
        {
            "key_personnel": "主要人员 key personnel",
            "address": "住所 registered address",
            "permits": "许可 permits",
        },
    ),
    "operation": (
        "经营与变更 operation and changes",
        {
            "changes": "变更 registration changes",
            "annual_report": "年报 annual reports",
            "contact": "联络 reachability",
            "tax": "纳税 tax",
            "social_insurance": "社保 social insurance",
            "combination": "组合 combined patterns",
        },
    ),
    "penalties_lists": (
        "处罚与失信名单 penalties and negative lists",
        {
            "penalties": "行政处罚 administrative penalties",
            "lists": "名录名单 abnormal and serious-violation lists",
            "judicial": "司法 court records",
        },
    ),
    "complaints": ("投诉举报 complaints", {"complaints": "投诉 complaints received"}),
    "model": (
        "模型 online models",
        {
            "forecast": "风险预测 risk forecast",
            "anomaly": "异常 unusual activity",
        },
    ),
    "evaluations": (
        "评价与表彰 evaluations",
        {
            "ratings": "信用评价 credit ratings",
            "commendations": "表彰 commendations",
            "inspections": "检查 inspection results",
        },
    ),
}


@dataclass(frozen=True)
class Related:
    """What the indexes say about an enterprise's related parties, read for the batch:
    `listed_people` (person_key -> event ids of dishonest listings in force),
    `person_firms` (person_key -> {USCC: roles} of active enterprises, this one
    included, for each of this enterprise's key people), `address_firms` ({USCC: day
    it arrived} at this enterprise's normalized address, this one included) and
    whether that address is on the allow-list."""

    listed_people: Mapping[str, list[str]] = field(default_factory=dict)
    person_firms: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    address_firms: Mapping[str, str] = field(default_factory=dict)
    address_allowed: bool = False
    #: instants (UTC ISO) at which a listing or a link, later than the clock, is seen
    later: tuple[str, ...] = ()


NOTHING_RELATED = Related()


@dataclass
class RuleInput:
    """What a rule may look at: the enterprise, its related parties, and in `hits` the
    verdicts of the rules evaluated before it, for combinations."""

    state: EnterpriseState
    related: Related = NOTHING_RELATED
    hits: dict[str, Hit] = field(default_factory=dict)
    #: days on which some verdict may change without a new event
    rechecks: list[date] = field(default_factory=list)

    @property
    def today(self) -> date | None:
        """The as-of day (in Beijing, rules/calendar.py): the enterprise's clock, or None
        for an empty state."""
        clock = self.state.clock
        return local_day(clock) if clock else None

    def recheck(self, day: date) -> None:
        self.rechecks.append(day)


@dataclass(frozen=True)
class Hit:
    message: str
    evidence: tuple[str, ...]
    #: the share of the rule's points it scores (a model's probability); 1 for a rule
    strength: float = 1.0
    #: False: it scores but raises no warning (and closes an open one)
    warns: bool = True
    #: structured explanation carried on the warning (e.g. a model's top features)
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Rule:
    rule_id: str
    version: int
    title: str
    aspect: str
    category: str
    #: the warning it raises while it fires; None: it only scores
    severity: Severity | None
    deduction: int
    basis: str
    evaluate: Callable[[RuleInput, Params], Hit | None]
    #: default thresholds; a rules file may override each (same type)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    #: a veto: while the rule fires the grade is at least this bad
    veto_grade: str | None = None
    #: points added while a credit indicator fires (its deduction is 0)
    bonus: int = 0

    def __post_init__(self) -> None:
        categories = ASPECTS.get(self.aspect, ("", {}))[1]
        if self.category not in categories:
            raise ValueError(
                f"{self.rule_id}: unknown aspect/category {self.aspect}/{self.category}"
            )
        if self.bonus and (self.deduction or self.severity or self.veto_grade):
            raise ValueError(f"{self.rule_id}: a credit indicator neither deducts nor warns")

    @property
    def positive(self) -> bool:
        """A credit indicator: it adds points."""
        return self.bonus > 0


#: every rule by id, as `register` recorded it (rules/indicators/ registers them on import)
REGISTRY: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    if rule.rule_id in REGISTRY:
        raise ValueError(f"rule {rule.rule_id} registered twice")
    REGISTRY[rule.rule_id] = rule
    return rule
