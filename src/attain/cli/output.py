"""Shared output helpers for CLI commands: JSON on stdout, Rich tables otherwise, errors in red."""

from __future__ import annotations

import json
from decimal import Decimal
from datetime import date, datetime
from typing import Any

from rich.console import Console

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def print_json(payload: Any) -> None:
    """Print machine-readable JSON on stdout (Decimals as strings, dates in ISO form)."""
    print(json.dumps(payload, ensure_ascii=False, default=_default, indent=2))
