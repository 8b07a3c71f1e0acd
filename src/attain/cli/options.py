"""Options shared by CLI commands, in a module that imports nothing heavy (no SQLAlchemy), so that
commands on the fast path (`attain split`, see `attain.cli.entry`) can declare them too."""

from __future__ import annotations

from typing import Annotated

import typer

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: $ATTAIN_DATABASE_URL, else sqlite:///attain.db)", show_default=False),
]
