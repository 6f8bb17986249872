"""`creditwatch indexes migrate`: the related-party indexes moved into the store's
buckets, from one key per person (address) or buckets of another count
(streams/store/related_upgrade.py)."""

from __future__ import annotations

import argparse
from typing import Any

from streams.cli.store_pass import run_pass


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
    moved = run_pass(
        lambda store: store.migrate_related_indexes(args.buckets),
        "indexes",
        "key",
        progress=not args.no_progress,
    )
    print(f"indexes: {moved:,} keys of another layout moved")
    return 0
