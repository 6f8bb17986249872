"""The search index (api/search_index.py) on real names and addresses, and against the
directory filter's own semantics (api/directory_views.py) over many made-up firms, with
both of its ways of reading (few trigram matches, or a walk in USCC order)."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api import search_index
from api.auth import Caller
from api.directory_views import EntryFilter
from api.search_index import Search, SearchIndex, address_text, name_text
from tests.unit.rules.test_real_places import CHANGFU, FEIYADA, HUAWEI, KEFA

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
with (FIXTURES / "real_usccs.csv").open(encoding="utf-8") as _f:
    #: real firms and their real codes (each row cites its source)
    REAL = {r["holder"]: r["uscc"] for r in csv.DictReader(x for x in _f if x[0] != "#")}
HUAWEI_CO = REAL["华为技术有限公司"]
HANJING = REAL["深圳市韩晶威电子有限公司"]
DINGDAO = REAL["深圳市鼎道晶威科技有限公司"]
LAIYIN = REAL["深圳市莱茵表文科技有限公司"]


def entry(name: str, address: str, district: str) -> dict[str, Any]:
    return {"name": name, "address": address, "district": district, "status": "active"}


@pytest.fixture
def index() -> Iterator[SearchIndex]:
    made = SearchIndex()
    made.put(
        [
            (HUAWEI_CO, entry("华为技术有限公司", HUAWEI, "440307")),
            (HANJING, entry("深圳市韩晶威电子有限公司", KEFA, "440305")),
            (DINGDAO, entry("深圳市鼎道晶威科技有限公司", CHANGFU, "440304")),
            (LAIYIN, entry("深圳市莱茵表文科技有限公司", FEIYADA, "440305")),
        ]
    )
    yield made
    made.close()


def by_name(index: SearchIndex, text: str, **more: Any) -> list[str]:
    return index.find(Search(name=name_text(text), **more))


def by_address(index: SearchIndex, text: str, **more: Any) -> list[str]:
    return index.find(Search(address=address_text(text), **more))


def test_names_are_found_by_any_substring_long_or_short(index: SearchIndex) -> None:
    assert by_name(index, "华为技术") == [HUAWEI_CO]
    assert by_name(index, "晶威") == sorted([HANJING, DINGDAO])  # 2 characters
    assert by_name(index, "鼎道晶威科技") == [DINGDAO]
    assert by_name(index, "威") == sorted([HANJING, DINGDAO])  # 1 character
    assert by_name(index, "科技有限公司") == sorted([DINGDAO, LAIYIN])
    assert by_name(index, "腾讯") == []
    assert by_name(index, "晶威电子科技") == []  # each trigram is somewhere, not together


def test_addresses_are_found_as_normalized(index: SearchIndex) -> None:
    # the registrar's brackets and the province fall away on both sides
    assert by_address(index, "坂田街道华为基地（华为总部") == [HUAWEI_CO]
    assert by_address(index, "广东省深圳市南山区科发路３号") == [HANJING]
    assert by_address(index, "高新南一路") == [LAIYIN]
    assert by_address(index, "南山区") == sorted([HANJING, LAIYIN])
    assert by_address(index, "桂湾五路") == []


def test_a_new_name_or_address_replaces_the_old(index: SearchIndex) -> None:
    index.put([(HUAWEI_CO, entry("华为终端有限公司", "深圳市南山区桂湾五路1号", "440305"))])
    assert by_name(index, "华为技术") == []
    assert by_name(index, "华为终端") == [HUAWEI_CO]
    assert by_address(index, "坂田街道") == []
    assert by_address(index, "桂湾五路") == [HUAWEI_CO]
    assert by_name(index, "华为", scope="440307") == []  # it moved district too
    index.put([(HUAWEI_CO, None)])  # gone from the directory
    assert by_name(index, "华为") == [] and len(index) == 3


def test_scope_either_and_both_terms(index: SearchIndex) -> None:
    assert by_name(index, "晶威", scope="440305") == [HANJING]
    assert by_name(index, "晶威", scope="4403") == sorted([HANJING, DINGDAO])
    both = Search(name=name_text("晶威"), address=address_text("南山区"))
    assert index.find(both) == [HANJING]
    either = Search(name=name_text("华为"), address=address_text("高新南一路"), either=True)
    assert index.find(either) == sorted([HUAWEI_CO, LAIYIN])


def test_names_are_casefolded_and_query_syntax_is_only_text(index: SearchIndex) -> None:
    code = "91110000600037341L"  # real (tests/fixtures/real_usccs.csv), holder not named
    index.put([(code, entry('ABB "中国" (有限) 公司*', "北京市朝阳区1号", "110105"))])
    assert by_name(index, "abb") == [code]
    for held in ('"中国"', "(有限)", "公司*", "*"):  # FTS5 syntax, searched as text
        assert by_name(index, held) == [code], held
    for absent in ('" AND "', "NEAR(", '"中国" OR 华为'):
        assert by_name(index, absent) == [], absent


def test_memory_is_measured(index: SearchIndex) -> None:
    assert len(index) == 4
    assert index.memory_bytes() > 0


#: few characters, so that terms of 3 or more match many firms too
POOL = "华为晶威科技深圳Ab1"


def _firms(n: int) -> list[tuple[str, dict[str, Any]]]:
    rng = random.Random(23)
    districts = ("440305", "440304", "440307", "110105")

    def text(low: int, high: int) -> str:
        return "".join(rng.choice(POOL) for _ in range(rng.randint(low, high)))

    return [
        (f"9144030{i:011d}", entry(text(2, 12), text(4, 20), rng.choice(districts)))
        for i in rng.sample(range(10**6), n)
    ]


@pytest.mark.parametrize("selective", [2000, 3], ids=["few-matches-read", "walk-in-order"])
def test_pages_are_what_the_directory_filter_picks_each_once(
    monkeypatch: pytest.MonkeyPatch, selective: int
) -> None:
    """Every page of every search, followed by its cursor, against EntryFilter over all
    the firms: the same firms, in USCC order, each once."""
    monkeypatch.setattr(search_index, "SELECTIVE", selective)
    firms = _firms(400)
    index = SearchIndex()
    index.put(firms)
    rng = random.Random(5)
    for _ in range(1000):
        name = "".join(rng.choice(POOL) for _ in range(rng.randint(1, 5)))
        address = "".join(rng.choice(POOL) for _ in range(rng.randint(1, 5)))
        which = rng.choice(("name", "address", "both", "either"))
        scope = rng.choice((None, "440305", "4403"))
        where = EntryFilter(
            name=name if which != "address" else None,
            address=address if which != "name" else None,
            either=which == "either",
        )
        caller = Caller("regulator", district=scope)
        expected = sorted(u for u, e in firms if where.matches(e, caller))
        got: list[str] = []
        after = None
        while True:
            page = index.find(
                Search(
                    name=None if where.name is None else name_text(where.name),
                    address=where.address,
                    either=where.either,
                    scope=scope,
                    after=after,
                    limit=7,
                )
            )
            got += page
            if len(page) < 7:
                break
            after = page[-1]
        assert got == expected, (which, name, address, scope)
    index.close()
