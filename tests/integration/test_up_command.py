"""`creditwatch up`, as a user runs it: everything starts, answers, and stops on SIGTERM
with no process left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from streams.processes import free_port, pid_alive

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


def test_up_starts_everything_and_sigterm_stops_it_all(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CREDITWATCH_STATE_DIR": str(tmp_path / "var"),
        "CREDITWATCH_API_PORT": str(port),
        "CREDITWATCH_ADMIN_KEY": "test-key",
    }
    up = subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "--log-level", "warning", "up"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = []
    try:
        assert up.stdout is not None
        for line in up.stdout:
            output.append(line)
            if "Ctrl-C stops everything" in line:
                break
        text = "".join(output)
        assert "is up in" in text and "admin key    test-key" in text, text
        children = children_of(up.pid)
        assert len(children) == 4, text  # redis, broker, worker, api
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert health.json() == {"status": "ok", "redis": True}
        assert (tmp_path / "var" / "redis" / "appendonlydir").exists() or (
            tmp_path / "var" / "redis" / "appendonly.aof"
        ).exists()
    finally:
        up.send_signal(signal.SIGTERM)
        code = up.wait(timeout=60)
    assert code == 0
    deadline = time.monotonic() + 10
    while any(pid_alive(p) for p in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in children if pid_alive(p)]
