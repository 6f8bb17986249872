"""Candidate rule sets through the real app, pipeline and Redis: upload (checked, not
in force), a backtest over the stored journals with its figures, publication, the
history of versions and the audit."""

from __future__ import annotations

import os
import re
import time
from typing import Any

import pytest

from agents.pipeline import Pipeline
from agents.replay import Replayer
from api.backtests import LAPSED
from rules.ruleset import RuleSet
from streams.store import Store
from tests import factories as f
from tests.integration.conftest import ADMIN_KEY, ApiClient

pytestmark = pytest.mark.integration
IN_FORCE = RuleSet("test-in-force", {"annual_report_missing": {"enabled": False}})
#: the candidate: a listed dishonest enterprise is no longer a warning or a deduction
CANDIDATE = {
    "version": "test-candidate",
    "rules": {
        "annual_report_missing": {"enabled": False},
        "dishonest_enterprise": {"enabled": False},
    },
}


@pytest.fixture
async def firms(store: Store) -> dict[str, str]:
    """Three firms: one listed as a dishonest debtor (D in force), two plain ones."""
    await store.put_ruleset(IN_FORCE)
    listed, plain, other = f.uscc(), f.uscc(), f.uscc()
    events = [f.registered(c) for c in (listed, plain, other)] + [f.dishonest_listed(listed)]
    stats = await Replayer(Pipeline(store, "fanout"), batch_size=50).run(
        f.encode(e) for e in events
    )
    assert stats.dead_letters == 0
    grades = await store.directory_entries([listed, plain, other])
    assert grades[listed]["grade"] == "D"
    return {"listed": listed, "plain": plain, "other": other}


def finished(api: ApiClient, job_id: str, headers: dict[str, str] | None = None) -> Any:
    """The backtest once it is no longer running (polled; the job runs in the app)."""
    deadline = time.monotonic() + 60
    while True:
        reply = api.client.get(f"/rules/backtests/{job_id}", headers=headers or {})
        assert reply.status_code == 200, reply.text
        if reply.json()["status"] != "running":
            return reply.json()
        assert time.monotonic() < deadline, reply.json()
        time.sleep(0.1)


def test_a_candidate_is_backtested_over_the_history_then_published(
    api: ApiClient, firms: dict[str, str]
) -> None:
    uploaded = api.client.post("/rules/candidates", json=CANDIDATE)
    assert uploaded.status_code == 201, uploaded.text
    candidate = uploaded.json()
    assert candidate["version"] == "test-candidate" and candidate["published_at"] is None
    rules = {r["rule_id"]: r for r in candidate["ruleset"]["rules"]}
    assert rules["dishonest_enterprise"]["enabled"] is False
    # stored, not in force
    assert api.client.get("/rules").json()["version"] == "test-in-force"
    listed = api.client.get("/rules/candidates").json()
    assert [c["candidate_id"] for c in listed] == [candidate["candidate_id"]]

    regulator = ApiClient.auth(api.account("regulator"))
    started = api.client.post(
        f"/rules/candidates/{candidate['candidate_id']}/backtests", json={}, headers=regulator
    )
    assert started.status_code == 202, started.text
    assert started.json()["in_force_version"] == "test-in-force"
    job = finished(api, started.json()["job_id"], regulator)
    assert job["status"] == "done", job
    assert job["done"] == job["total"] == 3
    figures = job["figures"]
    assert figures["firms"] == 3
    assert figures["warnings"]["dishonest_enterprise"] == {"in_force": 1, "candidate": 0}
    assert figures["grades"]["D"] == {"in_force": 1, "candidate": 0}
    assert [c["uscc"] for c in figures["changed"]] == [firms["listed"]]
    assert figures["changed"][0]["in_force"] == "D"
    assert figures["changed"][0]["candidate"] != "D"
    assert figures["changed_total"] == 1

    published = api.client.post(f"/rules/candidates/{candidate['candidate_id']}/publish")
    assert published.status_code == 200, published.text
    assert api.client.get("/rules").json()["version"] == "test-candidate"
    history = api.client.get("/rules/history").json()
    assert history[0]["version"] == "test-candidate"
    assert history[0]["candidate_id"] == candidate["candidate_id"]
    assert history[0]["published_by"] == "admin" and history[0]["source"] == "candidate"
    again = api.client.get(f"/rules/candidates/{candidate['candidate_id']}").json()
    assert again["published_at"] is not None
    audit = api.client.get("/rules/audit").json()
    assert [a["action"] for a in audit] == ["publish", "backtest", "upload"]
    assert audit[1]["by"].startswith("regulator-")


