"""The `creditwatch` command: up, worker, sidecar, api, ingest, simulate; the parser of
every subcommand.

What a command runs is imported when it runs: this module is loaded at every start of
the command (each child process of `up` too), and the worker (faust), the API
(fastapi), the producers (kafka) and the simulator cost seconds to load."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from streams.cli import bench, directory, dlq, indexes, offline, rules, screenshots
from streams.cli.options import DEFAULT_ENVELOPE, add_envelope
from streams.settings import ApiSettings, StreamSettings
from streams.stack.processes import ProcessError
from streams.topics.create import TopicMismatchError, ensure_stream_topics

log = logging.getLogger("creditwatch")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format=LOG_FORMAT,
    )
    for chatty in ("kafka", "aiokafka"):  # their INFO is one line per connection
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.root.level))
    from kafka.errors import KafkaError  # start-up cost: not for --help

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
    up.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="worker processes in one consumer group (they share the partitions)",
    )
    up.add_argument(
        "--no-prometheus",
        action="store_true",
        help="do not start Prometheus even when it is installed",
    )
    up.set_defaults(run=_up)

    worker = sub.add_parser("worker", help="run a worker against CREDITWATCH_KAFKA_BOOTSTRAP")
    worker.set_defaults(run=_worker)

    sidecar = sub.add_parser(
        "sidecar",
        help="run the outbox relay and the trainer beside workers started with "
        "CREDITWATCH_WORKER_RELAY_TRAINER=false",
    )
    sidecar.set_defaults(run=_sidecar)

    api = sub.add_parser("api", help="run the query API against CREDITWATCH_REDIS_URL")
    api.set_defaults(run=_api)

    topics = sub.add_parser(
        "topics", help="create the topics on CREDITWATCH_KAFKA_BOOTSTRAP (existing ones are kept)"
    )
    topics.set_defaults(run=_topics)

    ingest = sub.add_parser("ingest", help="produce a JSONL file's events to the input topic")
    ingest.add_argument("file", type=Path)
    add_envelope(ingest)
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
        help="with --to-topic: events per second (0 = as fast as possible, in batch "
        f"envelopes of --envelope events, default {DEFAULT_ENVELOPE}; paced: one per message)",
    )
    add_envelope(sim, default=None)
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
    for commands in (rules, offline, bench, directory, indexes, dlq, screenshots):
        commands.add_commands(sub)
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _topics(_args: argparse.Namespace) -> int:
    settings = StreamSettings()
    ensure_stream_topics(settings.kafka_bootstrap, settings)
    print(f"topics ready on {settings.kafka_bootstrap} ({settings.partitions} partitions)")
    return 0


def _worker(_args: argparse.Namespace) -> int:
    from agents.worker import run_worker

    run_worker()
    return 0


def _sidecar(_args: argparse.Namespace) -> int:
    from agents.sidecar import run_sidecar

    return run_sidecar()


def _api(_args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    settings = ApiSettings()
    app = create_app(settings)  # checks the settings before any process starts
    several = settings.api_workers > 1
    # several processes each build their own app from the same environment, and log
    # as this one does (uvicorn configures logging in each from `log_config`)
    logs = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": LOG_FORMAT}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"level": logging.root.level, "handlers": ["stderr"]},
    }
    uvicorn.run(
        "api.app:create_app" if several else app,
        factory=several,
        workers=settings.api_workers,
        log_config=logs if several else uvicorn.config.LOGGING_CONFIG,
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
        # the API's own access log records each request without its secrets and ID
        # numbers (api/access_log.py); uvicorn's would print paths and queries as sent
        access_log=False,
        # open live streams never end by themselves: give them a moment, then close them
        timeout_graceful_shutdown=3,
    )
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from streams.topics.ingest import ingest_file

    summary = ingest_file(
        args.file, StreamSettings(), show_progress=not args.no_progress, envelope=args.envelope
    )
    print(
        f"sent {summary.sent} events in {summary.messages} messages in {summary.seconds:.1f} s "
        f"({summary.rate:,.0f}/s); rejected locally {len(summary.rejected)}"
    )
    for line, reason, detail in summary.rejected[:50]:
        print(f"  line {line}: {reason}: {detail}")
    if len(summary.rejected) > 50:
        print(f"  ... and {len(summary.rejected) - 50} more (all sent to the dead-letter topic)")
    return 1 if summary.rejected else 0


def _simulate(args: argparse.Namespace) -> int:
    from streams.simulation import DEMO_PRESET, generate_city, paced, reported_now, write_jsonl
    from streams.topics.ingest import make_producer, send_unchecked

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
        # paced is the live path: one event per message, whatever --envelope says
        items = reported_now(paced(city.events(), args.rate)) if args.rate else city.events()
        envelope = 1 if args.rate else (args.envelope or DEFAULT_ENVELOPE)
        sent = send_unchecked(producer, settings.events_topic, items, envelope)
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
    from streams.cli.up import up

    return up(args)


if __name__ == "__main__":
    sys.exit(main())
