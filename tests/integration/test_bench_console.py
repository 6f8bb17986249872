"""`creditwatch bench-console` end to end on a small city: every page answers 200 for
the admin and the department, and the report has a line per page with its figures."""

from __future__ import annotations

import pytest

from streams.bench.console_load import run_bench_console

pytestmark = pytest.mark.integration


def test_the_console_bench_times_every_page() -> None:
    report = run_bench_console(firms=400, requests=2, progress=False)
    names = [p.name for p in report.pages]
    assert "overview (admin)" in names and "overview (department 440305)" in names
    assert len(names) == 12 + 10 + 4 + 3  # the department: no rules, name search, city draw
    assert "plan preview (admin)" in names and "draw 440305 (department 440305)" in names
    assert all(
        len(p.ms) == 2 and all(ms > 0 for ms in p.ms)
        for p in report.pages
        if "scan" not in p.name and "city-wide" not in p.name
    )
    text = str(report)
    assert text.startswith("400 firms written through the store")
    assert all(p.path in text for p in report.pages)
