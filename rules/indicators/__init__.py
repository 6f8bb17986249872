"""The registered indicators, one module per theme (rules.catalogue.all_rules gives
them in evaluation order)."""

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
