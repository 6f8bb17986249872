"""When a snooze holds and which warnings it covers; when a warning is due."""

from __future__ import annotations

from datetime import date, timedelta

from api.handling import covers, due_at, in_force, snooze_end, snoozed
from rules.calendar import day_start
from streams.settings import ApiSettings

SNOOZE = {"set_at": "2026-03-01T02:00:00+00:00", "until": "2026-03-05", "lifted_at": None}


def test_a_snooze_covers_its_days_through_the_end_of_its_last_in_beijing() -> None:
    assert snooze_end(SNOOZE).isoformat() == day_start(date(2026, 3, 6))
    assert not covers(SNOOZE, "2026-03-01T01:59:59+00:00")  # before it was set
    assert covers(SNOOZE, "2026-03-01T02:00:00+00:00")
    assert covers(SNOOZE, "2026-03-05T15:59:59+00:00")  # 23:59:59 in Beijing
    assert not covers(SNOOZE, "2026-03-05T16:00:00+00:00")
    assert not covers(SNOOZE, "not a time")


def test_lifting_ends_it_and_earlier_warnings_stay_covered() -> None:
    lifted = {**SNOOZE, "lifted_at": "2026-03-02T00:00:00+00:00"}
    assert covers(lifted, "2026-03-01T12:00:00+00:00")
    assert not covers(lifted, "2026-03-02T00:00:01+00:00")
    assert not in_force(lifted, snooze_end(lifted))
    assert in_force(lifted, snooze_end(lifted) - timedelta(seconds=1))


def test_only_the_snoozed_rule_of_that_firm_is_covered() -> None:
    handling = {"s:dishonest_enterprise": SNOOZE}
    at = "2026-03-02T00:00:00+00:00"
    assert snoozed(handling, {"rule_id": "dishonest_enterprise", "raised_at": at})
    assert not snoozed(handling, {"rule_id": "tax_arrears", "raised_at": at})
    assert not snoozed({}, {"rule_id": "dishonest_enterprise", "raised_at": at})


def test_a_warning_is_due_by_its_severity() -> None:
    settings = ApiSettings(handling_due_days_red=1, handling_due_days_orange=3)
    raised = "2026-03-01T00:00:00+00:00"
    red = due_at(settings, {"severity": "red", "raised_at": raised})
    orange = due_at(settings, {"severity": "orange", "raised_at": raised})
    other = due_at(settings, {"severity": None, "raised_at": raised})
    assert red is not None and orange is not None and other is not None
    assert [d.day for d in (red, orange, other)] == [2, 4, 8]  # yellow's 7 days by default
    assert due_at(settings, {"severity": "red", "raised_at": ""}) is None
