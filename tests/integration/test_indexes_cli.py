"""`creditwatch indexes migrate` as an operator runs it after an upgrade: a real
process against a real Redis holding the person index as one key per person."""

from __future__ import annotations

import pytest

from streams.settings import StoreSettings
from streams.store import Store
from tests.integration.test_rules_cli import creditwatch

pytestmark = pytest.mark.integration
PKEY = "426695a0efdb59b9eaedaf0b5ca3eddf"
USCC = "91440300708461136T"


async def test_migrate_moves_the_old_keys_and_changes_the_count(
    store: Store, store_settings: StoreSettings
) -> None:
    env = {
        "CREDITWATCH_REDIS_URL": store_settings.redis_url,
        "CREDITWATCH_KEY_PREFIX": store_settings.key_prefix,
    }
    cw = store_settings.key_prefix
    await store.redis.hset(f"{cw}:{{p:{PKEY}}}:firms", USCC, "legal_rep|2026-03-01T00:00:00+00:00")
    await store.redis.hset(store.directory, USCC, "{}")

    done = creditwatch("indexes", "migrate", "--no-progress", env=env)
    assert done.returncode == 0, done.stderr
    assert "1 keys of another layout moved" in done.stdout
    assert await store.person_firms(PKEY) == {USCC: ["legal_rep"]}

    done = creditwatch("indexes", "migrate", "--buckets", "8", "--no-progress", env=env)
    assert done.returncode == 0, done.stderr
    assert "1 keys of another layout moved" in done.stdout  # the one bucket in use
    assert await store.redis.get(store.related_buckets) == b"8"
    fresh = Store.from_settings(store_settings)  # a process started after the change
    try:
        assert await fresh.person_firms(PKEY) == {USCC: ["legal_rep"]}
    finally:
        await fresh.close()
