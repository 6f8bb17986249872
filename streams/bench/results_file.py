"""The benchmark's results section in a markdown file (docs/performance.md): written
between two markers, the rest of the file untouched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streams.bench import report
from streams.bench.report import END, START


def replace_section(text: str, section: str) -> str:
    """`text` with what lies between the markers replaced (markers included), or with
    the section appended when it has none.

    >>> replace_section("intro\\n<!-- bench:start -->\\nold\\n<!-- bench:end -->\\nrest\\n",
    ...                 "<!-- bench:start -->\\nnew\\n<!-- bench:end -->")
    'intro\\n<!-- bench:start -->\\nnew\\n<!-- bench:end -->\\nrest\\n'
    """
    start, end = text.find(START), text.find(END)
    if start != -1 and end > start:
        return text[:start] + section + text[end + len(END) :]
    return text.rstrip("\n") + ("\n\n" if text.strip() else "") + section + "\n"


def update_docs(path: Path, result: dict[str, Any]) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(replace_section(text, report.docs_section(result)), encoding="utf-8")
