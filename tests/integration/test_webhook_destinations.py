"""The webhook destination policy through the real app on a real Redis: refusals at
registration (nothing is sent anywhere), and at delivery a real receiver on loopback,
reached under a name that a resolver injected here maps to it, until the name maps
elsewhere or the allow-list changes. No request leaves this machine's loopback: the
injected resolver answers only the names the test gives and `localhost`."""

from __future__ import annotations

import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.webhook_policy import system_resolver
from streams.settings import StoreSettings
from streams.store import Store
from tests.http_receiver import Receiver
from tests.integration.conftest import ADMIN_KEY, ApiClient, api_settings
from tests.integration.test_webhooks import FAST, dishonest_firm, log_of, until

pytestmark = pytest.mark.integration
#: a public address (example.com's): registered only where delivery is off, so never
#: connected to (documentation ranges such as 192.0.2.0/24 are not public: refused)
PUBLIC = "93.184.215.14"
HOOK_NAME = "receiver.creditwatch.test"


class Names:
    """A resolver the test controls: its names, `localhost` from the system (the hosts
    file), and no other name (no query leaves the machine)."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {}

    async def __call__(self, host: str, port: int) -> list[str]:
        if host in self.names:
            return self.names[host]
        if host == "localhost":
            return await system_resolver(host, port)
        raise socket.gaierror(socket.EAI_NONAME, "unknown name")


def _client(store_settings: StoreSettings, names: Names, **settings: object) -> TestClient:
    app = create_app(api_settings(**settings), store_settings)
    app.state.resolver = names
    return TestClient(app, headers=ApiClient.auth(ADMIN_KEY))


REFUSED_BY_DEFAULT = [
    "http://127.0.0.1:6379/",  # http, and loopback
    "https://127.0.0.1/",
    "https://localhost/",
    "https://127.1/",
    "https://[::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://169.254.169.254/latest/meta-data/",
    "https://10.1.2.3/",
    "https://172.16.0.1/",
    "https://192.168.1.1/",
    "https://100.64.0.1/",
    "https://0.0.0.0/",
    "https://192.0.2.10/",
    "https://224.0.0.1/",
    "https://240.0.0.1/",
    "https://[fe80::1]/",
    "https://[fc00::1]/",
    "https://[64:ff9b::a01:203]/",
    "https://internal.creditwatch.test/",  # resolves (here) to a private address
    "https://mixed.creditwatch.test/",  # one public address, one private: refused
    "https://unknown.creditwatch.test/",  # does not resolve
]


@pytest.fixture
def names() -> Names:
    found = Names()
    found.names["internal.creditwatch.test"] = ["10.20.30.40"]
    found.names["mixed.creditwatch.test"] = [PUBLIC, "192.168.0.7"]
    found.names["public.creditwatch.test"] = [PUBLIC]
    return found


@pytest.fixture
def refusing(store_settings: StoreSettings, names: Names) -> Iterator[ApiClient]:
    """The defaults (https to public addresses only); nothing is delivered."""
    with _client(store_settings, names, webhooks_enabled=False) as client:
        yield ApiClient(client)


@pytest.mark.parametrize("url", REFUSED_BY_DEFAULT)
def test_registration_refuses_what_the_policy_refuses(refusing: ApiClient, url: str) -> None:
    department = refusing.auth(refusing.account("department"))
    reply = refusing.client.post("/webhooks", json={"url": url}, headers=department)
    assert reply.status_code == 422, reply.text
    error = reply.json()["error"]
    assert error["code"] == "destination_refused", error
    assert error["details"][0]["field"] == "body.url"


def test_registration_accepts_https_to_a_public_address(refusing: ApiClient) -> None:
    for url in (f"https://{PUBLIC}/hook", "https://public.creditwatch.test:8443/hook"):
        reply = refusing.client.post("/webhooks", json={"url": url})
        assert reply.status_code == 201, reply.text
    plain = refusing.client.post("/webhooks", json={"url": "http://public.creditwatch.test/"})
    assert plain.status_code == 422 and "https" in plain.json()["error"]["message"]


def test_the_allow_list_admits_hosts_and_networks(store_settings: StoreSettings) -> None:
    names = Names()
    names.names["hooks.internal.test"] = ["10.9.9.9"]
    allow = ["hooks.internal.test", "172.20.0.0/16", "::1"]
    with _client(store_settings, names, webhooks_enabled=False, webhook_allow=allow) as c:
        for url in ("https://hooks.internal.test/", "https://172.20.1.2/", "https://[::1]/"):
            assert c.post("/webhooks", json={"url": url}).status_code == 201, url
        for url in ("https://172.21.0.1/", "https://127.0.0.1/", "http://172.20.1.2/"):
            assert c.post("/webhooks", json={"url": url}).status_code == 422, url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture
def delivering(
    store_settings: StoreSettings, names: Names, receiver: Receiver
) -> Iterator[tuple[ApiClient, Names]]:
    """Delivery on, http allowed, and 127.0.0.1 (only) allowed."""
    names.names[HOOK_NAME] = ["127.0.0.1"]
    with _client(store_settings, names, **FAST) as client:
        yield ApiClient(client), names


def _hook(api: ApiClient, key: str, receiver: Receiver) -> tuple[str, str]:
    port = receiver.server.server_address[1]
    url = f"http://{HOOK_NAME}:{port}/hook"
    created = api.client.post(
        "/webhooks", json={"url": url, "filters": {"kinds": ["warning"]}}, headers=api.auth(key)
    )
    assert created.status_code == 201, created.text
    return str(created.json()["webhook_id"]), f"{HOOK_NAME}:{port}"


async def _paused(api: ApiClient, key: str, webhook_id: str) -> dict[str, object]:
    def look() -> dict[str, object] | None:
        found = api.client.get(f"/webhooks/{webhook_id}", headers=api.auth(key)).json()
        return found if found["status"] == "paused" else None

    paused: dict[str, object] = await until(look, "the webhook paused")
    return paused


async def test_a_name_that_resolves_elsewhere_later_is_refused_at_delivery(
    store: Store, delivering: tuple[ApiClient, Names], receiver: Receiver
) -> None:
    api, names = delivering
    key = api.account("department")
    webhook_id, host = _hook(api, key, receiver)
    await dishonest_firm(store)
    first = (await until(lambda: receiver.got(status=200), "the first delivery"))[0]
    # sent to the address checked, under the name registered
    assert first.headers["host"] == host

    names.names[HOOK_NAME] = ["127.0.0.2"]  # loopback still, but not allowed
    await dishonest_firm(store)
    paused = await _paused(api, key, webhook_id)
    assert "destination refused" in str(paused["paused_reason"])
    assert "127.0.0.2" in str(paused["paused_reason"])
    assert len(receiver.got()) == 1
    log = log_of(api, key, webhook_id)
    assert log[0]["outcome"] == "failed" and log[0]["status_code"] is None

    names.names[HOOK_NAME] = ["127.0.0.1"]
    resumed = api.client.post(f"/webhooks/{webhook_id}/resume", headers=api.auth(key))
    assert resumed.status_code == 200, resumed.text
    await until(lambda: len(receiver.got(status=200)) == 2, "the delivery after resume")


async def test_an_allow_list_change_after_registration_holds_at_delivery(
    store: Store, delivering: tuple[ApiClient, Names], receiver: Receiver
) -> None:
    api, _ = delivering
    key = api.account("department")
    webhook_id, _ = _hook(api, key, receiver)
    settings = api.client.app.state.settings  # type: ignore[attr-defined]
    settings.webhook_allow = []  # the operator withdraws loopback
    await dishonest_firm(store)
    paused = await _paused(api, key, webhook_id)
    assert "destination refused" in str(paused["paused_reason"])
    assert receiver.got() == []


async def test_redirects_are_not_followed(
    store: Store, delivering: tuple[ApiClient, Names], receiver: Receiver
) -> None:
    api, _ = delivering
    key = api.account("department")
    receiver.redirect_to = receiver.url("/elsewhere")
    webhook_id, _ = _hook(api, key, receiver)
    await dishonest_firm(store)
    paused = await _paused(api, key, webhook_id)
    assert "HTTP 302" in str(paused["paused_reason"])
    assert receiver.got("/elsewhere") == [] and receiver.got(status=302)


@pytest.fixture
def tls_receiver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """An https receiver on 127.0.0.1 with a certificate for HOOK_NAME only, which the
    API's client trusts (SSL_CERT_FILE) and nothing else does."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={HOOK_NAME}",
         "-addext", f"subjectAltName=DNS:{HOOK_NAME}"],
        check=True, capture_output=True,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with Receiver(tls=context) as r:
        yield r


