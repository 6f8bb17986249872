"""The Faust app takes the broker session and the compression from the settings
(CREDITWATCH_*)."""

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


@pytest.mark.parametrize(
    ("setting", "expected"), [(None, "zstd"), ("none", None), ("gzip", "gzip")]
)
def test_the_producer_compresses_as_the_settings_say(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, setting: str | None, expected: str | None
) -> None:
    if setting is None:
        monkeypatch.delenv("CREDITWATCH_KAFKA_COMPRESSION", raising=False)
    else:
        monkeypatch.setenv("CREDITWATCH_KAFKA_COMPRESSION", setting)
    app, _topics = create_faust_app(StreamSettings(), tmp_path)
    assert app.conf.producer_compression_type == expected


def test_every_codec_offered_is_installed() -> None:
    """A codec whose library is missing fails only when the first batch is sent."""
    from aiokafka.codec import has_zstd
    from kafka.codec import has_zstd as kafka_python_has_zstd

    assert has_zstd() and kafka_python_has_zstd()  # gzip: the standard library
