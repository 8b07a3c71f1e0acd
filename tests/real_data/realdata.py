"""Helpers of the real-data tests: run the CLI, read the files independently, round like Attain."""

from __future__ import annotations

import csv
import io
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attain.cli.main import app

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
CENT = Decimal("0.01")
runner = CliRunner()


def data_dir(name: str) -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public data sets not found at {SHARED_DATA} (CI has ../shared beside the project)")
    return SHARED_DATA / name


def attain(url: str, *args: str) -> dict:  # type: ignore[type-arg]
    """Run `attain ARGS --db URL --json` and return its JSON (the command must succeed)."""
    result = runner.invoke(app, [*args, "--db", url, "--json"])
    assert result.exit_code == 0, (args, result.output, result.exception)
    return json.loads(result.stdout)


def attain_fails(url: str, *args: str) -> dict:  # type: ignore[type-arg]
    """Run a command that must be refused (exit 1); return its JSON ({"error": ..., "errors": [...]})."""
    result = runner.invoke(app, [*args, "--db", url, "--json"])
    assert result.exit_code == 1, (args, result.output, result.exception)
    return json.loads(result.stdout)


def read_rows(path: Path, encoding: str = "utf-8", delimiter: str = ",", fieldnames: list[str] | None = None) -> list[dict[str, str]]:
    """The file's rows as dicts, read with Python's csv module (independent of Attain's reader)."""
    with open(path, encoding=encoding, newline="") as handle:
        return list(csv.DictReader(io.StringIO(handle.read()), delimiter=delimiter, fieldnames=fieldnames))


def cents(value: str | Decimal) -> Decimal:
    """An amount rounded half up to the cent, as Attain stores it."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def by_label(report: dict, dimension: str, field: str = "value") -> dict[str, Decimal]:  # type: ignore[type-arg]
    """{row label: figure} of a report's rows."""
    return {row["labels"][dimension]: Decimal(row[field]) for row in report["rows"]}
