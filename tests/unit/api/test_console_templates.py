"""The console's templates: each page's title block holds its title only (text, no
markup), and each section id is given once on a page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = sorted((Path(__file__).resolve().parents[3] / "api/console/templates").glob("*.html"))
TITLE = re.compile(r"{% block title %}(.*?){% endblock %}", re.S)
SECTION_ID = re.compile(r'<section[^>]*\bid="([^"]+)"')


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_a_title_block_holds_text_only(path: Path) -> None:
    for title in TITLE.findall(path.read_text()):
        assert "<" not in title and "\n" not in title, title[:120]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_a_section_id_is_given_once(path: Path) -> None:
    ids = SECTION_ID.findall(path.read_text())
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
