"""`creditwatch bench-console`: each console page's server-side time with many firms
stored.

The firms are written straight through the store's commit (as the worker writes them,
indexes included, without Kafka or the rules: a state per firm, made up), into a
private Redis. The app runs in this process; a page's time is measured around the app
itself (from the request reaching it to the last byte of its answer), N requests per
page one after another, as the admin and as a district's department."""

from __future__ import annotations

import asyncio
import logging
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import SecretStr
from tqdm import tqdm

from rules.records import Snapshot, WarningRecord
from rules.state import EnterpriseState
from streams.contract.identifiers import make_uscc
from streams.settings import ApiSettings, ConsoleSettings, StoreSettings
from streams.simulation.data import DISTRICTS, INDUSTRIES
from streams.stack.embedded import start_redis
from streams.store import Commit, Store

ADMIN_KEY = "bench-console-admin-key"
PREFIX = "benchconsole"
GEOJSON = files("api.console").joinpath("static/vendor/shenzhen-districts-0.1.4.geojson")
RULES = (
    ("dishonest_enterprise", "red"),
    ("abnormal_operations", "orange"),
    ("address_cluster", "yellow"),
    ("tax_arrears", "orange"),
    ("permit_expired", "yellow"),
)
Asgi = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


@dataclass
class PageTimes:
    name: str
    path: str
    ms: list[float]

    def line(self) -> str:
        ordered = sorted(self.ms)
        p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
        return (
            f"{self.name:<34} {statistics.median(ordered):8.1f} {p95:8.1f} "
            f"{ordered[-1]:8.1f}  {self.path}"
        )


@dataclass
class ConsoleBenchReport:
    header: str
    pages: list[PageTimes]
    target_ms: float

    def __str__(self) -> str:
        lines = [self.header, f"{'page':<34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  path"]
        lines += [p.line() for p in self.pages]
        return "\n".join(lines)


class Timed:
    """The app, timed: each request's seconds from its call to its last body part."""

    def __init__(self, app: Asgi) -> None:
        self.app = app
        self.last_s = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last_s = time.perf_counter() - started

        await self.app(scope, receive, timed_send)


def firm_state(
    rng: random.Random, n: int, now: datetime
) -> tuple[EnterpriseState, list[WarningRecord], str]:
    """A made-up firm: district, industry, grade, score, inspections, open warnings."""
    district = rng.choice(list(DISTRICTS))
    industry = rng.choice(INDUSTRIES)[0]
    uscc = make_uscc(rng, district)
    grade = rng.choices("ABCD", weights=(55, 25, 14, 6))[0]
    score = {"A": 90, "B": 75, "C": 60, "D": 40}[grade] + rng.randint(-8, 8)
    s = EnterpriseState(uscc, status="active", grade=grade, score=score)
    district_name, streets = DISTRICTS[district]
    street, roads = rng.choice(streets)
    address = f"深圳市{district_name}{street}{rng.choice(roads)}{rng.randint(1, 400)}号"
    s.profile = {
        "name": f"深圳市{n}号科技有限公司",
        "address": address,
        "district": district,
        "industry": industry,
    }
    s.profile["established_on"] = (now - timedelta(days=rng.randint(1, 7000))).date().isoformat()
    tagged = rng.random()
    if tagged < 0.08:  # the draw's default exemptions, and a tag a plan may filter on
        s.profile["tags"] = ["inclusive_supervision"]
    elif tagged < 0.11:
        s.profile["tags"] = ["food"]
    if rng.random() < 0.4:
        s.inspections = {"latest": (now - timedelta(days=rng.randint(1, 900))).isoformat()}
    warnings: list[WarningRecord] = []
    if grade in "CD" or rng.random() < 0.03:
        rule, severity = rng.choice(RULES)
        raised = (
            now - timedelta(days=rng.randint(0, 120), minutes=rng.randint(0, 1440))
        ).isoformat()
        w: WarningRecord = {
            "warning_id": f"w{n}",
            "uscc": uscc,
            "rule_id": rule,
            "rule_version": 1,
            "ruleset_version": "bench",
            "severity": severity,
            "message": "bench",
            "evidence": [],
            "raised_at": raised,
            "occurred_at": raised,
            "status": "open",
        }
        warnings.append(w)
        s.open_warnings = {rule: dict(w)}
    at = (now - timedelta(days=rng.randint(0, 364))).isoformat()
    return s, warnings, at


