"""Score and grade: start from a baseline, subtract the deductions of the risk
indicators that fire, add the bonuses of the credit indicators that fire, keep the
score within 0..`max_score`, read the grade off the thresholds, then apply vetoes (a
rule may force at least a given grade). The model is part of the rule set (its
`[grading]` table), so it is versioned, published and backtested the same way."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GRADES = ("A", "B", "C", "D")
#: grade -> (risk label, English, colour), as the regulators show them
GRADE_LABELS = {
    "A": ("低", "low", "green"),
    "B": ("中", "general", "yellow"),
    "C": ("较高", "relatively high", "orange"),
    "D": ("高", "high", "red"),
}
GRADING_DEFAULTS: dict[str, Any] = {
    "baseline": 100,
    "max_score": 100,
    "thresholds": {"A": 90, "B": 75, "C": 60},
}


@dataclass(frozen=True)
class GradingModel:
    baseline: int = 100
    max_score: int = 100
    #: lowest score for each of A, B and C, best first; anything below C's is D
    thresholds: tuple[tuple[str, int], ...] = (("A", 90), ("B", 75), ("C", 60))

    @classmethod
    def from_settings(cls, given: Mapping[str, Any]) -> GradingModel:
        merged = {**GRADING_DEFAULTS, **given}
        thresholds = {**GRADING_DEFAULTS["thresholds"], **merged["thresholds"]}
        return cls(
            int(merged["baseline"]),
            int(merged["max_score"]),
            tuple((g, int(thresholds[g])) for g in GRADES[:-1]),
        )

    def score(self, points: int) -> int:
        """The baseline plus the indicators' signed points, kept within 0..max_score.

        >>> GradingModel().score(-15), GradingModel().score(+20), GradingModel().score(-120)
        (85, 100, 0)
        """
        return min(self.max_score, max(0, self.baseline + points))

    def grade_for_score(self, score: int) -> str:
        """The grade a score earns, before vetoes.

        >>> [GradingModel().grade_for_score(s) for s in (100, 90, 89, 75, 74, 60, 59, 0)]
        ['A', 'A', 'B', 'B', 'C', 'C', 'D', 'D']
        """
        for grade, floor in self.thresholds:
            if score >= floor:
                return grade
        return "D"


DEFAULT_MODEL = GradingModel()


def grade(
    firing: Iterable[Any],
    model: GradingModel = DEFAULT_MODEL,
    strengths: Mapping[str, float] | None = None,
) -> tuple[int, str, dict[str, int]]:
    """Score, grade and the signed contribution of each firing rule (ActiveRule: the
    deduction and bonus of the rule set in force), scaled by its hit's strength where
    it has one (a model's probability scales its weight), rounded to whole points.

    >>> from rules.ruleset import default_ruleset
    >>> rules = {a.rule.rule_id: a for a in default_ruleset().active()}
    >>> grade([])
    (100, 'A', {})
    >>> grade([rules["penalty_frequency"]])
    (85, 'B', {'penalty_frequency': -15})
    >>> grade([rules["penalty_frequency"], rules["tax_credit_a"]])
    (90, 'A', {'penalty_frequency': -15, 'tax_credit_a': 5})
    >>> grade([rules["dishonest_enterprise"]])[:2]
    (60, 'D')
    >>> grade([rules["abnormal_list"]])[:2]
    (90, 'C')
    >>> grade([rules["model_risk"]], strengths={"model_risk": 0.62})
    (91, 'A', {'model_risk': -9})
    """
    active = list(firing)
    strengths = strengths or {}
    contributions = {
        a.rule.rule_id: round((a.bonus - a.deduction) * strengths.get(a.rule.rule_id, 1.0))
        for a in active
    }
    score = model.score(sum(contributions.values()))
    result = model.grade_for_score(score)
    for a in active:
        veto = a.rule.veto_grade
        if veto and GRADES.index(veto) > GRADES.index(result):
            result = veto
    return score, result, contributions
