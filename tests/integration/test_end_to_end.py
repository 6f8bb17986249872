"""One event's whole path: kafka-python produces, a real worker process consumes, the
real API (uvicorn, over HTTP) shows the warnings, grades and dead letters, and the
relay publishes the outputs to their Kafka topics."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from kafka import KafkaConsumer

from api.signing import verify
from streams.settings import StreamSettings
from streams.topics.ingest import make_producer, send_unchecked
from tests import factories as f
from tests.http_receiver import Receiver
from tests.worker_and_api import worker_and_api

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Running:
    api: httpx.Client
    env: dict[str, str]
    settings: StreamSettings


@pytest.fixture(scope="module")
def running(kafka_broker: str, redis_server: str, tmp_path_factory) -> Iterator[Running]:
    extra = {
        "CREDITWATCH_WEBHOOK_ALLOW_HTTP": "true",  # the test's receiver: http on loopback
        "CREDITWATCH_WEBHOOK_ALLOW": "127.0.0.1",
    }
    logs = tmp_path_factory.mktemp("e2e")
    with worker_and_api(kafka_broker, redis_server, logs, "e2e", extra) as rig:
        yield Running(rig.api, rig.env, rig.settings)


def produce(running: Running, *events: dict[str, Any] | bytes) -> None:
    producer = make_producer(running.settings)
    try:
        send_unchecked(producer, running.settings.events_topic, events)
    finally:
        producer.close()


def eventually(probe: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Poll until `probe` returns something truthy (the worker is asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def enterprise(running: Running, code: str) -> dict[str, Any] | None:
    response = running.api.get(f"/enterprises/{code}")
    return response.json() if response.status_code == 200 else None


def warned_with(running: Running, code: str, rule_id: str) -> dict[str, Any]:
    """The enterprise once it has an open warning of `rule_id` (others may be open too:
    on the wall clock, a firm seen since January has missed its annual report)."""

    def found() -> dict[str, Any] | None:
        e = enterprise(running, code)
        return e if e and any(w["rule_id"] == rule_id for w in e["warnings"]) else None

    return eventually(found)


def test_penalties_raise_a_warning_and_a_grade_change(running: Running) -> None:
    code = f.uscc()
    produce(
        running,
        f.registered(code),
        *(f.penalty(code, d) for d in ("2026-01-05", "2026-02-05", "2026-03-05")),
    )
    found = warned_with(running, code, "penalty_frequency")
    # on the wall clock (since 1 July 2026) the annual-report timer may have fired too:
    # its 5 points and warning come on top of the penalties', whichever came first
    late = found["contributions"].pop("annual_report_missing", 0)
    # 100 - 15 (penalty_frequency) - 10 (penalty_record: the penalties are public)
    assert found["contributions"] == {"penalty_frequency": -15, "penalty_record": -10}
    assert found["score"] == 75 + late
    if not late:
        assert found["grade"] == "B"
        assert found["risk"] == {"zh": "中", "en": "general", "colour": "yellow"}
    rules = [w["rule_id"] for w in found["warnings"] if w["rule_id"] != "annual_report_missing"]
    assert rules == ["penalty_frequency"]
    assert found["profile"]["name"] == "深圳市示例科技有限公司"
    page = running.api.get("/warnings", params={"uscc": code, "rule_id": "penalty_frequency"})
    assert [w["severity"] for w in page.json()["items"]] == ["orange"]


def test_person_listing_reaches_the_enterprise_of_a_dishonest_legal_rep(running) -> None:
    code, debtor = f.uscc(), f.person("李四")
    produce(running, f.registered(code, legal_rep=debtor))
    assert eventually(lambda: enterprise(running, code))
    listing = f.person_listed(debtor)
    produce(running, listing)  # keyed by the person: another partition, then fanned out
    # the wall-clock timer may open annual_report_missing before or after it
    found = warned_with(running, code, "dishonest_legal_rep")
    (warning,) = [w for w in found["warnings"] if w["rule_id"] == "dishonest_legal_rep"]
    assert listing["event_id"] in warning["evidence"]
    changes = eventually(
        lambda: running.api.get("/grade-changes", params={"uscc": code}).json()["items"]
    )
    assert (changes[0]["from_grade"], changes[0]["to_grade"]) == ("A", "C")


def test_outputs_are_published_to_their_topics(running: Running) -> None:
    code = f.uscc()
    produce(running, f.registered(code), f.dishonest_listed(code))
    consumer = KafkaConsumer(
        running.settings.warnings_topic,
        running.settings.grade_changes_topic,
        bootstrap_servers=running.settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=2000,
        group_id=None,
    )
    seen: dict[str, list[dict[str, Any]]] = {}

    def poll() -> bool:
        for message in consumer:
            seen.setdefault(message.topic, []).append(json.loads(message.value))
            assert message.key.decode() == json.loads(message.value)["uscc"]
        return any(w["uscc"] == code for w in seen.get(running.settings.warnings_topic, []))

    try:
        assert eventually(poll)
    finally:
        consumer.close()
    warning = next(w for w in seen[running.settings.warnings_topic] if w["uscc"] == code)
    assert set(warning) >= {
        "warning_id",
        "uscc",
        "rule_id",
        "severity",
        "message",
        "evidence",
        "raised_at",
        "occurred_at",
    }
    assert warning["rule_id"] == "dishonest_enterprise" and warning["severity"] == "red"


def test_relayed_labels_leave_redis_and_the_warnings_stay_for_the_api(running: Running) -> None:
    code = f.uscc()
    produce(running, f.registered(code), f.dishonest_listed(code))
    prefix = running.env["CREDITWATCH_KEY_PREFIX"]
    client = redis.Redis.from_url(running.env["CREDITWATCH_REDIS_URL"])
    try:
        assert warned_with(running, code, "dishonest_enterprise")
        relayed = eventually(
            lambda: client.xinfo_groups(f"{prefix}:learning")[0]["entries-read"] or None
        )
        assert relayed, "the relay never read the labels log"
        # every record relayed and acknowledged is gone; none waits unread
        assert eventually(lambda: client.xlen(f"{prefix}:learning") == 0)
        assert client.xlen(f"{prefix}:warnings") > 0
    finally:
        client.close()


def test_invalid_events_are_dead_lettered_and_the_worker_carries_on(running) -> None:
    bad = f.registered(f.uscc()[:17] + "I")  # I is not a USCC character
    good = f.uscc()
    produce(
        running,
        b'{"event_id": "x", "type": ',
        f.encode(bad),
        f.registered(good),
        f.dishonest_listed(good),
    )
    # the valid events after the invalid ones are still applied
    assert eventually(lambda: (e := enterprise(running, good)) and e["grade"] == "D")
    letters = running.api.get("/dead-letters", params={"limit": 500}).json()["items"]
    mine = {d["reason"]: d for d in letters if d["event_id"] in (bad["event_id"], None)}
    assert mine["invalid_uscc"]["field"] == "uscc"
    assert mine["invalid_uscc"]["original"] == f.encode(bad).decode()
    assert "invalid_json" in mine


def test_ingest_command_reports_rejected_lines_and_they_reach_the_dead_letters(
    running: Running, tmp_path: Path
) -> None:
    code = f.uscc()
    lines = [
        json.dumps(f.registered(code), ensure_ascii=False),
        "{oops",
        json.dumps(f.event("no.such_type", code, {})),
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", "ingest", str(path), "--no-progress"],
        env=running.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "sent 1 events" in done.stdout
    assert "line 2: invalid_json" in done.stdout and "line 3: unknown_type" in done.stdout
    assert eventually(lambda: enterprise(running, code))


def test_ingest_sends_envelopes_the_worker_applies_event_by_event(
    running: Running, tmp_path: Path
) -> None:
    codes = [f.uscc() for _ in range(12)]
    lines = [json.dumps(f.registered(code), ensure_ascii=False) for code in codes]
    lines.insert(5, json.dumps(f.registered(f.uscc_with_wrong_check())))
    lines.append(json.dumps(f.dishonest_listed(codes[0])))
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", "ingest", str(path), "--no-progress",
         "--envelope", "5"],
        env=running.env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # the line with a bad USCC
    sent, messages = re.search(r"sent (\d+) events in (\d+) messages", done.stdout).groups()
    assert int(sent) == 13 and int(messages) < 13
    assert eventually(lambda: all(enterprise(running, code) for code in codes))
    assert warned_with(running, codes[0], "dishonest_enterprise")


def test_the_simulators_envelopes_carry_broken_bytes_alone(running: Running) -> None:
    codes = [f.uscc() for _ in range(9)]
    broken = b'{"event_id": "sim-broken-' + uuid.uuid4().hex.encode() + b'", "type":'
    items: list[dict[str, Any] | bytes] = [f.registered(code) for code in codes]
    items.insert(4, broken)
    producer = make_producer(running.settings)
    try:
        assert send_unchecked(producer, running.settings.events_topic, items, envelope=4) == 10
    finally:
        producer.close()
    assert eventually(lambda: all(enterprise(running, code) for code in codes))

    def dead() -> list[dict[str, Any]]:
        found = running.api.get("/dead-letters", params={"reason": "invalid_json"}).json()
        return [d for d in found["items"] if d["original"] == broken.decode()]

    assert eventually(dead)


def test_the_worker_dead_letters_what_a_producer_sent_unchecked(running: Running) -> None:
    producer = make_producer(running.settings)
    try:
        producer.send(running.settings.events_topic, key=b"k", value=b"\xff\xfe not utf-8")
        producer.flush()
    finally:
        producer.close()

    def found() -> list[dict[str, Any]]:
        items = running.api.get("/dead-letters", params={"reason": "invalid_json"}).json()
        return [d for d in items["items"] if d["original"] is None]

    letters = eventually(found)
    assert letters and letters[0]["original_b64"]


def test_api_errors_are_clear(running: Running) -> None:
    assert running.api.get("/enterprises/91440300708461136A").status_code == 422
    body = running.api.get("/enterprises/91440300708461136A").json()
    assert "check character" in body["error"]["message"]
    assert running.api.get(f"/enterprises/{f.uscc()}").json()["error"]["code"] == "not_found"
    anonymous = httpx.get(f"{running.api.base_url}/warnings")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "unauthorized"
    assert httpx.get(f"{running.api.base_url}/healthz").json() == {"status": "ok", "redis": True}
    exposition = httpx.get(f"{running.api.base_url}/metrics").text
    assert "creditwatch_api_requests_total" in exposition


def test_a_published_rule_set_takes_effect_without_a_restart(running: Running) -> None:
    document = {"version": "live-2", "rules": {"complaint_frequency": {"threshold": 1}}}
    published = running.api.put("/rules", json=document)
    assert published.status_code == 200 and published.json()["version"] == "live-2"
    bad = running.api.put("/rules", json={"version": "x", "rules": {"nope": {}}})
    assert bad.status_code == 422 and "unknown rule 'nope'" in bad.json()["error"]["message"]
    assert running.api.get("/rules").json()["version"] == "live-2"  # the bad one changed nothing
    code = f.uscc()
    # dated today: an old complaint's 90-day window is already over on the wall clock,
    # and the worker's timer would close its warning within a second
    complaint = f.event(
        "complaint.received",
        code,
        {"channel": "12315", "category": "价格收费"},
        day=date.today().isoformat(),
    )
    try:
        produce(running, f.registered(code), complaint)
        found = warned_with(running, code, "complaint_frequency")
        warning = next(w for w in found["warnings"] if w["rule_id"] == "complaint_frequency")
        assert warning["ruleset_version"] == "live-2"
        assert found["ruleset_version"] == "live-2"
    finally:
        running.api.put("/rules", json={"version": "live-3", "rules": {}})


def test_a_timer_raises_a_warning_when_its_day_comes(running: Running) -> None:
    # granted 60 days ago, expiring in 20: the warning was due 10 days ago, so the
    # wall-clock timer fires at once, with no further event for the firm
    today = date.today()
    code = f.uscc()
    granted = f.event(
        "permit.granted",
        code,
        {"permit_no": f"JY{code}", "kind": "食品经营许可证",
         "valid_until": (today + timedelta(days=20)).isoformat()},
        day=(today - timedelta(days=60)).isoformat(),
    )  # fmt: skip
    registered = f.registered(code)
    produce(running, registered, granted)
    found = warned_with(running, code, "permit_expiring")
    warning = next(w for w in found["warnings"] if w["rule_id"] == "permit_expiring")
    assert warning["evidence"] == [granted["event_id"]]


def test_an_address_cluster_warns_every_firm_and_the_allow_list_clears_it(running) -> None:
    address = f"深圳市福田区孵化器大厦{uuid.uuid4().hex[:6]}层"
    codes = [f.uscc() for _ in range(5)]
    produce(running, *(f.registered(code, address=address) for code in codes))

    def warned() -> set[str]:
        return {
            c
            for c in codes
            if (e := enterprise(running, c))
            and any(w["rule_id"] == "address_cluster" for w in e["warnings"])
        }

    assert eventually(lambda: warned() == set(codes)), f"warned only {warned()}"
    added = running.api.post("/address-allowlist", json={"address": f" {address} "})
    assert added.status_code == 201
    assert added.json()["address"] in running.api.get("/address-allowlist").json()
    assert eventually(lambda: not warned()), "approving the address closes the warnings"
    closed = running.api.get(f"/enterprises/{codes[0]}/warnings", params={"status": "closed"})
    assert [w["rule_id"] for w in closed.json()] == ["address_cluster"]
    removed = running.api.delete("/address-allowlist", params={"address": address})
    assert removed.status_code == 204
    again = running.api.delete("/address-allowlist", params={"address": address})
    assert again.status_code == 404
    assert eventually(lambda: warned() == set(codes)), "withdrawing the approval re-raises"


def test_a_department_subscribes_gets_a_signed_webhook_looks_up_and_draws_a_plan(
    running: Running,
) -> None:
    """The query layer's whole path for a department: an account and key made by the
    admin, a webhook for red warnings, a real event through the worker, the signed
    delivery checked, the enterprise looked up (personal data masked), a plan drawn."""
    admin = running.api
    account = {"account_id": f"tax-{uuid.uuid4().hex[:6]}", "name": "南山区税务局",
               "department": "tax", "role": "department"}  # fmt: skip
    assert admin.post("/admin/accounts", json=account).status_code == 201
    key = admin.post(f"/admin/accounts/{account['account_id']}/keys").json()["key"]
    department = {"Authorization": f"Bearer {key}"}
    code = f.uscc()
    with Receiver() as receiver:
        hook = {"url": receiver.url(), "filters": {"usccs": [code], "severities": ["red"]}}
        created = admin.post("/webhooks", json=hook, headers=department)
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        rep = f.unique_person("赵六")
        produce(running, f.registered(code, rep, district="440305"), f.dishonest_listed(code))
        delivered = eventually(lambda: receiver.got(status=200))
    assert delivered, "no webhook delivery"
    sent = delivered[0]
    headers = sent.headers
    signature = headers["x-creditwatch-signature"]
    assert verify(secret, headers["x-creditwatch-timestamp"], sent.body, signature)
    assert sent.json["kind"] == "warning"
    assert sent.json["data"]["uscc"] == code
    assert sent.json["data"]["rule_id"] == "dishonest_enterprise"

    looked_up = admin.get(f"/enterprises/{code}", headers=department).json()
    assert looked_up["grade"] == "D"
    assert looked_up["profile"]["legal_rep"]["id_no"] != rep["id_no"]

    plan = {
        "name": "2026年南山区双随机抽查",
        "population": {"districts": ["440305"]},
        "inspectors": [
            {
                "inspector_id": f"I{n}",
                "name": f"检查员{n}",
                "department": dept,
                "district": "440304",
            }
            for n, dept in enumerate(["samr", "tax", "fire", "samr"])
        ],
    }
    drawn = admin.post("/inspections/plans", json=plan, headers=department)
    assert drawn.status_code == 201, drawn.text
    targets = {t["uscc"]: t for t in drawn.json()["targets"]}
    assert code in targets  # grade D: always drawn
    assert len({i["department"] for i in targets[code]["inspectors"]}) == 2


def test_a_result_entered_for_a_plan_moves_the_grade_through_the_worker(running: Running) -> None:
    """A regulator enters an inspection result through the API: the worker process
    takes the nudge and the firm's indicators and score move as the event would move
    them; the same result entered again keeps its first entry (counted once)."""
    admin, code = running.api, f.uscc()
    penalties = [f.penalty(code, d) for d in ("2026-01-05", "2026-02-05", "2026-03-05")]
    produce(running, f.registered(code, f.unique_person("孙七"), district="440305"), *penalties)
    firm = eventually(lambda: (e := enterprise(running, code)) and e["events_seen"] == 4 and e)
    assert firm, "the events were not applied"
    plan = {
        "name": "2026年南山区双随机抽查（结果录入）",
        "population": {"districts": ["440305"]},
        "ratios": dict.fromkeys("ABCD", 1.0),
        "inspectors": [{"inspector_id": "I1", "name": "检查员", "department": "samr"}],
    }
    drawn = admin.post("/inspections/plans", json=plan)
    assert drawn.status_code == 201, drawn.text
    pid = drawn.json()["plan_id"]
    assert code in {t["uscc"] for t in drawn.json()["targets"]}, (firm, drawn.json())
    path = f"/inspections/plans/{pid}/targets/{code}/result"
    first = admin.put(path, json={"result": "unreachable"})
    assert first.status_code == 200, first.text
    moved = warned_with(running, code, "unreachable")
    assert moved, "the entered result did not reach the worker"
    # (the firm's clock moves to now: on the wall clock, other rules may count too)
    assert moved["contributions"]["unreachable"] == -10 and moved["score"] < firm["score"]
    again = admin.put(path, json={"result": "unreachable", "findings": ["再次上门无人"]})
    assert again.status_code == 200 and again.json()["result_at"] == first.json()["result_at"]
