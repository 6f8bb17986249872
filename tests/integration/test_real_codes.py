"""Real published USCCs (tests/fixtures/real_usccs.csv) end to end: produced to Kafka, a
real worker applies them and the real API shows the firms. The rig is
test_end_to_end.py's: a worker and an API process on the test broker."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.integration.test_end_to_end import Running, enterprise, eventually, produce, running
from tests.unit.contract.test_identifiers import REAL_USCCS

pytestmark = pytest.mark.integration
__all__ = ["running"]  # the module-scoped rig, shared by import


def visible(running: Running, codes: list[str]) -> set[str]:
    return {code for code in codes if (e := enterprise(running, code)) and e["status"] == "active"}


def test_real_codes_produced_to_kafka_are_applied_and_shown(running: Running) -> None:
    produce(running, *(f.registered(code) for code in REAL_USCCS))
    shown = eventually(lambda: (got := visible(running, REAL_USCCS)) == set(REAL_USCCS) and got)
    assert shown == set(REAL_USCCS)
    reply = running.api.get(f"/enterprises/{REAL_USCCS[0]}")
    assert reply.status_code == 200 and reply.json()["profile"]["name"] == "深圳市示例科技有限公司"
