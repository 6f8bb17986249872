"""The monitoring files in ops/: Prometheus's local config and the alert rules (checked
and unit-tested with promtool), the Grafana dashboard and its provisioning.

Every metric the alerts and the dashboard name must be one the code exposes: the names
are derived from the code (the default prometheus_client registry after importing the
worker's and the API's modules, the model-quality figures, and the names handed to
figure collectors), not from a list kept here.

promtool comes with Prometheus (Debian/Ubuntu package `prometheus`). Without it the
promtool tests are skipped, except under CI=true, where they fail: CI installs it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
OPS = ROOT / "ops"
ALERTS = OPS / "alerts.yml"
ALERT_TESTS = OPS / "alerts.test.yml"
DASHBOARD = OPS / "grafana" / "dashboards" / "creditwatch.json"
PROVISIONING = OPS / "grafana" / "provisioning"
JOBS = {"creditwatch-api", "creditwatch-worker", "creditwatch-sidecar"}
REQUIRED_ALERTS = {
    "CreditwatchTargetDown",
    "CreditwatchConsumerLagGrowing",
    "CreditwatchDeadLetterRate",
    "CreditwatchNoEvents",
    "CreditwatchModelQualityLow",
    "CreditwatchWebhookFailures",
    "CreditwatchProcessingSlow",
}
#: Grafana's own variables, replaced by a duration before promtool parses an expression
GRAFANA_DURATIONS = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h"}
METRIC = re.compile(r"\bcreditwatch_[a-zA-Z0-9_]+")
#: sample names a family of each type exposes (counters: named without _total)
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "gauge": ("",),
    "info": ("_info",),
    "stateset": ("",),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "unknown": ("",),
}


# -- promtool ---------------------------------------------------------------------------


def promtool_path() -> str:
    """promtool's path; skips the test when it is missing (fails under CI=true)."""
    path = shutil.which("promtool")
    if path:
        return path
    reason = "promtool is not installed (it comes with the `prometheus` package)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must install it")
    pytest.skip(reason)


