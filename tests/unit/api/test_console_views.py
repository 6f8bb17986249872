"""The console's view code: one row per warning, times in China Standard Time."""

from __future__ import annotations

from api.console.render import environment
from api.console.views_pages import one_per_warning


def test_a_warning_is_one_row_with_its_latest_status() -> None:
    raised = {"warning_id": "w1", "status": "open", "raised_at": "2026-03-01T02:00:00+00:00"}
    closed = raised | {"status": "closed", "closed_at": "2026-05-01T02:00:00+00:00"}
    other = {"warning_id": "w2", "status": "open", "raised_at": "2026-03-02T02:00:00+00:00"}
    assert one_per_warning([closed, other, raised]) == [closed, other]  # newest first
    assert one_per_warning([raised, other, closed]) == [closed, other]  # in any order
    assert one_per_warning([other, raised]) == [other, raised]


def test_times_are_shown_in_china_standard_time() -> None:
    shown = environment().from_string("{{ at | local_time }}")
    assert shown.render(at="2026-03-01T16:30:05.123456+00:00") == "2026-03-02 00:30:05"
    assert shown.render(at="2026-03-01T10:00:00+08:00") == "2026-03-01 10:00:00"
    assert shown.render(at="2026-03-01T16:30:05") == "2026-03-02 00:30:05"  # naive: UTC
    assert shown.render(at=None) == ""
