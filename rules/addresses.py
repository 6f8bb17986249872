"""Addresses as the registrars write them, reduced to one comparable text."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

# separators and decoration that vary between departments for the same place
_NOISE = re.compile(r"[\s,，、。.．·・\-—–_()（）\[\]【】#＃\"'“”‘’:：;；]+")
_PREFIX = re.compile(r"^(中国|中华人民共和国)?([^省]{2,3}省|[^区]{2,8}自治区)?")


# pure, and asked about the same addresses at every evaluation
@functools.lru_cache(maxsize=1 << 16)
def normalize_address(text: str) -> str:
    """One text per place: full-width forms folded (NFKC), spaces and punctuation
    dropped, letters upper-cased, and a leading country or province dropped (the city
    and everything below it stay, so no two places meet).

    >>> normalize_address("广东省深圳市南山区粤海街道科技园路１号 B座 ( 801 )")
    '深圳市南山区粤海街道科技园路1号B座801'
    >>> normalize_address("深圳市南山区粤海街道科技园路1号b座801")
    '深圳市南山区粤海街道科技园路1号B座801'
    """
    folded = unicodedata.normalize("NFKC", text).upper()
    return _PREFIX.sub("", _NOISE.sub("", folded), count=1)


@functools.lru_cache(maxsize=1 << 16)
def address_key(normalized: str) -> str:
    """A short, fixed-length key for an address index entry.

    >>> len(address_key("深圳市南山区粤海街道科技园路1号B座801"))
    24
    """
    return hashlib.sha1(normalized.encode()).hexdigest()[:24]
