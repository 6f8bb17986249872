"""A backtest of a candidate rule set over the stored history, as a job of an API
process: every enterprise of the directory (at most `backtest_max_firms`) replayed
from its journal with the candidate and with the rule set in force (rules/backtest.py),
a chunk at a time, its progress written after each chunk for the page that polls it.

The replays run in a worker process of their own (one, `ProcessPoolExecutor`), so
request handling keeps its core. A job holds one of the city's
`backtest_max_running` slots, a lease its process renews (`backtest_lease_s`); its
record names the process (`owner`). A job whose lease lapsed (its process stopped)
is failed, its record rewritten when read or when the next job starts, and its slot
is free for another. A job is cancelled between chunks;
the API stopping cancels its own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import socket
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

from rules.backtest import Tally, run_firm
from rules.related import Links, RelatedData, floors, view
from rules.ruleset import RuleSet
from rules.state import EnterpriseState
from streams.store.api_ports import ApiStore

log = logging.getLogger(__name__)
#: what a job says whose API process stopped cleanly, and one whose lease lapsed
STOPPED = "the API process running it stopped"
LAPSED = "its lease lapsed: the API process running it stopped renewing it"
CANCELLED = "cancelled"
#: this process, as a job's record names it
OWNER = f"{socket.gethostname()}:{os.getpid()}"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _floors(rulesets: Iterable[RuleSet]) -> tuple[int | None, int | None]:
    """The smallest crowds either rule set may warn about (None: neither needs them)."""
    found = [floors(r) for r in rulesets]
    person = [f[0] for f in found if f[0] is not None]
    address = [f[1] for f in found if f[1] is not None]
    return (min(person) if person else None, min(address) if address else None)


async def as_read(store: ApiStore, job: dict[str, Any]) -> dict[str, Any]:
    """The job as it stands. A running job whose lease lapsed (its process stopped
    without saying so) is failed, and its record is rewritten so: the process, should it
    still run, writes nothing more (each of its writes needs the record running)."""
    if job.get("status") != "running" or await store.backtest_leased(job["job_id"]):
        return job
    # its last sign of life: the last progress written
    at = job.get("updated_at") or job.get("started_at")
    lapsed = {**job, "status": "failed", "error": LAPSED, "finished_at": at}
    if await store.update_backtest(lapsed):
        return lapsed
    # written meanwhile by its process (done, failed) or cancelled: as written
    return await store.get_backtest(job["job_id"]) or lapsed


async def close_lapsed(store: ApiStore) -> None:
    """Rewrite as failed every job recorded running whose lease lapsed (before a job
    starts, so that no record keeps saying running once its slot is taken again)."""
    for job in await store.running_backtests():
        await as_read(store, job)


def _replay_chunk(
    part: list[str],
    states: dict[str, EnterpriseState],
    journals: dict[str, list[list[Any]]],
    data: RelatedData,
    in_force: RuleSet,
    candidate: RuleSet,
) -> Tally:
    """Replay a chunk of firms (in the worker process): their tally."""
    tally = Tally()
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
    return tally


def _pool(app: FastAPI) -> ProcessPoolExecutor:
    """The worker process the replays run in (started on the first backtest; spawned,
    not forked: this process runs threads)."""
    pool: ProcessPoolExecutor | None = getattr(app.state, "backtest_pool", None)
    if pool is None:
        spawn = multiprocessing.get_context("spawn")
        pool = app.state.backtest_pool = ProcessPoolExecutor(max_workers=1, mp_context=spawn)
    return pool


async def _heartbeat(store: ApiStore, job_id: str, lease_s: float) -> None:
    """Renew the job's lease a third of it at a time while it runs."""
    while True:
        await asyncio.sleep(lease_s / 3)
        with contextlib.suppress(Exception):  # a lapse shows as failed; try again
            job = await store.get_backtest(job_id)
            if job is not None and job.get("status") != "running":
                return  # cancelled: its slot was freed, not to be taken back
            await store.renew_backtest_slot(job_id, int(lease_s * 1000))


async def run(
    store: ApiStore,
    pool: ProcessPoolExecutor,
    job: dict[str, Any],
    in_force: RuleSet,
    candidate: RuleSet,
    max_firms: int,
    chunk: int,
) -> None:
    """Carry out the backtest `job` (its record written as it goes, while it is still
    running: a cancelled job's record is not written over)."""
    loop = asyncio.get_running_loop()
    try:
        usccs: list[str] = []
        async for uscc, _ in store.iter_directory():
            if len(usccs) == max_firms:
                job["limited"] = True
                break
            usccs.append(uscc)
        job["total"] = len(usccs)
        if not await store.update_backtest(job):
            return
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
            tally.merge(
                await loop.run_in_executor(
                    pool, _replay_chunk, part, states, journals, data, in_force, candidate
                )
            )
            job.update(done=start + len(part), updated_at=_now())
            if not await store.update_backtest(job):
                return  # cancelled meanwhile
        job.update(status="done", finished_at=_now(), figures=tally.figures())
    except asyncio.CancelledError:
        job.update(status="failed", finished_at=_now(), error=STOPPED)
        await store.update_backtest(job)
        raise
    except Exception as exc:  # the job's record says so; the API process carries on
        log.exception("backtest %s failed", job["job_id"])
        job.update(status="failed", finished_at=_now(), error=str(exc)[:500])
    await store.update_backtest(job)


async def _run_leased(
    app: FastAPI, job: dict[str, Any], in_force: RuleSet, candidate: RuleSet, max_firms: int
) -> None:
    store, settings = app.state.store, app.state.settings
    beat = asyncio.create_task(_heartbeat(store, job["job_id"], settings.backtest_lease_s))
    try:
        await run(store, _pool(app), job, in_force, candidate, max_firms, settings.backtest_chunk)
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
        await store.release_backtest_slot(job["job_id"])


def start(
    app: FastAPI, job: dict[str, Any], in_force: RuleSet, candidate: RuleSet, max_firms: int
) -> None:
    """Run the job (its slot already claimed) in the background of this process, kept
    referenced by its id until done."""
    tasks: dict[str, asyncio.Task[None]] | None = getattr(app.state, "backtests", None)
    if tasks is None:
        tasks = app.state.backtests = {}
    task = asyncio.create_task(_run_leased(app, job, in_force, candidate, max_firms))
    tasks[job["job_id"]] = task
    task.add_done_callback(lambda _: tasks.pop(job["job_id"], None))


def cancel_local(app: FastAPI, job_id: str) -> None:
    """Stop the job's task if this process runs it (the chunk in the worker finishes)."""
    tasks: dict[str, asyncio.Task[None]] = getattr(app.state, "backtests", None) or {}
    task = tasks.get(job_id)
    if task is not None:
        task.cancel()


async def stop_all(app: FastAPI) -> None:
    """The API is stopping: its jobs fail as stopped, their slots freed, the worker
    process ended (a chunk in it is abandoned)."""
    tasks: dict[str, asyncio.Task[None]] = getattr(app.state, "backtests", None) or {}
    for task in list(tasks.values()):
        task.cancel()
    for task in list(tasks.values()):
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    pool: ProcessPoolExecutor | None = getattr(app.state, "backtest_pool", None)
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
        app.state.backtest_pool = None
