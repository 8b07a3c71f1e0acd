"""`attain funnel` and `attain actions`: from a money target to the activities of each working day."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the funnel and actions commands to the main app."""
