"""`creditwatch bench-console` end to end on a small city: every page answers 200 for
the admin and the department (each search of the search box too, for the admin), and
the report has a line per page with its figures and the search index's build."""

from __future__ import annotations

import pytest

from streams.bench.console_load import SEARCHES, run_bench_console

pytestmark = pytest.mark.integration


def test_the_console_bench_times_every_page() -> None:
    report = run_bench_console(firms=400, requests=2, progress=False)
    names = [p.name for p in report.pages]
    assert "overview (admin)" in names and "overview (department 440305)" in names
    # the department opens neither rules nor the search box (the regulators'), nor
    # the city-wide draw; the admin posts 4 plan requests, the department 3; then
    # both see the inspections page again with 200 plans stored
    assert len(names) == 11 + len(SEARCHES) + 10 + 4 + 3 + 2
    assert "inspections with 200 plans (department 440305)" in names
    assert "plan preview (admin)" in names and "draw 440305 (department 440305)" in names
    assert all(
        len(p.ms) == 2 and all(ms > 0 for ms in p.ms)
        for p in report.pages
        if "city-wide" not in p.name
    )
    text = str(report)
    assert text.startswith("400 firms written through the store")
    assert "the search index: 400 firms built in" in text
    assert all(p.path in text for p in report.pages)
