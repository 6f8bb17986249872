"""`creditwatch dlq`: list the dead letters by reason, and replay chosen ones to the input
topic once their producer or the contract is fixed (streams/topics/dead_letters.py).

The Kafka reader is imported when a command runs (start-up cost: the parser is built at
every start of the command)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from streams.cli.options import add_envelope
from streams.contract.rejections import REASONS
from streams.settings import StreamSettings

if TYPE_CHECKING:
    from streams.topics.dead_letters import DeadLetter

REPLAY_HELP = """\
Produce the chosen dead letters' exact original bytes to the input topic, keyed as
`creditwatch ingest` keys them. Safe to repeat: every event carries its event_id and
the worker applies an event once, so a replay never counts an event twice. One that is
still broken is dead-lettered again: fix the producer (or the contract) first, then
replay. Identical originals are sent once."""


def add_commands(sub: Any) -> None:
    dlq = sub.add_parser("dlq", help="list dead letters by reason; replay them after a fix")
    dsub = dlq.add_subparsers(required=True, metavar="ACTION")

    listing = dsub.add_parser(
        "list",
        help="a summary by reason, then the entries (never the original event: it may "
        "hold personal data)",
    )
    listing.add_argument("--reason", help="only this reason (e.g. invalid_uscc)")
    listing.add_argument(
        "--since", help="only dead letters from this time on (ISO 8601; without an offset: UTC)"
    )
    listing.add_argument("--json", action="store_true", help="one JSON document")
    listing.add_argument(
        "--limit", type=int, default=50, help="entries to list, the latest (default 50)"
    )
    listing.add_argument("--no-progress", action="store_true")
    listing.set_defaults(run=_list)

    replay = dsub.add_parser(
        "replay",
        help="produce dead letters back to the input topic (safe to repeat)",
        description=REPLAY_HELP,
    )
    chosen = replay.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--reason", help="every dead letter with this reason")
    chosen.add_argument(
        "--id", nargs="+", metavar="PARTITION:OFFSET", help="these dead letters (see `dlq list`)"
    )
    chosen.add_argument("--event-id", nargs="+", help="the dead letters of these event ids")
    replay.add_argument(
        "--dry-run", action="store_true", help="say what would be sent; send nothing"
    )
    add_envelope(replay)
    replay.add_argument("--no-progress", action="store_true")
    replay.set_defaults(run=_replay)


def _fail(message: str) -> int:
    print(f"creditwatch dlq: {message}", file=sys.stderr)
    return 1


def _read(
    no_progress: bool, keep: Callable[[DeadLetter], bool], originals: bool = True
) -> list[DeadLetter]:
    """The dead letters on the topic that `keep` (raises DeadLetterError); without
    `originals` their bytes are dropped as they are read (a big topic fits in memory)."""
    from dataclasses import replace

    from tqdm import tqdm

    from streams.topics.dead_letters import DeadLetterReader

    with DeadLetterReader(StreamSettings()) as reader:
        total = reader.pending()
        with tqdm(total=total, unit="rec", desc="dead letters", disable=no_progress) as bar:
            kept = (d for d in reader.read(bar.update) if keep(d))
            return [d if originals else replace(d, original=b"") for d in kept]


def _check_reason(reason: str | None) -> str | None:
    """An error message for a reason decode never gives, else None."""
    if reason is None or reason in REASONS:
        return None
    return f"unknown reason {reason!r}; one of {', '.join(sorted(REASONS))}"


def _list(args: argparse.Namespace) -> int:
    from streams.topics.dead_letters import DeadLetterError, summarise

    if problem := _check_reason(args.reason):
        return _fail(problem)
    since = None
    if args.since:
        try:
            since = datetime.fromisoformat(args.since)
        except ValueError:
            return _fail(f"--since {args.since!r} is not an ISO 8601 date or time")
        if since.utcoffset() is None:
            since = since.replace(tzinfo=UTC)
    if args.limit < 0:
        return _fail("--limit must be 0 or more")

    def wanted(d: DeadLetter) -> bool:
        return (args.reason is None or d.reason == args.reason) and (
            since is None or (d.dead_at is not None and d.dead_at >= since)
        )

    try:
        letters = _read(args.no_progress, wanted, originals=False)
    except DeadLetterError as exc:
        return _fail(str(exc))
    epoch = datetime.min.replace(tzinfo=UTC)
    letters.sort(key=lambda d: (d.dead_at or epoch, d.partition, d.offset))
    shown = letters[-args.limit :] if args.limit else []
    summary = summarise(letters)
    if args.json:
        document = {
            "total": len(letters),
            "by_reason": [
                {
                    "reason": s.reason,
                    "count": s.count,
                    "first": s.first.isoformat() if s.first else None,
                    "last": s.last.isoformat() if s.last else None,
                }
                for s in summary
            ],
            "entries": [d.public() for d in shown],
        }
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return 0
    if not letters:
        print("no dead letters" + (" match" if args.reason or since else ""))
        return 0
    print(f"{len(letters)} dead letters")
    print(f"  {'reason':<20} {'count':>7}  {'first dead_at':<32} last dead_at")
    for s in summary:
        first = s.first.isoformat() if s.first else "-"
        last = s.last.isoformat() if s.last else "-"
        print(f"  {s.reason:<20} {s.count:>7}  {first:<32} {last}")
    if shown:
        print(f"\nthe latest {len(shown)} of {len(letters)}:")
        for d in shown:
            row = d.public()
            print(
                f"  {row['id']:<10} {row['dead_at'] or '-':<32} {d.reason:<18} "
                f"{row['field'] or '-':<24} {row['event_id'] or '-'}\n      {row['detail']}"
            )
    return 0


def _parse_ids(texts: list[str]) -> tuple[set[tuple[int, int]], list[str]]:
    """(partition, offset) pairs, and the texts that are not PARTITION:OFFSET."""
    ids, bad = set(), []
    for text in texts:
        partition, colon, offset = text.partition(":")
        if colon and partition.isdigit() and offset.isdigit():
            ids.add((int(partition), int(offset)))
        else:
            bad.append(text)
    return ids, bad


def _replay(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from streams.topics.dead_letters import DeadLetterError, distinct, replay

    if problem := _check_reason(args.reason):
        return _fail(problem)
    ids: set[tuple[int, int]] = set()
    if args.id:
        ids, bad = _parse_ids(args.id)
        if bad:
            return _fail(f"not a dead-letter id (PARTITION:OFFSET, as `dlq list` shows): {bad}")
    event_ids = set(args.event_id or ())

    def wanted(d: DeadLetter) -> bool:
        if args.reason:
            return d.reason == args.reason
        return (d.partition, d.offset) in ids if args.id else d.event_id in event_ids

    try:
        chosen = _read(args.no_progress, wanted)
    except DeadLetterError as exc:
        return _fail(str(exc))
    if args.reason:
        missing = [] if chosen else [f"reason {args.reason}"]
    elif args.id:
        found = {(d.partition, d.offset) for d in chosen}
        missing = [f"id {p}:{o}" for p, o in sorted(ids - found)]
    else:
        missing = [f"event_id {e}" for e in sorted(event_ids - {d.event_id for d in chosen})]
    if missing:  # all or nothing: a typo must not replay half of what was meant
        return _fail(f"no dead letter with {', '.join(missing)}; nothing replayed")
    events = distinct(chosen)
    repeats = len(chosen) - len(events)
    settings = StreamSettings()
    if args.dry_run:
        print(f"would replay {len(events)} events to {settings.events_topic} (dry run)")
        for d in events:
            print(f"  {d.id:<10} {d.reason:<18} {d.public()['event_id'] or '-'}")
    else:
        try:
            with tqdm(total=len(events), unit="ev", desc="replay", disable=args.no_progress) as bar:
                sent = replay(events, settings, bar.update, args.envelope)
        except DeadLetterError as exc:
            return _fail(str(exc))
        print(f"replayed {sent} events to {settings.events_topic}")
    if repeats:
        print(f"({repeats} dead letters held an original already chosen: sent once)")
    return 0
