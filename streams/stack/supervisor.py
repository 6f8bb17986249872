"""The supervisor: start named children in order, stop them in reverse, die together.

Inside `with Supervisor(...)`, SIGINT and SIGTERM become a clean stop of every child;
when one child exits on its own, `watch` logs which one, its exit code and the tail of
its log, stops the others and returns a non-zero code.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType

from streams.stack.processes import ManagedProcess, ReadyCheck

log = logging.getLogger(__name__)

_HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class ShutdownRequested(BaseException):  # like KeyboardInterrupt: not an error
    """Raised by the supervisor's signal handler to unwind startup or `watch`."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def http_ready(url: str, timeout: float = 1.0) -> ReadyCheck:
    """A readiness probe: true once GET `url` answers with a 2xx status."""

    def probe() -> bool:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return 200 <= int(resp.status) < 300

    return probe


@dataclass(frozen=True)
class ChildSpec:
    """A child the supervisor runs: argv, extra environment, optional readiness probe.

    `env` is merged over the supervisor's environment (plus any base env given to
    `Supervisor.spawn`). `ready` is polled until it returns True (see `http_ready`).
    """

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    ready: ReadyCheck | None = None
    ready_timeout: float = 60.0
    stop_timeout: float = 15.0
    cwd: Path | None = None


class Supervisor:
    """Start children in order, stop them in reverse, die together.

    Use as a context manager: inside it SIGINT/SIGTERM raise `ShutdownRequested`
    (so a signal during startup unwinds too); on exit every child is stopped. A
    `ShutdownRequested` is swallowed there: it is a clean stop, `exit_code` is 0.

        with Supervisor(log_dir) as sup:
            sup.spawn(ChildSpec("worker", [...]))
            code = sup.watch()      # returns when a signal arrives or a child dies
    """

    def __init__(
        self,
        log_dir: Path,
        *,
        poll_interval: float = 0.2,
        handle_signals: bool = True,
    ) -> None:
        self.log_dir = log_dir
        self.poll_interval = poll_interval
        self.handle_signals = handle_signals
        self.children: list[ManagedProcess] = []
        self.exit_code: int | None = None
        self.stop_signal: int | None = None
        self.failed_child: ManagedProcess | None = None
        self._stopping = False
        self._deferring = False
        self._pending_signal: int | None = None
        self._previous_handlers: dict[int, object] = {}

    # -- lifecycle -------------------------------------------------------------------
    def __enter__(self) -> Supervisor:
        if self.handle_signals and threading.current_thread() is threading.main_thread():
            for sig in _HANDLED_SIGNALS:
                self._previous_handlers[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        try:
            self.stop_all()
        finally:
            for sig, handler in self._previous_handlers.items():
                signal.signal(sig, handler)  # type: ignore[arg-type]
            self._previous_handlers.clear()
        if isinstance(exc, ShutdownRequested):
            self.stop_signal = exc.signum
            if self.exit_code is None:
                self.exit_code = 0
            return True
        return False

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self._stopping:
            log.warning("%s received while stopping; still waiting for children", name)
            return
        if self._deferring:  # mid-spawn: raise once the child is registered
            self._pending_signal = signum
            return
        log.info("%s received: stopping %d children", name, len(self.children))
        self._stopping = True
        raise ShutdownRequested(signum)

    @contextlib.contextmanager
    def _signals_deferred(self) -> Iterator[None]:
        """Hold a SIGINT/SIGTERM until a just-forked child is registered."""
        self._deferring = True
        try:
            yield
        finally:
            self._deferring = False
        if self._pending_signal is not None and not self._stopping:
            log.info("%s received: stopping", signal.Signals(self._pending_signal).name)
            self._stopping = True
            raise ShutdownRequested(self._pending_signal)

    # -- children --------------------------------------------------------------------
    def adopt(self, proc: ManagedProcess) -> ManagedProcess:
        """Take charge of a started process: it is watched and stopped with the rest."""
        self.children.append(proc)
        return proc

    def spawn(self, spec: ChildSpec, base_env: Mapping[str, str] | None = None) -> ManagedProcess:
        """Start a child, register it, wait for its readiness probe if it has one."""
        env = dict(os.environ)
        env.update(base_env or {})
        env.update(spec.env)
        proc = ManagedProcess(
            spec.name,
            spec.argv,
            log_path=self.log_dir / f"{spec.name}.log",
            env=env,
            cwd=spec.cwd,
            stop_timeout=spec.stop_timeout,
        )
        with self._signals_deferred():
            self.adopt(proc.start())
        if spec.ready is not None:
            took = proc.wait_until(spec.ready, spec.ready_timeout)
            log.info("%s ready in %.2f s", spec.name, took)
        return proc

    def stop_all(self) -> None:
        """Stop every child, last started first. Safe to call twice."""
        self._stopping = True
        for proc in reversed(self.children):
            try:
                proc.stop()
            except Exception:
                log.exception("could not stop %s (pid %s)", proc.name, proc.pid)

    def check(self) -> ManagedProcess | None:
        """The first child that has exited, if any."""
        for proc in self.children:
            if not proc.is_running():
                return proc
        return None

    def watch(self, until: Callable[[], bool] | None = None) -> int:
        """Block until a signal arrives, a child exits, or `until()` is true.

        Returns 0 for a requested stop, otherwise the dead child's exit code (1 if it
        exited with 0: nobody asked it to). Children are stopped before returning.
        """
        try:
            while True:
                dead = self.check()
                if dead is not None:
                    return self._child_died(dead)
                if until is not None and until():
                    self.exit_code = 0
                    return 0
                time.sleep(self.poll_interval)
        except ShutdownRequested as stop:
            self.stop_signal = stop.signum
            self.exit_code = 0
            return 0
        finally:
            self.stop_all()

    def _child_died(self, proc: ManagedProcess) -> int:
        code = proc.returncode
        log.error(
            "%s (pid %s) exited unexpectedly with code %s; stopping the others. "
            "Last lines of %s:\n%s",
            proc.name,
            proc.pid,
            code,
            proc.log_path,
            proc.log_tail(),
        )
        self.failed_child = proc
        self.exit_code = code if code else 1
        if code is not None and code < 0:  # killed by a signal: shell convention
            self.exit_code = 128 - code
        return self.exit_code