def test_an_invalid_candidate_is_refused_and_nothing_is_stored(api: ApiClient) -> None:
    bad = {"version": "bad", "rules": {"no_such_rule": {"enabled": False}}}
    reply = api.client.post("/rules/candidates", json=bad)
    assert reply.status_code == 422, reply.text
    assert reply.json()["error"]["code"] == "invalid_rules"
    assert api.client.get("/rules/candidates").json() == []
    assert api.client.get("/rules/audit").json() == []


def test_a_rule_set_put_in_force_directly_is_in_the_history(api: ApiClient) -> None:
    reply = api.client.put("/rules", json={"version": "direct-1", "rules": {}})
    assert reply.status_code == 200, reply.text
    history = api.client.get("/rules/history").json()
    assert [(h["version"], h["source"], h["candidate_id"]) for h in history] == [
        ("direct-1", "api", None)
    ]


def test_only_an_admin_uploads_or_publishes(api: ApiClient) -> None:
    regulator = ApiClient.auth(api.account("regulator"))
    assert (
        api.client.post("/rules/candidates", json=CANDIDATE, headers=regulator).status_code == 403
    )
    candidate = api.client.post("/rules/candidates", json=CANDIDATE).json()["candidate_id"]
    path = f"/rules/candidates/{candidate}/publish"
    assert api.client.post(path, headers=regulator).status_code == 403
    assert api.client.get("/rules/history").json() == []


def test_a_backtest_of_no_candidate_is_not_found(api: ApiClient) -> None:
    reply = api.client.post("/rules/candidates/C-none/backtests", json={})
    assert reply.status_code == 404
    assert api.client.get("/rules/backtests/B-none").status_code == 404


async def test_the_console_polls_a_running_backtest_and_reloads_once_it_is_done(
    store: Store, api: ApiClient
) -> None:
    job = {
        "job_id": "B-poll",
        "candidate_id": "C-poll",
        "candidate_version": "v2",
        "in_force_version": "v1",
        "status": "running",
        "done": 3,
        "total": 10,
        "started_at": "2026-03-01T00:00:00+00:00",
        "started_by": "admin",
    }
    await store.put_backtest(job)
    assert (await store.claim_backtest_slot("B-poll", 60_000, 5))[0]  # its process runs it
    signed_in = api.client.post("/console/login", data={"key": ADMIN_KEY}, follow_redirects=False)
    assert signed_in.status_code == 303
    part = {"HX-Request": "true"}
    running = api.client.get("/console/rules/backtests/B-poll", headers=part)
    assert running.status_code == 200
    assert 'hx-trigger="every 1s"' in running.text and 'value="3"' in running.text
    assert "HX-Refresh" not in running.headers
    figures = {"firms": 10, "warnings": {}, "grades": {}, "changed_total": 0, "changed": []}
    await store.put_backtest({**job, "status": "done", "done": 10, "figures": figures})
    done = api.client.get("/console/rules/backtests/B-poll", headers=part)
    assert done.headers["HX-Refresh"] == "true" and "hx-trigger" not in done.text
    page = api.client.get("/console/rules/backtests/B-poll")
    assert page.status_code == 200 and 'data-status="done"' in page.text


def _running(job_id: str) -> dict[str, Any]:
    """A job's record as another API process writes it when it starts one."""
    return {
        "job_id": job_id,
        "owner": "elsewhere:4242",
        "candidate_id": "C-x",
        "candidate_version": "v2",
        "in_force_version": "v1",
        "status": "running",
        "done": 0,
        "total": 10,
        "started_at": "2026-03-01T00:00:00+00:00",
        "started_by": "admin",
    }


def _upload(api: ApiClient) -> str:
    uploaded = api.client.post("/rules/candidates", json=CANDIDATE)
    assert uploaded.status_code == 201, uploaded.text
    return str(uploaded.json()["candidate_id"])


