"""Cookies, CSRF and the client address: the browser-facing half of sign-in.

Signed-in browsers carry `attain_session` (a random token; the server keeps its SHA-256 and the
session's CSRF token). Before sign-in, `attain_csrf` holds a random value that the login form echoes
(double-submit), so the login form is CSRF-protected too. Every POST/PUT/PATCH/DELETE made with a
cookie must send the CSRF token, as the `csrf_token` form field or the `X-CSRF-Token` header (HTMX
sends the header from the `<meta name="csrf-token">` tag of the base layout). Requests carrying a
Bearer token are scripts, not browsers, and need no CSRF token.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from datetime import datetime

from fastapi import Request, Response
from starlette.datastructures import MutableHeaders
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "attain_session"
CSRF_COOKIE = "attain_csrf"
LOCALE_COOKIE = "attain_locale"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CsrfFailed(Exception):
    """A state-changing request came without the right CSRF token."""


def cookie_secure() -> bool:
    """Send cookies only over HTTPS when ATTAIN_COOKIE_SECURE is set (do so behind a TLS proxy)."""
    return os.environ.get("ATTAIN_COOKIE_SECURE", "").strip().lower() in ("1", "true", "yes", "on")


def set_session_cookie(response: Response, token: str, expires: datetime) -> None:
    max_age = max(0, int((expires - datetime.now()).total_seconds()))
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax", secure=cookie_secure(), path="/"
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=cookie_secure())


TRUSTED_PROXIES_ENV = "ATTAIN_TRUSTED_PROXIES"


def trusted_proxies() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """ATTAIN_TRUSTED_PROXIES: addresses or networks of our own reverse proxies, comma-separated
    (e.g. `127.0.0.1,10.0.0.0/8`). Empty (the default): no proxy is trusted."""
    networks = []
    for part in os.environ.get(TRUSTED_PROXIES_ENV, "").split(","):
        if part.strip():
            try:
                networks.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                continue
    return networks


def _is_trusted(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request: Request) -> str:
    """The client address that the login rate limit counts. The peer itself, unless the peer is a
    configured proxy (ATTAIN_TRUSTED_PROXIES): then the nearest X-Forwarded-For address that is not
    one of our proxies (addresses further left are whatever the client wrote). `attain serve` runs
    uvicorn without --proxy-headers, so the peer is never taken from a header it did not check."""
    peer = request.client.host if request.client else "unknown"
    networks = trusted_proxies()
    if not networks or not _is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a proxy of ours would not write that: count the proxy
    return peer


def anonymous_csrf(request: Request) -> str:
    return getattr(request.state, "anon_csrf", "") or request.cookies.get(CSRF_COOKIE, "")


async def submitted_csrf(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # Starlette caches the parsed form for the route's own Form(...) params
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def check_csrf(request: Request, expected: str) -> None:
    """Raise CsrfFailed unless the request is safe or carries `expected`."""
    if request.method in SAFE_METHODS:
        return
    given = await submitted_csrf(request)
    if not expected or not given or not secrets.compare_digest(given, expected):
        raise CsrfFailed("missing or wrong CSRF token; reload the page and try again")


class AnonymousCsrfMiddleware(BaseHTTPMiddleware):
    """Give every browser an `attain_csrf` cookie so that forms shown before sign-in carry a token."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        fresh = None
        if not request.cookies.get(CSRF_COOKIE):
            fresh = secrets.token_urlsafe(24)
            request.state.anon_csrf = fresh
        response = await call_next(request)
        if fresh:
            response.set_cookie(CSRF_COOKIE, fresh, httponly=True, samesite="lax", secure=cookie_secure(), path="/")
        return response


# Scripts only from our own files (ECharts and HTMX are vendored under /static/vendor; pages.js and
# swagger-init.js replace inline scripts), nothing framed, no plugins. Inline style attributes stay
# allowed (bar widths in templates; ECharts, HTMX and Swagger UI set styles at run time).
_CSP_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
CONTENT_SECURITY_POLICY = "; ".join(_CSP_DIRECTIVES)
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(path: str) -> dict[str, str]:
    """The headers every response gets. Everything but /static is `no-store`: pages and API answers
    carry figures that must not stay in a shared or back-button cache after sign-out."""
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    if not path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"
    if cookie_secure():  # served over HTTPS (behind a TLS proxy): browsers must never fall back to HTTP
        headers["Strict-Transport-Security"] = HSTS
    return headers


class SecurityHeadersMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware), so streamed and file responses pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
