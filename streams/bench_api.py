"""`creditwatch bench-api`: lookup latency under load, measured with wrk (a real HTTP
load tool) against a real API process on a private Redis holding a synthetic city.

wrk paces each connection (its `delay()` hook: a pause after each response), which caps
the rate at `--rate`; it prints the rate achieved and the latency distribution seen."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
from tqdm import tqdm

from agents.pipeline import Pipeline
from agents.replay import Replayer
from rules.ruleset import default_ruleset
from rules.store import Store
from streams.processes import ManagedProcess, free_port
from streams.simulation import generate_city, to_bytes
from streams.stack import start_redis

ADMIN_KEY = "bench-admin-key"
PREFIX = "benchapi"
#: cycles through every enterprise of the city, pausing `delay` ms after each response
SINGLE = """
local codes = {%(codes)s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/enterprises/" .. codes[(n %% #codes) + 1])
end
delay = function() return %(delay_ms)s end
"""
BATCH = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '%(body)s'
delay = function() return %(delay_ms)s end
"""


def run_bench_api(
    enterprises: int, events: int, rate: float, duration_s: int, connections: int,
    batch_size: int, progress: bool = True,
) -> str:  # fmt: skip
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("bench-api needs wrk (Debian/Ubuntu: apt-get install wrk)")
    city = generate_city(
        seed=5, enterprises=enterprises, events=events, start=date(2025, 1, 1), days=365
    )
    values = [to_bytes(e) for e in city.events()]
    with tempfile.TemporaryDirectory(prefix="creditwatch-bench-api-") as tmp:
        redis = start_redis(Path(tmp), persist=False)
        api: ManagedProcess | None = None
        try:
            usccs = asyncio.run(_seed(redis.url or "", values, progress))
            port = free_port()
            api = _start_api(Path(tmp), redis.url or "", port)
            base = f"http://127.0.0.1:{port}"
            key = _department_key(base)
            delay_ms = max(1, round(1000 * connections / rate))
            single = SINGLE % {"codes": ",".join(f'"{u}"' for u in usccs), "delay_ms": delay_ms}
            body = json.dumps({"usccs": usccs[:batch_size]})
            batch = BATCH % {"body": body, "delay_ms": delay_ms}
            lines = [
                f"API: one uvicorn process, {len(usccs):,} enterprises in a private Redis; "
                f"wrk, {connections} connections, each pausing {delay_ms} ms after a response "
                f"(so at most {rate:g} req/s), {duration_s} s per scenario",
                _wrk(wrk, Path(tmp), "single", single, base, key, connections, duration_s),
            ]
            batch_url = base + "/enterprises/batch"
            name = f"batch of {batch_size}"
            lines.append(_wrk(wrk, Path(tmp), name, batch, batch_url, key, connections, duration_s))
            return "\n".join(lines)
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
    api.wait_until(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), 30, "answering")
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


def _wrk(
    wrk: str, tmp: Path, name: str, script: str, url: str, key: str,
    connections: int, duration_s: int,
) -> str:  # fmt: skip
    path = tmp / f"{name.replace(' ', '_')}.lua"
    path.write_text(script)
    argv = [wrk, "-t2", f"-c{connections}", f"-d{duration_s}s", "--latency", "-s", str(path),
            "-H", f"Authorization: Bearer {key}", url]  # fmt: skip
    started = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    took = time.perf_counter() - started
    rate = _field(r"Requests/sec:\s+([\d.]+)", out)
    p50 = _field(r"\s50%\s+([\d.]+\w+)", out)
    p99 = _field(r"\s99%\s+([\d.]+\w+)", out)
    errors = _field(r"Non-2xx or 3xx responses:\s+(\d+)", out) or "0"
    return (
        f"  {name:<14} achieved {rate} req/s   p50 {p50}   p99 {p99}   "
        f"non-2xx {errors}   ({took:.0f} s)"
    )


def _field(pattern: str, text: str) -> str | None:
    found = re.search(pattern, text)
    return found.group(1) if found else None
