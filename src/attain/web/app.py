"""Application factory. Pages arrive with the web-app issue; this serves health, status and the API docs."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

import attain
from attain.db import get_engine, make_session_factory, resolve_database_url
from attain.status import database_status
from attain.web import errors
from attain.web.deps import SessionDep

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def create_app(database_url: str | None = None) -> FastAPI:
    app = FastAPI(title="Attain", version=attain.__version__, description="Sales-target management API")
    engine = get_engine(resolve_database_url(database_url))
    app.state.session_factory = make_session_factory(engine)
    errors.install(app)

    @app.get("/healthz", tags=["ops"])
    def healthz(session: SessionDep) -> JSONResponse:
        """`{"status": "ok"}` when the database answers; 503 otherwise."""
        try:
            session.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            return JSONResponse({"status": "error", "detail": type(exc).__name__}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/api/status", tags=["data"])
    def api_status(session: SessionDep) -> JSONResponse:
        """Counts, order date range, revenue by year (yuan, as strings) and plans."""
        return JSONResponse(_jsonable(database_status(session=session)))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request, session: SessionDep) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(request, "index.html", {"status": database_status(session=session)})

    return app


def _jsonable(value: object) -> object:
    from datetime import date

    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
