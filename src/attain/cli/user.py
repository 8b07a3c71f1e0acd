"""`attain user`: users, roles and API tokens."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from attain.auth import service
from attain.auth.models import ROLES
from attain.cli.data import DbOption, JsonOption, open_session
from attain.cli.output import console, err_console, print_json
from attain.errors import InvalidInput
from attain.org.models import OrgNode

user_app = typer.Typer(help="Users, roles and API tokens.", no_args_is_help=True)

PasswordOption = Annotated[
    str | None, typer.Option("--password", help="The password (prompted, hidden, when left out).")
]



def _password(given: str | None) -> str:
    if given is not None:
        return given
    first = typer.prompt("Password", hide_input=True)
    second = typer.prompt("Repeat password", hide_input=True)
    if first != second:
        raise InvalidInput("the two passwords differ")
    return first


@user_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Sign-in name, e.g. zhangwei.")],
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(ROLES)}.")],
    rep: Annotated[str | None, typer.Option("--rep", help="Rep code (role rep): whose figures they see.")] = None,
    node: Annotated[str | None, typer.Option("--node", help="Team, region or company code (manager, director).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Display name (default: the rep's name).")] = None,
    locale: Annotated[str | None, typer.Option("--locale", help="zh_CN or en.")] = None,
    password: PasswordOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Add a user: 用户. A rep sees their own figures, a manager their team, a director their region."""
    if rep and node:
        raise InvalidInput("give --rep or --node, not both")
    with open_session(db) as session:
        user = service.create_user(
            session=session, username=username, password=_password(password), role=role,
            node_key=rep or node, display_name=name, locale=locale,
        )
        row = _row(session, user)
    if json:
        print_json(row)
        return
    console.print(f"added {row['role']} [bold]{row['username']}[/bold] ({row['display_name']}) → {row['node'] or 'everything'}")


@user_app.command("list")
def list_users(db: DbOption = None, json: JsonOption = False) -> None:
    """List users with their role and the node whose figures they see: 用户列表."""
    with open_session(db) as session:
        rows = [_row(session, u) for u in service.list_users(session=session)]
    if json:
        print_json(rows)
        return
    table = Table("用户 user", "姓名 name", "角色 role", "范围 scope", "语言 locale", "启用 active")
    for r in rows:
        table.add_row(str(r["username"]), str(r["display_name"]), str(r["role"]), str(r["node"] or "all"),
                      str(r["locale"] or "-"), "yes" if r["active"] else "no")
    console.print(table)


@user_app.command("passwd")
def passwd(
    username: Annotated[str, typer.Argument(help="The user whose password to set.")],
    password: PasswordOption = None,
    db: DbOption = None,
) -> None:
    """Set a user's password (signs them out everywhere)."""
    with open_session(db) as session:
        user = service.require_user(session=session, username=username)
        service.set_password(session=session, user=user, password=_password(password))
    console.print(f"password of {username} changed; their sessions were ended")


@user_app.command("token")
def token(
    username: Annotated[str, typer.Argument(help="The user the token acts as.")],
    label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "cli",
    revoke: Annotated[bool, typer.Option("--revoke", help="Revoke all the user's tokens instead.")] = False,
    days: Annotated[int, typer.Option("--days", min=1, max=service.TOKEN_MAX_DAYS,
                                      help="Days until the token expires (then 401).")] = service.TOKEN_DAYS,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Create an API token (shown once; only its hash is stored), valid for --days days (default 90).
    Use: Authorization: Bearer TOKEN."""
    with open_session(db) as session:
        user = service.require_user(session=session, username=username)
        if revoke:
            count = service.revoke_tokens(session=session, user=user)
            if json:
                print_json({"username": username, "revoked": count})
            else:
                console.print(f"revoked {count} token(s) of {username}")
            return
        value = service.create_token(session=session, user=user, name=label, days=days)
        expires = service.token_expiry(session=session, token=value)
    if json:
        print_json({"username": username, "token": value, "expires_at": expires.isoformat() if expires else None})
    else:
        print(value)  # alone on stdout, for TOKEN=$(attain user token NAME)
        if expires is not None:
            err_console.print(f"expires {expires:%Y-%m-%d %H:%M}", highlight=False)


@user_app.command("disable")
def disable(
    username: Annotated[str, typer.Argument(help="The user to disable (or enable with --enable).")],
    enable: Annotated[bool, typer.Option("--enable", help="Enable instead.")] = False,
    db: DbOption = None,
) -> None:
    """Disable a user (ends their sessions; tokens stop working) or enable them again."""
    with open_session(db) as session:
        user = service.require_user(session=session, username=username)
        service.set_active(session=session, user=user, active=enable)
    console.print(f"{username} {'enabled' if enable else 'disabled'}")


def _row(session, user) -> dict[str, object]:  # type: ignore[no-untyped-def]
    node = session.get(OrgNode, user.org_node_id) if user.org_node_id else None
    return {
        "username": user.username, "display_name": user.display_name, "role": user.role,
        "node": node.code if node else None, "node_kind": node.kind if node else None,
        "locale": user.locale, "active": user.active,
    }
