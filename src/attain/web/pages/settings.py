"""Company settings page (`/settings`): the role permission table of attain.auth.permissions — what
each permission allows, the roles that have it now, the default and the setting that changes it —
and the other company settings with their values. Who may open it is itself a permission (settings)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from attain.auth import permissions
from attain.settings.service import all_settings
from attain.web.deps import CurrentUser, SessionDep
from attain.web.permissions import require_permission
from attain.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_permission("settings"))])


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    table = permissions.table(session=session)
    shown = {row["setting"] for row in table} | set(permissions.LEGACY_KEYS.values())
    others = {key: value for key, value in all_settings(session).items() if key not in shown}
    return render(request, "settings/index.html", {"permissions": table, "settings": others})
