"""Check and generate the two national identifiers the contract carries.

USCC, GB 32100-2015: 18 characters from a 31-symbol alphabet (no I O S V Z);
positions 9-17 are a GB 11714 organisation code with its own check character,
position 18 checks the whole. The two checks value letters differently: GB 11714
gives the 26 letters A=10 ... Z=35 (J=19, M=22), GB 32100 numbers its 31 symbols
0..30 (J=18, M=21). Codes issued since the 2015 reform (`MA...`) carry later letters.

Resident ID number, GB 11643-1999: 6-digit address code, 8-digit birth date,
3-digit sequence, ISO 7064 MOD 11-2 check character.

>>> uscc_problem("91440300708461136T") is None
True
>>> uscc_problem("91440300708461136A")
'check character is A, expected T'
>>> uscc_problem("91310000MA1K35Y38P") is None  # an organisation code issued in 2015+
True
>>> id_problem("11010519491231002X") is None
True
>>> id_birth_date("11010519491231002X")
datetime.date(1949, 12, 31)
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
from collections.abc import Callable
from datetime import date

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# GB 11714 values: digits as themselves, the 26 Latin letters A=10 ... Z=35
_ORG_VALUE = {c: int(c, 36) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def uscc_check_char(first17: str) -> str:
    """The 18th character of a USCC whose first 17 characters are given."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """The 9th character of a GB 11714 organisation code (USCC positions 9-17).

    Letters weigh with their GB 11714 values (M=22, A=10), not their place in the
    USCC alphabet. Positions 9-17 of 锤子科贸（上海）有限公司's 91310000MA1K35Y38P:

    >>> org_code_check_char("MA1K35Y3")
    '8'
    >>> org_code_check_char("19220382")  # 华为技术有限公司, 914403001922038216
    '1'
    """
    total = sum(_ORG_VALUE[c] * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def uscc_problem(code: str) -> str | None:
    """Why `code` is not a valid USCC, or None when it is."""
    if len(code) != 18:
        return f"length is {len(code)}, expected 18"
    bad = sorted({c for c in code if c not in _USCC_VALUE})
    if bad:
        return f"characters not allowed: {''.join(bad)}"
    expected_org = org_code_check_char(code[8:16])
    if code[16] != expected_org:
        return f"organisation code check character is {code[16]}, expected {expected_org}"
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]}, expected {expected}"
    return None


def id_birth_date(id_no: str) -> date:
    """Birth date encoded in a GB 11643 number (raises ValueError if not a real date)."""
    return date(int(id_no[6:10]), int(id_no[10:12]), int(id_no[12:14]))


def id_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id_problem(id_no: str) -> str | None:
    """Why `id_no` is not a valid resident ID number, or None when it is."""
    if len(id_no) != 18:
        return f"length is {len(id_no)}, expected 18"
    if not id_no[:17].isascii() or not id_no[:17].isdigit() or id_no[17] not in "0123456789X":
        return "expected 17 digits and a digit or X"
    try:
        id_birth_date(id_no)
    except ValueError:
        return f"birth date {id_no[6:14]} is not a calendar date"
    expected = id_check_char(id_no[:17])
    if id_no[17] != expected:
        return f"check character is {id_no[17]}, expected {expected}"
    return None


#: an 18-character run shaped like an ID number (valid or not), standing on its own
ID_NUMBER_LIKE = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")


def replace_id_numbers(text: str, replace: Callable[[str], str]) -> str:
    """`text` with every ID-number-like run replaced by `replace(run)`.

    >>> replace_id_numbers("id 11010519491231002X, tel 13800138000", mask_id)
    'id 110105********002X, tel 13800138000'
    """
    return ID_NUMBER_LIKE.sub(lambda m: replace(m.group()), text)


def mask_id(id_no: str) -> str:
    """Public view of an ID number: the address code and the last four kept.

    >>> mask_id("11010519491231002X")
    '110105********002X'
    """
    return id_no[:6] + "*" * 8 + id_no[14:]


#: share of simulated firms with an organisation code issued since the 2015 reform
MODERN_ORG_CODE_SHARE = 0.8


def make_uscc(
    rng: random.Random,
    division: str = "440300",
    prefix: str = "91",
    *,
    modern: bool | None = None,
) -> str:
    """A random valid USCC in administrative `division` (for simulations and tests),
    shaped like the codes registries issue: most (`MODERN_ORG_CODE_SHARE`) with a
    post-2015 organisation code, `MA` and six characters of the USCC alphabet, the
    rest with an older all-digit one. `modern` forces one or the other.

    >>> code = make_uscc(random.Random(7), modern=True)
    >>> code[:10], uscc_problem(code) is None
    ('91440300MA', True)
    >>> make_uscc(random.Random(7), modern=False)[8:16].isdigit()
    True
    """
    if modern is None:
        modern = rng.random() < MODERN_ORG_CODE_SHARE
    if modern:
        org8 = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
    else:
        org8 = "".join(rng.choice("0123456789") for _ in range(8))
    first17 = prefix + division + org8 + org_code_check_char(org8)
    return first17 + uscc_check_char(first17)


def make_id_number(rng: random.Random, birth: date, division: str = "440300") -> str:
    """A random valid resident ID number for someone born on `birth`."""
    first17 = f"{division}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_check_char(first17)


# hashed for every key person at every evaluation: the same few IDs each time
@functools.lru_cache(maxsize=1 << 16)
def person_key(id_no: str) -> str:
    """Stable pseudonymous key for a person: the Kafka key of `person.*` events and the
    Redis key of person indexes, so raw ID numbers never appear in keys or logs.

    >>> person_key("11010519491231002X")
    '426695a0efdb59b9eaedaf0b5ca3eddf'
    """
    return hashlib.sha256(id_no.encode()).hexdigest()[:32]
