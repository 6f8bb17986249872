"""`creditwatch bench-api`'s pacing (streams/bench/api_load.py): wrk, driven by its Lua
schedule, offers the rate asked for whatever the response time, against a local HTTP
server. Needs wrk (Debian: apt-get install wrk), which .ci/run installs: skipped
without it, except in CI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from streams.bench.api_load import PACING, THREADS

pytestmark = pytest.mark.integration

if shutil.which("wrk") is None:
    if os.environ.get("CI") == "true":  # .ci/run installs it: missing there is a failure
        raise RuntimeError("wrk is not installed; .ci/run installs Debian's package")
    pytest.skip("wrk not on PATH (Debian package wrk)", allow_module_level=True)


class _Slow(BaseHTTPRequestHandler):
    """Answers after 15 ms: longer than a connection's share of the schedule."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two small writes

    def do_GET(self) -> None:
        time.sleep(0.015)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_wrk_offers_the_rate_asked_even_when_responses_take_time(
    server: str, tmp_path: Path
) -> None:
    rate, seconds, connections = 200, 3, 10
    script = tmp_path / "paced.lua"
    script.write_text(PACING % {"interval_ms": repr(1000 * THREADS / rate)})
    argv = ["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{seconds}s", "-s", str(script), server]
    runs = []
    # A machine busy with other work (the suite's other processes) starves wrk and the
    # server and can only lower the rate achieved, never raise it: up to three runs,
    # every one within the upper bound and the best within the lower one
    for _ in range(3):
        out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=30).stdout
        found = re.search(r"(\d+) requests in ([\d.]+)s", out)
        assert found, out
        achieved = int(found.group(1)) / float(found.group(2))
        assert achieved <= 1.1 * rate, out
        runs.append((achieved, out))
        if achieved >= 0.9 * rate:
            break
    achieved, out = max(runs)
    # a pause of 1000 * connections / rate ms after each response, as the bench did
    # before, would have offered 10 / (50 ms + 15 ms) = 154 requests/s here
    assert 0.9 * rate <= achieved <= 1.1 * rate, out
