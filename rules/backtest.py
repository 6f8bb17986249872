"""A candidate rule set against the rule set in force, over the stored history: each
enterprise's journal replayed with both (rules/rebuild.py), and what would differ:
the warnings each rule raises, the grade distribution, the firms whose grade moves.
Pure: the caller reads the journals and the related parties and hands them in."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypedDict

from rules.catalogue import Related
from rules.grading import GRADES
from rules.rebuild import replay
from rules.records import WarningRecord
from rules.ruleset import RuleSet
from rules.state import EnterpriseState
from rules.timeline import JournalEntry

#: the most firms whose grade moves a result lists (the counts cover them all)
MAX_CHANGED = 1000


@dataclass(frozen=True)
class FirmRun:
    """One enterprise replayed with one rule set: its grade at the end and the warnings
    raised per rule on the way."""

    grade: str
    warnings: Counter[str]


def run_firm(
    uscc: str,
    journal: Iterable[JournalEntry],
    ruleset: RuleSet,
    until: str,
    related: Callable[[EnterpriseState], Related],
) -> FirmRun:
    """Replay the enterprise's journal with `ruleset`, its rechecks caught up to
    `until` (UTC ISO): the grade then, and the warnings raised per rule.

    >>> from rules.ruleset import RuleSet
    >>> j = [["2026-03-01T02:00:00+00:00", "court.dishonest_listed", "e1", {"case_no": "C1"}]]
    >>> run = run_firm("91440300708461136T", j, RuleSet("t"), "2026-03-02T00:00:00+00:00",
    ...                lambda s: Related())
    >>> run.grade, sorted(run.warnings)
    ('D', ['dishonest_enterprise'])
    """
    raised: list[WarningRecord] = []
    state, _ = replay(uscc, journal, until=until, related=related, ruleset=ruleset, raised=raised)
    return FirmRun(state.grade or "", Counter(w["rule_id"] for w in raised))


class ChangedFirm(TypedDict):
    uscc: str
    in_force: str
    candidate: str


class BacktestFigures(TypedDict):
    firms: int
    warnings: dict[str, dict[str, int]]
    grades: dict[str, dict[str, int]]
    changed_total: int
    changed: list[ChangedFirm]


@dataclass
class Tally:
    """Both runs of every enterprise replayed so far, summed."""

    firms: int = 0
    in_force: Counter[str] = field(default_factory=Counter)
    candidate: Counter[str] = field(default_factory=Counter)
    grades_in_force: Counter[str] = field(default_factory=Counter)
    grades_candidate: Counter[str] = field(default_factory=Counter)
    changed_total: int = 0
    changed: list[ChangedFirm] = field(default_factory=list)

    def add(self, uscc: str, in_force: FirmRun, candidate: FirmRun) -> None:
        self.firms += 1
        self.in_force += in_force.warnings
        self.candidate += candidate.warnings
        self.grades_in_force[in_force.grade] += 1
        self.grades_candidate[candidate.grade] += 1
        if in_force.grade != candidate.grade:
            self.changed_total += 1
            if len(self.changed) < MAX_CHANGED:
                self.changed.append(
                    {"uscc": uscc, "in_force": in_force.grade, "candidate": candidate.grade}
                )

    def merge(self, other: Tally) -> None:
        """Add another tally's firms (a chunk replayed elsewhere) to this one."""
        self.firms += other.firms
        self.in_force += other.in_force
        self.candidate += other.candidate
        self.grades_in_force += other.grades_in_force
        self.grades_candidate += other.grades_candidate
        self.changed_total += other.changed_total
        self.changed.extend(other.changed[: max(0, MAX_CHANGED - len(self.changed))])

    def figures(self) -> BacktestFigures:
        """The difference as the API shows it: per rule and per grade, both runs.

        >>> t = Tally()
        >>> t.add("U1", FirmRun("B", Counter(r=1)), FirmRun("C", Counter(r=2, q=1)))
        >>> f = t.figures()
        >>> f["warnings"]["r"], f["grades"]["C"], f["changed"]
        ({'in_force': 1, 'candidate': 2}, {'in_force': 0, 'candidate': 1}, \
[{'uscc': 'U1', 'in_force': 'B', 'candidate': 'C'}])
        """
        rules = sorted(set(self.in_force) | set(self.candidate))
        grades = [*GRADES, *sorted(set(self.grades_in_force) - set(GRADES) - {""})]
        return {
            "firms": self.firms,
            "warnings": {
                r: {"in_force": self.in_force[r], "candidate": self.candidate[r]} for r in rules
            },
            "grades": {
                g: {"in_force": self.grades_in_force[g], "candidate": self.grades_candidate[g]}
                for g in grades
            },
            "changed_total": self.changed_total,
            "changed": sorted(self.changed, key=lambda c: c["uscc"]),
        }
