"""One attempt at a batch's enterprise events: load, evaluate, commit (see
agents/pipeline.py). Risk logic stays in rules/; this is the bookkeeping around it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from agents import metrics
from agents.stages import STAGE_CPU, Laps, TimedLearner
from rules import rebuild, timeline
from rules.addresses import address_key, normalize_address
from rules.calendar import local_day
from rules.engine import Outcome, process_event, recheck
from rules.learning.scorer import Scorer
from rules.records import Snapshot
from rules.related import Links, RelatedData, arrival, floors, peers_to_recheck, view
from rules.ruleset import RuleSet
from rules.state import EnterpriseState, key_people_of
from streams.contract.events import Event
from streams.store import Commit, LinkUpdate
from streams.store.ports import WorkerPort

if TYPE_CHECKING:
    from agents.pipeline import BatchResult

log = logging.getLogger(__name__)

_PEOPLE_FIELDS = ("legal_rep", "officers", "shareholders")
#: the events that can change an enterprise's entries in the related-party indexes
_LINKING = frozenset(("enterprise.registered", "registration.changed", "enterprise.deregistered"))


@dataclass(frozen=True)
class Recheck:
    """Re-evaluate an enterprise as of `at` (a timer, or a related party changed: then
    `rebuild` its timeline from `at` if that is before its clock)."""

    at: datetime
    rebuild: bool = False


@dataclass(frozen=True)
class Sweep:
    """The day's sweep of the enterprise's model labels: release those whose horizon
    ended before `at` (streams/store/labels.py). No evaluation."""

    at: datetime


Item = Event | Recheck | Sweep


Follow = Callable[[str | None, str | None], Awaitable[tuple[RuleSet, Scorer | None]]]


class EnterpriseBatch:
    def __init__(self, store: WorkerPort, ruleset: RuleSet, now: datetime):
        self.store, self.ruleset, self.now = store, ruleset, now
        self.learner = TimedLearner()

    async def run(
        self, by_uscc: dict[str, list[Item]], result: BatchResult, follow: Follow
    ) -> set[str]:
        """Apply the items; the USCCs whose commit lost a race (to retry)."""
        laps = Laps()
        # each payload as JSON values once: early links and the rules both read it
        payloads = {
            id(i): i.payload.model_dump(mode="json")
            for items in by_uscc.values()
            for i in items
            if isinstance(i, Event)
        }
        early_people, early_addresses = _named(by_uscc, payloads)
        with metrics.redis_timer("load"):
            loaded = await self.store.load_enterprises(
                {
                    u: {i.event_id: i.occurred_at for i in items if isinstance(i, Event)}
                    for u, items in by_uscc.items()
                },
                early_people,
                {akey: arrivals for akey, (_, arrivals) in early_addresses.items()},
            )
        metrics.STATE_CACHE.labels("hit").inc(loaded.reused)
        metrics.STATE_CACHE.labels("miss").inc(loaded.decoded)
        self.ruleset, scorer = await follow(loaded.ruleset_version, loaded.model_version)
        self.learner = TimedLearner(scorer)
        fresh = {u: s or EnterpriseState(u) for u, s in loaded.states.items()}
        # a firm only swept is not evaluated: its links, related parties and timeline are
        # not read, and it writes its labels and state alone
        swept = {u for u, items in by_uscc.items() if all(isinstance(i, Sweep) for i in items)}
        before = {u: Links.of(s) for u, s in fresh.items() if u not in swept}
        addresses = {akey: text for akey, (text, _) in early_addresses.items()}
        evaluated = list(before.values())
        for links in evaluated:
            if links.address and links.normalized:
                addresses[links.address[0]] = links.normalized
        pkeys = set(early_people).union(*(links.people for links in evaluated))
        crowd_floors = floors(self.ruleset)
        with metrics.redis_timer("related"):
            data = await self.store.load_related(pkeys, addresses, crowd_floors)
        laps.lap("load")

        linked_early: dict[str, set[str]] = defaultdict(set)
        for pkey, firms in early_people.items():
            for uscc in firms:
                linked_early[uscc].add(pkey)
        moved_early: dict[str, set[str]] = defaultdict(set)
        for akey, (_, arrivals) in early_addresses.items():
            for uscc in arrivals:
                moved_early[uscc].add(akey)

        commits: list[Commit] = []
        link_updates: list[LinkUpdate] = []
        counted: dict[str, list[tuple[str, str]]] = defaultdict(list)
        #: USCC -> when the events that raised its warnings were reported (epoch s)
        reported: dict[str, list[float]] = defaultdict(list)
        late: dict[str, str] = {}
        for uscc, items in sorted(by_uscc.items(), key=lambda e: _first_new(e, loaded.seen)):
            if loaded.states[uscc] is None and not any(isinstance(i, Event) for i in items):
                continue  # a recheck of a firm we know nothing about
            state, applied = fresh[uscc], loaded.seen[uscc]
            state.override = loaded.overrides.get(uscc)
            state.dispositions = loaded.dispositions.get(uscc, {})
            state.entered_results = loaded.entered.get(uscc, {})
            clock_before = state.clock
            previous = timeline.snapshot(state, "") if clock_before and uscc not in swept else None
            commit = Commit(uscc, [], state, state_was=loaded.versions.get(uscc))
            snapshots: list[Snapshot] = []
            stale: list[str] = []  # instants from which the stored timeline may be wrong
            expiry_before = self.learner.next_expiry(state)
            # in time order, so the timeline is written in event time
            ordered = sorted(items, key=_when)
            for n, item in enumerate(ordered):
                if isinstance(item, Sweep):
                    commit.labels += self.learner.sweep(state, _utc(item.at))
                    result.swept += 1
                    continue
                if isinstance(item, Recheck) and _folded(state, item, ordered[n + 1 :], applied):
                    # the next event's catch-up evaluates at exactly this instant
                    result.folded += 1
                    continue
                if isinstance(item, Recheck):
                    if item.rebuild:
                        stale.append(item.at.astimezone(UTC).isoformat())
                    outcome = recheck(
                        state, at=item.at, now=self.now, related=lambda s: view(s, data),
                        ruleset=self.ruleset, learner=self.learner,
                    )  # fmt: skip
                    result.rechecks += 1
                elif item.event_id in applied:
                    result.duplicates += 1
                    metrics.DUPLICATES.inc()
                    continue
                else:
                    applied.add(item.event_id)
                    body = payloads[id(item)]
                    outcome = self._apply(state, item, body, data)
                    commit.event_ids.append(item.event_id)
                    occurred = item.occurred_at.astimezone(UTC).isoformat()
                    entry = [occurred, item.type, item.event_id, body]
                    if state.model is not None:  # the models' view then, for replays
                        entry.append(_journaled(state.model))
                    commit.journal.append(entry)
                    counted[uscc].append((item.type, item.source))
                    if item.reported_at is not None:
                        when = item.reported_at.timestamp()
                        reported[uscc] += [when for w in outcome.warnings if w["status"] == "open"]
                _collect(commit, outcome)
                snapshots += outcome.snapshots
            commit.swept = uscc in swept
            if not commit.labels and commit.swept:
                continue  # swept with nothing to release: nothing to write
            expiry = self.learner.next_expiry(state)
            if expiry != expiry_before:
                commit.label_day = expiry.isoformat() if expiry else None
                commit.label_day_before = expiry_before.isoformat() if expiry_before else None
            if commit.swept:
                # the labels and the state without their samples: nothing else changed
                commits.append(commit)
                continue
            stale += [entry[0] for entry in commit.journal]
            first = min(stale, default=None)
            if first is not None and clock_before is not None and first < clock_before:
                late[uscc] = first  # what was written after it is stale: rebuilt below
            else:
                commit.timeline = timeline.compact(snapshots, previous)
            commits.append(commit)
            after = Links.of(state)
            link_updates.append(
                LinkUpdate(
                    uscc,
                    after.people,
                    before[uscc].people,
                    linked_early[uscc],
                    after.address,
                    before[uscc].address,
                    moved_early[uscc],
                )
            )
            changed = peers_to_recheck(
                uscc,
                before[uscc],
                after,
                data,
                crowd_floors,
                (linked_early[uscc], moved_early[uscc]),
            )
            if changed and state.clock:
                # from the earliest event of the batch that may have changed the links;
                # written with the commit, so a crash after it cannot lose them
                since = min((e[0] for e in commit.journal if e[1] in _LINKING), default=state.clock)
                commit.related_rechecks = dict.fromkeys(changed, since)

        laps.lap("evaluate", less=self.learner.cpu)
        STAGE_CPU.labels("score").inc(self.learner.cpu)
        if late:
            await self._rebuild_timelines(late, commits, data)
        with metrics.redis_timer("commit"):
            written = await self.store.commit(commits, link_updates)
        committed = time.time()
        conflicts: set[str] = set()
        for commit, ok in zip(commits, written, strict=True):
            if not ok:
                # some of these were applied before (a redelivery, or another worker
                # during a rebalance): reload the state and apply what is left
                log.debug("commit for %s found applied events; retrying", commit.uscc)
                conflicts.add(commit.uscc)
                continue
            _count(commit, counted[commit.uscc], result)
            for when in reported[commit.uscc]:
                metrics.END_TO_END_SECONDS.observe(max(0.0, committed - when))
        laps.lap("commit")
        return conflicts

    async def _rebuild_timelines(
        self, late: dict[str, str], commits: list[Commit], data: RelatedData
    ) -> None:
        """An event older than its enterprise's clock: replay the journal from its time
        to the clock now (related parties as they are now) and replace the timeline."""
        with metrics.redis_timer("journals"):
            # and the entry each stretch follows: a first snapshot that says the same
            # is no change (as when the enterprise was evaluated there before)
            journals, *entries = await asyncio.gather(
                self.store.load_journals(late),
                *(self.store.as_of(uscc, since, inclusive=False) for uscc, since in late.items()),
            )
        previous = dict(zip(late, entries, strict=True))
        for commit in commits:
            since = late.get(commit.uscc)
            if since is None:
                continue
            _, snaps = rebuild.replay(
                commit.uscc,
                journals[commit.uscc] + commit.journal,
                since=since,
                until=commit.state.clock,
                related=lambda s: view(s, data),
                ruleset=self.ruleset,
                override=commit.state.override,
                dispositions=commit.state.dispositions,
                entered=commit.state.entered_results,
            )
            commit.timeline = timeline.compact(snaps, previous[commit.uscc])
            commit.replace_from = since
            metrics.TIMELINE_REBUILDS.inc()

    def _apply(
        self, state: EnterpriseState, event: Event, payload: dict[str, Any], data: RelatedData
    ) -> Outcome:
        return process_event(
            state,
            etype=event.type,
            payload=payload,
            event_id=event.event_id,
            occurred_at=event.occurred_at,
            now=self.now,
            related=lambda s: view(s, data),
            ruleset=self.ruleset,
            learner=self.learner,
        )


def _day_of(event: Event) -> str:
    """The event's day in Beijing, ISO."""
    return local_day(event.occurred_at.isoformat()).isoformat()


