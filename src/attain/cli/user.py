"""`attain user`: Users, roles and API tokens."""

from __future__ import annotations

import typer

user_app = typer.Typer(help="Users, roles and API tokens.", no_args_is_help=True)