async def test_a_job_whose_process_stopped_reads_as_failed_and_frees_its_slot(
    store: Store, api: ApiClient, firms: dict[str, str]
) -> None:
    candidate = _upload(api)
    await store.put_backtest(_running("B-orphan"))
    # its process took the slot, then stopped renewing it: a lease of 1 ms
    assert (await store.claim_backtest_slot("B-orphan", 1, 1))[0]
    while await store.backtest_leased("B-orphan"):
        time.sleep(0.01)
    job = api.client.get("/rules/backtests/B-orphan").json()
    assert (job["status"], job["error"], job["owner"]) == ("failed", LAPSED, "elsewhere:4242")
    # the record itself says so now: its process, were it still going, writes no more
    stored = await store.get_backtest("B-orphan") or {}
    assert (stored["status"], stored["error"]) == ("failed", LAPSED)
    assert stored["finished_at"] == stored["started_at"]  # its last sign of life
    assert not await store.update_backtest({**_running("B-orphan"), "done": 5})
    assert await store.running_backtests() == []
    # not running: nothing to cancel; and the city's one slot is free to run it again
    assert api.client.delete("/rules/backtests/B-orphan").status_code == 409
    again = api.client.post(f"/rules/candidates/{candidate}/backtests", json={})
    assert again.status_code == 202, again.text
    assert finished(api, again.json()["job_id"])["status"] == "done"


async def test_the_next_job_to_start_fails_a_lapsed_one_nobody_read(
    store: Store, api: ApiClient, firms: dict[str, str]
) -> None:
    candidate = _upload(api)
    await store.put_backtest(_running("B-lapsed"))
    await store.put_backtest(_running("B-live"))  # a job another process still runs
    assert (await store.claim_backtest_slot("B-lapsed", 1, 2))[0]
    assert (await store.claim_backtest_slot("B-live", 60_000, 2))[0]
    while await store.backtest_leased("B-lapsed"):
        time.sleep(0.01)
    assert {j["job_id"] for j in await store.running_backtests()} == {"B-lapsed", "B-live"}
    # never read: its record still says running, until the next start looks
    assert (await store.get_backtest("B-lapsed") or {})["status"] == "running"
    refused = api.client.post(f"/rules/candidates/{candidate}/backtests", json={})
    assert refused.status_code == 409, refused.text  # the live one holds the one slot
    stored = await store.get_backtest("B-lapsed") or {}
    assert (stored["status"], stored["error"]) == ("failed", LAPSED)
    assert (await store.get_backtest("B-live") or {})["status"] == "running"
    assert [j["job_id"] for j in await store.running_backtests()] == ["B-live"]


async def test_a_second_running_job_is_refused_until_the_first_is_cancelled(
    store: Store, api: ApiClient, firms: dict[str, str]
) -> None:
    candidate = _upload(api)
    # another API process runs a backtest, its lease live
    await store.put_backtest(_running("B-first"))
    assert (await store.claim_backtest_slot("B-first", 60_000, 1))[0]
    path = f"/rules/candidates/{candidate}/backtests"
    refused = api.client.post(path, json={})
    assert refused.status_code == 409, refused.text
    assert "CREDITWATCH_BACKTEST_MAX_RUNNING" in refused.json()["error"]["message"]
    assert api.client.get("/rules/backtests/B-first").json()["status"] == "running"

    # only an admin cancels; then it reads cancelled and its slot is free
    regulator = ApiClient.auth(api.account("regulator"))
    assert api.client.delete("/rules/backtests/B-first", headers=regulator).status_code == 403
    cancelled = api.client.delete("/rules/backtests/B-first")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert api.client.get("/rules/backtests/B-first").json()["status"] == "cancelled"
    assert not await store.backtest_leased("B-first")
    assert api.client.delete("/rules/backtests/B-first").status_code == 409
    assert api.client.delete("/rules/backtests/B-none").status_code == 404
    # the process that ran it writes its progress no more: its record stays cancelled
    assert not await store.update_backtest({**_running("B-first"), "done": 5})
    assert (await store.get_backtest("B-first") or {})["status"] == "cancelled"

    started = api.client.post(path, json={})
    assert started.status_code == 202, started.text
    job = finished(api, started.json()["job_id"])
    assert job["status"] == "done" and job["owner"] and job["figures"]["firms"] == 3
    # the replays ran in a worker process of their own, not this one
    pool = api.client.app.state.backtest_pool  # type: ignore[attr-defined]
    assert pool.submit(os.getpid).result() != os.getpid()


