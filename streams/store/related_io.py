"""The related-party indexes as a worker reads and writes them: a batch's people's and
addresses' firms and listings in one call, the links its firms changed, a person's
listing (the layout: streams/store/members.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from rules.related import RelatedData
from streams.store import members
from streams.store.base import StoreBase, queue_script


@dataclass
class LinkUpdate:
    """An enterprise's index entries before and after a batch, plus those linked early
    in it; only the differences are written. People: person_key -> "roles|instant".
    Address: the address key and "arrival day|instant" (rules/related.py)."""

    uscc: str
    people: dict[str, str]
    before: dict[str, str]
    early: set[str] = field(default_factory=set)
    address: tuple[str, str] | None = None
    address_before: tuple[str, str] | None = None
    early_addresses: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Edit:
    """One firm's record in a person's (address's) entry of the related-party
    indexes: `set` it, `add` it unless it has one, or `del` it."""

    bucket: str
    #: the person's (address's) id (streams/store/members.py)
    member: bytes
    op: Literal["set", "add", "del"]
    uscc: str
    entry: str = ""

    @classmethod
    def of(
        cls,
        layout: members.Layout,
        kind: members.Kind,
        key: str,
        op: Literal["set", "add", "del"],
        uscc: str,
        entry: str = "",
    ) -> Edit:
        member = members.member_id(key)
        return cls(layout.bucket(kind, member), member, op, uscc, entry)


def _below(floor: int | None) -> int:
    """The index size from which a crowd may matter: one below the floor (the
    enterprise being processed may be about to join); never, without a floor."""
    return 1 << 30 if floor is None else max(0, floor - 1)


def link_edits(layout: members.Layout, link: LinkUpdate) -> list[Edit]:
    """The index records a firm's batch changes: only the differences."""
    uscc = link.uscc
    edits = [
        Edit.of(layout, "p", pkey, "del", uscc)
        for pkey in sorted((set(link.before) | link.early) - set(link.people))
    ]
    edits += [
        Edit.of(layout, "p", pkey, "set", uscc, entry)
        for pkey, entry in link.people.items()
        if link.before.get(pkey) != entry or pkey in link.early
    ]
    now = link.address[0] if link.address else None
    stale = set(link.early_addresses)
    if link.address_before:
        stale.add(link.address_before[0])
    edits += [Edit.of(layout, "a", a, "del", uscc) for a in sorted(stale - {now})]
    if link.address and (link.address != link.address_before or now in stale):
        akey, entry = link.address
        edits.append(Edit.of(layout, "a", akey, "set", uscc, entry))
    return edits


class RelatedStore(StoreBase):
    async def load_related(
        self,
        pkeys: Iterable[str],
        addresses: Mapping[str, str],
        floors: tuple[int | None, int | None] = (1, 1),
    ) -> RelatedData:
        """The indexes for a batch in one call: each person's firms and listings in
        force, each address's firms (address key -> normalized text given), and which
        of those addresses are allowed. `floors` (person, address; None: no rule needs
        them) are the smallest crowds a rule can warn about: smaller ones come back
        empty, which saves reading the many small ones."""
        people = sorted(set(pkeys))
        akeys = sorted(addresses)
        if not people and not akeys:
            return RelatedData()
        person_floor, address_floor = (_below(f) for f in floors)
        layout = await self._layout()
        keys = [
            self.allowlist,
            *(layout.person_bucket(p) for p in people),
            *(layout.person(p, "listings") for p in people),
            *(layout.address_bucket(a) for a in akeys),
        ]
        args: list[int | str | bytes] = [len(people), len(akeys), person_floor, address_floor]
        args += [members.member_id(p) for p in people]
        args += [members.member_id(a) for a in akeys]
        args += [addresses[a] for a in akeys]
        reply: Any = await self._related(keys=keys, args=args)
        n = len(people)
        data = RelatedData()
        for pkey, firms, listings in zip(people, reply[:n], reply[n : 2 * n], strict=True):
            data.person_firms[pkey] = members.records(firms)
            if listings:
                data.listings[pkey] = sorted(v.decode() for v in listings)
        for akey, firms in zip(akeys, reply[2 * n : 2 * n + len(akeys)], strict=True):
            data.address_firms[akey] = members.records(firms)
        data.allowed = {a for a, flag in zip(akeys, reply[-1], strict=True) if flag}
        return data

    def _edit_members(self, pipe: Any, edits: list[Edit]) -> int:
        """Queue the edits on `pipe`, one script call per bucket (each in one slot), in
        their order; returns how many replies they add."""
        by_bucket: dict[str, list[bytes | str]] = {}
        for e in edits:
            args = by_bucket.setdefault(e.bucket, [])
            record = members.record(e.uscc, e.entry) if e.op != "del" else b""
            args += [e.member, e.op, e.uscc, record]
        for bucket, args in by_bucket.items():
            queue_script(pipe, self._link, [bucket], args)
        return len(by_bucket)

    async def apply_person_listing(
        self, pkey: str, event_id: str, case_no: str, listed: bool, at: str = ""
    ) -> list[str]:
        """Record a person's listing (with its UTC event time `at`, so a firm evaluated
        as of an earlier time does not see it) or removal; the USCCs linked to the
        person when it was first recorded."""
        layout = await self._layout()
        keys = [layout.person(pkey, "listings"), layout.person_bucket(pkey)]
        op = "list" if listed else "remove"
        args: list[str | bytes] = [
            event_id,
            op,
            case_no,
            f"{event_id}|{at}",
            members.member_id(pkey),
        ]
        firms = await self._person_listing(keys=keys, args=args)
        return sorted(f.decode() for f in firms)
