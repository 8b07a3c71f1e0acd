"""`attain config`: company settings such as the fiscal year start."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from attain.cli.data import DbOption, JsonOption, open_session
from attain.auth import permissions as _permissions  # noqa: F401  (registers import_roles for `attain config`)
from attain.cli.output import console, print_json

config_app = typer.Typer(help="Company settings: fiscal year start, returns handling, crediting defaults.", no_args_is_help=True)


@config_app.command("list")
def list_(db: DbOption = None, json: JsonOption = False) -> None:
    """Every setting with its current value and what it means."""
    from attain.settings.service import SPECS, all_settings

    with open_session(db) as session:
        values = all_settings(session)
    if json:
        print_json(values)
        return
    table = Table("setting", "value", "meaning")
    for key, value in values.items():
        table.add_row(key, str(value), SPECS[key].description)
    console.print(table)


@config_app.command("set")
def set_(
    key: Annotated[str, typer.Argument(help="Setting name, see `attain config list`.")],
    value: Annotated[str, typer.Argument(help="New value.")],
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Change a setting."""
    from attain.settings.service import set_setting

    with open_session(db) as session:
        stored = set_setting(session, key, value)
        session.commit()  # set_setting only flushes; session_scope does not commit
    if json:
        print_json({key: stored})
    else:
        console.print(f"{key} = {stored}")
