"""The `creditwatch` command: up, worker, api, ingest, simulate."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from streams.settings import ApiSettings, StackSettings, StreamSettings

log = logging.getLogger("creditwatch")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for chatty in ("kafka", "aiokafka"):  # their INFO is one line per connection
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.root.level))
    from kafka.errors import KafkaError

    from streams.processes import ProcessError
    from streams.topic_admin import TopicMismatchError

    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except (FileNotFoundError, IsADirectoryError, ValueError) as exc:
        print(f"creditwatch: {exc}", file=sys.stderr)
        return 2
    except (ProcessError, TopicMismatchError, KafkaError) as exc:
        # startup failures and an unreachable broker: the message says what to fix
        print(f"creditwatch: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="creditwatch", description="Real-time credit-risk monitor for market regulators."
    )
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="start the embedded stack: broker, Redis, worker, API")
    up.add_argument("--demo", action="store_true", help="also stream a synthetic city")
    up.add_argument("--demo-rate", type=float, default=200.0, help="demo events per second")
    up.add_argument("--rules", type=Path, help="a rules file to put in force at start")
    up.set_defaults(run=_up)

    worker = sub.add_parser("worker", help="run a worker against CREDITWATCH_KAFKA_BOOTSTRAP")
    worker.set_defaults(run=_worker)

    api = sub.add_parser("api", help="run the query API against CREDITWATCH_REDIS_URL")
    api.set_defaults(run=_api)

    ingest = sub.add_parser("ingest", help="produce a JSONL file's events to the input topic")
    ingest.add_argument("file", type=Path)
    ingest.add_argument("--no-progress", action="store_true")
    ingest.set_defaults(run=_ingest)

    sim = sub.add_parser("simulate", help="generate a synthetic city's events")
    sim.add_argument("--enterprises", type=int, default=1000)
    sim.add_argument("--events", type=int, default=20000)
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1))
    sim.add_argument("--days", type=int, default=730)
    sim.add_argument(
        "--invalid-rate", type=float, default=0.0, help="share of extra, deliberately broken events"
    )
    target = sim.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", type=Path, help="write JSONL here")
    target.add_argument("--to-topic", action="store_true", help="produce to the input topic")
    sim.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="with --to-topic: events per second (0 = as fast as possible)",
    )
    sim.add_argument(
        "--demo",
        action="store_true",
        help="the demo city: planted patterns early, a few broken events",
    )
    sim.add_argument(
        "--linger",
        action="store_true",
        help="after sending, wait for SIGTERM (as a supervised child)",
    )
    sim.set_defaults(run=_simulate)
    from streams import cli_models, cli_rules

    cli_rules.add_commands(sub)
    cli_models.add_commands(sub)
    return parser


def _worker(_args: argparse.Namespace) -> int:
    from agents.worker import run_worker

    run_worker()
    return 0


def _api(_args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    settings = ApiSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
        # open live streams never end by themselves: give them a moment, then close them
        timeout_graceful_shutdown=3,
    )
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from streams.ingest import ingest_file

    summary = ingest_file(args.file, StreamSettings(), show_progress=not args.no_progress)
    print(
        f"sent {summary.sent} events in {summary.seconds:.1f} s "
        f"({summary.rate:,.0f}/s); rejected locally {len(summary.rejected)}"
    )
    for line, reason, detail in summary.rejected[:50]:
        print(f"  line {line}: {reason}: {detail}")
    if len(summary.rejected) > 50:
        print(f"  ... and {len(summary.rejected) - 50} more (all sent to the dead-letter topic)")
    return 1 if summary.rejected else 0


def _simulate(args: argparse.Namespace) -> int:
    import time

    from streams.ingest import make_producer, send_unchecked
    from streams.simulation import DEMO_PRESET, generate_city, paced, write_jsonl

    options = (
        dict(DEMO_PRESET)
        if args.demo
        else {
            "seed": args.seed,
            "enterprises": args.enterprises,
            "events": args.events,
            "start": args.start,
            "days": args.days,
            "invalid_rate": args.invalid_rate,
        }
    )
    city = generate_city(**options)
    if args.out:
        written = write_jsonl(city, args.out, progress=True)
        print(f"wrote {written} events to {args.out} ({city.n_invalid} deliberately broken)")
        return 0
    settings = StreamSettings()
    producer = make_producer(settings)
    started = time.perf_counter()
    try:
        items = paced(city.events(), args.rate) if args.rate else city.events()
        sent = send_unchecked(producer, settings.events_topic, items)
    finally:
        producer.close()
    took = time.perf_counter() - started
    print(
        f"sent {sent} events to {settings.events_topic} in {took:.1f} s "
        f"({sent / took:,.0f}/s; {city.n_invalid} deliberately broken)",
        flush=True,
    )
    while args.linger:  # the supervisor stops us with SIGTERM
        time.sleep(3600)
    return 0


def _up(args: argparse.Namespace) -> int:
    from rules.ruleset import load_rules_file
    from streams.cli_rules import demo_allowlist, prepare_store
    from streams.processes import free_port
    from streams.stack import EmbeddedStack, run_stack
    from streams.supervisor import ChildSpec, http_ready

    stack, stream, api = StackSettings(), StreamSettings(), ApiSettings()
    admin_key = api.admin_key.get_secret_value() if api.admin_key else secrets.token_urlsafe(24)
    api_port = api.api_port or free_port()
    metrics_port = stream.worker_metrics_port
    if "CREDITWATCH_WORKER_METRICS_PORT" not in os.environ:
        metrics_port = free_port()
    state_dir = Path(stack.state_dir).resolve()
    api_url = f"http://{api.api_host}:{api_port}"
    me = [sys.executable, "-m", "streams.cli", "--log-level", args.log_level]
    ruleset = load_rules_file(args.rules) if args.rules else None  # a bad file stops us here
    worker_env = {
        "CREDITWATCH_WORKER_METRICS_PORT": str(metrics_port),
        "CREDITWATCH_DATADIR": str(state_dir / "worker"),
    }
    if args.demo and "CREDITWATCH_TIMER_CLOCK" not in os.environ:
        # the demo replays a past half-year in a minute: timers follow its event time
        worker_env["CREDITWATCH_TIMER_CLOCK"] = "event"

    def children(started: EmbeddedStack) -> list[ChildSpec]:
        prepare_store(started.redis_url, ruleset, demo_allowlist() if args.demo else [])
        specs = [
            ChildSpec(
                "worker",
                [*me, "worker"],
                env=worker_env,
                ready=http_ready(f"http://127.0.0.1:{metrics_port}/metrics"),
                ready_timeout=90,
            ),
            ChildSpec(
                "api",
                [*me, "api"],
                env={"CREDITWATCH_ADMIN_KEY": admin_key, "CREDITWATCH_API_PORT": str(api_port)},
                ready=http_ready(f"{api_url}/healthz"),
            ),
        ]
        if args.demo:  # started last, so stopped first: before the broker goes away
            feed = ["simulate", "--demo", "--to-topic", "--linger", "--rate", str(args.demo_rate)]
            specs.append(ChildSpec("demo", [*me, *feed], stop_timeout=5))
        return specs

    def on_ready(started: EmbeddedStack) -> None:
        took = started.startup_seconds + started.timings.get("children", 0)
        print(
            f"\ncreditwatch is up in {took:.1f} s\n"
            f"  API          {api_url}   (docs: {api_url}/docs)\n"
            f"  admin key    {admin_key}\n"
            f"  try          curl -H 'Authorization: Bearer {admin_key}' {api_url}/warnings\n"
            f"  metrics      {api_url}/metrics   worker: http://127.0.0.1:{metrics_port}/metrics\n"
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


if __name__ == "__main__":
    sys.exit(main())
