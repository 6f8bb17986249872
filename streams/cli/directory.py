"""`creditwatch directory rebuild`: the lookup index rewritten from the stored states."""

from __future__ import annotations

import argparse
from typing import Any

from streams.cli.store_pass import run_pass


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
    written = run_pass(
        lambda store: store.rebuild_directory(), "directory", "firm", not args.no_progress
    )
    print(f"directory: {written:,} entries written")
    return 0