async def seed(url: str, firms: int, progress: bool) -> list[str]:
    # states written once and never loaded again: nothing to keep decoded
    store = Store.from_url(url, PREFIX, state_cache=0)
    rng = random.Random(7)
    now = datetime.now(UTC)
    usccs = []
    bar = tqdm(total=firms, disable=not progress, desc="firms", unit="firm")
    try:
        for start in range(0, firms, 1000):
            commits = []
            for n in range(start, min(firms, start + 1000)):
                s, warnings, at = firm_state(rng, n, now)
                usccs.append(s.uscc)
                journal: list[list[Any]] = [[at, "bench", f"e{n}", {}]]
                snapshot: Snapshot = {
                    "at": at,
                    "grade": s.grade,
                    "score": s.score,
                    "indicators": {},
                    "override": None,
                    "cause": f"e{n}",
                    "ruleset_version": "bench",
                }
                commit = Commit(s.uscc, [f"e{n}"], s, warnings, journal=journal)
                commit.timeline = [snapshot]
                commits.append(commit)
            await store.commit(commits, [])
            bar.update(len(commits))
        return usccs
    finally:
        bar.close()
        await store.close()


#: the console's search box (names and addresses, api/search.py), from its cheapest
#: case to its dearest: a rare long term, a common short one, a 2-character term that
#: matches nothing (every row checked), a long one that matches every firm
SEARCHES = (
    ("12345号 (one firm)", "12345号"),
    ("科技 (every firm)", "科技"),
    ("某某 (none, 2 chars)", "某某"),
    ("某某某 (none)", "某某某"),
    ("南山区粤海街道 (a district's street)", "南山区粤海街道"),
    ("有限公司 (every firm)", "有限公司"),
)


def pages(usccs: list[str]) -> list[tuple[str, str]]:
    some = next(u for u in reversed(usccs) if u[2:8] == "440305")  # the department's
    return [
        ("overview", "/console/"),
        ("directory", "/console/enterprises"),
        ("directory by district", "/console/enterprises?district=440305"),
        ("directory by grade", "/console/enterprises?grade=D"),
        (
            "directory by district+industry+grade",
            "/console/enterprises?district=4403&industry=I65&grade=C",
        ),
        ("overdue warnings", "/console/warnings/overdue"),
        ("overdue warnings by district", "/console/warnings/overdue?district=440305"),
        ("inspections and blind spots", "/console/inspections"),
        ("workbench", "/console/warnings"),
        ("profile", f"/console/enterprises/{some}"),
        ("rules", "/console/rules"),
    ] + [(f"search {what}", f"/console/enterprises?q={quote(q)}") for what, q in SEARCHES]


def requests_posted() -> list[tuple[str, str, dict[str, Any]]]:
    """The inspection plans' preview and draw (API, JSON): name, path, body."""
    pool = [
        {"inspector_id": f"I{i:03}", "name": f"执法{i}", "department": ("samr", "tax")[i % 2]}
        for i in range(40)
    ]
    plan = {"name": "bench", "inspectors": pool, "seed": "bench"}
    return [
        ("plan preview", "/inspections/plans/preview", {"name": "bench"}),
        (
            "plan preview, grace period (reads the population)",
            "/inspections/plans/preview",
            {"name": "bench", "exemptions": {"grace_days": 90}},
        ),
        ("draw 440305", "/inspections/plans", plan | {"population": {"districts": ["440305"]}}),
        ("draw city-wide (reads the population)", "/inspections/plans", plan),
    ]


#: the plans stored when the inspections page is timed again: a year of a city's draws
PLANS = 200


async def add_plans(url: str, total: int) -> None:
    """Plans up to `total`, copies of those drawn (city-wide and the department's
    district's, in turn), each with its own id, an earlier time and the snapshot of the
    plan it copies: as large as real ones, without drawing them all."""
    store = Store.from_url(url, PREFIX)
    try:
        listed = await store.list_plans(None, total) or []
        drawn = [p for p in [await store.get_plan(i["plan_id"]) for i in listed] if p]
        populations = [await store.plan_population(p["plan_id"]) or [] for p in drawn]
        oldest = datetime.fromisoformat(min(p["drawn_at"] for p in drawn))
        for n in range(total - len(drawn)):
            plan, population = drawn[n % len(drawn)], populations[n % len(drawn)]
            plan_id = f"{plan['plan_id'][:9]}-bench{n:05}"
            at = (oldest - timedelta(hours=n + 1)).isoformat()
            copy = plan | {"plan_id": plan_id, "drawn_at": at}
            await store.save_plan(copy, population, {"action": "draw", "plan_id": plan_id})
    finally:
        await store.close()


