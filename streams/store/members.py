"""The related-party indexes' layout: many people (or addresses) per Redis hash.

A key of its own per person cost about 184 bytes for a one-firm entry (the key, its
hash, a 37-byte text entry), most of it Redis's per-key overhead. Instead, people
share hashes, the buckets, `buckets` of them (the store keeps the count it was created
with in `cw:related-buckets`; `creditwatch indexes migrate --buckets N` changes it):

  cw:{p:N:B}:firms   bucket B of N: field the person's id (the 16 bytes of its hex
                     key) + a 2-byte chunk number -> up to `CHUNK` bytes of its records
  cw:{a:N:B}:firms   the same for addresses (the address key's 12 bytes)
  cw:{p:N:B}:PKEY:listings
                     the person's listing record (lua/person_listing.lua), in its
                     bucket's slot

B is the CRC-32 of the id modulo N, so one person's entries and keys are in one slot.
Each value stays within Redis's compact-hash limit (`hash-max-listpack-value`, 64 by
default), so a bucket stays a listpack however many firms a person has: a long
record list is cut into chunks, the fields ID+0, ID+1... (the scripts in
lua/lib/members.lua read, count and edit them in place). A bucket stays compact up to
`hash-max-listpack-entries` fields (128 by default): about 64 people per bucket, so
N = firms / 20 (people are about 3 per firm).

A record is one firm's entry: USCC length (1 byte), USCC, body length (1 byte below
128, else 2 with the top bit set) and the body, the entry of rules/related.py
("roles|instant", "arrival day|instant") packed by `pack_entry`.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

#: buckets of a new store: a city of up to about 20,000 firms in compact buckets
DEFAULT_BUCKETS = 1024
#: the largest value of a bucket's field (Redis's `hash-max-listpack-value` default)
CHUNK = 64
#: a body's longest (two length bytes, the top bit a marker)
MAX_BODY = 0x7FFF

# body flags (the first byte; 0: the entry's text follows as it is)
_SECONDS = 1  # the instant: 4 bytes, whole seconds since 1970 (UTC)
_MICROS = 2  # the instant: 8 bytes, microseconds since 1970 (UTC)
_DAY = 4  # the head is a day: 2 bytes, days since 1970-01-01
_TOKENS = 8  # the head is text with the common words below as one byte each

#: the common words of role lists, longest first (a byte below 0x20 each)
_WORDS = sorted(
    ("legal_rep", "shareholder", "officer:", "监事", "财务负责人", "经理", "董事",
     "执行董事兼总经理", "执行董事", "总经理", "董事长"),
    key=len,
    reverse=True,
)  # fmt: skip
_CODES = {word: chr(1 + i) for i, word in enumerate(_WORDS)}
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_BUCKET_TAG = re.compile(r"(\d+):(\d+)")

Kind = Literal["p", "a"]


@dataclass(frozen=True)
class Layout:
    """The bucket keys under a prefix, for a count of buckets.

    >>> Layout("cw", 1024).person_bucket("426695a0efdb59b9eaedaf0b5ca3eddf")
    'cw:{p:1024:877}:firms'
    >>> Layout("cw", 1024).person("426695a0efdb59b9eaedaf0b5ca3eddf", "listings")
    'cw:{p:1024:877}:426695a0efdb59b9eaedaf0b5ca3eddf:listings'
    """

    prefix: str
    buckets: int

    def bucket(self, kind: Kind, member: bytes) -> str:
        """The bucket of a person's (`p`) or address's (`a`) id."""
        return f"{self.prefix}:{{{self._tag(kind, member)}}}:firms"

    def person_bucket(self, pkey: str) -> str:
        return self.bucket("p", member_id(pkey))

    def address_bucket(self, akey: str) -> str:
        return self.bucket("a", member_id(akey))

    def person(self, pkey: str, part: str) -> str:
        """One of a person's listing keys, in its bucket's slot."""
        return f"{self.prefix}:{{{self._tag('p', member_id(pkey))}}}:{pkey}:{part}"

    def _tag(self, kind: Kind, member: bytes) -> str:
        return f"{kind}:{self.buckets}:{zlib.crc32(member) % self.buckets}"


def bucket_count(tag_rest: str) -> int | None:
    """The count of buckets of a bucket's tag (after `p:`), None for another tag.

    >>> bucket_count("1024:877"), bucket_count("426695a0efdb59b9eaedaf0b5ca3eddf")
    (1024, None)
    """
    found = _BUCKET_TAG.fullmatch(tag_rest)
    return int(found.group(1)) if found else None


def member_id(key: str) -> bytes:
    """A person's (address's) id inside its bucket: the bytes of its hex key (the
    contract's keys are hex), the text's own bytes for any other key."""
    try:
        return bytes.fromhex(key)
    except ValueError:
        return key.encode()


def pack_entry(entry: str) -> bytes:
    """An index entry in a few bytes; `unpack_entry` gives back the same text.

    >>> [len(pack_entry(e)) for e in ("shareholder|2024-12-31T21:01:55+00:00",
    ...  "officer:监事|2024-12-31T22:04:05+00:00", "2023-04-07|2024-12-31T21:01:55+00:00")]
    [6, 7, 7]
    >>> all(unpack_entry(pack_entry(e)) == e for e in ("", "legal_rep", "x|y", "|2026-03-01"))
    True
    """
    head, bar, since = entry.partition("|")
    flags, out = 0, b""
    if bar:
        at = _instant(since)
        if at is None:
            return b"\x00" + entry.encode()
        if at.microsecond == 0 and 0 <= at.timestamp() < 1 << 32:
            flags, out = _SECONDS, struct.pack(">I", int(at.timestamp()))
        else:
            micros = (at - _EPOCH) // _MICROSECOND
            flags, out = _MICROS, struct.pack(">q", micros)
    day = _day(head)
    if day is not None:
        flags, out = flags | _DAY, out + struct.pack(">H", day)
    elif head and all(ord(c) >= 0x20 for c in head):
        for word, code in _CODES.items():
            head = head.replace(word, code)
        flags, out = flags | _TOKENS, out + head.encode()
    else:
        out += head.encode()
    packed = bytes([flags]) + out
    return packed if unpack_entry(packed) == entry else b"\x00" + entry.encode()


def unpack_entry(body: bytes) -> str:
    flags, rest = body[0], body[1:]
    if flags == 0:
        return rest.decode()
    since = ""
    if flags & _SECONDS:
        seconds = struct.unpack(">I", rest[:4])[0]
        since, rest = datetime.fromtimestamp(seconds, UTC).isoformat(), rest[4:]
    elif flags & _MICROS:
        micros = struct.unpack(">q", rest[:8])[0]
        since = (_EPOCH + micros * _MICROSECOND).isoformat()
        rest = rest[8:]
    if flags & _DAY:
        head = date.fromordinal(struct.unpack(">H", rest[:2])[0] + _EPOCH_DAY).isoformat()
    else:
        head = rest.decode()
        if flags & _TOKENS:
            for word, code in _CODES.items():
                head = head.replace(code, word)
    return f"{head}|{since}" if flags & (_SECONDS | _MICROS) else head


def record(uscc: str, entry: str) -> bytes:
    """One firm's record, as the scripts keep it."""
    name, body = uscc.encode(), pack_entry(entry)
    if len(name) > 255 or len(body) > MAX_BODY:
        raise ValueError(f"index entry too long for {uscc!r}")
    size = bytes([len(body)]) if len(body) < 0x80 else struct.pack(">H", 0x8000 | len(body))
    return bytes([len(name)]) + name + size + body


def records(value: bytes) -> dict[str, str]:
    """USCC -> entry of a person's (address's) records, as a script read them.

    >>> records(record("91440300708461136T", "legal_rep|2026-03-02T06:00:00+00:00"))
    {'91440300708461136T': 'legal_rep|2026-03-02T06:00:00+00:00'}
    """
    out: dict[str, str] = {}
    at = 0
    while at < len(value):
        size = value[at]
        uscc = value[at + 1 : at + 1 + size].decode()
        at += 1 + size
        length = value[at]
        if length & 0x80:
            length, at = ((length & 0x7F) << 8) | value[at + 1], at + 2
        else:
            at += 1
        out[uscc] = unpack_entry(value[at : at + length])
        at += length
    return out


def _instant(text: str) -> datetime | None:
    """A UTC instant that prints back as `text`, or None."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    if at.utcoffset() is None or at.utcoffset() or at.isoformat() != text:
        return None
    return at


def _day(text: str) -> int | None:
    """Days since 1970-01-01 of a YYYY-MM-DD day that prints back as `text`, or None."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    number = day.toordinal() - _EPOCH_DAY
    return number if day.isoformat() == text and 0 <= number < 1 << 16 else None
