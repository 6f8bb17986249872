"""Empty fetches paced (agents/fetch_pacing.py), on the real broker: an idle consumer
waits between empty fetches instead of spinning, and records still arrive."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from agents.fetch_pacing import (
    IDLE_PAUSE_MAX_S,
    IDLE_PAUSE_S,
    pace_empty_fetches,
    set_idle_pause,
)
from tests.conftest import MakeTopics

pytestmark = pytest.mark.integration


def _fetch_times(consumer: AIOKafkaConsumer) -> list[float]:
    """When each fetch request left (monotonic), recorded from the consumer's client."""
    sent: list[float] = []
    client = consumer._client
    original = client.send

    async def send(node_id: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        if type(request).__name__.startswith("FetchRequest"):
            sent.append(time.monotonic())
        return await original(node_id, request, *args, **kwargs)

    client.send = send
    return sent


async def _idle_gaps(consumer: AIOKafkaConsumer, fetches: int) -> list[float]:
    """The gaps between the next `fetches` fetches of an idle consumer."""
    sent = _fetch_times(consumer)
    while len(sent) < fetches + 1:
        assert await consumer.getmany(timeout_ms=100) == {}
    return [b - a for a, b in itertools.pairwise(sent[: fetches + 1])]


async def test_an_idle_consumer_waits_between_empty_fetches(
    kafka_broker: str, make_topics: MakeTopics
) -> None:
    # the embedded broker answers an empty fetch at once: unpaced, the gaps are a
    # fraction of a millisecond (thousands of fetches a second)
    (topic,) = make_topics("idle", partitions=2)
    pace_empty_fetches()
    pace_empty_fetches()  # installed once, whatever the number of calls
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_broker, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(2)])
        await consumer.seek_to_beginning()
        gaps = await _idle_gaps(consumer, 10)
        assert min(gaps) >= IDLE_PAUSE_S, gaps
        # the pause doubles with each empty fetch in a row (5, 10, 20, 40 ms), then stays
        assert min(gaps[4:]) >= IDLE_PAUSE_MAX_S, gaps

        set_idle_pause(consumer, 0.05)  # the trainer's kind of consumer: a longer floor
        gaps = await _idle_gaps(consumer, 5)
        assert min(gaps) >= 0.05, gaps
    finally:
        await consumer.stop()


async def test_records_produced_while_paused_still_arrive(
    kafka_broker: str, make_topics: MakeTopics
) -> None:
    (topic,) = make_topics("records", partitions=2)
    pace_empty_fetches()
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_broker, enable_auto_commit=False)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_broker)
    await consumer.start()
    await producer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(2)])
        await consumer.seek_to_beginning()
        assert await consumer.getmany(timeout_ms=50) == {}  # idle: pauses under way
        for n in range(10):
            await producer.send_and_wait(topic, str(n).encode(), partition=n % 2)
        got: list[bytes] = []
        while len(got) < 10:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                got += [r.value for r in records]
        assert sorted(got) == sorted(str(n).encode() for n in range(10))
    finally:
        await producer.stop()
        await consumer.stop()
