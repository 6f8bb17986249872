"""The sidecar (`creditwatch sidecar`): the outbox relay and the trainer in a process of
their own, beside the workers, with its own /metrics.

In a worker they run in threads that do not hold its event loop, but threads share the
GIL: their CPU (the trainer's learning above all) held the worker's main thread back.
Here each keeps its own thread, event loop, Kafka client and Redis client, as in the
worker (`run_relay_thread`, `run_trainer_thread`); two threads of one process rather
than two processes, since together they use a fraction of a core and mostly wait on the
broker and Redis. Several may run, or run beside workers that still run them: exactly
one trainer learns (the labels topic's consumer group) and the relays share the outbox's
Redis consumer group. A worker started with `CREDITWATCH_WORKER_RELAY_TRAINER=false`
leaves both to a sidecar.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from prometheus_client import start_http_server

from agents.fetch_pacing import pace_empty_fetches
from agents.relay import run_relay_thread
from agents.training import run_trainer_thread
from streams.settings import StoreSettings, StreamSettings

log = logging.getLogger(__name__)

Loop = Callable[[StreamSettings, StoreSettings, Callable[[], bool]], None]
LOOPS: dict[str, Loop] = {"relay": run_relay_thread, "trainer": run_trainer_thread}


class Sidecar:
    """The relay and the trainer, each in a thread, until `stop()` or one of them ends
    (which only a bug does: then the others are stopped and `failed` names it)."""

    def __init__(self, stream: StreamSettings, store: StoreSettings):
        self.stopping = threading.Event()
        self.failed: str | None = None
        self.threads = [
            threading.Thread(target=self._run, args=(name, loop, stream, store), name=name)
            for name, loop in LOOPS.items()
        ]

    def _run(self, name: str, loop: Loop, stream: StreamSettings, store: StoreSettings) -> None:
        try:
            loop(stream, store, self.stopping.is_set)
        except BaseException:
            log.exception("the %s stopped on an error", name)
            raise
        finally:
            if not self.stopping.is_set():
                self.failed = self.failed or name
                self.stopping.set()

    def start(self) -> None:
        pace_empty_fetches()  # the trainer's consumer and the relay's read-back
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()

    def wait(self) -> None:
        """Until both threads have ended (after `stop()`: each finishes its round, the
        trainer publishing what it learned since its last snapshot)."""
        self.stopping.wait()
        for thread in self.threads:
            thread.join()


def run_sidecar() -> int:
    """Run the sidecar in the foreground until SIGINT or SIGTERM; 1 if a loop failed."""
    stream, store = StreamSettings(), StoreSettings()
    sidecar = Sidecar(stream, store)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("%s received: stopping the relay and the trainer", signal.Signals(signum).name)
        sidecar.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    server, _thread = start_http_server(
        stream.sidecar_metrics_port, addr=stream.sidecar_metrics_host
    )
    log.info("sidecar metrics on port %d", server.server_port)
    sidecar.start()
    try:
        sidecar.wait()
    finally:
        server.shutdown()
    return 1 if sidecar.failed else 0
