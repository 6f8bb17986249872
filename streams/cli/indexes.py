"""`creditwatch indexes migrate`: the related-party indexes moved from one key per
person (address) into the shared buckets (streams/store/related_upgrade.py).

The store is imported when the command runs (start-up cost: the parser is built at
every start of the command)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from streams.settings import StoreSettings


def add_commands(sub: Any) -> None:
    indexes = sub.add_parser("indexes", help="the related-party indexes (people, addresses)")
    isub = indexes.add_subparsers(required=True, metavar="ACTION")
    migrate = isub.add_parser(
        "migrate",
        help="move the people's and addresses' firms from one key each into the shared "
        "buckets (after an upgrade from a version with one key per person); stop the "
        "workers first; safe to run again",
    )
    migrate.add_argument("--no-progress", action="store_true")
    migrate.set_defaults(run=_migrate)


def _migrate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from streams.store import Store

    async def migrate() -> int:
        store = Store.from_settings(StoreSettings())
        bar = tqdm(disable=args.no_progress, desc="indexes", unit="key")
        moved = 0
        try:
            async for n in store.migrate_related_indexes():
                moved += n
                bar.update(n)
        finally:
            bar.close()
            await store.close()
        return moved

    print(f"indexes: {asyncio.run(migrate()):,} keys of one person or address moved")
    return 0
