"""The rule commands of `creditwatch`: rules (show, check, load), allowlist, backtest."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from streams.settings import StoreSettings


def add_commands(sub: Any) -> None:
    rules = sub.add_parser("rules", help="show, check or publish the rule set")
    rsub = rules.add_subparsers(required=True, metavar="ACTION")
    show = rsub.add_parser("show", help="the indicator catalogue with its settings")
    show.add_argument("--file", type=Path, help="a rules file (default: the built-in defaults)")
    show.add_argument("--published", action="store_true", help="the set published in Redis")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=_rules_show)
    check = rsub.add_parser("check", help="validate a rules file")
    check.add_argument("file", type=Path)
    check.set_defaults(run=_rules_check)
    load = rsub.add_parser("load", help="validate a rules file and put it in force (hot reload)")
    load.add_argument("file", type=Path)
    load.set_defaults(run=_rules_load)

    allow = sub.add_parser("allowlist", help="approved cluster addresses (一址多照 exempt)")
    asub = allow.add_subparsers(required=True, metavar="ACTION")
    asub.add_parser("list", help="print the approved addresses").set_defaults(run=_allow_list)
    for name, help_ in (("add", "approve an address"), ("remove", "withdraw an approval")):
        cmd = asub.add_parser(name, help=help_)
        cmd.add_argument("address")
        cmd.set_defaults(run=_allow_change, adding=name == "add")
    aload = asub.add_parser("load", help="approve every address in a file (one per line)")
    aload.add_argument("file", type=Path)
    aload.set_defaults(run=_allow_load)

    bt = sub.add_parser(
        "backtest", help="replay events through a candidate rule set beside the one in force"
    )
    bt.add_argument("events", type=Path, help="a JSONL file of events (one per line)")
    bt.add_argument("--rules", type=Path, required=True, help="the candidate rules file")
    bt.add_argument(
        "--baseline",
        type=Path,
        help="rules file to compare against (default: the set published in Redis if "
        "reachable, else the built-in defaults)",
    )
    bt.add_argument("--allowlist", type=Path, help="approved addresses, one per line")
    bt.add_argument("--show", type=int, default=20, help="grade changes to list")
    bt.add_argument("--no-progress", action="store_true")
    bt.set_defaults(run=_backtest)

    bench = sub.add_parser(
        "bench",
        help="the whole pipeline end to end on the embedded stack: throughput, latency at a "
        "fixed rate, Redis per enterprise, worker CPU and RSS, beside two baselines",
    )
    bench.add_argument("--enterprises", type=int, default=100_000)
    bench.add_argument("--events", type=int, default=1_000_000)
    bench.add_argument(
        "--rate", type=float, default=5000.0, help="events/s offered in the latency phase"
    )
    bench.add_argument(
        "--latency-seconds", type=float, default=20.0, help="length of the latency phase"
    )
    bench.add_argument(
        "--naive-events",
        type=int,
        help="events replayed through the naive baseline (default: min(events, 5000))",
    )
    bench.add_argument(
        "--max-seconds",
        type=float,
        default=180.0,
        help="send no more of the sustained part after this long; 0: send all of it "
        "(default: 180, so the default city's run fits in 10 minutes)",
    )
    bench.add_argument("--seed", type=int, default=3)
    bench.add_argument(
        "--batch-size", type=int, help="the worker's batch size (default: CREDITWATCH_BATCH_SIZE)"
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


def _store() -> Any:
    from streams.store import Store

    return Store.from_settings(StoreSettings())


async def _with_store(action: Any) -> Any:
    store = _store()
    try:
        return await action(store)
    finally:
        await store.close()


def prepare_store(redis_url: str, ruleset: Any, allowlist: list[str]) -> None:
    """Before the worker starts: put a rule set in force and approve addresses."""
    if ruleset is None and not allowlist:
        return
    from streams.store import Store

    async def prepare() -> None:
        store = Store.from_url(redis_url, StoreSettings().key_prefix)
        try:
            if ruleset is not None:
                await store.put_ruleset(ruleset)
            for address in allowlist:
                await store.allow_address(address)
        finally:
            await store.close()

    asyncio.run(prepare())


def demo_allowlist() -> list[str]:
    """The approved incubator addresses of the demo city."""
    from streams.simulation import DEMO_PRESET, generate_city

    truth = generate_city(**DEMO_PRESET).truth
    return sorted(getattr(truth, "allowed_addresses", ()))


def _rules_show(args: argparse.Namespace) -> int:
    from rules.catalogue import ASPECTS
    from rules.ruleset import default_ruleset, load_rules_file

    if args.published:
        ruleset = asyncio.run(_with_store(lambda s: s.get_ruleset())) or default_ruleset()
    else:
        ruleset = load_rules_file(args.file) if args.file else default_ruleset()
    rules = ruleset.describe()
    if args.json:
        print(json.dumps({"version": ruleset.version, "source": ruleset.source, "rules": rules},
                         ensure_ascii=False, indent=2))  # fmt: skip
        return 0
    print(f"rule set {ruleset.version} ({ruleset.source}): {len(rules)} indicators")
    for aspect, (label, categories) in ASPECTS.items():
        print(f"\n{label}")
        for category, clabel in categories.items():
            members = [r for r in rules if r["aspect"] == aspect and r["category"] == category]
            if not members:
                continue
            print(f"  {clabel}")
            for r in members:
                state = "" if r["enabled"] else "  [disabled]"
                params = ", ".join(f"{k}={v}" for k, v in r["params"].items() if k != "industries")
                print(f"    {r['rule_id']:<25} {r['severity']:<6} -{r['deduction']:<3} "
                      f"{params}{state}")  # fmt: skip
    return 0


def _rules_check(args: argparse.Namespace) -> int:
    from rules.ruleset import load_rules_file

    ruleset = load_rules_file(args.file)
    changed = sum(len(v) for v in ruleset.overrides.values())
    print(f"{args.file}: rule set {ruleset.version}, {changed} setting(s) overridden: OK")
    return 0


def _rules_load(args: argparse.Namespace) -> int:
    from rules.ruleset import load_rules_file

    ruleset = load_rules_file(args.file)  # nothing is published unless it is valid
    previous = asyncio.run(_with_store(lambda s: _publish(s, ruleset)))
    print(f"rule set {ruleset.version} published (was {previous}); running workers switch "
          "at their next batch")  # fmt: skip
    return 0


async def _publish(store: Any, ruleset: Any) -> str:
    current = await store.get_ruleset()
    await store.put_ruleset(ruleset)
    return current.version if current else "the built-in defaults"


def _allow_list(_args: argparse.Namespace) -> int:
    for address in asyncio.run(_with_store(lambda s: s.allowed_addresses())):
        print(address)
    return 0


def _allow_change(args: argparse.Namespace) -> int:
    if not args.address.strip():
        raise ValueError("the address is empty")
    method = "allow_address" if args.adding else "disallow_address"
    changed = asyncio.run(_with_store(lambda s: getattr(s, method)(args.address)))
    verb = "approved" if args.adding else "withdrawn"
    print(f"{verb}: {args.address}" if changed else f"no change: {args.address}")
    return 0


def read_addresses(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _allow_load(args: argparse.Namespace) -> int:
    addresses = read_addresses(args.file)

    async def load(store: Any) -> int:
        return sum([await store.allow_address(a) for a in addresses])

    added = asyncio.run(_with_store(load))
    print(f"{added} new of {len(addresses)} addresses approved")
    return 0


def _backtest(args: argparse.Namespace) -> int:
    from redis.exceptions import RedisError

    from rules.ruleset import default_ruleset, load_rules_file
    from streams.offline.backtest import run_backtest

    if not args.events.is_file():
        raise FileNotFoundError(f"no such events file: {args.events}")
    candidate = load_rules_file(args.rules)
    if args.baseline:
        baseline = load_rules_file(args.baseline)
    else:
        try:
            baseline = asyncio.run(_with_store(lambda s: s.get_ruleset())) or default_ruleset()
        except (RedisError, OSError):
            baseline = default_ruleset()
    allowlist = read_addresses(args.allowlist) if args.allowlist else []
    report = run_backtest(args.events, candidate, baseline, allowlist, not args.no_progress)
    print(report.render(args.show))
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
    from streams.bench.pipeline import BenchOptions, run_bench

    options = BenchOptions(
        enterprises=args.enterprises,
        events=args.events,
        rate=args.rate,
        latency_seconds=args.latency_seconds,
        naive_events=args.naive_events,
        seed=args.seed,
        batch_size=args.batch_size,
        max_seconds=args.max_seconds or None,
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
