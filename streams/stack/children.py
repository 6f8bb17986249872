"""The worker as a supervised child, the same for `creditwatch up` and the benchmark."""

from __future__ import annotations

import sys
from pathlib import Path

from streams.stack.supervisor import ChildSpec, http_ready


def worker_child(
    name: str,
    log_level: str,
    metrics_port: int,
    datadir: Path,
    env: dict[str, str],
    stop_timeout: float = 15.0,
) -> ChildSpec:
    """A worker process as `up` runs it (the benchmark runs its worker the same way):
    its own metrics port and data directory, ready once /metrics answers."""
    return ChildSpec(
        name,
        [sys.executable, "-m", "streams.cli", "--log-level", log_level, "worker"],
        env={
            **env,
            "CREDITWATCH_WORKER_METRICS_PORT": str(metrics_port),
            "CREDITWATCH_DATADIR": str(datadir),
        },
        ready=http_ready(f"http://127.0.0.1:{metrics_port}/metrics"),
        ready_timeout=90,
        stop_timeout=stop_timeout,
    )
