"""Batch envelopes: every event in the partition its key hashes to, in order, decoded
by the worker as the events sent one by one."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date

from aiokafka.partitioner import DefaultPartitioner

from streams.cli.options import DEFAULT_ENVELOPE as CLI_DEFAULT
from streams.contract.events import Event, decode
from streams.simulation import event_key, generate_city, to_bytes
from streams.topics.envelopes import DEFAULT_ENVELOPE, Envelopes, pack, partition_of
from tests import factories as f


def city_events() -> list[tuple[bytes, bytes]]:
    city = generate_city(seed=7, enterprises=60, events=1500, start=date(2025, 1, 1), days=365)
    return [(event_key(e).encode(), to_bytes(e)) for e in city.events() if isinstance(e, dict)]


def test_the_partition_is_kafkas_default_partitioners() -> None:
    for key, _ in city_events()[:300]:
        expected = DefaultPartitioner()(key, list(range(4)), list(range(4)))
        assert partition_of(key, 4) == expected


def test_every_event_goes_to_its_keys_partition_in_order() -> None:
    keyed = city_events()
    sent: dict[int, list[bytes]] = defaultdict(list)
    messages = list(pack(keyed, partitions=4, size=50))
    assert len(messages) < len(keyed) / 10
    for m in messages:
        items = decode(m.value)
        assert len(items) == m.events <= 50
        for item in items:
            assert isinstance(item, Event)
            assert partition_of(item.key.encode(), 4) == m.partition
            sent[m.partition].append(item.event_id.encode())
    wanted: dict[int, list[bytes]] = defaultdict(list)
    for key, value in keyed:
        wanted[partition_of(key, 4)].append(json.loads(value)["event_id"].encode())
    assert sent == wanted  # nothing lost, nothing twice, each partition in order


def test_an_envelope_decodes_as_its_events_sent_alone() -> None:
    keyed = city_events()[:400]
    alone = [item for _, value in keyed for item in decode(value)]
    enveloped = [item for m in pack(keyed, 1, size=100) for item in decode(m.value)]
    assert enveloped == alone


def test_one_per_message_keeps_the_bytes_and_a_full_envelope_closes_by_size() -> None:
    keyed = city_events()[:20]
    assert [(m.key, m.value) for m in pack(keyed, 4, size=1)] == keyed
    packer = Envelopes(partitions=1, size=1000, max_bytes=2000)
    out = [m for key, value in keyed for m in packer.add(key, value)] + packer.flush()
    assert all(len(m.value) <= 2000 for m in out) and sum(m.events for m in out) == 20
    big = f.encode(f.registered(f.uscc(), name="大" * 1000))
    alone = Envelopes(1, 10, max_bytes=1000).add(b"k", big)
    assert [(m.value, m.events) for m in alone] == [(big, 1)]


def test_the_cli_default_is_the_producers() -> None:
    assert CLI_DEFAULT == DEFAULT_ENVELOPE