def run_promtool(*args: str | Path) -> str:
    """Run promtool; its output, after asserting it succeeded."""
    done = subprocess.run(
        [promtool_path(), *map(str, args)], capture_output=True, text=True, timeout=120
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"promtool {' '.join(map(str, args))} failed:\n{output}"
    return output


def check_exprs(exprs: dict[str, str], folder: Path) -> None:
    """Parse PromQL expressions with promtool, as recording rules (name: expr)."""
    rules = [{"record": name, "expr": expr} for name, expr in exprs.items()]
    path = folder / "exprs.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "exprs", "rules": rules}]}))
    run_promtool("check", "rules", path)


# -- the metrics the code exposes -------------------------------------------------------


def code_metric_names() -> set[str]:
    """Every sample name the worker and the API can expose."""
    from prometheus_client import REGISTRY

    import agents.metrics  # noqa: F401  (importing registers the worker's metrics)
    import api.app  # noqa: F401  (the API's)
    import streams.figures  # noqa: F401  (the figure collectors)
    from rules.learning.trainer import Trainer, figures

    names: set[str] = set()
    families: set[str] = set()
    for family in REGISTRY.collect():
        families.add(family.name)
        names.update(family.name + suffix for suffix in SUFFIXES[family.type])
    # the model's quality gauges: a fresh trainer's figures, with every quality figure
    # given a value (those without one yet are left out)
    meta = Trainer().meta()
    meta["quality"] = {k: 0.5 if v is None else v for k, v in meta["quality"].items()}
    names.update(name for name, _help, _labels, _value in figures(meta))
    # gauges built at run time by figure collectors (e.g. the consumer lag): the names
    # the code spells out; histogram and counter family names are not sample names
    for package in ("agents", "api", "streams", "rules"):
        for source in (ROOT / package).rglob("*.py"):
            for name in re.findall(r"[\"'](creditwatch_[a-z0-9_]+)[\"']", source.read_text()):
                if name not in families:
                    names.add(name)
    return names


def metrics_in(expr: str) -> set[str]:
    return set(METRIC.findall(expr))


# -- the files --------------------------------------------------------------------------


def load_yaml(path: Path) -> Any:
    with path.open() as f:
        return yaml.safe_load(f)


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(ALERTS)["groups"] for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    with DASHBOARD.open() as f:
        return json.load(f)


def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every panel, those inside (collapsed) rows included."""
    for panel in items:
        yield panel
        yield from panels(panel.get("panels", []))


def dashboard_exprs() -> dict[str, str]:
    """`panel_<id>_<refId>`: expression, for every query of the dashboard."""
    return {
        f"panel_{panel['id']}_{target['refId']}": target["expr"]
        for panel in panels(dashboard()["panels"])
        for target in panel.get("targets", [])
    }


def provisioned_datasource() -> dict[str, Any]:
    (source,) = load_yaml(PROVISIONING / "datasources" / "prometheus.yml")["datasources"]
    return source


# -- Prometheus -------------------------------------------------------------------------


def test_prometheus_config_shape() -> None:
    config = load_yaml(OPS / "prometheus.yml")
    assert config["global"]["scrape_interval"] == "15s"
    assert config["global"]["evaluation_interval"] == "15s"
    assert config["rule_files"] == ["alerts.yml"]
    assert "alerting" not in config  # no alertmanager in the local stack
    files = {
        job["job_name"]: [f for sd in job["file_sd_configs"] for f in sd["files"]]
        for job in config["scrape_configs"]
    }
    assert files == {
        "creditwatch-api": ["targets/api.json"],
        "creditwatch-worker": ["targets/workers.json"],
        "creditwatch-sidecar": ["targets/sidecars.json"],
    }


def test_prometheus_config_passes_promtool(tmp_path: Path) -> None:
    """Laid out as `creditwatch up` lays it out: the config with alerts.yml beside it
    and the file_sd targets files (empty) under targets/."""
    promtool_path()
    shutil.copy(OPS / "prometheus.yml", tmp_path / "prometheus.yml")
    shutil.copy(ALERTS, tmp_path / "alerts.yml")
    (tmp_path / "targets").mkdir()
    (tmp_path / "targets" / "api.json").write_text("[]")
    (tmp_path / "targets" / "workers.json").write_text('[{"targets": ["127.0.0.1:9108"]}]')
    (tmp_path / "targets" / "sidecars.json").write_text("[]")
    output = run_promtool("check", "config", tmp_path / "prometheus.yml")
    # a warning here is a targets file the config looks for where nobody writes it
    assert "WARNING" not in output, output
    assert "1 rule files found" in output


def test_alert_rules_pass_promtool() -> None:
    run_promtool("check", "rules", ALERTS)


def test_alert_rules_unit_tests_pass() -> None:
    output = run_promtool("test", "rules", ALERT_TESTS)
    assert "SUCCESS" in output


def test_alert_rules_shape() -> None:
    groups = load_yaml(ALERTS)["groups"]
    assert [g["name"] for g in groups] == ["creditwatch"]
    rules = alert_rules()
    names = [r["alert"] for r in rules]
    assert len(names) == len(set(names)), "one rule per alert name"
    assert set(names) >= REQUIRED_ALERTS, REQUIRED_ALERTS - set(names)
    for rule in rules:
        where = rule["alert"]
        assert rule.get("for"), f"{where}: no `for`"
        assert rule["labels"]["severity"] in {"warning", "critical"}, where
        assert rule["annotations"]["summary"].strip(), where
        assert len(rule["annotations"]["description"]) > 80, f"{where}: say what to check"
        # every job an alert names is one of the scrape jobs
        for job in re.findall(r'job="([^"]+)"', rule["expr"]):
            assert job in JOBS, f"{where}: unknown job {job}"


def test_every_alert_has_a_firing_and_a_quiet_unit_test() -> None:
    config = load_yaml(ALERT_TESTS)
    assert config["rule_files"] == ["alerts.yml"]
    fired: set[str] = set()
    quiet: set[str] = set()
    for group in config["tests"]:
        for case in group.get("alert_rule_test", []):
            (fired if case.get("exp_alerts") else quiet).add(case["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert names - fired == set(), "alerts never shown firing"
    assert names - quiet == set(), "alerts never shown quiet"
    assert (fired | quiet) - names == set(), "tests of alerts that do not exist"


# -- Grafana ----------------------------------------------------------------------------


def test_datasource_provisioning() -> None:
    source = provisioned_datasource()
    assert source["name"] == "Prometheus"
    assert source["uid"] == "prometheus"
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    assert source["isDefault"] is True


def test_dashboard_provider_loads_the_dashboards_folder() -> None:
    config = load_yaml(PROVISIONING / "dashboards" / "creditwatch.yml")
    assert config["apiVersion"] == 1
    (provider,) = config["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"


def test_dashboard_shape() -> None:
    board = dashboard()
    assert board["uid"] == "creditwatch"
    assert board["title"] == "creditwatch"
    assert 36 <= board["schemaVersion"] <= 41
    every = list(panels(board["panels"]))
    ids = [p["id"] for p in every]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    uid = provisioned_datasource()["uid"]
    taken: dict[tuple[int, int], str] = {}
    for panel in every:
        title = panel.get("title", panel["id"])
        pos = panel["gridPos"]
        assert {"h", "w", "x", "y"} <= pos.keys(), title
        assert pos["x"] >= 0 and pos["w"] > 0 and pos["x"] + pos["w"] <= 24, title
        if panel not in board["panels"]:
            continue  # inside a collapsed row: placed when the row opens
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in taken, f"{title} overlaps {taken[(x, y)]}"
                taken[(x, y)] = title
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": uid}, title
        targets = panel.get("targets")
        assert targets, f"{title}: no query"
        refs = [t["refId"] for t in targets]
        assert len(refs) == len(set(refs)), title
        for target in targets:
            assert target.get("expr", "").strip(), f"{title}: a query without expr"
            assert target.get("datasource", panel["datasource"])["uid"] == uid, title


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    exprs = {}
    for name, expr in dashboard_exprs().items():
        for variable, duration in GRAFANA_DURATIONS.items():
            expr = expr.replace(variable, duration)
        assert "$" not in expr, f"{name}: an unknown variable in {expr}"
        exprs[f"dashboard:{name}"] = expr
    check_exprs(exprs, tmp_path)


def test_dashboard_covers_the_brief() -> None:
    """The panels operators asked for are there (by the metric each one needs)."""
    used = set().union(*map(metrics_in, dashboard_exprs().values()))
    for needed in (
        "creditwatch_events_total",
        "creditwatch_dead_letters_total",
        "creditwatch_processing_seconds_bucket",
        "creditwatch_end_to_end_seconds_bucket",
        "creditwatch_warnings_total",
        "creditwatch_grade_changes_total",
        "creditwatch_enterprises",
        "creditwatch_consumer_lag",
        "creditwatch_redis_seconds_bucket",
        "creditwatch_api_requests_total",
        "creditwatch_api_request_seconds_bucket",
        "creditwatch_webhook_deliveries_total",
        "creditwatch_model_auc",
    ):
        assert needed in used, needed


# -- the metrics named exist ------------------------------------------------------------


def test_alerts_and_dashboard_name_only_metrics_the_code_exposes() -> None:
    known = code_metric_names()
    used: dict[str, set[str]] = {}
    for rule in alert_rules():
        for name in metrics_in(rule["expr"]):
            used.setdefault(name, set()).add(f"alert {rule['alert']}")
    for where, expr in dashboard_exprs().items():
        for name in metrics_in(expr):
            used.setdefault(name, set()).add(f"dashboard {where}")
    unknown = {name: sorted(places) for name, places in used.items() if name not in known}
    assert not unknown, f"metrics the code does not expose: {unknown}"


def test_alert_tests_use_real_metric_names() -> None:
    """The unit tests' input series are the code's metrics too (a typo there would make
    a firing test pass against nothing)."""
    known = code_metric_names()
    series = [
        s["series"] for group in load_yaml(ALERT_TESTS)["tests"] for s in group["input_series"]
    ]
    unknown = {name for s in series for name in metrics_in(s)} - known
    assert not unknown, unknown
