"""`creditwatch indexes migrate`: the related-party indexes moved into the store's
buckets, from one key per person (address) or buckets of another count
(streams/store/related_upgrade.py).

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
        help="move the people's and addresses' firms into the store's buckets: from one "
        "key each (after an upgrade from a version with one key per person) or from "
        "buckets of another count; stop the workers and the API first; safe to run again",
    )
    migrate.add_argument(
        "--buckets", type=int, help="change the count of buckets first (about firms / 20)"
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
            async for n in store.migrate_related_indexes(args.buckets):
                moved += n
                bar.update(n)
        finally:
            bar.close()
            await store.close()
        return moved

    print(f"indexes: {asyncio.run(migrate()):,} keys of another layout moved")
    return 0
