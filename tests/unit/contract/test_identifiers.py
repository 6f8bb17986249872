"""The identifier checks against real codes published by others (tests/fixtures), not
against codes from our own generator: a generator and a checker that share a mistake
agree with each other and with every test built on them."""

from __future__ import annotations

import csv
import random
from collections import Counter
from pathlib import Path

import pytest

from streams.contract.identifiers import (
    USCC_ALPHABET,
    id_birth_date,
    id_check_char,
    id_problem,
    make_id_number,
    make_uscc,
    org_code_check_char,
    uscc_problem,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def rows(name: str) -> list[dict[str, str]]:
    with (FIXTURES / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


REAL_USCCS = [row["uscc"] for row in rows("real_usccs.csv")]
GB11643_EXAMPLES = [row["id_no"] for row in rows("gb11643_examples.csv")]
# a few substitutes per position: neighbours in the alphabet, the excluded letters, case
SUBSTITUTES = "019AHJMXYIOSVZa"


def one_character_changed(code: str, alphabet: str) -> list[str]:
    """Every code differing from `code` in exactly one position, by one of a few
    substitutes: the alphabet's neighbours of the character and SUBSTITUTES."""
    variants = []
    for i, c in enumerate(code):
        k = alphabet.find(c)
        near = {alphabet[(k + d) % len(alphabet)] for d in (-1, 1)} if k >= 0 else set()
        for other in sorted(near | set(SUBSTITUTES)):
            if other != c:
                variants.append(code[:i] + other + code[i + 1 :])
    return variants


def test_the_fixture_is_a_real_mixed_set() -> None:
    assert len(REAL_USCCS) >= 20 and len(set(REAL_USCCS)) == len(REAL_USCCS)
    org_codes = [code[8:17] for code in REAL_USCCS]
    assert sum(org.isdigit() for org in org_codes) >= 5  # older, all-digit
    after_h = [org for org in org_codes if any(c in "JKLMNPQRTUWXY" for c in org[:8])]
    assert len(after_h) >= 10  # letters whose GB 11714 and USCC values differ
    assert any(not org.startswith("MA") for org in after_h)
    assert {code[:2] for code in REAL_USCCS} >= {"91", "92", "12"}


@pytest.mark.parametrize("code", REAL_USCCS)
def test_real_codes_are_accepted(code: str) -> None:
    assert uscc_problem(code) is None
    assert org_code_check_char(code[8:16]) == code[16]


@pytest.mark.parametrize("code", REAL_USCCS)
def test_real_codes_with_one_character_changed_are_refused(code: str) -> None:
    accepted = [v for v in one_character_changed(code, USCC_ALPHABET) if uscc_problem(v) is None]
    assert accepted == []


@pytest.mark.parametrize("id_no", GB11643_EXAMPLES)
def test_the_standards_id_examples_are_accepted(id_no: str) -> None:
    assert id_problem(id_no) is None


@pytest.mark.parametrize("id_no", GB11643_EXAMPLES)
def test_the_standards_id_examples_with_one_character_changed_are_refused(id_no: str) -> None:
    accepted = [v for v in one_character_changed(id_no, "0123456789X") if id_problem(v) is None]
    assert accepted == []


def test_the_id_generator_agrees_with_the_standards_examples() -> None:
    for id_no in GB11643_EXAMPLES:
        assert id_check_char(id_no[:17]) == id_no[17]
    rng = random.Random(19)
    for example in GB11643_EXAMPLES:
        born = id_birth_date(example)
        made = make_id_number(rng, born, example[:6])
        assert id_problem(made) is None and made[:14] == example[:14]


def test_generated_codes_look_like_todays() -> None:
    rng = random.Random(19)
    codes = [make_uscc(rng, "440305") for _ in range(2000)]
    assert all(uscc_problem(code) is None for code in codes)
    kinds = Counter(
        "MA" if code[8:10] == "MA" else "digits" if code[8:16].isdigit() else "?" for code in codes
    )
    assert kinds.keys() == {"MA", "digits"}
    assert 0.75 < kinds["MA"] / len(codes) < 0.85
