"""The console in a real browser: Debian's chromium driven by Playwright, against a
real worker and API (subprocesses) on the session's broker and Redis. One browser for
the session; each test gets its own context (cookies) and page."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from streams.settings import StreamSettings
from streams.topics.ingest import make_producer, send_unchecked
from tests.worker_and_api import worker_and_api

pytestmark = pytest.mark.integration
CHROMIUM = os.environ.get("CREDITWATCH_CHROMIUM", "/usr/bin/chromium")


@dataclass
class Stack:
    base: str
    admin_key: str
    api: httpx.Client  # as the bootstrap admin
    settings: StreamSettings

    def produce(self, *events: dict[str, Any]) -> None:
        producer = make_producer(self.settings)
        try:
            send_unchecked(producer, self.settings.events_topic, events)
        finally:
            producer.close()

    def account(self, role: str, district: str | None = None) -> tuple[str, str]:
        """A new account and its key: (account id, key)."""
        account_id = f"{role}-{uuid.uuid4().hex[:6]}"
        body = {"account_id": account_id, "name": f"{role} 账户", "department": "samr"}
        created = self.api.post(
            "/admin/accounts", json={**body, "role": role, "district": district}
        )
        assert created.status_code == 201, created.text
        key = self.api.post(f"/admin/accounts/{account_id}/keys")
        assert key.status_code == 201, key.text
        return account_id, str(key.json()["key"])


def eventually(probe: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium; missing, the browser tests fail under CI and skip elsewhere."""
    if shutil.which(CHROMIUM) is None:
        message = f"{CHROMIUM} is missing: apt-get install chromium fonts-wqy-microhei"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    """One browser for the module: sync Playwright keeps an event loop running in this
    thread while it is started, which the async tests after it could not run under."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def stack(
    kafka_broker: str, redis_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("console")
    extra = {"CREDITWATCH_LIVE_KEEPALIVE_S": "2"}
    with worker_and_api(kafka_broker, redis_server, logs, "console", extra) as rig:
        yield Stack(rig.base, rig.admin_key, rig.api, rig.settings)


@pytest.fixture
def new_page(browser: Any, stack: Stack) -> Iterator[Callable[..., Any]]:
    """Pages in fresh contexts, signed in with a key when one is given. Every request a
    page makes is intercepted: recorded on `page.requests_seen`, and one for another
    origin is stopped and recorded on `page.foreign`."""
    contexts: list[Any] = []

    def make(key: str | None = None) -> Any:
        context = browser.new_context(base_url=stack.base, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.requests_seen, page.foreign = [], []

        def intercept(route: Any) -> None:
            # every request passes here: one for another origin is counted and stopped
            url = route.request.url
            page.requests_seen.append(url)
            if url.startswith(stack.base + "/"):
                route.continue_()
            else:
                page.foreign.append(url)
                route.abort()

        context.route("**/*", intercept)
        page.set_default_timeout(10_000)
        if key is not None:
            page.goto("/console/login")
            page.get_by_label("API 密钥").fill(key)
            page.get_by_role("button", name="登录").click()
            page.wait_for_url("**/console/")
        return page

    yield make
    for context in contexts:
        context.close()