async def test_https_goes_to_the_checked_address_and_verifies_the_name(
    store: Store, store_settings: StoreSettings, names: Names, tls_receiver: Receiver
) -> None:
    """The connection goes to the address checked, while TLS's server name and
    certificate check follow the URL's name: a name the certificate is not for fails."""
    port = tls_receiver.server.server_address[1]
    names.names[HOOK_NAME] = ["127.0.0.1"]
    names.names["other.creditwatch.test"] = ["127.0.0.1"]
    settings = {**FAST, "webhook_allow_http": False}
    with _client(store_settings, names, **settings) as client:
        api = ApiClient(client)
        key = api.account("department")
        hooks = []
        for host in (HOOK_NAME, "other.creditwatch.test"):
            body = {"url": f"https://{host}:{port}/{host}", "filters": {"kinds": ["warning"]}}
            created = client.post("/webhooks", json=body, headers=api.auth(key))
            assert created.status_code == 201, created.text
            hooks.append(created.json()["webhook_id"])
        await dishonest_firm(store)
        got = await until(lambda: tls_receiver.got(f"/{HOOK_NAME}", status=200), "https")
        assert got[0].headers["host"] == f"{HOOK_NAME}:{port}"
        paused = await _paused(api, key, hooks[1])
        assert (
            "CERTIFICATE_VERIFY_FAILED" in str(paused["paused_reason"])
            or "certificate" in str(paused["paused_reason"]).lower()
        ), paused
        assert tls_receiver.got("/other.creditwatch.test") == []
