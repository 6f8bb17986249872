"""The related-party indexes in their buckets, on a real Redis: a person's records are
edited in place, a long list is cut into chunks and the bucket stays compact, people
sharing a bucket do not mix, and an index of the layout before the buckets (one key
per person or address) or of another count of buckets moves in with
`migrate_related_indexes`."""

from __future__ import annotations

from typing import Any

import pytest

from rules.addresses import address_key
from streams.store import LinkUpdate, Store, StoreError
from streams.store.members import DEFAULT_BUCKETS, member_id

pytestmark = pytest.mark.integration
AT = "2026-03-02T06:00:00+00:00"
P1, P2, P3 = "426" + "a" * 29, "426" + "b" * 29, "9f0" + "c" * 29


def uscc(n: int) -> str:
    return f"9144030{n:010d}X"


async def link(store: Store, firm: str, people: dict[str, str], before: dict[str, str]) -> None:
    await store.commit([], [LinkUpdate(firm, people, before)])


async def test_records_are_set_changed_and_removed_in_place(store: Store) -> None:
    await link(store, uscc(1), {P1: f"legal_rep|{AT}", P2: "shareholder"}, {})
    await link(store, uscc(2), {P1: f"officer:监事|{AT}"}, {})
    assert await store.person_firms(P1) == {uscc(1): ["legal_rep"], uscc(2): ["officer:监事"]}
    assert await store.person_firms(P2) == {uscc(1): ["shareholder"]}
    # the first firm's representative changes roles, and it drops the second person
    await link(
        store, uscc(1), {P1: f"shareholder|{AT}"}, {P1: f"legal_rep|{AT}", P2: "shareholder"}
    )
    assert await store.person_firms(P1) == {uscc(1): ["shareholder"], uscc(2): ["officer:监事"]}
    assert await store.person_firms(P2) == {}
    data = await store.load_related([P1, P2], {}, (0, 0))
    assert data.person_firms == {
        P1: {uscc(1): f"shareholder|{AT}", uscc(2): f"officer:监事|{AT}"},
        P2: {},
    }


async def test_a_crowd_spans_chunks_and_the_bucket_stays_compact(store: Store) -> None:
    firms = [uscc(n) for n in range(40)]
    for firm in firms:
        await link(store, firm, {P3: f"legal_rep|{AT}"}, {})
    key = (await store._layout()).person_bucket(P3)
    assert await store.redis.object("encoding", key) == b"listpack"
    assert await store.redis.hlen(key) > 10  # one person's records, in many fields
    assert sorted(await store.person_firms(P3)) == firms
    # a crowd that even with one more firm stays below the floor comes back empty
    assert (await store.load_related([P3], {}, (42, None))).person_firms == {P3: {}}
    found = await store.load_related([P3], {}, (41, None))
    assert sorted(found.person_firms[P3]) == firms
    for firm in firms[1:]:
        await link(store, firm, {}, {P3: f"legal_rep|{AT}"})
    assert await store.person_firms(P3) == {firms[0]: ["legal_rep"]}
    assert await store.redis.hlen(key) == 1  # the chunks no longer needed are gone


async def test_a_listing_fans_out_to_the_firms_in_the_bucket(store: Store) -> None:
    await link(store, uscc(1), {P1: f"legal_rep|{AT}"}, {})
    await link(store, uscc(2), {P2: f"legal_rep|{AT}"}, {})
    assert await store.apply_person_listing(P1, "e1", "case-1", True, AT) == [uscc(1)]
    data = await store.load_related([P1, P2], {}, (0, 0))
    assert data.listings == {P1: [f"e1|{AT}"]}


async def test_the_address_index_and_the_allow_list(store: Store) -> None:
    address = "深圳市南山区科技园路1号"
    akey = address_key(address)
    await store.commit(
        [], [LinkUpdate(uscc(n), {}, {}, address=(akey, f"2026-03-01|{AT}")) for n in range(3)]
    )
    assert await store.address_firms(akey) == [uscc(n) for n in range(3)]
    assert await store.allow_address(address)
    nudged: Any = await store.redis.zrange(store.nudges, 0, -1)
    assert sorted(n.decode() for n in nudged) == [uscc(n) for n in range(3)]
    data = await store.load_related([], {akey: address}, (0, 0))
    assert data.address_firms[akey] == {uscc(n): f"2026-03-01|{AT}" for n in range(3)}
    assert data.allowed == {akey}


