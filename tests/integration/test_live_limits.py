"""The cap on an account's live subscriptions, through a real uvicorn on a real Redis:
SSE and WebSocket share it; over it a new one is refused (429, or a WebSocket closed
1013); a subscription that ends frees its slot, and one whose process died frees it
once its lease lapses, while a live one keeps its slot past many lease lengths."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from api.app import create_app
from streams.settings import LiveSettings, StoreSettings
from streams.store import Store
from tests.integration.conftest import ADMIN_KEY, ApiClient, api_settings, serve

pytestmark = pytest.mark.integration
CAP, LEASE_MS = 2, 600
SETTINGS = LiveSettings(
    max_per_account=CAP, lease_ms=LEASE_MS, keepalive_s=0.3, retry_ms=100, block_ms=500
)
STREAM = "/subscriptions/stream"


@pytest.fixture
def base(store_settings: StoreSettings) -> Iterator[str]:
    app = create_app(api_settings(webhooks_enabled=False), store_settings)
    app.state.live_settings = SETTINGS
    with serve(app) as url:
        yield url


@pytest.fixture
def accounts(base: str) -> Iterator[tuple[httpx.Client, Callable[[], str]]]:
    """A client, and a maker of department keys."""
    with httpx.Client(base_url=base, timeout=10) as client:
        admin = httpx.Client(base_url=base, headers=ApiClient.auth(ADMIN_KEY), timeout=10)
        with admin:
            yield client, lambda: ApiClient(admin).account("department")  # type: ignore[arg-type]


def _open(stack: ExitStack, client: httpx.Client, key: str) -> httpx.Response:
    reply = stack.enter_context(client.stream("GET", STREAM, headers=ApiClient.auth(key)))
    if reply.status_code == 200:
        lines = reply.iter_lines()  # kept open: a dropped iterator closes the stream
        stack.callback(lines.close)
        assert next(lines).startswith("retry:")
    return reply


def _refused(client: httpx.Client, key: str) -> None:
    with ExitStack() as stack:
        reply = _open(stack, client, key)
        assert reply.status_code == 429, reply.status_code
        error = reply.read() and reply.json()["error"]
        assert error["code"] == "too_many_subscriptions" and error["details"]["limit"] == CAP
        assert int(reply.headers["Retry-After"]) >= 1


def _admitted_soon(client: httpx.Client, key: str, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while True:
        with ExitStack() as stack:
            if _open(stack, client, key).status_code == 200:
                return
        assert time.monotonic() < deadline, "the slot was not freed"
        time.sleep(0.1)


def _ws_url(base: str, key: str) -> str:
    return f"{base.replace('http://', 'ws://')}/subscriptions/ws?access_token={key}"


def test_over_the_cap_a_new_subscription_is_refused_until_one_ends(
    base: str, accounts: tuple[httpx.Client, Callable[[], str]]
) -> None:
    client, new_key = accounts
    key, other = new_key(), new_key()
    with ExitStack() as first:
        assert _open(first, client, key).status_code == 200
        with ExitStack() as second:
            assert _open(second, client, key).status_code == 200
            _refused(client, key)
            with connect(_ws_url(base, key)) as ws, pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
            assert "live subscriptions" in closed.value.rcvd.reason
            # another account is not affected
            with ExitStack() as elsewhere:
                assert _open(elsewhere, client, other).status_code == 200
            # the live ones keep their slots over many lease lengths
            time.sleep(LEASE_MS / 1000 * 3)
            _refused(client, key)
        # the second has ended: its slot is free
        _admitted_soon(client, key)


def test_a_websocket_holds_a_slot_and_frees_it_when_it_closes(
    base: str, accounts: tuple[httpx.Client, Callable[[], str]]
) -> None:
    client, new_key = accounts
    key = new_key()
    with ExitStack() as stack:
        assert _open(stack, client, key).status_code == 200
        with connect(_ws_url(base, key)) as ws:
            assert ws.recv(timeout=5)  # a keep-alive: subscribed
            _refused(client, key)
        _admitted_soon(client, key)


def test_the_slots_of_a_process_that_died_free_themselves(
    base: str, accounts: tuple[httpx.Client, Callable[[], str]], store_settings: StoreSettings
) -> None:
    client, new_key = accounts
    key = new_key()
    me = client.get("/me", headers=ApiClient.auth(key)).json()

    async def claim_and_die() -> None:
        """Two leases taken as a serving process would, then never renewed."""
        store = Store.from_settings(store_settings)
        try:
            for name in ("a", "b"):
                taken, _ = await store.claim_live_slot(me["account_id"], name, LEASE_MS, CAP)
                assert taken
        finally:
            await store.close()

    asyncio.run(claim_and_die())
    _refused(client, key)
    time.sleep(LEASE_MS / 1000)
    _admitted_soon(client, key, within=2.0)


def test_a_console_sessions_tabs_share_one_of_the_accounts_slots(
    base: str, accounts: tuple[httpx.Client, Callable[[], str]]
) -> None:
    client, new_key = accounts
    key = new_key()
    with httpx.Client(base_url=base, timeout=10) as tabs, ExitStack() as stack:
        signed = tabs.post("/console/login", data={"key": key}, follow_redirects=False)
        assert signed.status_code == 303, signed.text
        # more tabs than the account's cap, all live: they hold one slot between them
        for _ in range(CAP + 2):
            reply = stack.enter_context(tabs.stream("GET", "/console/stream"))
            assert reply.status_code == 200, reply.read()
            lines = reply.iter_lines()
            stack.callback(lines.close)
            assert next(lines).startswith("retry:")
        # the account's other slot is still there for its systems, then it is full
        reply = _open(stack, client, key)
        assert reply.status_code == 200
        _refused(client, key)
        # a second sign-in is another session: it needs a slot of its own
        with httpx.Client(base_url=base, timeout=10) as other:
            other.post("/console/login", data={"key": key}, follow_redirects=False)
            with other.stream("GET", "/console/stream") as refused:
                assert refused.status_code == 429