async def test_a_candidate_is_deleted_unless_its_backtest_runs_or_it_was_published(
    store: Store, api: ApiClient, firms: dict[str, str]
) -> None:
    candidate, kept = _upload(api), _upload(api)
    # a backtest of it runs in another API process: refused until that one is over
    await store.put_backtest({**_running("B-busy"), "candidate_id": candidate})
    assert (await store.claim_backtest_slot("B-busy", 60_000, 1))[0]
    refused = api.client.delete(f"/rules/candidates/{candidate}")
    assert refused.status_code == 409, refused.text
    assert "B-busy" in refused.json()["error"]["message"]
    assert api.client.get(f"/rules/candidates/{candidate}").status_code == 200
    assert api.client.delete("/rules/backtests/B-busy").status_code == 200
    # one whose lease lapsed does not hold it (and reads failed from then on)
    await store.put_backtest({**_running("B-gone"), "candidate_id": candidate})
    assert (await store.claim_backtest_slot("B-gone", 1, 1))[0]
    while await store.backtest_leased("B-gone"):
        time.sleep(0.01)

    deleted = api.client.delete(f"/rules/candidates/{candidate}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["candidate_id"] == candidate
    assert api.client.get(f"/rules/candidates/{candidate}").status_code == 404
    assert [c["candidate_id"] for c in api.client.get("/rules/candidates").json()] == [kept]
    assert api.client.delete(f"/rules/candidates/{candidate}").status_code == 404
    # its backtest's record stays; the deletion is audited, by whom
    assert api.client.get("/rules/backtests/B-busy").json()["status"] == "cancelled"
    assert (await store.get_backtest("B-gone") or {})["status"] == "failed"
    [latest, *_] = api.client.get("/rules/audit").json()
    assert (latest["action"], latest["candidate_id"], latest["by"]) == (
        "delete",
        candidate,
        "admin",
    )
    assert latest["version"] == CANDIDATE["version"]

    # a published candidate is the record of what was put in force: kept
    assert api.client.post(f"/rules/candidates/{kept}/publish").status_code == 200
    refused = api.client.delete(f"/rules/candidates/{kept}")
    assert refused.status_code == 409 and "published" in refused.json()["error"]["message"]
    assert api.client.get(f"/rules/candidates/{kept}").status_code == 200


def test_the_rules_page_deletes_a_candidate_once_its_box_is_ticked(
    api: ApiClient, firms: dict[str, str]
) -> None:
    candidate, published = _upload(api), _upload(api)
    assert api.client.post(f"/rules/candidates/{published}/publish").status_code == 200
    signed = api.client.post("/console/login", data={"key": ADMIN_KEY}, follow_redirects=False)
    assert signed.status_code == 303, signed.text
    page = api.client.get("/console/rules").text
    action = f"/console/rules/candidates/{candidate}/delete"
    assert f'action="{action}"' in page
    assert f"/console/rules/candidates/{published}/delete" not in page  # published: kept
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    confirmed = {"csrf_token": token.group(1), "confirm": "1"}
    # without its token, or not confirmed: refused, the candidate still there
    assert api.client.post(action, data={"confirm": "1"}).status_code == 403
    assert api.client.post(action, data={"csrf_token": token.group(1)}).status_code == 422
    assert api.client.get(f"/rules/candidates/{candidate}").status_code == 200
    done = api.client.post(action, data=confirmed, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/console/rules?deleted=1")
    assert api.client.get(f"/rules/candidates/{candidate}").status_code == 404
    after = api.client.get("/console/rules?deleted=1").text
    assert "候选规则集已删除" in after and candidate not in after
    assert api.client.get("/rules/audit").json()[0]["action"] == "delete"
    api.client.cookies.clear()