def run_bench_console(firms: int, requests: int, progress: bool = True) -> ConsoleBenchReport:
    from fastapi.testclient import TestClient

    from api.app import create_app

    with tempfile.TemporaryDirectory(prefix="creditwatch-bench-console-") as tmp:
        redis = start_redis(Path(tmp), persist=False)
        try:
            started = time.monotonic()
            usccs = asyncio.run(seed(redis.url or "", firms, progress))
            seeded_s = time.monotonic() - started
            settings = ApiSettings(
                admin_key=SecretStr(ADMIN_KEY),
                webhooks_enabled=False,
                rate_limit_admin=1_000_000,
                rate_limit_department=1_000_000,
            )
            logging.getLogger("httpx").setLevel(logging.WARNING)
            app = create_app(settings, StoreSettings(redis_url=redis.url or "", key_prefix=PREFIX))
            # the map's boundaries: the demo's (the environment left as it is)
            app.state.console_settings = ConsoleSettings(geojson=Path(str(GEOJSON)))
            timed = Timed(app)
            found: list[PageTimes] = []
            with TestClient(timed, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
                body = {"account_id": "dept", "name": "南山", "department": "samr"}
                body |= {"role": "department", "district": "440305"}
                assert client.post("/admin/accounts", json=body).status_code == 201
                department = client.post("/admin/accounts/dept/keys").json()["key"]
                # the search index, built at start-up: ready before any page is timed
                assert client.portal is not None
                client.portal.call(app.state.search.current)
                built = app.state.search.built
                who_keys = (("admin", ADMIN_KEY), ("department 440305", department))
                for who, key in who_keys:
                    client.cookies.clear()
                    client.post("/console/login", data={"key": key}, follow_redirects=False)
                    for name, path in pages(usccs):
                        if who != "admin" and (name == "rules" or name.startswith("search")):
                            continue  # the regulators' (and the admin's)
                        times = []
                        for _ in range(requests + 1):
                            answer = client.get(path, follow_redirects=False)
                            assert answer.status_code == 200, (
                                path,
                                answer.status_code,
                                answer.text[-600:],
                            )
                            times.append(timed.last_s * 1000)
                        # the first request warms caches (templates, the map): left out
                        found.append(PageTimes(f"{name} ({who})", path, times[1:]))
                # after every page: the plans drawn are read by the inspections page
                for who, key in who_keys:
                    for name, path, payload in requests_posted():
                        city = name.startswith("draw city-wide")
                        if who != "admin" and city:  # the department's is its district's
                            continue
                        times = []
                        for _ in range(min(requests, 3) + 1 if city else requests + 1):
                            answer = client.post(
                                path, json=payload, headers={"Authorization": f"Bearer {key}"}
                            )
                            assert answer.status_code in (200, 201), (path, answer.text[-600:])
                            times.append(timed.last_s * 1000)
                        found.append(PageTimes(f"{name} ({who})", f"POST {path}", times[1:]))
                asyncio.run(add_plans(redis.url or "", PLANS))
                for who, key in who_keys:
                    client.cookies.clear()
                    client.post("/console/login", data={"key": key}, follow_redirects=False)
                    times = []
                    for _ in range(requests + 1):
                        answer = client.get("/console/inspections", follow_redirects=False)
                        assert answer.status_code == 200, answer.text[-600:]
                        times.append(timed.last_s * 1000)
                    name = f"inspections with {PLANS} plans ({who})"
                    found.append(PageTimes(name, "/console/inspections", times[1:]))
            header = (
                f"{firms:,} firms written through the store in {seeded_s:.0f} s (private "
                f"Redis); the app in this process, {requests} requests per page one after "
                "another after one warm-up, timed from the request reaching the app to the "
                "last byte of its answer; the search index: "
                f"{built.firms:,} firms built in {built.seconds:.1f} s at start-up, "
                f"{built.memory_bytes / 1e6:.1f} MB of SQLite in the API process"
            )
            return ConsoleBenchReport(header, found, 200.0)
        finally:
            redis.stop()
