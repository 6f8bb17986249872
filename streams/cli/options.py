"""Options several commands share."""

from __future__ import annotations

import argparse

#: as streams.topics.envelopes.DEFAULT_ENVELOPE (not imported: --help stays light)
DEFAULT_ENVELOPE = 100


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def add_envelope(parser: argparse.ArgumentParser, default: int | None = DEFAULT_ENVELOPE) -> None:
    """`--envelope N`: events per Kafka message on the bulk path."""
    shown = f"default {default}" if default is not None else "default: see above"
    parser.add_argument(
        "--envelope",
        type=positive,
        default=default,
        metavar="N",
        help=f"events per Kafka message, in batch envelopes grouped by partition "
        f"(1: one event per message; {shown})",
    )
