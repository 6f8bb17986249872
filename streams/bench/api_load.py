"""`creditwatch bench-api`: lookup latency under load, measured with wrk (a real HTTP
load tool) against a real API process on a private Redis holding a synthetic city.

Plain wrk has no constant-rate mode (wrk2's `-R`), so its `delay()` hook paces it: each
wrk thread sends on a fixed schedule, `--rate` in all. After a response a connection
waits for the next slot, or goes at once when the schedule is behind, so a slow server
lowers the rate achieved, never the rate offered; the report gives both. (A fixed pause
after each response, as before, offered less than `--rate` whenever responses took any
time at all.) Latency is wrk's, from the moment a request is sent.

A scenario fails when wrk saw any error (a non-2xx answer, a connect, read or write
error, a timeout) or the API achieved less than 95% of the rate offered; the command
then exits 1. The API child runs CREDITWATCH_API_WORKERS processes, as `creditwatch
api` does."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
from tqdm import tqdm

from agents.pipeline import Pipeline
from agents.replay import Replayer
from rules.ruleset import default_ruleset
from streams.settings import ApiSettings
from streams.simulation import generate_city, to_bytes
from streams.stack.embedded import start_redis
from streams.stack.processes import ManagedProcess, free_port
from streams.store import Store

log = logging.getLogger(__name__)

ADMIN_KEY = "bench-admin-key"
PREFIX = "benchapi"
#: wrk threads (at most): wrk itself needs some of the two cores the API runs on
THREADS = 2
#: each wrk thread (one Lua state) sends on its own schedule, one slot per `interval_ms`
PACING = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } cw_timespec;
int clock_gettime(int clock_id, cw_timespec *tp);
]]
local clock = ffi.new("cw_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end
local interval, due = %(interval_ms)s, nil
delay = function()
  local now = now_ms()
  due = due or now
  local wait = due - now
  due = due + interval
  return wait > 0 and math.floor(wait + 0.5) or 0
end
"""
#: cycles through every enterprise of the city
SINGLE = """
local codes = {%(codes)s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/enterprises/" .. codes[(n %% #codes) + 1])
end
"""
BATCH = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '%(body)s'
"""


def run_bench_api(
    enterprises: int, events: int, rate: float, duration_s: int, connections: int,
    batch_size: int, progress: bool = True, batch_rate: float = 100.0,
) -> ApiBenchReport:  # fmt: skip
    """Single lookups at `rate` requests/s, then batches of `batch_size` at
    `batch_rate` (0: none), each for `duration_s`, against `creditwatch api` with
    CREDITWATCH_API_WORKERS processes."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("bench-api needs wrk (Debian/Ubuntu: apt-get install wrk)")
    city = generate_city(
        seed=5, enterprises=enterprises, events=events, start=date(2025, 1, 1), days=365
    )
    values = [to_bytes(e) for e in city.events()]
    workers = ApiSettings().api_workers  # the API child reads the same environment
    with tempfile.TemporaryDirectory(prefix="creditwatch-bench-api-") as tmp:
        redis = start_redis(Path(tmp), persist=False)
        api: ManagedProcess | None = None
        try:
            usccs = asyncio.run(_seed(redis.url or "", values, progress))
            port = free_port()
            api = _start_api(Path(tmp), redis.url or "", port)
            base = f"http://127.0.0.1:{port}"
            key = _department_key(base)
            load = _Load(wrk, Path(tmp), key, connections, duration_s, api.pid)
            single = SINGLE % {"codes": ",".join(f'"{u}"' for u in usccs)}
            scenarios = [_wrk(load, "single", single, base, rate)]
            if batch_rate > 0:
                batch = BATCH % {"body": json.dumps({"usccs": usccs[:batch_size]})}
                url = base + "/enterprises/batch"
                scenarios.append(_wrk(load, f"batch of {batch_size}", batch, url, batch_rate))
            processes = "one uvicorn process" if workers == 1 else f"{workers} uvicorn processes"
            header = (
                f"API: {processes}, {len(usccs):,} enterprises in a private Redis; wrk, "
                f"{connections} connections, the rate offered on a fixed schedule (achieved: "
                f"what the API kept up with), {duration_s} s per scenario; errors: non-2xx "
                "responses and socket errors (connect, read, write, timeout); cpu: the API "
                "processes' CPU time per request"
            )
            return ApiBenchReport(header, scenarios)
        finally:
            if api is not None:
                api.stop()
            redis.stop()


async def _seed(url: str, values: list[bytes], progress: bool) -> list[str]:
    store = Store.from_url(url, PREFIX)
    bar = tqdm(total=len(values), disable=not progress, desc="seed", unit="ev")
    try:
        replayer = Replayer(Pipeline(store, "fanout", default_ruleset(), False), 500)
        await replayer.run(values, bar.update)
        return sorted((await store.all_grades()).keys())
    finally:
        bar.close()
        await store.close()


