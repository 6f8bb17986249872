"""`creditwatch evaluate`: the online model against the rules alone, on a simulated city
with a known risk process (streams/offline/evaluate.py); `creditwatch directory rebuild`: the
lookup index rewritten from the stored states."""

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

    directory = sub.add_parser("directory", help="the lookup index (cw:directory)")
    dsub = directory.add_subparsers(required=True, metavar="ACTION")
    rebuild = dsub.add_parser(
        "rebuild",
        help="rewrite every enterprise's directory entry from its state (after an upgrade "
        "from a version without the directory); safe while workers run",
    )
    rebuild.add_argument("--no-progress", action="store_true")
    rebuild.set_defaults(run=_rebuild_directory)


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


def _rebuild_directory(args: argparse.Namespace) -> int:
    import asyncio

    from tqdm import tqdm

    from streams.settings import StoreSettings
    from streams.store import Store

    async def rebuild() -> int:
        store = Store.from_settings(StoreSettings())
        bar = tqdm(disable=args.no_progress, desc="directory", unit="firm")
        written = 0
        try:
            async for n in store.rebuild_directory():
                written += n
                bar.update(n)
        finally:
            bar.close()
            await store.close()
        return written

    print(f"directory: {asyncio.run(rebuild()):,} entries written")
    return 0
