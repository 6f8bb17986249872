"""Shaping grade snapshots (rules/timeline.py) for the API: as-of views and history."""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from typing import Any

from api.errors import ApiError, clip
from api.schemas import GradeAsOf, HistoryEntry, Indicator, Reason, RiskLabel
from rules.calendar import day_start
from rules.grading import GRADE_LABELS
from rules.indicators import all_rules
from rules.timeline import history


def risk_label(grade: str) -> RiskLabel:
    zh, en, colour = GRADE_LABELS[grade]
    return RiskLabel(zh=zh, en=en, colour=colour)


def parse_as_of(text: str) -> tuple[str, bool]:
    """(UTC ISO bound, whether it is inclusive): a date means up to the end of that day
    in Beijing (the start of the next, exclusive); an instant means up to it."""
    try:
        if len(text) == 10:
            return day_start(date.fromisoformat(text) + timedelta(days=1)), False
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(
            422, f"as_of {clip(text)!r} is neither a date nor an RFC 3339 time"
        ) from None
    if moment.tzinfo is None:
        raise ApiError(422, f"as_of {clip(text)!r} needs a UTC offset, e.g. +08:00")
    return moment.isoformat(), True


@functools.cache
def _titles() -> dict[str, str]:
    return {rule.rule_id: rule.title for rule in all_rules()}


def _title(rule_id: str) -> str:
    return _titles().get(rule_id, rule_id)


def as_of_view(uscc: str, asked: str, entry: dict[str, Any]) -> GradeAsOf:
    return GradeAsOf(
        uscc=uscc,
        as_of=asked,
        at=entry["at"],
        grade=entry["grade"],
        score=entry["score"],
        risk=risk_label(entry["grade"]),
        override=entry.get("override"),
        indicators=[
            Indicator(rule_id=r, title=_title(r), points=points)
            for r, points in entry["indicators"].items()
        ],
        caused_by=entry["cause"],
        ruleset_version=entry.get("ruleset_version"),
    )


def history_view(entries: list[dict[str, Any]]) -> list[HistoryEntry]:
    """Grade changes, newest first, with readable reasons."""
    return [
        HistoryEntry(
            **{k: v for k, v in change.items() if k != "reasons"},
            reasons=[Reason(**r, title=_title(r["rule_id"])) for r in change["reasons"]],
        )
        for change in reversed(history(entries))
    ]
