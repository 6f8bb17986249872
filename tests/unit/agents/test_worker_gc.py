"""The worker's garbage collector: what is loaded at start frozen, a young generation
large enough for a batch's short-lived objects (agents/worker.py). Checked in a
process of its own: the settings are the process's."""

from __future__ import annotations

import json
import subprocess
import sys

from agents.worker import GC_YOUNG_THRESHOLD

PROBE = """
import gc, json
from agents.worker import settle_garbage_collector
before = gc.get_threshold()
settle_garbage_collector()
print(json.dumps({"frozen": gc.get_freeze_count(), "before": before,
                  "after": gc.get_threshold()}))
"""


def test_the_worker_freezes_what_it_loaded_and_collects_young_less_often() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    ).stdout
    figures = json.loads(out)
    assert figures["frozen"] > 10_000  # the modules' objects, Faust's, the rules'
    assert figures["after"] == [GC_YOUNG_THRESHOLD, *figures["before"][1:]]
    assert figures["before"][0] < GC_YOUNG_THRESHOLD