async def test_the_layout_before_the_buckets_is_migrated(store: Store) -> None:
    r, cw = store.redis, store.prefix
    address = "深圳市福田区福华路2号"
    akey = address_key(address)
    # as the version before kept them: one key per person and per address
    await r.hset(f"{cw}:{{p:{P1}}}:firms", mapping={uscc(1): f"legal_rep|{AT}", uscc(2): ""})
    await r.sadd(f"{cw}:{{p:{P1}}}:seen", "e0", "e1")  # e0: before its firms were kept
    await r.hset(f"{cw}:{{p:{P1}}}:listings", "case-1", f"e1|{AT}")
    await r.hset(f"{cw}:{{p:{P1}}}:fanned", "e1", uscc(1))
    await r.hset(f"{cw}:{{a:{akey}}}:firms", uscc(3), "2026-03-01")
    old_size = await r.memory_usage(f"{cw}:{{p:{P1}}}:firms")
    await r.hset(store.directory, uscc(1), "{}")
    # a store with firms and no count of buckets is from before them: not read as empty
    with pytest.raises(StoreError, match="indexes migrate"):
        await store.person_firms(P1)

    moved = [n async for n in store.migrate_related_indexes()]
    assert sum(moved) == 5
    assert [n async for n in store.migrate_related_indexes()] == []  # nothing left
    assert await r.exists(f"{cw}:{{p:{P1}}}:firms", f"{cw}:{{a:{akey}}}:firms") == 0
    # a record the buckets hold already is newer than one left in an old key
    await link(store, uscc(4), {P1: "shareholder"}, {})
    await r.hset(f"{cw}:{{p:{P1}}}:firms", uscc(4), "legal_rep")
    assert sum([n async for n in store.migrate_related_indexes()]) == 1
    assert await store.person_firms(P1) == {
        uscc(1): ["legal_rep"],
        uscc(2): [""],
        uscc(4): ["shareholder"],
    }
    assert await store.address_firms(akey) == [uscc(3)]
    data = await store.load_related([P1], {akey: address}, (0, 0))
    assert data.listings == {P1: [f"e1|{AT}"]}
    assert data.address_firms[akey] == {uscc(3): "2026-03-01"}
    # a redelivered listing fans out to the firms of its first time, as before
    assert await store.apply_person_listing(P1, "e1", "case-1", True, AT) == [uscc(1)]
    # one recorded before: to the firms linked now
    assert await store.apply_person_listing(P1, "e0", "case-0", True, AT) == [
        uscc(1),
        uscc(2),
        uscc(4),
    ]
    assert (await store.load_related([P1], {}, (0, 0))).listings == {P1: [f"e1|{AT}"]}
    # and a person costs less in a bucket than in a key of its own
    await link(store, uscc(4), {}, {P1: "shareholder"})
    await link(store, uscc(2), {}, {P1: ""})
    layout = await store._layout()
    bucket = layout.person_bucket(P1)
    others = [f"{n:032x}" for n in range(20_000)]
    others = [p for p in others if layout.person_bucket(p) == bucket][:20]
    for n, person in enumerate(others):
        await link(store, uscc(100 + n), {person: f"legal_rep|{AT}"}, {})
    per_person = await r.memory_usage(bucket) / (len(others) + 1)
    assert len(others) == 20 and per_person < old_size / 3
    assert member_id(P1) == bytes.fromhex(P1)


async def test_another_count_of_buckets_is_migrated(store: Store) -> None:
    people = [f"{n:032x}" for n in range(300)]
    for n, person in enumerate(people):
        await link(store, uscc(n % 7), {person: f"legal_rep|{AT}"}, {})
    await store.apply_person_listing(people[0], "e1", "case-1", True, AT)
    before = {p: await store.person_firms(p) for p in people}
    was = await store._layout()
    assert was.buckets == DEFAULT_BUCKETS
    old_buckets = {was.person_bucket(p) for p in people}

    moved = sum([n async for n in store.migrate_related_indexes(buckets=16)])
    layout = await store._layout()
    assert layout.buckets == 16
    found: Any = [k.decode() async for k in store.redis.scan_iter(f"{store.prefix}:{{p:*")]
    assert {k.split("}")[0] for k in found} <= {f"{store.prefix}:{{p:16:{b}" for b in range(16)}
    # the buckets, and the listing record of the person listed
    assert moved == len(old_buckets) + 1 and len(set(found)) == 16 + 1
    assert {p: await store.person_firms(p) for p in people} == before
    data = await store.load_related(people[:1], {}, (0, 0))
    assert data.listings == {people[0]: [f"e1|{AT}"]}
