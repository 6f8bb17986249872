"""The rule commands as a user runs them: `rules check|load|show`, `allowlist`,
`backtest`, `evaluate`, each a real process against a real Redis (`bench`:
test_bench.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from streams.settings import StoreSettings

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def creditwatch(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", "--log-level", "warning", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def redis_env(store_settings: StoreSettings) -> dict[str, str]:
    return {
        "CREDITWATCH_REDIS_URL": store_settings.redis_url,
        "CREDITWATCH_KEY_PREFIX": store_settings.key_prefix,
    }


def test_rules_check_names_the_offending_setting(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('version = "v2"\n[rules.address_cluster]\nactive_treshold = 6\n')
    result = creditwatch("rules", "check", str(bad))
    assert result.returncode == 2
    assert "rules.address_cluster.active_treshold is not a setting" in result.stderr
    good = tmp_path / "good.toml"
    good.write_text('version = "v2"\n[rules.address_cluster]\nactive_threshold = 6\n')
    result = creditwatch("rules", "check", str(good))
    assert result.returncode == 0 and "rule set v2, 1 setting(s) overridden: OK" in result.stdout


def test_rules_load_publishes_and_show_reads_it_back(tmp_path: Path, redis_env) -> None:
    path = tmp_path / "r.toml"
    path.write_text('version = "cli-1"\n[rules.tax_arrears]\nmin_amount = 5000.0\n')
    loaded = creditwatch("rules", "load", str(path), env=redis_env)
    assert loaded.returncode == 0, loaded.stderr
    assert "rule set cli-1 published (was the built-in defaults)" in loaded.stdout
    shown = creditwatch("rules", "show", "--published", "--json", env=redis_env)
    body = json.loads(shown.stdout)
    assert body["version"] == "cli-1"
    tax = next(r for r in body["rules"] if r["rule_id"] == "tax_arrears")
    assert tax["params"]["min_amount"] == 5000.0
    table = creditwatch("rules", "show").stdout
    assert "rule set 2026.1 (defaults)" in table and "address_cluster" in table


def test_allowlist_commands(tmp_path: Path, redis_env) -> None:
    added = creditwatch("allowlist", "add", "广东省深圳市南山区 创业大厦 8 层", env=redis_env)
    assert added.returncode == 0 and added.stdout.startswith("approved")
    listed = creditwatch("allowlist", "list", env=redis_env)
    assert listed.stdout.splitlines() == ["深圳市南山区创业大厦8层"]
    file = tmp_path / "allow.txt"
    file.write_text("# approved incubators\n深圳市南山区创业大厦8层\n深圳市福田区孵化园1号\n")
    loaded = creditwatch("allowlist", "load", str(file), env=redis_env)
    assert "1 new of 2 addresses approved" in loaded.stdout
    removed = creditwatch("allowlist", "remove", "深圳市福田区孵化园1号", env=redis_env)
    assert removed.stdout.startswith("withdrawn")


def test_backtest_compares_a_candidate_with_the_rules_in_force(tmp_path: Path) -> None:
    events = tmp_path / "city.jsonl"
    made = creditwatch(
        "simulate", "--enterprises", "300", "--events", "5000", "--seed", "4", "--days", "365",
        "--invalid-rate", "0.01", "--out", str(events),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    candidate = tmp_path / "candidate.toml"
    candidate.write_text(
        'version = "cand-1"\n[rules.penalty_frequency]\nenabled = false\n'
        "[rules.serious_violation_list]\ndeduction = 0\n"
    )
    result = creditwatch(
        "backtest", "--rules", str(candidate), "--baseline", str(candidate.with_name("none")),
        str(events), env={},
    )  # fmt: skip
    assert result.returncode == 2 and "none" in result.stderr  # a missing baseline is named
    result = creditwatch("backtest", "--rules", str(candidate), "--no-progress", str(events))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].split()[-2:] == ["2026.1", "cand-1"]
    penalty = next(line for line in lines if line.startswith("penalty_frequency"))
    in_force, in_candidate = penalty.split()[1:3]
    assert int(in_force) > 0 and in_candidate == "0"
    d_row = next(line for line in lines if line.startswith("D "))
    assert d_row.split()[1] == d_row.split()[2] != "0"  # the serious-list veto holds at D
    assert "enterprises would change grade" in result.stdout
    moves = re.findall(r"\b([ABCD]) -> ([ABCD])\b", result.stdout)
    assert moves and all(after < before for before, after in moves)  # only better grades


def test_evaluate_prints_the_model_beside_the_rules(tmp_path: Path) -> None:
    out = tmp_path / "evaluate.json"
    result = creditwatch(
        "evaluate", "--enterprises", "200", "--days", "540", "--seed", "3", "--no-progress",
        "--json", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "model (progressive, online)" in result.stdout
    assert "rules-only score" in result.stdout and "ceiling" in result.stdout
    report = json.loads(out.read_text())
    assert report["scored"] > 0 and report["enterprises"] == 200
    assert set(report["auc"]) == {"model", "rules", "generator"}
    assert report["auc"]["generator"] > 0.6  # the known risk process is in the labels


def test_evaluate_refuses_a_period_too_short_for_a_label() -> None:
    result = creditwatch("evaluate", "--days", "100", "--no-progress")
    assert result.returncode != 0 and "--days >= 200" in result.stderr