def _start_api(tmp: Path, redis_url: str, port: int) -> ManagedProcess:
    env = {
        **os.environ,
        "CREDITWATCH_REDIS_URL": redis_url,
        "CREDITWATCH_KEY_PREFIX": PREFIX,
        "CREDITWATCH_ADMIN_KEY": ADMIN_KEY,
        "CREDITWATCH_API_PORT": str(port),
        "CREDITWATCH_WEBHOOKS_ENABLED": "false",
    }
    argv = [sys.executable, "-m", "streams.cli", "--log-level", "warning", "api"]
    api = ManagedProcess("api", argv, log_path=tmp / "api.log", env=env)
    api.start()
    api.wait_until(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), 90, "answering")
    return api


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _department_key(base: str) -> str:
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    account = {"account_id": "bench", "name": "bench", "department": "samr",
               "role": "department", "rate_limit": 1_000_000}  # fmt: skip
    httpx.post(f"{base}/admin/accounts", json=account, headers=admin).raise_for_status()
    reply = httpx.post(f"{base}/admin/accounts/bench/keys", headers=admin)
    reply.raise_for_status()
    return str(reply.json()["key"])


@dataclass(frozen=True)
class _Load:
    """What the scenarios share: wrk and its settings, and the API process under load."""

    wrk: str
    tmp: Path
    key: str
    connections: int
    duration_s: int
    api_pid: int | None


#: a scenario that achieves less than this share of the rate offered has failed
MIN_ACHIEVED = 0.95


@dataclass(frozen=True)
class Scenario:
    """What wrk measured in one scenario."""

    name: str
    offered: float
    achieved: float
    p50: str
    p99: str
    non_2xx: int
    socket_errors: dict[str, int]
    cpu_ms: float | None
    took_s: float

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())

    def problems(self) -> list[str]:
        found = [f"{self.errors} errors"] if self.errors else []
        if self.achieved < MIN_ACHIEVED * self.offered:
            found.append(f"achieved {self.achieved:g} of {self.offered:g} req/s offered")
        return found

    def line(self) -> str:
        sockets = ", ".join(f"{k} {v}" for k, v in self.socket_errors.items())
        cpu = f"{self.cpu_ms:.2f} ms/req" if self.cpu_ms is not None else "?"
        verdict = "; ".join(self.problems()) or "ok"
        return (
            f"  {self.name:<14} offered {self.offered:g}  achieved {self.achieved:g} req/s   "
            f"p50 {self.p50}   p99 {self.p99}   errors {self.errors} (non-2xx "
            f"{self.non_2xx}; socket: {sockets})   cpu {cpu}   ({self.took_s:.0f} s): {verdict}"
        )


@dataclass(frozen=True)
class ApiBenchReport:
    header: str
    scenarios: list[Scenario]

    @property
    def ok(self) -> bool:
        """No errors, and every scenario kept up with the rate it was offered."""
        return not any(s.problems() for s in self.scenarios)

    def __str__(self) -> str:
        return "\n".join([self.header, *(s.line() for s in self.scenarios)])


def _wrk(load: _Load, name: str, script: str, url: str, rate: float) -> Scenario:
    path = load.tmp / f"{name.replace(' ', '_')}.lua"
    path.write_text(
        script + PACING % {"interval_ms": repr(1000 * _threads(load.connections) / rate)}
    )
    argv = [load.wrk, f"-t{_threads(load.connections)}", f"-c{load.connections}",
            f"-d{load.duration_s}s", "--latency", "-s", str(path),
            "-H", f"Authorization: Bearer {load.key}", url]  # fmt: skip
    started, cpu_before = time.perf_counter(), _tree_cpu_seconds(load.api_pid)
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    took, cpu_after = time.perf_counter() - started, _tree_cpu_seconds(load.api_pid)
    log.debug("wrk %s:\n%s", name, out)
    requests = int(_field(r"(\d+) requests in", out) or 0)
    cpu_ms = None
    if cpu_before is not None and cpu_after is not None and requests:
        cpu_ms = 1000 * (cpu_after - cpu_before) / requests
    return Scenario(
        name=name,
        offered=rate,
        achieved=float(_field(r"Requests/sec:\s+([\d.]+)", out) or 0),
        p50=_field(r"\s50%\s+([\d.]+\w+)", out) or "?",
        p99=_field(r"\s99%\s+([\d.]+\w+)", out) or "?",
        non_2xx=int(_field(r"Non-2xx or 3xx responses:\s+(\d+)", out) or 0),
        socket_errors=_socket_errors(out),
        cpu_ms=cpu_ms,
        took_s=took,
    )


def _socket_errors(out: str) -> dict[str, int]:
    """wrk's socket errors by kind (its line is there only when there were some).

    >>> _socket_errors("  Socket errors: connect 0, read 3, write 0, timeout 12")
    {'connect': 0, 'read': 3, 'write': 0, 'timeout': 12}
    """
    found = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    counts = [int(n) for n in found.groups()] if found else [0, 0, 0, 0]
    return dict(zip(("connect", "read", "write", "timeout"), counts, strict=True))


def _tree_cpu_seconds(pid: int | None) -> float | None:
    """User and system CPU time so far of a process and all its descendants (the API's
    worker processes), from Linux's /proc; None if it cannot be read."""
    if pid is None:
        return None
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent, CPU seconds)
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # gone meanwhile
            stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    if pid not in stats:
        return None
    tree, total = [pid], 0.0
    while tree:
        current = tree.pop()
        total += stats[current][1]
        tree.extend(child for child, (parent, _) in stats.items() if parent == current)
    return total


def _threads(connections: int) -> int:
    """wrk's threads: it wants at least one connection each."""
    return min(THREADS, connections)


def _field(pattern: str, text: str) -> str | None:
    found = re.search(pattern, text)
    return found.group(1) if found else None
