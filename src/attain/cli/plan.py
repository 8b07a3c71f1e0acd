"""`attain plan`: Target plans: create, check, split, show, export, edit, reconcile, version and approve."""

from __future__ import annotations

import typer

plan_app = typer.Typer(help="Target plans: create, check, split, show, export, edit, reconcile, version and approve.", no_args_is_help=True)
