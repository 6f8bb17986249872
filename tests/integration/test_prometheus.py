"""The real Prometheus server (Debian's `prometheus`) scraping a running stack.

`creditwatch up --workers 2 --demo` starts everything as a user would: Redis, the
broker, two workers in one consumer group, the API, Prometheus with ops/prometheus.yml
and ops/alerts.yml (its scrape interval cut to a second), and the demo feed. The test
asks Prometheus's HTTP API whether every target is up, whether the figures the
dashboard and the alerts read have data, and whether every expression of the dashboard
and of the alert rules evaluates.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import yaml

from streams.stack import prometheus_server
from tests.integration.test_up_command import ROOT, up_running

pytestmark = pytest.mark.integration
OPS = ROOT / "ops"

if not prometheus_server.available():
    if os.environ.get("CI") == "true":  # .ci/run installs it: missing there is a failure
        raise RuntimeError("prometheus is not installed (apt-get install prometheus)")
    pytest.skip("prometheus not on PATH (Debian package prometheus)", allow_module_level=True)


@dataclass
class Running:
    prometheus: str
    api: str
    output: str

    def query(self, expr: str) -> list[dict[str, Any]]:
        reply = httpx.get(f"{self.prometheus}/api/v1/query", params={"query": expr}, timeout=10)
        body = reply.json()
        assert body["status"] == "success", (expr, body)
        return list(body["data"]["result"])

    def eventually(self, expr: str, timeout: float = 60) -> list[dict[str, Any]]:
        """The query's result once it is not empty."""
        deadline = time.monotonic() + timeout
        while not (result := self.query(expr)):
            assert time.monotonic() < deadline, f"no data for {expr}"
            time.sleep(1)
        return result


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    args = ("--workers", "2", "--demo", "--demo-rate", "300")
    interval = {"CREDITWATCH_PROMETHEUS_INTERVAL": "1s"}
    with up_running(tmp_path_factory.mktemp("up"), *args, env=interval) as up:
        found = re.search(r"Prometheus +(http://\S+)", up.output)
        assert found, up.output
        # redis, broker, the sidecar, two workers, the API, Prometheus, the demo feed
        assert len(up.children) == 8, up.output
        yield Running(found.group(1), up.api, up.output)


def test_every_target_is_up(stack: Running) -> None:
    deadline = time.monotonic() + 30
    while True:
        reply = httpx.get(f"{stack.prometheus}/api/v1/targets", timeout=10).json()
        targets = [(t["labels"]["job"], t["health"]) for t in reply["data"]["activeTargets"]]
        if sorted(targets) == [
            ("creditwatch-api", "up"),
            ("creditwatch-sidecar", "up"),
            ("creditwatch-worker", "up"),
            ("creditwatch-worker", "up"),
        ]:
            return
        assert time.monotonic() < deadline, targets
        time.sleep(1)


def test_the_figures_have_data(stack: Running) -> None:
    applied = stack.eventually("sum(creditwatch_events_total) > 0")
    assert float(applied[0]["value"][1]) > 0
    # both workers apply events: the consumer group split the partitions between them
    instances = stack.eventually("count(count by (instance) (creditwatch_events_total)) == 2")
    assert instances
    lag = stack.eventually('creditwatch_consumer_lag{topic="creditwatch.events"}')
    assert sorted(int(s["metric"]["partition"]) for s in lag) == [0, 1, 2, 3]
    assert len({s["metric"]["instance"] for s in lag}) == 2  # each partition one owner
    grades = stack.eventually("creditwatch_enterprises")
    assert sorted(s["metric"]["grade"] for s in grades) == ["A", "B", "C", "D"]
    assert sum(float(s["value"][1]) for s in grades) > 0
    stack.eventually("sum(creditwatch_warnings_total) > 0")
    stack.eventually(
        "histogram_quantile(0.99, sum by (le) (rate(creditwatch_processing_seconds_bucket[1m])))"
    )
    stack.eventually('sum(creditwatch_redis_seconds_count{op="commit"}) > 0')
    stack.eventually("sum(creditwatch_api_requests_total) > 0")
    # the relay runs in the sidecar: its figures reach Prometheus from there
    stack.eventually('sum(creditwatch_relayed_total{job="creditwatch-sidecar"}) > 0')


def _dashboard_exprs() -> list[str]:
    board = json.loads((OPS / "grafana/dashboards/creditwatch.json").read_text())
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", []) if t.get("expr")]
    # Grafana's own variables, as Grafana would fill them in
    return [e.replace("$__rate_interval", "1m").replace("$__range", "5m") for e in exprs]


def _alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((OPS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_every_dashboard_and_alert_expression_evaluates(stack: Running) -> None:
    stack.eventually("sum(creditwatch_events_total) > 0")
    exprs = _dashboard_exprs() + [rule["expr"] for rule in _alert_rules()]
    assert len(exprs) > 20
    for expr in exprs:
        stack.query(expr)  # asserts the query succeeded
    # the dashboard's panels draw something on a running stack (most of them)
    empty = [e for e in _dashboard_exprs() if not stack.query(e)]
    assert len(empty) <= len(_dashboard_exprs()) // 2, empty


def test_prometheus_loaded_every_alert_rule_and_evaluates_them(stack: Running) -> None:
    expected = {rule["alert"] for rule in _alert_rules()}
    deadline = time.monotonic() + 30
    while True:
        reply = httpx.get(f"{stack.prometheus}/api/v1/rules", timeout=10).json()
        rules = [r for g in reply["data"]["groups"] for r in g["rules"]]
        if {r["name"] for r in rules} == expected and all(
            r["health"] == "ok" and r["lastEvaluation"] > "2000" for r in rules
        ):
            break
        assert time.monotonic() < deadline, [
            (r["name"], r["health"], r.get("lastError")) for r in rules
        ]
        time.sleep(1)
