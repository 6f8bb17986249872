"""Score and grade: start from a baseline, subtract the deductions of the rules in
force, then apply vetoes (a rule may force at least a given grade)."""

from __future__ import annotations

from collections.abc import Iterable

from rules.catalogue import Rule

BASELINE = 100
#: lowest score for each grade, best first; anything below the last is D
THRESHOLDS = (("A", 90), ("B", 75), ("C", 60))
GRADES = ("A", "B", "C", "D")
GRADE_LABELS = {
    "A": ("低", "low", "green"),
    "B": ("中", "general", "yellow"),
    "C": ("较高", "relatively high", "orange"),
    "D": ("高", "high", "red"),
}


def grade_for_score(score: int) -> str:
    """The grade a score earns, before vetoes.

    >>> [grade_for_score(s) for s in (100, 90, 89, 75, 74, 60, 59, 0)]
    ['A', 'A', 'B', 'B', 'C', 'C', 'D', 'D']
    """
    for grade, floor in THRESHOLDS:
        if score >= floor:
            return grade
    return "D"


def grade(active: Iterable[Rule]) -> tuple[int, str, dict[str, int]]:
    """Score, grade and the contribution of each rule in force.

    >>> from rules.catalogue import get_rule
    >>> grade([])
    (100, 'A', {})
    >>> grade([get_rule("penalty_frequency")])
    (85, 'B', {'penalty_frequency': -15})
    >>> grade([get_rule("dishonest_enterprise")])[:2]
    (60, 'D')
    """
    rules = list(active)
    contributions = {rule.rule_id: -rule.deduction for rule in rules}
    score = max(0, BASELINE + sum(contributions.values()))
    result = grade_for_score(score)
    for rule in rules:
        if rule.veto_grade and GRADES.index(rule.veto_grade) > GRADES.index(result):
            result = rule.veto_grade
    return score, result, contributions
