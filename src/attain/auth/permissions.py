"""Which roles may do what, per company: the one permission table, read by the web pages and menu
(`attain.web.permissions.require_permission`), the JSON API and the CLI's `--as`/`--by` checks
(`plans.service.authorize`, `plans.service.approver_role`).

Each permission has a default equal to what the roles could always do and a company setting
`permission.<name>` (comma-separated roles); an admin always keeps every right, so a company cannot
lock itself out. Row-level access (who sees which nodes, `attain.auth.access`) is not changed by
this table: a director allowed to import or a manager allowed to approve still acts within their scope.

    attain config set permission.import "admin,director"          # let directors import
    attain config set permission.plan_approve "admin,director,manager"

`import_roles` is the older name of `permission.import` and is still read when the new one is unset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from attain.auth.models import ROLES
from attain.errors import InvalidInput, NotAllowed
from attain.messages import N_
from attain.settings.models import Setting
from attain.settings.service import get_setting, register

ALWAYS = "admin"


@dataclass(frozen=True)
class Permission:
    name: str
    default: tuple[str, ...]  # the roles that had the right before the setting existed
    label: str                # message id: what the permission allows (shown on /settings)


PERMISSIONS: dict[str, Permission] = {p.name: p for p in (
    Permission("import", ("admin",), N_("Import data files (imports page and API)")),
    Permission("plan_edit", ("admin", "director", "manager"),
               N_("Open plans, edit cells and strategy notes, run the split wizard, submit and revise plans")),
    Permission("plan_approve", ("admin", "director"), N_("Approve and lock plans (also needs plan editing)")),
    Permission("calendar", ("admin",), N_("Edit the company's working-day calendar")),
    Permission("settings", ("admin",), N_("See the company settings and this table")),
)}


def _roles(value: Any) -> str:
    """A comma-separated list of roles, checked and put in the order of ROLES, admin always in."""
    given = value if isinstance(value, (list, tuple)) else str(value).replace("，", ",").split(",")
    named = {str(role).strip().lower() for role in given if str(role).strip()}
    unknown = sorted(named - set(ROLES))
    if unknown:
        raise InvalidInput.coded("permission.unknown_roles", value=str(value), unknown=", ".join(unknown),
                                 known=", ".join(ROLES))
    return ",".join(role for role in ROLES if role in named | {ALWAYS})


def setting_key(permission: str) -> str:
    return f"permission.{permission}"


LEGACY_KEYS = {"import": "import_roles"}

for _permission in PERMISSIONS.values():
    register(setting_key(_permission.name), ",".join(_permission.default),
             f"Roles that may {_permission.label[0].lower()}{_permission.label[1:]} (comma-separated: "
             f"{', '.join(ROLES)}; admin always may), e.g. 'admin,director'.", _roles)
register("import_roles", "admin", "Older name of permission.import, read while permission.import is unset.", _roles)


def require_known(permission: str) -> Permission:
    try:
        return PERMISSIONS[permission]
    except KeyError:
        raise KeyError(f"unknown permission {permission!r}; known: {', '.join(PERMISSIONS)}") from None


def roles_for(*, session: Session, permission: str) -> tuple[str, ...]:
    """The roles the company lets use `permission` (its setting, else the default)."""
    require_known(permission)
    key = setting_key(permission)
    legacy = LEGACY_KEYS.get(permission)
    if legacy and session.get(Setting, key) is None and session.get(Setting, legacy) is not None:
        key = legacy
    return tuple(_roles(get_setting(session, key)).split(","))


def allowed(*, session: Session, role: str, permission: str) -> bool:
    return role in roles_for(session=session, permission=permission)


def require(*, session: Session, role: str, permission: str, user: str | None = None) -> None:
    """Raise NotAllowed (coded) unless `role` has `permission` in this company."""
    roles = roles_for(session=session, permission=permission)
    if role not in roles:
        raise NotAllowed.coded("permission.denied", user=user or role, role=role, roles=list(roles),
                               what=PERMISSIONS[permission].label)


def table(*, session: Session) -> list[dict[str, Any]]:
    """Every permission with its roles now, its default and its setting (the /settings page)."""
    return [{"name": p.name, "label": p.label, "roles": roles_for(session=session, permission=p.name),
             "default": p.default, "setting": setting_key(p.name)} for p in PERMISSIONS.values()]
