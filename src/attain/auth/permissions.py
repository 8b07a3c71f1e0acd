"""Which roles may do what, per company: one setting per permission (`<permission>_roles`), read by
the web app's `require_permission` dependency and its menu. The defaults are the roles that always
had the right; an admin always keeps it, so a company cannot lock itself out.

    attain config set import_roles "admin,director"    # let directors import
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from attain.auth.models import ROLES
from attain.settings.service import get_setting, register

# permission -> roles allowed by default (as before the setting existed)
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "import": ("admin",),
}
ALWAYS = "admin"


def _roles(value: Any) -> str:
    """A comma-separated list of roles, checked and put in the order of ROLES, admin always in."""
    given = value if isinstance(value, (list, tuple)) else str(value).replace("，", ",").split(",")
    named = {str(role).strip().lower() for role in given if str(role).strip()}
    unknown = sorted(named - set(ROLES))
    if unknown:
        raise ValueError(f"names unknown roles {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    return ",".join(role for role in ROLES if role in named | {ALWAYS})


def setting_key(permission: str) -> str:
    return f"{permission}_roles"


for _permission, _default in PERMISSIONS.items():
    register(setting_key(_permission), ",".join(_default),
             f"Roles that may {_permission} (comma-separated: {', '.join(ROLES)}; admin always may), "
             f"e.g. 'admin,director'.", _roles)


def roles_for(*, session: Session, permission: str) -> tuple[str, ...]:
    """The roles the company lets use `permission` (its setting, else the default)."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}; known: {', '.join(PERMISSIONS)}")
    return tuple(_roles(get_setting(session, setting_key(permission))).split(","))


def allowed(*, session: Session, role: str, permission: str) -> bool:
    return role in roles_for(session=session, permission=permission)
