"""No secret and no ID number in any log: the API as a real process
(`creditwatch --log-level debug api`, its whole output kept) on a Redis of the test's
own, called with keys, the admin key, a webhook secret and resident ID numbers
wherever a client might put them (header, query, path, body), on 2xx, 401, 403, 404,
422 and 503 paths (Redis stopped, then started again). Neither the process's output
nor the access log in Redis may hold any of them; and no answer may hand a caller a
secret or an ID number it did not send itself, unless its role sees personal data."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import redis

from agents.pipeline import Pipeline
from agents.replay import Replayer
from streams.contract.identifiers import uscc_problem
from streams.settings import StoreSettings
from streams.stack.processes import ManagedProcess, free_port
from streams.store import Store
from tests import factories as f
from tests.integration.conftest import OwnRedis

pytestmark = pytest.mark.integration
PREFIX = "nosecrets"
ADMIN_KEY = f"admin-{secrets.token_urlsafe(24)}"
WEBHOOK_SECRET = f"whsec-{secrets.token_urlsafe(24)}"
WRONG_KEY = f"cwk_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"


def _id_number() -> str:
    """A valid resident ID number that is not also a valid USCC (those are kept)."""
    while uscc_problem(person := f.unique_person()["id_no"]) is None:
        pass
    return person


@dataclass
class Calls:
    """Every call made, with who made it, so the answers can be checked afterwards."""

    client: httpx.Client
    made: list[tuple[httpx.Request, httpx.Response, bool]] = field(default_factory=list)

    def __call__(
        self, method: str, path: str, expect: int, key: str | None = None, *,
        sees_personal_data: bool = False, **options: Any,
    ) -> httpx.Response:  # fmt: skip
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        reply = self.client.request(method, path, headers=headers, **options)
        assert reply.status_code == expect, f"{method} {path}: {reply.status_code} {reply.text}"
        self.made.append((reply.request, reply, sees_personal_data))
        return reply


@pytest.fixture
def live_api(own_redis: OwnRedis, tmp_path: Path) -> Iterator[tuple[ManagedProcess, str]]:
    port = free_port()
    env = {
        **os.environ,
        "CREDITWATCH_REDIS_URL": own_redis.url,
        "CREDITWATCH_KEY_PREFIX": PREFIX,
        "CREDITWATCH_ADMIN_KEY": ADMIN_KEY,
        "CREDITWATCH_API_PORT": str(port),
        "CREDITWATCH_API_WORKERS": "1",
        "CREDITWATCH_WEBHOOK_ALLOW_HTTP": "true",
        "CREDITWATCH_WEBHOOK_ALLOW": "127.0.0.1",
    }
    argv = [sys.executable, "-m", "streams.cli", "--log-level", "debug", "api"]
    api = ManagedProcess("api", argv, log_path=tmp_path / "api.log", env=env).start()
    base = f"http://127.0.0.1:{port}"
    try:
        api.wait_until(lambda: httpx.get(f"{base}/healthz").status_code == 200, 30, "answering")
        yield api, base
    finally:
        api.stop()


async def _seed(url: str, person: dict[str, str]) -> str:
    store = Store.from_settings(StoreSettings(redis_url=url, key_prefix=PREFIX))
    try:
        code = f.uscc()
        events = [f.registered(code, person, phone="13912345678")]
        await Replayer(Pipeline(store, "fanout"), batch_size=50).run(f.encode(e) for e in events)
        return code
    finally:
        await store.close()


def _new_key(call: Calls, role: str) -> str:
    account = {"account_id": role, "name": role, "department": "samr", "role": role}
    call("POST", "/admin/accounts", 201, ADMIN_KEY, json=account)
    return str(call("POST", f"/admin/accounts/{role}/keys", 201, ADMIN_KEY).json()["key"])


def test_no_key_secret_or_id_number_reaches_a_log(
    own_redis: OwnRedis, live_api: tuple[ManagedProcess, str]
) -> None:
    api, base = live_api
    person = f.unique_person("欧阳某某")
    id_no, stranger = person["id_no"], _id_number()
    assert uscc_problem(id_no) is not None  # else the path check below would keep it
    code = asyncio.run(_seed(own_redis.url, person))
    with httpx.Client(base_url=base, timeout=10) as client:
        call = Calls(client)
        regulator, department = _new_key(call, "regulator"), _new_key(call, "department")
        setup = len(call.made)
        hook = {"url": "http://127.0.0.1:9/hook", "secret": WEBHOOK_SECRET}

        # 2xx: keys in the header and in query strings, ID numbers in queries and bodies
        call("GET", "/enterprises/search", 200, regulator, params={"person_id": id_no},
             sees_personal_data=True)  # fmt: skip
        call("GET", "/enterprises/search", 200, regulator, params={"name": stranger})
        call("GET", f"/enterprises/{code}?access_token={department}", 200)
        call("GET", f"/enterprises/{code}", 200, department, params={"key": WRONG_KEY})
        call("GET", "/me", 200, params={"api_key": regulator, "q": ADMIN_KEY})
        call("GET", "/me", 200, ADMIN_KEY, params={"token": department})
        call("GET", f"/me?access_token={ADMIN_KEY}&note={id_no}", 200)
        call("POST", "/enterprises/batch", 200, department, json={"usccs": [code, stranger]})
        call("POST", "/webhooks", 201, department, json=hook)
        call("GET", f"/public/enterprises/{code}", 200, params={"person": id_no})
        # 401: a wrong key, anywhere
        call("GET", f"/enterprises/{code}", 401, WRONG_KEY)
        call("GET", f"/enterprises/search?person_id={id_no}&access_token={WRONG_KEY}", 401)
        call("GET", f"/enterprises/{stranger}", 401, params={"secret": WEBHOOK_SECRET})
        # 403: outside the caller's role
        call("GET", "/enterprises/search", 403, department, params={"person_id": id_no})
        call("GET", f"/admin/access-log?access_token={department}", 403)
        call("PUT", "/rules", 403, regulator, json={"secret": WEBHOOK_SECRET, "id": id_no})
        # 404: unknown routes and records
        call("GET", f"/webhooks/{WEBHOOK_SECRET}", 404, department)
        call("GET", f"/people/{id_no}/{regulator}", 404, department)
        call("GET", f"/enterprises/{f.uscc()}", 404, regulator, params={"person_id": stranger})
        # 422: an ID number where a USCC goes, a webhook that is not valid
        call("GET", f"/enterprises/{id_no}", 422, department)
        call("GET", f"/public/enterprises/{stranger}", 422)
        bad_hook = {**hook, "url": f"not a url {id_no}"}
        call("POST", f"/webhooks?secret={WEBHOOK_SECRET}", 422, department, json=bad_hook)
        call("GET", "/enterprises/search", 422, regulator, params={"person_id": id_no[:17]})

        # 503: Redis away; the access log keeps these records until it is back
        own_redis.stop()
        call("GET", "/enterprises/search", 503, regulator, params={"person_id": id_no})
        call("GET", f"/enterprises/{code}?access_token={department}", 503)
        call("GET", "/me", 503, ADMIN_KEY, params={"token": ADMIN_KEY})
        call("GET", f"/enterprises/{stranger}", 503, WRONG_KEY)
        call("POST", "/webhooks", 503, department, json=hook)
        own_redis.start()
        api.wait_until(lambda: client.get("/healthz").status_code == 200, 10, "reconnected")
        logged = len(call.made)  # every call but /healthz is in the access log
        answered = call.made[setup:]
    # a graceful stop writes what the access log still holds (uvicorn then re-raises
    # the SIGTERM it handled: -15)
    assert api.stop() in (0, -15)

    output = api.log_path.read_text(encoding="utf-8", errors="replace")
    assert "access log write failed" in output  # the outage was logged: the log is kept
    stored = redis.Redis.from_url(own_redis.url)
    try:
        entries = cast(
            list[tuple[bytes, dict[bytes, bytes]]], stored.xrange(f"{PREFIX}:access-log")
        )
    finally:
        stored.close()
    assert len(entries) == logged  # none lost across the outage
    access_log = "\n".join(e[b"data"].decode() for _, e in entries)
    assert json.loads(entries[-1][1][b"data"])["status"] == 503

    forbidden = {
        "admin key": ADMIN_KEY,
        "regulator key": regulator,
        "department key": department,
        "department key's secret": department.split("_", 2)[2],
        "wrong key": WRONG_KEY,
        "webhook secret": WEBHOOK_SECRET,
        "ID number": id_no,
        "another ID number": stranger,
    }
    for what, text in forbidden.items():
        assert text not in output, f"the {what} is in the API's log"
        assert text not in access_log, f"the {what} is in the access log"
    # answers: nothing the caller did not send, personal data only to whom may see it
    private = {**forbidden, "name": person["name"], "phone": "13912345678"}
    for request, reply, sees_personal_data in answered:
        sent = f"{request.url} {request.headers.get('Authorization')} {request.content!r}"
        for what, text in private.items():
            allowed = sees_personal_data and what in {"ID number", "name", "phone"}
            assert allowed or text not in reply.text or text in sent, (
                f"{request.method} {request.url.path} answered the {what}"
            )
