"""Request bodies are bounded before they are read: uploads only for users who may import.

Starlette spools a multipart body to a temporary file as it parses it, before any route dependency
runs, so a route cannot refuse a large or anonymous upload in time. This pure ASGI middleware runs
first and, for the upload routes (`UPLOAD_ROUTES`):

1. authenticates the caller (API token or session cookie, read from the database) and checks the
   company's `import` permission — 401 or 403 without reading a byte of the body;
2. refuses a `Content-Length` over the cap (ATTAIN_MAX_UPLOAD_MB, default 200) with 413;
3. counts the body while the app reads it and stops it with 413 at the cap (chunked uploads carry
   no length).

Every other request body is capped the same way at ATTAIN_MAX_BODY_MB (default 10): the sign-in
form and the plan forms parse multipart bodies too, before anyone is signed in.
"""

from __future__ import annotations

import os
from urllib.parse import quote

from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UPLOAD_ROUTES = frozenset({("POST", "/imports/preview"), ("POST", "/api/v1/imports")})
UPLOAD_LIMIT_ENV = "ATTAIN_MAX_UPLOAD_MB"
BODY_LIMIT_ENV = "ATTAIN_MAX_BODY_MB"
# The multipart envelope around the file (boundaries, part headers, the kind/mapping/csrf fields).
FORM_OVERHEAD_BYTES = 64 * 1024
MB = 1024 * 1024


def _megabytes(variable: str, default: float) -> float:
    raw = os.environ.get(variable, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        value = default
    return value if value > 0 else default


def max_upload_bytes() -> int:
    """The largest file an import accepts (ATTAIN_MAX_UPLOAD_MB, decimals allowed; default 200)."""
    return int(_megabytes(UPLOAD_LIMIT_ENV, 200) * MB)


def max_body_bytes() -> int:
    """The largest body of any other request (ATTAIN_MAX_BODY_MB; default 10)."""
    return int(_megabytes(BODY_LIMIT_ENV, 10) * MB)


def limit_text(limit: int) -> str:
    """'200 MB', or '0.05 MB' for a small test limit."""
    return f"{limit / MB:.2f}".rstrip("0").rstrip(".") + " MB"


class BodyTooLarge(StarletteHTTPException):
    """The request body passed its cap (413); raised from `receive`, so the form parser stops."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"the upload is larger than the limit of {limit_text(limit)}")


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _wants_json(request: Request) -> bool:
    from attain.web.errors import wants_json

    return wants_json(request)


def _not_authenticated(request: Request, detail: str) -> Response:
    """As the app's own NotAuthenticated handler: JSON 401 for the API and HTMX, the sign-in page else."""
    if _wants_json(request):
        return JSONResponse({"detail": detail}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


def _refusal(request: Request, status: int, detail: str) -> Response:
    from attain.web.errors import _answer

    return _answer(request, status, detail)


def _import_refusal(request: Request) -> tuple[int, str] | None:
    """(401 or 403, why) unless the caller may import; one short session of its own."""
    from attain.auth.permissions import roles_for
    from attain.auth.service import session_user, token_user
    from attain.web.security import SESSION_COOKIE

    with request.app.state.session_factory() as session:
        authorization = request.headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            user = token_user(session=session, token=authorization[7:].strip())
            if user is None:
                return 401, "invalid or revoked API token"
        elif cookie := request.cookies.get(SESSION_COOKIE):
            found = session_user(session=session, token=cookie)
            if found is None:
                return 401, "sign in first"
            user = found[0]
        else:
            return 401, "sign in first"
        roles = roles_for(session=session, permission="import")
        if user.role not in roles:
            return 403, f"this needs the role {' or '.join(roles)}; you are {user.role}"
    return None


class UploadGuardMiddleware:
    """See the module docstring. Pure ASGI: the body passes through untouched, only counted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        is_upload = (scope["method"], scope["path"]) in UPLOAD_ROUTES
        limit = max_upload_bytes() + FORM_OVERHEAD_BYTES if is_upload else max_body_bytes()
        if is_upload:
            request = Request(scope)
            refused = await run_in_threadpool(_import_refusal, request)
            if refused is not None:
                status, detail = refused
                response = _not_authenticated(request, detail) if status == 401 else _refusal(request, status, detail)
                await response(scope, receive, send)
                return
        length = _content_length(scope)
        if length is not None and length > limit:
            await _refusal(Request(scope), 413, BodyTooLarge(limit - (FORM_OVERHEAD_BYTES if is_upload else 0)).detail)(
                scope, receive, send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit - (FORM_OVERHEAD_BYTES if is_upload else 0))
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge as exc:  # read where the app does not turn it into its own 413 answer
            if started:
                raise
            await _refusal(Request(scope), 413, str(exc.detail))(scope, receive, send)
