"""The worker and the sidecar as supervised children, the same for `creditwatch up` and
the benchmark."""

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
    its own metrics port and data directory, ready once /metrics answers; it leaves the
    relay and the trainer to the sidecar started beside it (`sidecar_child`)."""
    return ChildSpec(
        name,
        [sys.executable, "-m", "streams.cli", "--log-level", log_level, "worker"],
        env={
            **env,
            "CREDITWATCH_WORKER_METRICS_PORT": str(metrics_port),
            "CREDITWATCH_DATADIR": str(datadir),
            "CREDITWATCH_WORKER_RELAY_TRAINER": "false",
        },
        ready=http_ready(f"http://127.0.0.1:{metrics_port}/metrics"),
        ready_timeout=90,
        stop_timeout=stop_timeout,
    )


def sidecar_child(
    log_level: str, metrics_port: int, env: dict[str, str], stop_timeout: float = 15.0
) -> ChildSpec:
    """The sidecar beside the workers (the outbox relay and the trainer, which the
    workers of `worker_child` leave to it), ready once its /metrics answers."""
    return ChildSpec(
        "sidecar",
        [sys.executable, "-m", "streams.cli", "--log-level", log_level, "sidecar"],
        env={**env, "CREDITWATCH_SIDECAR_METRICS_PORT": str(metrics_port)},
        ready=http_ready(f"http://127.0.0.1:{metrics_port}/metrics"),
        ready_timeout=60,
        stop_timeout=stop_timeout,
    )
