"""The one faust.App and its topics. Built by a function, never at import time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import faust
from faust.types import TopicT

from streams.settings import StreamSettings


@dataclass
class Topics:
    #: what the worker consumes: the input topic and the fan-out of person events
    inputs: TopicT
    fanout: TopicT
    warnings: TopicT
    grade_changes: TopicT
    dead_letters: TopicT
    labels: TopicT


def broker_urls(bootstrap: str) -> list[str]:
    """`host:port,host:port` as Faust broker URLs.

    >>> broker_urls("a:9092,b:9093")
    ['kafka://a:9092', 'kafka://b:9093']
    """
    return [f"kafka://{h.strip()}" for h in bootstrap.split(",") if h.strip()]


def create_faust_app(
    settings: StreamSettings, datadir: Path | None = None
) -> tuple[faust.App, Topics]:
    app = faust.App(
        settings.consumer_group,
        broker=broker_urls(settings.kafka_bootstrap),
        store="memory://",
        web_enabled=False,
        datadir=str(datadir or Path("var") / "worker"),
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=3,
        # the topics are created up front (`creditwatch up` or the operator): Faust must
        # not auto-create them with the wrong partition count
        topic_allow_declare=False,
        topic_disable_leader=True,
        topic_partitions=settings.partitions,
        producer_max_request_size=16 << 20,
        producer_compression_type=settings.compression_type,
        consumer_auto_offset_reset="earliest",
    )

    def raw(*names: str, partitions: int = settings.partitions) -> TopicT:
        return app.topic(
            *names,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=partitions,
        )

    topics = Topics(
        inputs=raw(settings.events_topic, settings.fanout_topic),
        fanout=raw(settings.fanout_topic),
        warnings=raw(settings.warnings_topic),
        grade_changes=raw(settings.grade_changes_topic),
        dead_letters=raw(settings.dead_letters_topic),
        labels=raw(settings.labels_topic, partitions=1),
    )
    return app, topics
