"""Shared output helpers for CLI commands: JSON on stdout, Rich tables otherwise, errors in red."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


@contextmanager
def steps(quiet: bool) -> Iterator[Callable[[str], None]]:
    """A progress callback for long work: a Rich spinner with the current step on stderr, or
    nothing when `quiet` (JSON output must stay clean)."""
    if quiet:
        yield lambda _message: None
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task("starting", total=None)
        yield lambda message: bar.update(task, description=message)


_ORJSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def json_text(payload: Any) -> str:
    """Indented JSON text (Decimals as strings, dates in ISO form, NumPy arrays as lists): orjson,
    as the standard library writes it; the standard library for what orjson refuses (an integer
    beyond 64 bits)."""
    try:
        return orjson.dumps(payload, default=_default, option=_ORJSON_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(payload, ensure_ascii=False, default=_default, indent=2)


def print_json(payload: Any) -> None:
    """Print machine-readable JSON on stdout (Decimals as strings, dates in ISO form)."""
    print(json_text(payload))
