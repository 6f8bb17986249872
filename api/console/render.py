"""Rendering: the Jinja2 environment, the language (Chinese first, English by the
`lang` cookie or `?lang=`) and its catalogue, and the page response with its CSP."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.auth import Caller
from rules.calendar import local_time
from rules.grading import GRADE_LABELS

HERE = Path(__file__).parent
Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
LANG_COOKIE = "cw_lang"
#: everything from this origin only: no inline script or style, no other host
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
#: the grade colours (rules/grading.py names them; these are their shades on screen)
COLOURS = {"green": "#2e9d4f", "yellow": "#e6b800", "orange": "#f07c1b", "red": "#d9363e"}
GRADE_COLOURS = {grade: COLOURS[colour] for grade, (_, _, colour) in GRADE_LABELS.items()}


@functools.cache
def catalogue(lang: Lang) -> dict[str, str]:
    text = (HERE / "i18n" / f"{lang}.json").read_text(encoding="utf-8")
    found: dict[str, str] = json.loads(text)
    return found


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["tojson_attr"] = lambda value: json.dumps(value, ensure_ascii=False)
    # every time on screen: China Standard Time, whatever offset the record carries
    env.filters["local_time"] = lambda at: local_time(at) if at else ""
    return env


def language(request: Request) -> Lang:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "zh"
    return "en" if asked == "en" else "zh"


@dataclass
class Page:
    """What every template gets besides its own values."""

    request: Request
    caller: Caller | None = None
    csrf: str | None = None
    section: str = ""
    values: dict[str, object] = field(default_factory=dict)


def render(page: Page, template: str, status: int = 200) -> HTMLResponse:
    lang = language(page.request)
    html = (
        environment()
        .get_template(template)
        .render(
            t=catalogue(lang),
            lang=lang,
            caller=page.caller,
            csrf=page.csrf,
            section=page.section,
            grade_colours=GRADE_COLOURS,
            path=page.request.url.path,
            **page.values,
        )
    )
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    if page.request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, samesite="strict", httponly=True, path="/")
    return response