def _when(item: Item) -> datetime:
    return item.occurred_at if isinstance(item, Event) else item.at


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _folded(state: EnterpriseState, item: Recheck, after: list[Item], applied: set[str]) -> bool:
    """Whether a timer's recheck is the evaluation that the catch-up of a later event
    of the same batch makes anyway (engine.catch_up): the enterprise's next recheck is
    due at exactly its instant, and an event to apply follows it. A related party's
    recheck (`rebuild`) and an operator's nudge (not at the firm's next recheck) are
    never folded."""
    if item.rebuild or not state.clock or state.recheck_at != _utc(item.at):
        return False
    return any(
        isinstance(i, Event) and i.event_id not in applied and i.occurred_at > item.at
        for i in after
    )


def _first_new(entry: tuple[str, list[Item]], seen: dict[str, set[str]]) -> tuple[str, str]:
    """The order firms are evaluated in: by the time of the first item each has to
    apply. The indexes hold the links of the firms evaluated before it, so this, not
    arrival order, which a redelivered event changes, decides what a firm sees."""
    uscc, items = entry
    new = [_when(i) for i in items if not isinstance(i, Event) or i.event_id not in seen[uscc]]
    return (min(new).astimezone(UTC).isoformat() if new else "~", uscc)


def _journaled(model: dict[str, Any]) -> dict[str, Any]:
    """What a replay needs of the models' view: what the model indicators read."""
    return {k: model[k] for k in ("p", "anomaly", "version", "in_force", "event_id")}


