"""`attain credit`: Crediting rules: who gets credit for a sale, when and for how much."""

from __future__ import annotations

import typer

credit_app = typer.Typer(help="Crediting rules: who gets credit for a sale, when and for how much.", no_args_is_help=True)
