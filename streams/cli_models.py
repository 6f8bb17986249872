"""`creditwatch evaluate`: the online model against the rules alone, on a simulated city
with a known risk process (streams/evaluate.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_commands(sub: Any) -> None:
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


def _evaluate(args: argparse.Namespace) -> int:
    from streams.evaluate import evaluate, render

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
