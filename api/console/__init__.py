"""The web console at /console: server-rendered pages (Jinja2) with htmx partials and
ECharts, every asset served from this package (static/vendor/MANIFEST.json). It
reads through the API's own route functions, so roles, district scope and masking are
the API's, and its requests are in the access log like API reads."""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.console import (
    views_admin,
    views_firms,
    views_handling,
    views_inspections,
    views_overview,
    views_pages,
    views_public,
    views_rules,
    views_session,
)
from api.console.render import HERE, Page, render
from api.console.session import Sessions
from api.errors import ApiError
from streams.settings import ConsoleSettings

PREFIX = "/console"


def install_console(app: FastAPI, settings: ConsoleSettings | None = None) -> None:
    settings = settings or ConsoleSettings()
    app.state.console_sessions = Sessions(settings, app.state.admin_key)
    app.state.console_settings = settings
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console-static")
    for module in (
        views_session,
        views_handling,
        views_overview,
        views_pages,
        views_firms,
        views_rules,
        views_inspections,
        views_admin,
        views_public,
    ):
        app.include_router(module.router, include_in_schema=False)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=307)

    api_error = app.exception_handlers[ApiError]

    @app.exception_handler(ApiError)
    async def _console_error(request: Request, exc: Exception) -> Response:
        """An HTML page for a refusal on a console path, the API's JSON elsewhere."""
        if not request.url.path.startswith(PREFIX) or not isinstance(exc, ApiError):
            found = api_error(request, exc)
            return await found if inspect.isawaitable(found) else found
        if exc.status == 401:  # no session, or its key was revoked
            if request.headers.get("HX-Request"):
                return Response(status_code=204, headers={"HX-Redirect": f"{PREFIX}/login"})
            return RedirectResponse(f"{PREFIX}/login", status_code=303)
        page = Page(request, getattr(request.state, "caller", None))
        page.values = {"status": exc.status, "message": exc.message}
        return render(page, "error.html", status=exc.status)
