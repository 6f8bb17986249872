"""A backtest of a candidate rule set over the stored history, as a job of this API
process: every enterprise of the directory (at most `backtest_max_firms`) replayed
from its journal with the candidate and with the rule set in force (rules/backtest.py),
a chunk at a time, its progress written after each chunk for the page that polls it.
The replays run in a thread, so the event loop keeps serving meanwhile."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

from rules.backtest import Tally, run_firm
from rules.related import Links, RelatedData, floors, view
from rules.ruleset import RuleSet
from rules.state import EnterpriseState
from streams.store.ports import ApiStore

log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _floors(rulesets: Iterable[RuleSet]) -> tuple[int | None, int | None]:
    """The smallest crowds either rule set may warn about (None: neither needs them)."""
    found = [floors(r) for r in rulesets]
    person = [f[0] for f in found if f[0] is not None]
    address = [f[1] for f in found if f[1] is not None]
    return (min(person) if person else None, min(address) if address else None)


def _replay_chunk(
    part: list[str],
    states: dict[str, EnterpriseState],
    journals: dict[str, list[list[Any]]],
    data: RelatedData,
    in_force: RuleSet,
    candidate: RuleSet,
    tally: Tally,
) -> None:
    for uscc in part:
        journal = journals.get(uscc) or []
        state = states.get(uscc)
        # as of the enterprise's own clock: where its grade in the store stands
        until = (state.clock if state else None) or max((e[0] for e in journal), default=None)
        if until is None:
            continue
        runs = [
            run_firm(uscc, journal, r, until, lambda s: view(s, data))
            for r in (in_force, candidate)
        ]
        tally.add(uscc, *runs)


async def run(
    store: ApiStore, job: dict[str, Any], in_force: RuleSet, candidate: RuleSet,
    max_firms: int, chunk: int,
) -> None:  # fmt: skip
    """Carry out the backtest `job` (its record written as it goes)."""
    try:
        usccs: list[str] = []
        async for uscc, _ in store.iter_directory():
            if len(usccs) == max_firms:
                job["limited"] = True
                break
            usccs.append(uscc)
        job["total"] = len(usccs)
        await store.put_backtest(job)
        tally, crowd = Tally(), _floors((in_force, candidate))
        for start in range(0, len(usccs), chunk):
            part = usccs[start : start + chunk]
            states, journals = await asyncio.gather(
                store.get_enterprises(part), store.load_journals(part)
            )
            links = [Links.of(s) for s in states.values()]
            people = set().union(*(link.people for link in links))
            addresses = {
                link.address[0]: link.normalized
                for link in links
                if link.address and link.normalized
            }
            data = await store.load_related(people, addresses, crowd)
            await asyncio.to_thread(
                _replay_chunk, part, states, journals, data, in_force, candidate, tally
            )
            job.update(done=start + len(part), updated_at=_now())
            await store.put_backtest(job)
        job.update(status="done", finished_at=_now(), figures=tally.figures())
    except Exception as exc:  # the job's record says so; the API process carries on
        log.exception("backtest %s failed", job["job_id"])
        job.update(status="failed", finished_at=_now(), error=str(exc)[:500])
    await store.put_backtest(job)


def start(
    app: FastAPI, job: dict[str, Any], in_force: RuleSet, candidate: RuleSet, max_firms: int
) -> None:
    """Run the job in the background of this process (kept referenced until done)."""
    tasks: set[asyncio.Task[None]] | None = getattr(app.state, "backtests", None)
    if tasks is None:
        tasks = app.state.backtests = set()
    task = asyncio.create_task(
        run(app.state.store, job, in_force, candidate, max_firms,
            app.state.settings.backtest_chunk)
    )  # fmt: skip
    tasks.add(task)
    task.add_done_callback(tasks.discard)
