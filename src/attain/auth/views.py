"""Sign-in, sign-out, password change and the language switch (HTML pages)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from attain.auth import service
from attain.errors import InvalidInput
from attain.web.deps import CurrentUser, OptionalUser, SessionDep
from attain.web.i18n import LOCALES, request_locale, translations
from attain.web.security import (
    LOCALE_COOKIE,
    SESSION_COOKIE,
    CsrfFailed,
    anonymous_csrf,
    check_csrf,
    clear_session_cookie,
    client_ip,
    cookie_secure,
    set_session_cookie,
)
from attain.web.templating import render

router = APIRouter(include_in_schema=False)


def safe_next(url: str | None) -> str:
    """Only local paths: never redirect to another site after sign-in."""
    if not url:
        return "/"
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url


@router.get("/login")
def login_page(request: Request, user: OptionalUser, next: str = "/") -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "auth/login.html", {"next_url": safe_next(next), "username": "", "error": None})


@router.post("/login")
async def login(
    request: Request, session: SessionDep, username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "", next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    await check_csrf(request, anonymous_csrf(request))
    gettext = translations(request_locale(request)).gettext
    try:
        user = await run_in_threadpool(
            service.authenticate, session=session, username=username, password=password, ip=client_ip(request)
        )
    except service.RateLimited:
        error = gettext("Too many failed sign-ins. Wait 15 minutes and try again.")
        return render(request, "auth/login.html", {"next_url": safe_next(next), "username": username, "error": error},
                      status_code=429)
    if user is None:
        error = gettext("Wrong username or password.")
        return render(request, "auth/login.html", {"next_url": safe_next(next), "username": username, "error": error},
                      status_code=401)
    new = await run_in_threadpool(service.start_session, session=session, user=user)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, new.token, new.expires_at)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token and request.state.auth_via == "cookie":
        service.end_session(session=session, token=token)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response)
    return response


@router.get("/account/password")
def password_page(request: Request, user: CurrentUser) -> Response:
    return render(request, "auth/password.html", {"error": None, "done": False})


@router.post("/account/password")
def change_password(
    request: Request, session: SessionDep, user: CurrentUser,
    current: Annotated[str, Form(max_length=1000)], new: Annotated[str, Form(max_length=1000)],
    repeat: Annotated[str, Form(max_length=1000)],
) -> Response:
    gettext = translations(request_locale(request)).gettext
    error = None
    if not service.verify_password(user.password_hash, current):
        error = gettext("The current password is wrong.")
    elif new != repeat:
        error = gettext("The new passwords differ.")
    else:
        try:
            service.set_password(session=session, user=user, password=new)
        except InvalidInput:
            error = gettext("The new password needs at least 8 characters.")
    if error:
        return render(request, "auth/password.html", {"error": error, "done": False}, status_code=422)
    # Every session was ended (others may have been stolen); keep this browser signed in.
    fresh = service.start_session(session=session, user=user)
    request.state.csrf_token = fresh.csrf_token
    response = render(request, "auth/password.html", {"error": None, "done": True})
    set_session_cookie(response, fresh.token, fresh.expires_at)
    return response


@router.get("/lang/{code}")
def switch_language(code: str, next: str = "/") -> Response:
    """Remember the language in a cookie (a plain link, so it works before sign-in too)."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in LOCALES:
        response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 86400, samesite="lax", secure=cookie_secure(), path="/")
    return response


__all__ = ["CsrfFailed", "router", "safe_next"]
