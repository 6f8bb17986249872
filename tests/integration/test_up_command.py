"""`creditwatch up`, as a user runs it: everything starts, answers, and stops on SIGTERM
with no process left behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from streams.stack.processes import free_port, pid_alive

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def children_of(pid: int) -> set[int]:
    """Every process whose parent is `pid` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


@dataclass
class Up:
    """A running `creditwatch up`: what it printed, its API's address, its children."""

    output: str
    api: str
    children: set[int]


@contextmanager
def up_running(state_dir: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Up]:
    """`creditwatch up ARGS` until it printed where to look; on exit SIGTERM, which must
    stop it with code 0 and leave no child behind."""
    port = free_port()
    env = {
        **os.environ,
        "CREDITWATCH_STATE_DIR": str(state_dir),
        "CREDITWATCH_API_PORT": str(port),
        "CREDITWATCH_ADMIN_KEY": "test-key",
        **(env or {}),
    }
    up = subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "--log-level", "warning", "up", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    children: set[int] = set()
    try:
        assert up.stdout is not None
        for line in up.stdout:
            lines.append(line)
            if "Ctrl-C stops everything" in line:
                break
        children = children_of(up.pid)
        yield Up("".join(lines), f"http://127.0.0.1:{port}", children)
    finally:
        up.send_signal(signal.SIGTERM)
        code = up.wait(timeout=90)
    assert code == 0
    deadline = time.monotonic() + 10
    while any(pid_alive(p) for p in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in children if pid_alive(p)], "a child outlived `creditwatch up`"


def test_up_starts_everything_and_sigterm_stops_it_all(tmp_path: Path) -> None:
    with up_running(tmp_path / "var", "--no-prometheus") as up:
        assert "is up in" in up.output and "admin key    test-key" in up.output, up.output
        assert len(up.children) == 5, up.output  # redis, broker, sidecar, worker, api
        sidecar = re.search(r"sidecar +(http://\S+/metrics)", up.output)
        assert sidecar, up.output
        assert "creditwatch_relayed_total" in httpx.get(sidecar.group(1), timeout=5).text
        health = httpx.get(f"{up.api}/healthz", timeout=5)
        assert health.json() == {"status": "ok", "redis": True}
        assert (tmp_path / "var" / "redis" / "appendonlydir").exists() or (
            tmp_path / "var" / "redis" / "appendonly.aof"
        ).exists()
