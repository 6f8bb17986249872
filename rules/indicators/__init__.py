"""The registered indicators, one module per theme. Import order is evaluation order:
combinations (which read the verdicts of the others) come last."""

from rules.indicators import (  # noqa: F401  (each module registers its rules)
    penalties,
    courts,
    lists,
    registration,
    permits,
    finance,
    complaints,
    related,
    combination,
)
