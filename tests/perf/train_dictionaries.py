"""How the zstd dictionaries of the compressed records' version 2 were made
(rules/compression.py, rules/dictionaries/): trained on what a simulated city's year
writes, the state after each event (without its derived fields) and the journal's
chunks of one event and of a few. Run from the repository root:

    .venv/bin/python -m tests.perf.train_dictionaries --out /tmp/dictionaries

A record compressed with a dictionary needs exactly those bytes to be read: the files
in rules/dictionaries/ never change (tests/unit/rules/test_packing.py pins them). A
better dictionary is a new version, written beside them, the old ones kept to read:
state-2.zdict was made here before the model samples kept their features packed,
state-3.zdict after; journal-2.zdict is made as it was.
The city here has no trained model, so the models' view in a state and a journal entry
is not in the samples (it costs those records a few bytes).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from datetime import UTC
from pathlib import Path
from typing import Any

import msgpack
import zstandard

from rules.learning.learner import Learner
from rules.ruleset import default_ruleset
from tests.perf.profile_engine import city_events, fold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--enterprises", type=int, default=3000)
    parser.add_argument("--events", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    states: list[bytes] = []
    events = city_events(args.enterprises, args.events, seed=args.seed)
    fold(
        events,
        default_ruleset(),
        after=lambda s: states.append(msgpack.packb(s.stored_fields())),
        learner=Learner(),
    )
    journals: dict[str, list[list[Any]]] = defaultdict(list)
    for event, payload in events:
        if not event.type.startswith("person."):
            at = event.occurred_at.astimezone(UTC).isoformat()
            journals[event.uscc].append([at, event.type, event.event_id, payload])
    chunks = [msgpack.packb([entry]) for entries in journals.values() for entry in entries]
    chunks += [
        msgpack.packb(entries[i : i + 6])
        for entries in journals.values()
        for i in range(0, len(entries), 6)
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    for name, samples, size in (("state-3", states, 32768), ("journal-2", chunks, 16384)):
        trained = zstandard.train_dictionary(size, samples, level=3, threads=1)
        (args.out / f"{name}.zdict").write_bytes(trained.as_bytes())
        print(f"{name}.zdict: {size} bytes from {len(samples)} samples")


if __name__ == "__main__":
    main()
