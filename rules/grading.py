"""Score and grade: start from a baseline, subtract the deductions of the rules in
force, then apply vetoes (a rule may force at least a given grade)."""

from __future__ import annotations

from collections.abc import Iterable

from rules.ruleset import ActiveRule

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


def grade(firing: Iterable[ActiveRule]) -> tuple[int, str, dict[str, int]]:
    """Score, grade and the contribution of each firing rule, with the deductions of
    the rule set in force.

    >>> from rules.ruleset import default_ruleset
    >>> rules = {a.rule.rule_id: a for a in default_ruleset().active()}
    >>> grade([])
    (100, 'A', {})
    >>> grade([rules["penalty_frequency"]])
    (85, 'B', {'penalty_frequency': -15})
    >>> grade([rules["dishonest_enterprise"]])[:2]
    (60, 'D')
    """
    active = list(firing)
    contributions = {a.rule.rule_id: -a.deduction for a in active}
    score = max(0, BASELINE + sum(contributions.values()))
    result = grade_for_score(score)
    for a in active:
        veto = a.rule.veto_grade
        if veto and GRADES.index(veto) > GRADES.index(result):
            result = veto
    return score, result, contributions
