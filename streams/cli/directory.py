"""`creditwatch directory rebuild`: the lookup index rewritten from the stored states.

The store is imported when the command runs (start-up cost: the parser is built at
every start of the command)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from streams.settings import StoreSettings


def add_commands(sub: Any) -> None:
    directory = sub.add_parser("directory", help="the lookup index (cw:directory)")
    dsub = directory.add_subparsers(required=True, metavar="ACTION")
    rebuild = dsub.add_parser(
        "rebuild",
        help="rewrite every enterprise's directory entry from its state (after an upgrade "
        "from a version without the directory); safe while workers run",
    )
    rebuild.add_argument("--no-progress", action="store_true")
    rebuild.set_defaults(run=_rebuild_directory)


def _rebuild_directory(args: argparse.Namespace) -> int:
    from tqdm import tqdm

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