def _collect(commit: Commit, outcome: Outcome) -> None:
    commit.warnings.extend(outcome.warnings)
    commit.grade_changes.extend(outcome.grade_changes)
    commit.labels.extend(outcome.labels)
    commit.observed.extend(outcome.observed)
    for rule_id, _error in outcome.rule_errors:
        metrics.RULE_ERRORS.labels(rule_id).inc()


def _count(commit: Commit, kinds: list[tuple[str, str]], result: BatchResult) -> None:
    result.applied += len(commit.event_ids)
    for (etype, source), n in Counter(kinds).items():  # one label lookup per kind
        metrics.EVENTS.labels(etype, source).inc(n)
    for w in commit.warnings:
        if w["status"] == "open":
            result.warnings += 1
            metrics.WARNINGS.labels(w["rule_id"], w["severity"]).inc()
        else:
            result.closed += 1
            metrics.WARNINGS_CLOSED.labels(w["rule_id"]).inc()
    result.grade_changes += len(commit.grade_changes)
    for g in commit.grade_changes:
        metrics.GRADE_CHANGES.labels(g["from_grade"], g["to_grade"]).inc()


def _named(
    by_uscc: dict[str, list[Item]], payloads: dict[int, dict[str, Any]]
) -> tuple[dict[str, set[str]], dict[str, tuple[str, dict[str, str]]]]:
    """The people (person_key -> USCCs) and addresses (address key -> (normalized text,
    {USCC: arrival day and event time})) that a batch's registrations and changes name,
    to link before reading the indexes."""
    people: dict[str, set[str]] = defaultdict(set)
    addresses: dict[str, tuple[str, dict[str, str]]] = {}
    for uscc, items in by_uscc.items():
        for event in items:
            if not isinstance(event, Event):
                continue
            if event.type == "enterprise.registered":
                body = payloads[id(event)]
                day = body.get("established_on") or _day_of(event)
            elif event.type == "registration.changed":
                change = payloads[id(event)]
                if change.get("field") not in (*_PEOPLE_FIELDS, "address"):
                    continue
                body = {change["field"]: change.get("after")}
                day = _day_of(event)
            else:
                continue
            for pkey in key_people_of(body):
                people[pkey].add(uscc)
            if isinstance(body.get("address"), str):
                normalized = normalize_address(body["address"])
                entry = addresses.setdefault(address_key(normalized), (normalized, {}))
                entry[1][uscc] = arrival(day, event.occurred_at.astimezone(UTC).isoformat())
    return people, addresses
