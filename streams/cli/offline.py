"""`creditwatch backtest` (a candidate rule set beside the one in force) and `creditwatch
evaluate` (the online model against the rules alone): offline runs through the pipeline
(streams/offline/).

Both import their run when it starts (start-up cost: the parser is built at every start
of the command, and the pipeline loads faust, redis and river)."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from streams.cli.rules import read_addresses, with_store


def add_commands(sub: Any) -> None:
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

    evaluate = sub.add_parser(
        "evaluate",
        help="replay a simulated city with a known risk process; print the model's AUC "
        "next to the rules-only score's",
    )
    evaluate.add_argument("--enterprises", type=int, default=2000)
    evaluate.add_argument("--days", type=int, default=730)
    evaluate.add_argument("--seed", type=int, default=7)
    evaluate.add_argument(
        "--drift-day",
        type=int,
        help="from this day on, the observable signals stop carrying the risk: watch the "
        "model fall back to the rules",
    )
    evaluate.add_argument("--json", type=Path, help="also write the figures here")
    evaluate.add_argument("--no-progress", action="store_true")
    evaluate.set_defaults(run=_evaluate)


def _backtest(args: argparse.Namespace) -> int:
    from rules.ruleset import default_ruleset, load_rules_file
    from streams.offline.backtest import run_backtest
    from streams.store import StoreError

    if not args.events.is_file():
        raise FileNotFoundError(f"no such events file: {args.events}")
    candidate = load_rules_file(args.rules)
    if args.baseline:
        baseline = load_rules_file(args.baseline)
    else:
        try:
            baseline = asyncio.run(with_store(lambda s: s.get_ruleset())) or default_ruleset()
        except (StoreError, OSError):
            baseline = default_ruleset()
    allowlist = read_addresses(args.allowlist) if args.allowlist else []
    report = run_backtest(args.events, candidate, baseline, allowlist, not args.no_progress)
    print(report.render(args.show))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from streams.offline.evaluate import evaluate, render

    if args.enterprises < 1 or args.days < 200:
        raise SystemExit("creditwatch evaluate: needs --enterprises >= 1 and --days >= 200 "
                         "(labels resolve 180 days after their sample)")  # fmt: skip
    result = evaluate(
        seed=args.seed,
        enterprises=args.enterprises,
        days=args.days,
        drift_day=args.drift_day,
        progress=not args.no_progress,
    )
    report = result.report()
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0
