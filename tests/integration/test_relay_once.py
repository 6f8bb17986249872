"""The relay after a crash between the broker's acknowledgement and Redis's: the entries
in doubt that reached their topic are not sent again; the others are (real Redis, real
broker)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from functools import partial
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from agents.pipeline import Message, Pipeline
from agents.published import OUTBOX_HEADER, find_published
from agents.relay import Headers, Relay
from streams.store import Store
from tests import factories as f
from tests.conftest import MakeTopics

pytestmark = pytest.mark.integration


class Crash(Exception):
    pass


class Producer:
    """Sends as the worker does; with `crash_after`, the process "dies" once that many
    records were acknowledged by the broker."""

    def __init__(self, producer: AIOKafkaProducer, crash_after: int | None = None):
        self.producer, self.crash_after, self.sent = producer, crash_after, 0

    async def send(self, topic: str, key: bytes | None, value: bytes, headers: Headers) -> Any:
        if self.crash_after is not None and self.sent >= self.crash_after:
            raise Crash
        await self.producer.send_and_wait(topic, value, key=key, headers=headers)
        self.sent += 1
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def _records(bootstrap: str, topic: str) -> list[Any]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(4)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[Any] = []
        while len(records) < sum(ends.values()):
            for batch in (await consumer.getmany(timeout_ms=1000)).values():
                records += batch
        return records
    finally:
        await consumer.stop()


async def _warnings(store: Store, n: int) -> list[str]:
    ids = [f"w-{i}" for i in range(n)]
    for i, wid in enumerate(ids):
        record = {"warning_id": wid, "uscc": f"firm-{i % 3}", "status": "open"}
        await store.redis.xadd(store.warnings_stream, {"data": json.dumps(record)})
    return ids


async def test_entries_in_doubt_reach_the_topic_once(
    store: Store, kafka_broker: str, make_topics: MakeTopics
) -> None:
    (topic,) = make_topics("warnings")
    topic_for = {s: topic for s in store.outbox_streams()}
    await store.ensure_outbox_group()
    ids = await _warnings(store, 10)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_broker)
    await producer.start()
    try:
        dying = Relay(store, Producer(producer, crash_after=6).send, topic_for)
        with pytest.raises(Crash):
            await dying.pump()  # 6 published, none acknowledged in Redis
        survivor = Relay(
            store,
            Producer(producer).send,
            topic_for,
            published=partial(find_published, kafka_broker),
        )
        assert await store.claim_stale_outbox(survivor.consumer, 0, 1000) == 10
        assert await survivor.pump(pending=True) == 4
        assert await survivor.pump(pending=True) == 0  # all acknowledged now
    finally:
        await producer.stop()
    records = await _records(kafka_broker, topic)
    published = Counter(json.loads(r.value)["warning_id"] for r in records)
    assert published == Counter(ids)
    assert all(dict(r.headers).get(OUTBOX_HEADER) for r in records)


async def test_without_the_check_entries_in_doubt_are_sent_again(
    store: Store, kafka_broker: str, make_topics: MakeTopics
) -> None:
    """What the check prevents (and what a relay without one does: at least once)."""
    (topic,) = make_topics("warnings")
    topic_for = {s: topic for s in store.outbox_streams()}
    await store.ensure_outbox_group()
    await _warnings(store, 4)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_broker)
    await producer.start()
    try:
        with pytest.raises(Crash):
            await Relay(store, Producer(producer, crash_after=3).send, topic_for).pump()
        survivor = Relay(store, Producer(producer).send, topic_for)
        await store.claim_stale_outbox(survivor.consumer, 0, 1000)
        assert await survivor.pump(pending=True) == 4
    finally:
        await producer.stop()
    records = await _records(kafka_broker, topic)
    assert len(records) == 7


async def test_outputs_are_keyed_by_their_enterprise_old_entries_too(
    store: Store, kafka_broker: str, make_topics: MakeTopics
) -> None:
    """The commit writes the key beside the record and the relay forwards it as is;
    an entry written without one (before, or by another script) is keyed from its
    record."""
    (topic,) = make_topics("outputs")
    topic_for = {s: topic for s in store.outbox_streams()}
    await store.ensure_outbox_group()
    code = f.uscc()
    events = [f.registered(code), f.dishonest_listed(code)]
    messages = [Message("events", 0, i, f.encode(e)) for i, e in enumerate(events)]
    assert (await Pipeline(store, "fanout").handle(messages)).applied == 2
    written = [e for s in store.outbox_streams() for e in await store.redis.xrange(s)]
    assert await store.redis.xlen(store.warnings_stream) > 0
    assert written and all(fields[b"key"] == code.encode() for _, fields in written)
    old = {"warning_id": "w-old", "uscc": "firm-old", "status": "open"}
    await store.redis.xadd(store.warnings_stream, {"data": json.dumps(old)})
    # a key beside the record wins: the record is not parsed for one
    await store.redis.xadd(store.warnings_stream, {"key": "firm-beside", "data": b"{}"})
    producer = AIOKafkaProducer(bootstrap_servers=kafka_broker)
    await producer.start()
    try:
        relay = Relay(store, Producer(producer).send, topic_for)
        while await relay.pump(block_ms=100):
            pass
    finally:
        await producer.stop()
    records = await _records(kafka_broker, topic)
    keys = Counter(r.key for r in records)
    assert keys[b"firm-old"] == 1 and keys[b"firm-beside"] == 1
    assert keys[code.encode()] == len(written)  # its warnings, grade change, labels
    assert set(keys) == {code.encode(), b"firm-old", b"firm-beside"}
