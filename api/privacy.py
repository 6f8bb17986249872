"""Personal data out of what a caller may not see (PIPL): ID numbers masked like
`110105********002X`, natural persons' names masked to their surname, phones removed.
Regulators see everything; departments and the public get the masked profile."""

from __future__ import annotations

from typing import Any


def mask_id_no(id_no: str | None) -> str | None:
    """
    >>> mask_id_no("11010519491231002X")
    '110105********002X'
    >>> mask_id_no("123")
    '***'
    """
    if not id_no:
        return id_no
    if len(id_no) < 12:
        return "*" * len(id_no)
    return id_no[:6] + "*" * (len(id_no) - 10) + id_no[-4:]


def mask_name(name: str | None) -> str | None:
    """A natural person's name: the surname (first character) only.

    >>> mask_name("张三"), mask_name("欧阳娜娜"), mask_name("")
    ('张*', '欧***', '')
    """
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def _person(person: Any) -> Any:
    if not isinstance(person, dict):
        return person
    masked = dict(person)
    if "id_no" in masked:  # an enterprise shareholder has a uscc and keeps its name
        masked["id_no"] = mask_id_no(masked["id_no"])
        masked["name"] = mask_name(masked.get("name"))
    return masked


def masked_profile(profile: dict[str, Any]) -> dict[str, Any]:
    """The registration profile without personal data.

    >>> p = masked_profile({"name": "某公司", "phone": "13800000000",
    ...     "legal_rep": {"name": "张三", "id_no": "11010519491231002X"},
    ...     "shareholders": [{"name": "某集团", "uscc": "91110000MA00000001", "ratio": 1}]})
    >>> p["legal_rep"], p["shareholders"][0]["name"], "phone" in p
    ({'name': '张*', 'id_no': '110105********002X'}, '某集团', False)
    """
    masked = {k: v for k, v in profile.items() if k != "phone"}
    if "legal_rep" in masked:
        masked["legal_rep"] = _person(masked["legal_rep"])
    for group in ("officers", "shareholders"):
        if isinstance(masked.get(group), list):
            masked[group] = [_person(p) for p in masked[group]]
    return masked
