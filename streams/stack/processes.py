"""Child processes that leave no orphans.

Each child runs in its own session (so a terminal's Ctrl-C reaches only the
supervisor, which then stops the children in order) and, on Linux, asks the kernel
for SIGTERM when its parent dies (PR_SET_PDEATHSIG), so a SIGKILLed supervisor still
takes its children down. `ManagedProcess.stop` signals the whole process group:
SIGTERM, a grace period, then SIGKILL.

>>> port = free_port()
>>> 0 < port < 65536
True
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

ReadyCheck = Callable[[], bool]

_PR_SET_PDEATHSIG = 1


class ProcessError(RuntimeError):
    """A child failed to start, to become ready, or exited when it should not have."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file ('' when it does not exist)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 64 * 1024))
            data = fh.read()
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up in the parent (never dlopen between fork and exec)."""
    global _PRCTL
    if _PRCTL is None and sys.platform.startswith("linux"):
        try:
            _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):
            log.warning("prctl unavailable: children will not die with the supervisor")
    return _PRCTL


_PRCTL: Callable[..., int] | None = None


def _child_preexec(parent_pid: int) -> Callable[[], None] | None:
    """Runs in the child between fork and exec: SIGTERM me when my parent dies."""
    prctl = _prctl()
    if prctl is None:
        return None

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


class ManagedProcess:
    """One child process in its own process group, logging to a file.

    Note: PR_SET_PDEATHSIG fires when the *thread* that spawned the child exits, so
    start children from a long-lived thread (normally the main thread).
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stop_timeout: float = 10.0,
        url: str | None = None,
    ) -> None:
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.stop_timeout = stop_timeout
        self.url = url  # how clients reach it (bootstrap string, redis://..., http://...)
        self.started_at: float | None = None
        self._popen: subprocess.Popen[bytes] | None = None
        self._stopped = False

    def __repr__(self) -> str:
        return f"<ManagedProcess {self.name} pid={self.pid} rc={self.returncode}>"

    @property
    def popen(self) -> subprocess.Popen[bytes]:
        if self._popen is None:
            raise ProcessError(f"{self.name} was never started")
        return self._popen

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    @property
    def returncode(self) -> int | None:
        return self._popen.poll() if self._popen is not None else None

    def is_running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def start(self) -> ManagedProcess:
        if self._popen is not None:
            raise ProcessError(f"{self.name} already started (pid {self._popen.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as logf:
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
                preexec_fn=_child_preexec(os.getpid()),
            )
        self.started_at = time.monotonic()
        log.info("started %s (pid %d): %s", self.name, self._popen.pid, " ".join(self.argv))
        return self

    def wait(self, timeout: float | None = None) -> int:
        return self.popen.wait(timeout)

    def wait_until(
        self, check: ReadyCheck, timeout: float, what: str = "ready", interval: float = 0.05
    ) -> float:
        """Poll `check` until it is true; fail fast if the process exits. Returns seconds."""
        start = time.monotonic()
        deadline = start + timeout
        while True:
            if not self.is_running():
                raise ProcessError(
                    f"{self.name} exited with code {self.returncode} before it was {what}; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            try:
                if check():
                    return time.monotonic() - start
            except Exception as exc:  # a probe error just means "not yet"
                log.debug("%s readiness probe: %r", self.name, exc)
            if time.monotonic() > deadline and self.is_running():
                raise ProcessError(
                    f"{self.name} (pid {self.pid}) was not {what} after {timeout:.0f} s; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(interval)

    def _signal_group(self, sig: int) -> bool:
        """Signal the child's process group; False when nothing is left to signal."""
        pid = self.pid
        if pid is None:
            return False
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return False
        except PermissionError:  # group leader gone, pgid reused by someone else
            return False
        return True

    def stop(self, timeout: float | None = None) -> int | None:
        """SIGTERM the group, wait up to `timeout` s, then SIGKILL. Returns the exit code."""
        if self._popen is None:
            return None
        if self._stopped:
            return self._popen.poll()
        timeout = self.stop_timeout if timeout is None else timeout
        was_running = self._popen.poll() is None
        # Even if the leader is gone, grandchildren may still hold the group.
        self._signal_group(signal.SIGTERM)
        if was_running:
            start = time.monotonic()
            try:
                self._popen.wait(timeout)
                log.info(
                    "stopped %s (pid %d) in %.1f s, code %s",
                    self.name,
                    self._popen.pid,
                    time.monotonic() - start,
                    self._popen.returncode,
                )
            except subprocess.TimeoutExpired:
                log.warning(
                    "%s (pid %d) ignored SIGTERM for %.0f s; sending SIGKILL",
                    self.name,
                    self._popen.pid,
                    timeout,
                )
        if self._signal_group(signal.SIGKILL) or self._popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._popen.kill()
            self._popen.wait()
        self._stopped = True
        return self._popen.returncode

    def log_tail(self, lines: int = 20) -> str:
        return tail(self.log_path, lines)


def pid_alive(pid: int) -> bool:
    """True when `pid` is a live process (zombies count as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError as exc:
        return exc.errno == errno.EPERM
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill(0)
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
