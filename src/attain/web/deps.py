"""Request dependencies: the database session, the signed-in user and their row-level access.

Every page and API route takes `CurrentUser` (or `AccessDep`, which also carries the session and
answers "may this user see that node?"). Pages answer an anonymous visitor with a redirect to the
sign-in page, the API with 401.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from attain.auth import access
from attain.auth.models import User
from attain.auth.service import session_user, token_user
from attain.org.models import OrgNode
from attain.web.security import SESSION_COOKIE, CsrfFailed, anonymous_csrf, check_csrf


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session (one pooled connection, checked out at its first query) for the whole request.
    Made on the event loop (no I/O); closed in the thread pool when it holds a connection."""
    session = request.app.state.session_factory()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]


class NotAuthenticated(Exception):
    """No valid session cookie or API token."""


class Forbidden(Exception):
    """Signed in, but the role may not use this route. `code`/`params` as in `AttainError`."""

    def __init__(self, message: str | None = None, *, code: str | None = None, params: dict[str, object] | None = None):
        from attain.messages import english

        self.code = code
        self.params = dict(params or {})
        super().__init__(message if message is not None or code is None else english(code, self.params))


async def optional_user(request: Request, session: SessionDep) -> User | None:
    """The user behind the Bearer token or session cookie, or None. Checks CSRF for cookie requests."""
    if hasattr(request.state, "user"):
        return request.state.user  # type: ignore[no-any-return]
    user: User | None = None
    request.state.csrf_token = anonymous_csrf(request)
    request.state.auth_via = None
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        user = await run_in_threadpool(token_user, session=session, token=authorization[7:].strip())
        if user is None:
            raise NotAuthenticated("invalid or revoked API token")
        request.state.auth_via = "token"
    elif cookie := request.cookies.get(SESSION_COOKIE):
        found = await run_in_threadpool(session_user, session=session, token=cookie)
        if found is not None:
            user, web_session = found
            request.state.csrf_token = web_session.csrf_token
            request.state.auth_via = "cookie"
            await check_csrf(request, web_session.csrf_token)
    request.state.user = user
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]


async def current_user(user: OptionalUser) -> User:  # async: no I/O, no trip to the thread pool
    if user is None:
        raise NotAuthenticated("sign in first")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_role(*roles: str) -> Callable[[User], User]:
    """Dependency allowing only the given roles: `Depends(require_role("admin", "director"))`."""

    async def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden(code="access.role_needed", params={"roles": list(roles), "role": user.role})
        return user

    return check


AdminUser = Annotated[User, Depends(require_role("admin"))]


@dataclass
class Access:
    """The signed-in user's view of the organisation (wraps attain.auth.access for one request)."""

    session: Session
    user: User

    def filter(self, column: ColumnElement[int]) -> ColumnElement[bool]:
        """WHERE clause keeping rows whose org node `column` the user may see."""
        return access.scope_filter(session=self.session, user=self.user, column=column)

    def node(self, key: str | int) -> OrgNode:
        """The node by code or id, NotFound (404) if it does not exist or the user may not see it."""
        return access.require_visible_node(session=self.session, user=self.user, key=key)

    def nodes(self) -> list[OrgNode]:
        return access.visible_nodes(session=self.session, user=self.user)

    def home(self) -> OrgNode:
        """The user's own node (the company for an admin)."""
        return access.default_node(session=self.session, user=self.user)

    def can_see(self, node: OrgNode) -> bool:
        return access.can_see(session=self.session, user=self.user, node=node)

    @property
    def sees_amounts_of_others(self) -> bool:
        return self.user.role != "rep"


async def get_access(session: SessionDep, user: CurrentUser) -> Access:  # no I/O: stays on the event loop
    return Access(session=session, user=user)


AccessDep = Annotated[Access, Depends(get_access)]

__all__ = [
    "Access", "AccessDep", "AdminUser", "CsrfFailed", "CurrentUser", "Forbidden", "NotAuthenticated",
    "OptionalUser", "SessionDep", "current_user", "get_access", "get_session", "optional_user", "require_role",
]
