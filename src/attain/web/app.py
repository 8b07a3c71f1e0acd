"""Application factory: middleware, static files, sign-in pages, the JSON API and every page router.

Page modules under `attain.web.pages` that define `router` are included automatically (in name
order), ahead of the fallback overview at `/`, so page work does not need to edit this file.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response

import attain
from attain.db import get_engine, make_session_factory, resolve_database_url
from attain.status import database_status
from attain.web import errors
from attain.web.deps import AccessDep, CurrentUser, Forbidden, SessionDep, require_role
from attain.web.security import AnonymousCsrfMiddleware, SecurityHeadersMiddleware
from attain.web.templating import TEMPLATES, render
from attain.web.upload_guard import UploadGuardMiddleware

STATIC_DIR = Path(__file__).parent / "static"
API_DESCRIPTION = """Sales-target management API.

Authenticate scripts with `Authorization: Bearer <token>` (create one with `attain user token NAME`).
Browsers use the session cookie set by `/login`; state-changing requests then need the `X-CSRF-Token`
header. Every route applies the caller's row-level access: a rep sees only their own figures.
Errors are `{"detail": "message"}` with a 4xx status.
"""


API_DOCS_ENV = "ATTAIN_API_DOCS"
# Swagger UI from our own static files (vendored from npm), started by a file, not an inline script.
SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Attain API</title>
  <link rel="stylesheet" href="/static/vendor/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="/openapi.json"></div>
  <script src="/static/vendor/swagger-ui-bundle.js"></script>
  <script src="/static/vendor/swagger-init.js"></script>
</body>
</html>
"""


def api_docs_enabled() -> bool:
    """/docs is on unless ATTAIN_API_DOCS is 0/false/no/off (/openapi.json stays for scripts)."""
    return os.environ.get(API_DOCS_ENV, "").strip().lower() not in ("0", "false", "no", "off")


def create_app(database_url: str | None = None) -> FastAPI:
    # FastAPI's own /docs and /redoc load their scripts from a CDN: both off, ours below.
    app = FastAPI(title="Attain", version=attain.__version__, description=API_DESCRIPTION,
                  docs_url=None, redoc_url=None)
    engine = get_engine(resolve_database_url(database_url))
    app.state.session_factory = make_session_factory(engine)
    app.state.database_url = resolve_database_url(database_url)
    errors.install(app)
    app.add_middleware(UploadGuardMiddleware)  # before any body is read: who uploads, and how much
    app.add_middleware(AnonymousCsrfMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: error pages get the headers too
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    if api_docs_enabled():
        @app.get("/docs", include_in_schema=False)
        def api_docs() -> HTMLResponse:
            return HTMLResponse(SWAGGER_PAGE)

    @app.get("/healthz", tags=["ops"])
    def healthz(session: SessionDep) -> JSONResponse:
        """`{"status": "ok"}` when the database answers; 503 otherwise."""
        try:
            session.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            return JSONResponse({"status": "error", "detail": type(exc).__name__}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/api/status", tags=["data"], dependencies=[Depends(require_role("admin", "director"))])
    def api_status(access: AccessDep) -> JSONResponse:
        """Counts, order date range, revenue by year (yuan, as strings) and plans: company figures, so
        for admins and the director who heads the company."""
        if access.user.role != "admin" and access.home().kind != "company":
            raise Forbidden("company figures are for admins and the company's director")
        return JSONResponse(_jsonable(database_status(session=access.session)))

    from attain.auth.views import router as auth_router
    from attain.web.imports_page import router as imports_router

    app.include_router(auth_router)
    app.include_router(imports_router)
    _include_api(app)
    _include_pages(app)

    @app.get("/", include_in_schema=False)
    def index(request: Request, session: SessionDep, user: CurrentUser) -> Response:
        return render(request, "index.html", {"status": database_status(session=session)})

    return app


def _include_api(app: FastAPI) -> None:
    try:
        from attain.web.api import router as api_router
    except ImportError:  # the API package is optional while it is being built
        return
    app.include_router(api_router)
    from attain.web.api.imports import document_mapping

    def openapi() -> dict[str, Any]:
        """FastAPI's document, plus what one form field of an import allows depending on another."""
        if app.openapi_schema is None:
            document_mapping(FastAPI.openapi(app))
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _include_pages(app: FastAPI) -> None:
    try:
        pages = importlib.import_module("attain.web.pages")
    except ImportError:
        return
    for info in sorted(pkgutil.iter_modules(pages.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"attain.web.pages.{info.name}")
        router = getattr(module, "router", None)
        if router is not None:
            app.include_router(router)


def _jsonable(value: object) -> object:
    from datetime import date

    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


__all__ = ["TEMPLATES", "create_app"]
