"""`creditwatch up`: the embedded stack (Redis, broker, topics), the sidecar (the outbox
relay and the trainer), N workers in one consumer group, the API, Prometheus when it is
installed, and the demo feed."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from importlib.resources import files
from pathlib import Path

from rules.ruleset import load_rules_file
from streams.cli.rules import demo_allowlist, prepare_store
from streams.settings import ApiSettings, StackSettings, StreamSettings
from streams.stack import prometheus_server
from streams.stack.children import sidecar_child, worker_child
from streams.stack.embedded import EmbeddedStack, run_stack
from streams.stack.processes import free_port
from streams.stack.supervisor import ChildSpec, http_ready

#: the Shenzhen districts' boundaries vendored with the console (its MANIFEST.json)
DEMO_GEOJSON = files("api.console").joinpath("static/vendor/shenzhen-districts-0.1.4.geojson")


def up(args: argparse.Namespace) -> int:
    stack, stream, api = StackSettings(), StreamSettings(), ApiSettings()
    admin_key = api.admin_key.get_secret_value() if api.admin_key else secrets.token_urlsafe(24)
    api_port = api.api_port or free_port()
    if args.workers == 1 and "CREDITWATCH_WORKER_METRICS_PORT" in os.environ:
        metrics_ports = [stream.worker_metrics_port]
    else:  # each worker its own port: they run side by side
        metrics_ports = [free_port() for _ in range(args.workers)]
    if "CREDITWATCH_SIDECAR_METRICS_PORT" in os.environ:
        sidecar_port = stream.sidecar_metrics_port
    else:
        sidecar_port = free_port()
    state_dir = Path(stack.state_dir).resolve()
    api_url = f"http://{api.api_host}:{api_port}"
    with_prometheus = not args.no_prometheus and prometheus_server.available()
    prometheus_port = free_port() if with_prometheus else None
    prometheus_url = f"http://127.0.0.1:{prometheus_port}"
    me = [sys.executable, "-m", "streams.cli", "--log-level", args.log_level]
    ruleset = load_rules_file(args.rules) if args.rules else None  # a bad file stops us here
    worker_env: dict[str, str] = {}
    if args.demo and "CREDITWATCH_TIMER_CLOCK" not in os.environ:
        # the demo replays a past half-year in a minute: timers follow its event time
        worker_env["CREDITWATCH_TIMER_CLOCK"] = "event"

    def children(started: EmbeddedStack) -> list[ChildSpec]:
        prepare_store(started.redis_url, ruleset, demo_allowlist() if args.demo else [])
        # before the workers, so stopped after them: it relays what they committed last
        specs = [sidecar_child(args.log_level, sidecar_port, {})]
        specs += [
            worker_child(
                f"worker-{n}" if args.workers > 1 else "worker",
                args.log_level,
                port,
                state_dir / f"worker-{n}",
                worker_env,
            )
            for n, port in enumerate(metrics_ports, start=1)
        ]
        api_env = {"CREDITWATCH_ADMIN_KEY": admin_key, "CREDITWATCH_API_PORT": str(api_port)}
        if args.demo and "CREDITWATCH_CONSOLE_GEOJSON" not in os.environ:
            # the demo city is Shenzhen's: its districts' boundaries for the overview's map
            api_env["CREDITWATCH_CONSOLE_GEOJSON"] = str(DEMO_GEOJSON)
        specs.append(
            ChildSpec(
                "api",
                [*me, "api"],
                env=api_env,
                ready=http_ready(f"{api_url}/healthz"),
            )
        )
        if prometheus_port is not None:
            config = prometheus_server.prepare(
                state_dir / "prometheus",
                api=[f"127.0.0.1:{api_port}"],
                workers=[f"127.0.0.1:{p}" for p in metrics_ports],
                sidecars=[f"127.0.0.1:{sidecar_port}"],
                interval=stack.prometheus_interval,
            )
            specs.append(
                ChildSpec(
                    "prometheus",
                    prometheus_server.argv(config, prometheus_port),
                    ready=http_ready(f"{prometheus_url}/-/ready"),
                )
            )
        if args.demo:  # started last, so stopped first: before the broker goes away
            feed = ["simulate", "--demo", "--to-topic", "--linger", "--rate", str(args.demo_rate)]
            specs.append(ChildSpec("demo", [*me, *feed], stop_timeout=5))
        return specs

    def on_ready(started: EmbeddedStack) -> None:
        took = started.startup_seconds + started.timings.get("children", 0)
        workers = "  ".join(f"http://127.0.0.1:{p}/metrics" for p in metrics_ports)
        if prometheus_port is not None:
            prometheus = f"{prometheus_url}   (alerts: {prometheus_url}/alerts)"
        else:
            prometheus = "not started (install the prometheus package to have one)"
        print(
            f"\ncreditwatch is up in {took:.1f} s\n"
            f"  console      {api_url}/console/   (sign in with the admin key)\n"
            f"  API          {api_url}   (docs: {api_url}/docs)\n"
            f"  admin key    {admin_key}\n"
            f"  try          curl -H 'Authorization: Bearer {admin_key}' {api_url}/warnings\n"
            f"  metrics      {api_url}/metrics\n"
            f"  workers      {len(metrics_ports)}: {workers}\n"
            f"  sidecar      http://127.0.0.1:{sidecar_port}/metrics   (relay, trainer)\n"
            f"  Prometheus   {prometheus}\n"
            f"  Kafka        {started.kafka_bootstrap}   Redis {started.redis_url}\n"
            f"  state, logs  {started.state_dir}\n"
            "Ctrl-C stops everything.\n",
            flush=True,
        )
        if args.demo:
            print(
                f"demo feed: a synthetic city at {args.demo_rate:.0f} events/s "
                f"(log: {started.log_dir / 'demo.log'})\n",
                flush=True,
            )

    return run_stack(stack, stream, api, children=children, on_ready=on_ready)
