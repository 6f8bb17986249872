"""Rebuilding an enterprise from its journal (every event applied to it): its state,
and the snapshots of its timeline (rules/timeline.py) over a stretch of event time, as
a replay of the stream cut at any of those dates would give them. Used when a late
event invalidates what the timeline holds after its time. Pure."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from rules.catalogue import NOTHING_RELATED, Related
from rules.engine import Outcome, catch_up, process_event, recheck
from rules.folding import apply_event
from rules.records import Snapshot, WarningRecord
from rules.ruleset import RuleSet
from rules.state import EnterpriseState
from rules.timeline import JournalEntry


def replay(
    uscc: str,
    journal: Iterable[JournalEntry],
    *,
    since: str | None = None,
    until: str | None = None,
    related: Callable[[EnterpriseState], Related] | Related = NOTHING_RELATED,
    ruleset: RuleSet | None = None,
    override: dict[str, Any] | None = None,
    raised: list[WarningRecord] | None = None,
    dispositions: dict[str, Any] | None = None,
    entered: dict[str, Any] | None = None,
) -> tuple[EnterpriseState, list[Snapshot]]:
    """Rebuild an enterprise from its journal: the state with every event up to
    `until` (UTC ISO; default all), and the snapshots from `since` on (default: from
    the first event). Events before `since` are folded without evaluating; from
    `since`, it evaluates at each event time and at each recheck due by `until`. The
    warnings raised on the way (status open) are appended to `raised` if given. The
    override, the warnings' dispositions and the results entered for its inspections
    are the enterprise's as they stand now.

    >>> j = [["2026-03-01T02:00:00+00:00", "court.dishonest_listed", "e1", {"case_no": "C1"}]]
    >>> state, snaps = replay("91440300708461136T", j)
    >>> state.grade, [(s["at"], s["grade"]) for s in snaps]
    ('D', [('2026-03-01T02:00:00+00:00', 'D')])
    """
    state = EnterpriseState(
        uscc,
        override=override,
        dispositions=dict(dispositions or {}),
        entered_results=dict(entered or {}),
    )
    snaps: list[Snapshot] = []
    entries = sorted((e for e in journal if until is None or e[0] <= until), key=_order)
    pending = since
    for at, etype, event_id, payload, *model in entries:
        # the models' view as it was at the event (a replay never re-scores)
        state.model = model[0] if model else None
        moment = datetime.fromisoformat(at)
        if pending is not None and at < pending:
            apply_event(state, etype, payload, event_id, at)
            continue
        if pending is not None and state.clock is not None:
            # the stretch starts at `since` itself (a related party changed then)
            start = datetime.fromisoformat(pending)
            snaps += _kept(
                recheck(state, at=start, now=start, related=related, ruleset=ruleset), raised
            )
        pending = None
        out = process_event(
            state, etype=etype, payload=payload, event_id=event_id, occurred_at=moment,
            now=moment, related=related, ruleset=ruleset,
        )  # fmt: skip
        snaps += _kept(out, raised)
    if pending is not None and state.clock is not None:  # nothing at or after `since`
        start = datetime.fromisoformat(pending)
        snaps += _kept(
            recheck(state, at=start, now=start, related=related, ruleset=ruleset), raised
        )
    if until is not None and state.clock is not None:
        out = catch_up(
            state, _after(until), now=datetime.fromisoformat(until), related=related,
            ruleset=ruleset,
        )  # fmt: skip
        snaps += _kept(out, raised)
    return state, snaps


def _kept(out: Outcome, raised: list[WarningRecord] | None) -> list[Snapshot]:
    """The outcome's snapshots; its newly raised warnings go to `raised`, if given."""
    if raised is not None:
        raised += [w for w in out.warnings if w["status"] == "open"]
    return out.snapshots


def _order(entry: JournalEntry) -> tuple[str, str]:
    return entry[0], entry[2]


def _after(at: str) -> str:
    """A bound just past `at`, so a recheck due exactly at `at` is caught up."""
    return at + "\x7f"
