"""`attain alerts`: Alert rules, runs and deliveries."""

from __future__ import annotations

import typer

alerts_app = typer.Typer(help="Alert rules, runs and deliveries.", no_args_is_help=True)
