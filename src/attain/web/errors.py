"""Map errors to HTTP answers once, for every route.

The JSON API (and HTMX or JSON-accepting requests) gets `{"detail": "message"}` with a 4xx status;
a browser navigating to a page gets the error page in its language, or the sign-in page.
"""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from attain.auth.service import RateLimited
from attain.errors import (
    AttainError,
    Conflict,
    ImportRejected,
    InvalidInput,
    NotAllowed,
    NotFound,
)
from attain.web.deps import Forbidden, NotAuthenticated
from attain.web.i18n import N_, request_locale
from attain.web.security import CsrfFailed

STATUS = {RateLimited: 429, NotFound: 404, InvalidInput: 422, Conflict: 409, NotAllowed: 403}
TITLES = {401: N_("Sign in first"), 403: N_("Not allowed"), 404: N_("Not found"), 409: N_("Conflict"),
          422: N_("Cannot use this input"), 429: N_("Too many requests"), 400: N_("Error"), 500: N_("Error")}


class _Stored(Exception):
    """A message without a code (a validation or HTTP error): translated when its text is known."""


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/") or request.headers.get("hx-request"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _answer(request: Request, status: int, detail: str, extra: dict[str, object] | None = None,
            error: BaseException | None = None) -> Response:
    """The error as JSON or as the error page. The JSON API answers in English with the message's
    `code` and `params`; HTMX requests and pages get the message in the page's language."""
    from attain.web.messages import error_text

    if request.url.path.startswith("/api/"):
        body: dict[str, object] = {"detail": detail}
        if error is not None and getattr(error, "code", None):
            from attain.web.api.common import jsonable

            body.update(code=error.code, params=jsonable(error.params))  # type: ignore[attr-defined]
        body.update(extra or {})
        return JSONResponse(body, status_code=status)
    shown = error_text(request, error if error is not None else _Stored(detail))
    if wants_json(request):
        body = {"detail": shown}
        body.update(extra or {})
        return JSONResponse(body, status_code=status)
    from attain.web.pages.common import catalogue
    from attain.web.templating import (
        render,  # late: templating imports the i18n and security modules
    )

    title = catalogue(request_locale(request)).gettext(TITLES.get(status, "Error"))
    context = {"status_code": status, "title": title, "detail": shown, "errors": (extra or {}).get("errors")}
    try:
        return render(request, "error.html", context, status_code=status)
    except Exception:  # noqa: BLE001 -- never let the error page itself turn a 4xx into a 500
        return JSONResponse({"detail": detail}, status_code=status)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"


def install(app: FastAPI) -> None:
    @app.exception_handler(AttainError)
    async def attain_error(request: Request, exc: AttainError) -> Response:
        status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
        extra: dict[str, object] = {}
        if isinstance(exc, ImportRejected):
            extra["errors"] = [e.as_dict() for e in exc.errors[:1000]]
        return _answer(request, status, str(exc), extra, exc)

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> Response:
        # The database refused a value the request carried (PostgreSQL: a NUL character in text,
        # a number out of range): the request is bad, not the server.
        reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "invalid value"
        return _answer(request, 422, f"a value in the request cannot be stored or searched: {reason}")

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if request.headers.get("hx-request"):  # an HTMX call from a page whose session ran out
            page = urlsplit(request.headers.get("hx-current-url", "")).path or "/"
            return JSONResponse({"detail": str(exc)}, status_code=401, headers={"HX-Redirect": f"/login?next={quote(page)}"})
        if wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return _answer(request, 403, str(exc), None, exc)

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        return _answer(request, 403, str(exc), None, Forbidden(code="access.csrf"))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return _answer(request, 422, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = str(exc.detail)
        if exc.status_code in TITLES and detail == HTTPStatus(exc.status_code).phrase:
            detail = TITLES[exc.status_code]  # Starlette's own "Not Found": the page's words
        return _answer(request, exc.status_code, detail, None) if exc.status_code != 405 else JSONResponse(
            {"detail": str(exc.detail)}, status_code=405, headers=getattr(exc, "headers", None))
