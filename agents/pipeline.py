"""One batch of messages through decode, the rules and the store.

Kept free of Faust so it runs the same under the worker, in tests against a real
Redis, and in benchmarks. Three Redis round trips per batch: load states (and early
person links), load the dishonest listings of the people involved, commit.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agents import metrics
from rules.engine import process_event
from rules.state import EnterpriseState, key_people_of
from rules.store import Commit, LinkUpdate, Store
from streams.events import Event, Rejected, dead_letter_record, decode, encode_event

log = logging.getLogger(__name__)

_PERSON_LISTINGS = {"person.dishonest_listed": True, "person.dishonest_removed": False}
_PEOPLE_FIELDS = ("legal_rep", "officers")


@dataclass(frozen=True)
class Message:
    """A consumed Kafka message, as much of it as the pipeline needs."""

    topic: str
    partition: int
    offset: int
    value: bytes


@dataclass
class BatchResult:
    applied: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    warnings: int = 0
    grade_changes: int = 0
    #: (key, value) to produce to the fan-out topic
    fanout: list[tuple[str, bytes]] = field(default_factory=list)


class Pipeline:
    def __init__(self, store: Store, fanout_topic: str):
        self.store = store
        self.fanout_topic = fanout_topic

    async def handle(self, messages: list[Message], now: datetime | None = None) -> BatchResult:
        started = time.perf_counter()
        now = now or datetime.now(UTC)
        result = BatchResult()
        metrics.BATCH_SIZE.observe(len(messages))
        person_events: list[Event] = []
        by_uscc: dict[str, list[Event]] = defaultdict(list)
        for message in messages:
            derived = message.topic == self.fanout_topic
            for index, item in enumerate(decode(message.value)):
                if isinstance(item, Rejected):
                    await self._dead_letter(message, index, item, now, result)
                elif item.is_person_event and not derived:
                    person_events.append(item)
                elif item.uscc:
                    by_uscc[item.uscc].append(item)
        if person_events:
            await self._person_events(person_events, result)
        for attempt in range(3):
            if not by_uscc:
                break
            # first optimistically; a retry looks up which events were applied before
            conflicts = await self._enterprise_events(by_uscc, now, result, attempt > 0)
            by_uscc = {u: by_uscc[u] for u in conflicts}
        if by_uscc:
            raise RuntimeError(f"commit conflicts persist for {sorted(by_uscc)}")
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
        return result

    async def _dead_letter(
        self, message: Message, index: int, item: Rejected, now: datetime, result: BatchResult
    ) -> None:
        identity = f"{message.topic}:{message.partition}:{message.offset}:{index}"
        if await self.store.add_dead_letter(identity, dead_letter_record(item, now)):
            metrics.DEAD_LETTERS.labels(item.reason).inc()
            result.dead_letters += 1
        log.info("dead letter %s: %s (%s)", identity, item.reason, item.field or "-")

    async def _person_events(self, events: list[Event], result: BatchResult) -> None:
        """Record each listing on the person, then send a re-evaluation to every
        enterprise the person is linked to, keyed by its USCC (its own partition)."""
        for event in events:
            payload: Any = event.payload
            firms = await self.store.apply_person_listing(
                event.key, event.event_id, payload.case_no, _PERSON_LISTINGS[event.type]
            )
            metrics.EVENTS.labels(event.type, event.source).inc()
            body = event.model_dump(mode="json")
            for uscc in firms:
                derived_id = hashlib.sha1(f"{event.event_id}|{uscc}".encode()).hexdigest()
                result.fanout.append(
                    (uscc, encode_event({**body, "uscc": uscc, "event_id": f"fanout:{derived_id}"}))
                )
        metrics.FANOUT.inc(len(result.fanout))

    async def _enterprise_events(
        self,
        by_uscc: dict[str, list[Event]],
        now: datetime,
        result: BatchResult,
        check_seen: bool,
    ) -> set[str]:
        """Apply the events; the USCCs whose commit lost a race (to retry)."""
        early = _people_named(by_uscc)
        states, seen = await self.store.load_enterprises(
            {u: [e.event_id for e in evs] for u, evs in by_uscc.items()}, early, check_seen
        )
        fresh = {u: s or EnterpriseState(u) for u, s in states.items()}
        before = {u: s.key_people() for u, s in fresh.items()}
        early_by_uscc: dict[str, set[str]] = defaultdict(set)
        for pkey, firms in early.items():
            for uscc in firms:
                early_by_uscc[uscc].add(pkey)
        listings = await self.store.load_listings(
            set(early).union(*(people.keys() for people in before.values()))
        )
        commits: list[Commit] = []
        links: list[LinkUpdate] = []
        kinds: dict[str, list[tuple[str, str]]] = defaultdict(list)  # counted once committed
        for uscc, events in by_uscc.items():
            state, applied = fresh[uscc], seen[uscc]
            commit = Commit(uscc, [], state)
            for event in events:
                if event.event_id in applied:
                    result.duplicates += 1
                    metrics.DUPLICATES.inc()
                    continue
                applied.add(event.event_id)
                outcome = process_event(
                    state,
                    etype=event.type,
                    payload=event.payload.model_dump(mode="json"),
                    event_id=event.event_id,
                    occurred_at=event.occurred_at,
                    now=now,
                    listed_people=listings,
                )
                commit.event_ids.append(event.event_id)
                commit.warnings.extend(outcome.warnings)
                if outcome.grade_change:
                    commit.grade_changes.append(outcome.grade_change)
                for rule_id, _error in outcome.rule_errors:
                    metrics.RULE_ERRORS.labels(rule_id).inc()
                kinds[uscc].append((event.type, event.source))
            if commit.event_ids:
                commits.append(commit)
            links.append(
                LinkUpdate(uscc, state.key_people(), before[uscc], early_by_uscc.get(uscc, set()))
            )
        written = await self.store.commit(commits, links)
        conflicts: set[str] = set()
        for commit, ok in zip(commits, written, strict=True):
            if not ok:
                # some of these were applied before (a redelivery, or another worker
                # during a rebalance): reload the state and apply what is left
                log.debug("commit for %s found applied events; retrying", commit.uscc)
                conflicts.add(commit.uscc)
                continue
            result.applied += len(commit.event_ids)
            for etype, source in kinds[commit.uscc]:
                metrics.EVENTS.labels(etype, source).inc()
            result.warnings += len(commit.warnings)
            result.grade_changes += len(commit.grade_changes)
            for w in commit.warnings:
                metrics.WARNINGS.labels(w["rule_id"], w["severity"]).inc()
            for g in commit.grade_changes:
                metrics.GRADE_CHANGES.labels(g["from_grade"], g["to_grade"]).inc()
        return conflicts


def _people_named(by_uscc: dict[str, list[Event]]) -> dict[str, set[str]]:
    """person_key -> USCCs for every person a batch's events name as legal representative
    or officer, to link before reading their listings."""
    named: dict[str, set[str]] = defaultdict(set)
    for uscc, events in by_uscc.items():
        for event in events:
            if event.type not in ("enterprise.registered", "registration.changed"):
                continue
            body = event.payload.model_dump(mode="json")
            if event.type == "registration.changed":
                if body.get("field") not in _PEOPLE_FIELDS:
                    continue
                body = {body["field"]: body.get("after")}
            for pkey in key_people_of(body):
                named[pkey].add(uscc)
    return named
