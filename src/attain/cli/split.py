"""CLI for the split engine (placeholder until the split engine lands)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the split commands to the main app."""
