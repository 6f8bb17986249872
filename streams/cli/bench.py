"""`creditwatch bench` (the pipeline end to end) and `creditwatch bench-api` (lookups
under load): streams/bench/.

Both import their run when it starts (start-up cost: the parser is built at every start
of the command, and the benchmarks load the whole pipeline)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from streams.cli.options import add_envelope


def add_commands(sub: Any) -> None:
    bench = sub.add_parser(
        "bench",
        help="the whole pipeline end to end on the embedded stack: throughput, latency at a "
        "fixed rate, Redis per enterprise, worker CPU and RSS, beside two baselines",
    )
    bench.add_argument("--enterprises", type=int, default=10_000)
    bench.add_argument(
        "--events",
        type=int,
        default=100_000,
        help="the city's events, over a year of event time (default 100,000)",
    )
    bench.add_argument(
        "--rate", type=float, default=1000.0, help="events/s offered in the latency phase"
    )
    bench.add_argument(
        "--latency-seconds", type=float, default=15.0, help="length of the latency phase"
    )
    bench.add_argument(
        "--naive-events",
        type=int,
        help="events replayed through the naive baseline (default: min(events, 5000))",
    )
    bench.add_argument(
        "--max-seconds",
        type=float,
        default=0.0,
        help="send no more of the sustained part after this long; 0: send all of it, "
        "the city's whole year in event time (the default)",
    )
    bench.add_argument("--seed", type=int, default=3)
    add_envelope(bench)
    bench.add_argument(
        "--batch-size", type=int, help="the worker's batch size (default: CREDITWATCH_BATCH_SIZE)"
    )
    bench.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes in one consumer group, as `creditwatch up --workers N` "
        "(at most CREDITWATCH_PARTITIONS; default 1)",
    )
    bench.add_argument(
        "--compare-workers",
        action="store_true",
        help="first run the sustained phase with one worker on a stack of its own, then the "
        "benchmark with --workers N on a fresh one, and report the ratio of the rates",
    )
    bench.add_argument("--json", type=Path, help="write the figures to this JSON file")
    bench.add_argument("--docs", type=Path, help="write the results section of this markdown file")
    bench.add_argument("--no-progress", action="store_true")
    bench.set_defaults(run=_bench)

    load = sub.add_parser(
        "bench-api", help="lookup latency under a stated request rate, measured with wrk"
    )
    load.add_argument("--enterprises", type=int, default=5000)
    load.add_argument("--events", type=int, default=20000)
    load.add_argument(
        "--rate", type=float, default=500.0, help="at most this many requests per second"
    )
    load.add_argument("--duration", type=int, default=20, help="seconds per scenario")
    load.add_argument("--connections", type=int, default=10)
    load.add_argument("--batch-size", type=int, default=100, help="USCCs per batch lookup")
    load.add_argument(
        "--batch-rate", type=float, default=100.0, help="batch lookups per second (0: none)"
    )
    load.add_argument("--no-progress", action="store_true")
    load.set_defaults(run=_bench_api)

    console = sub.add_parser(
        "bench-console",
        help="each console page's server-side p50/p95 with many firms stored (written "
        "straight through the store)",
    )
    console.add_argument("--firms", type=int, default=100_000)
    console.add_argument("--requests", type=int, default=30, help="requests per page")
    console.add_argument("--no-progress", action="store_true")
    console.set_defaults(run=_bench_console)


def _bench_console(args: argparse.Namespace) -> int:
    from streams.bench.console_load import run_bench_console

    report = run_bench_console(args.firms, args.requests, progress=not args.no_progress)
    print(report)
    return 0


def _bench_api(args: argparse.Namespace) -> int:
    from streams.bench.api_load import run_bench_api

    report = run_bench_api(
        args.enterprises, args.events, args.rate, args.duration, args.connections,
        args.batch_size, progress=not args.no_progress, batch_rate=args.batch_rate,
    )  # fmt: skip
    print(report)
    return 0 if report.ok else 1  # errors, or the rate offered not kept up with


def _bench(args: argparse.Namespace) -> int:
    from streams.bench import report as bench_report
    from streams.bench.end_to_end import BenchOptions, run_bench

    options = BenchOptions(
        enterprises=args.enterprises,
        events=args.events,
        rate=args.rate,
        latency_seconds=args.latency_seconds,
        naive_events=args.naive_events,
        seed=args.seed,
        batch_size=args.batch_size,
        max_seconds=args.max_seconds or None,
        envelope=args.envelope,
        workers=args.workers,
        compare_workers=args.compare_workers,
        json_path=args.json,
        docs_path=args.docs,
        progress=not args.no_progress,
    )
    result = run_bench(options, args.log_level)
    if result is None:
        print("creditwatch bench: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    print(bench_report.render(result), flush=True)
    return 0
