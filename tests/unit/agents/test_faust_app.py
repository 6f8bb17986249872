"""The Faust app takes the broker session from the settings (CREDITWATCH_*)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.faust_app import create_faust_app
from streams.settings import StreamSettings


def test_the_session_timeout_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CREDITWATCH_SESSION_TIMEOUT_S", "12.5")
    app, _topics = create_faust_app(StreamSettings(), tmp_path)
    assert app.conf.broker_session_timeout == 12.5


def test_a_loaded_worker_is_given_thirty_seconds_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CREDITWATCH_SESSION_TIMEOUT_S", raising=False)
    app, _topics = create_faust_app(StreamSettings(), tmp_path)
    assert app.conf.broker_session_timeout == 30.0
