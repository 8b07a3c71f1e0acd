"""The company's role permissions (attain.auth.permissions) on the web: a route dependency and the
menu entries they open. One place: the imports, plans, calendar and settings pages, the API and the
menu all ask `roles_for`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from attain.auth.models import User
from attain.auth.permissions import roles_for
from attain.web.deps import CurrentUser, Forbidden, SessionDep

# Menu entries opened by a permission rather than by a fixed list of roles.
NAV_PERMISSIONS = {"/imports": "import", "/plans": "plan_edit", "/calendar": "calendar", "/settings": "settings"}


def require_permission(permission: str) -> Callable[..., Awaitable[User]]:
    """Dependency allowing the roles the company lets use `permission` (403 for the others)."""

    async def check(session: SessionDep, user: CurrentUser) -> User:
        roles = await run_in_threadpool(roles_for, session=session, permission=permission)
        if user.role not in roles:
            raise Forbidden(code="access.role_needed", params={"roles": list(roles), "role": user.role})
        return user

    return check


def granted_menu(request: Request, role: str) -> dict[str, bool]:
    """{menu path: shown} for the permission-driven entries, read on a short session of its own."""
    with request.app.state.session_factory() as session:
        return {path: role in roles_for(session=session, permission=permission)
                for path, permission in NAV_PERMISSIONS.items()}
