"""The registered indicators, one module per theme, and `all_rules`: each of them in
evaluation order (importing this package registers them all)."""

from rules.catalogue import REGISTRY, Rule
from rules.indicators import (  # noqa: F401  (each module registers its rules)
    combination,
    complaints,
    courts,
    credit,
    finance,
    lists,
    model,
    penalties,
    permits,
    registration,
    related,
    reports,
)


def all_rules() -> list[Rule]:
    """Every registered rule, in evaluation order: combinations, which read the
    verdicts of the others, last."""
    return sorted(REGISTRY.values(), key=lambda rule: rule.category == "combination")


def get_rule(rule_id: str) -> Rule:
    return REGISTRY[rule_id]
