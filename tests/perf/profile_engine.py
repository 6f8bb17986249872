"""The pure engine over a simulated city, states in a dict (no Redis, no Kafka): CPU
per event and per rule evaluation. Run from the repository root:

    .venv/bin/python -m tests.perf.profile_engine --enterprises 3000 --events 30000

Person events (dishonest listings) go to the in-memory listings index; every other
event through `process_event` with the related parties viewed from in-memory indexes,
as the worker's batch does. No models (the learner is a separate stage). Times are
CPU times (process and thread), so a busy machine slows them less than wall time.
`--per-rule` times each rule with the garbage collector off (its pauses would land on
whichever rule is running), so its engine figure is not the one to compare.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from rules.catalogue import Hit, Params, RuleInput
from rules.engine import process_event
from rules.learning.learner import Learner
from rules.related import RelatedData, view
from rules.ruleset import RuleSet, default_ruleset
from rules.state import EnterpriseState
from streams.contract.events import Event, decode
from streams.simulation import generate_city, to_bytes

Evaluate = Callable[[RuleInput, Params], Hit | None]


def _timed(rule_id: str, evaluate: Evaluate, spent: dict[str, list[float]]) -> Evaluate:
    def wrapper(data: RuleInput, p: Params) -> Hit | None:
        start = time.thread_time()
        try:
            return evaluate(data, p)
        finally:
            entry = spent[rule_id]
            entry[0] += time.thread_time() - start
            entry[1] += 1

    return wrapper


def city_events(
    enterprises: int, events: int, days: int = 365, seed: int = 7
) -> list[tuple[Event, dict[str, Any]]]:
    """A simulated city's events, decoded as the worker decodes them, each with its
    payload as JSON values."""
    city = generate_city(seed=seed, enterprises=enterprises, events=events,
                         start=date(2026, 1, 1), days=days)  # fmt: skip
    decoded: list[tuple[Event, dict[str, Any]]] = []
    for item in city.events():
        for event in decode(to_bytes(item)):
            if isinstance(event, Event):
                decoded.append((event, event.payload.model_dump(mode="json")))
    return decoded


def fold(
    events: list[tuple[Event, dict[str, Any]]],
    ruleset: RuleSet,
    after: Callable[[EnterpriseState], None] | None = None,
    learner: Learner | None = None,
) -> tuple[dict[str, EnterpriseState], int]:
    """Every event through the engine, states in a dict (`after` sees each state once
    its event is applied; with a `learner`, the models' samples are kept, without a
    model); the states, and how many events were applied."""
    states: dict[str, EnterpriseState] = {}
    data = RelatedData()
    applied = 0
    for event, payload in events:
        if event.type.startswith("person."):
            if event.type == "person.dishonest_listed":
                entry = f"{event.event_id}|{event.occurred_at.isoformat()}"
                data.listings.setdefault(event.key, []).append(entry)
            continue
        uscc = event.uscc
        state = states.get(uscc) or states.setdefault(uscc, EnterpriseState(uscc))
        moment: datetime = event.occurred_at
        process_event(state, etype=event.type, payload=payload, event_id=event.event_id,
                      occurred_at=moment, now=moment, related=lambda s: view(s, data),
                      ruleset=ruleset, learner=learner)  # fmt: skip
        applied += 1
        if after is not None:
            after(state)
    return states, applied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=3000)
    parser.add_argument("--events", type=int, default=30000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-rule", action="store_true", help="time each rule (slower)")
    args = parser.parse_args()

    events = city_events(args.enterprises, args.events, args.days, args.seed)
    ruleset = default_ruleset()
    spent: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    if args.per_rule:
        wrapped = [
            dataclasses.replace(
                a,
                rule=dataclasses.replace(
                    a.rule, evaluate=_timed(a.rule.rule_id, a.rule.evaluate, spent)
                ),
            )
            for a in ruleset.active()
        ]
        ruleset.__dict__["_active"] = wrapped  # the cached list the engine reads
        gc.disable()  # a collection would land on whichever rule happens to be running

    start = time.process_time()
    states, applied = fold(events, ruleset)
    cpu = time.process_time() - start
    print(f"events applied: {applied}, firms: {len(states)}")
    print(f"engine CPU: {cpu:.2f} s, {cpu / applied * 1e6:.0f} us per event")
    size = sum(len(s.to_json()) for s in states.values()) / len(states)
    print(f"state JSON: {size:.0f} bytes per enterprise (mean)")
    if args.per_rule:
        total = sum(s for s, _ in spent.values())
        calls = max(n for _, n in spent.values())
        print(f"rules: {total / calls * 1e6:.1f} us per evaluation ({calls} evaluations)")
        for rule_id, (seconds, n) in sorted(spent.items(), key=lambda kv: -kv[1][0]):
            print(f"  {rule_id:26s} {seconds / n * 1e6:6.2f} us")


if __name__ == "__main__":
    main()
