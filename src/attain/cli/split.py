"""`attain split` and `attain split-time`: read a spec or options, call the split engine, render."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from itertools import product, repeat
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import orjson
import typer
from rich.table import Table

from attain.cli.options import DbOption
from attain.cli.output import console, err_console, print_json
from attain.errors import InvalidInput
from attain.periods import Grain
from attain.split.calc import SplitResult, format_amount, split
from attain.split.calendar import TimeMethod, TimeSplit, WorkCalendar, split_time
from attain.split.spec import (
    TIME_GRAINS,
    SplitSpec,
    check_multiple,
    decimal_places,
    parse_amount,
    parse_calendar,
    parse_spec,
    to_int,
)
from attain.spreadsheets import csv_row, new_workbook, write_cells_in_row

# Exact header names first, then any header containing one of them (e.g. "Order Date (UTC)").
DATE_HEADERS = ("date", "日期", "order date", "order_date", "订单日期", "下单日期")
AMOUNT_HEADERS = ("amount", "金额", "sales", "销售额", "revenue", "订单金额")


def register(app: typer.Typer) -> None:
    """Add the split commands to the main app."""
    app.command("split")(split_command)
    app.command("split-time")(split_time_command)


def split_command(
    spec_file: Annotated[Path, typer.Argument(help="Split spec (JSON): total, unit, axes, optional prior and locks.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the cells to FILE.csv or FILE.xlsx.")] = None,
    spread_zero_prior: Annotated[
        bool, typer.Option("--spread-zero-prior", help="Spread members without history by the other margins.")
    ] = False,
) -> None:
    """Split one target over several axes so that every cell and subtotal adds up exactly."""
    spec = parse_spec(_read_json(spec_file), lambda name: read_history(spec_file.parent / name),
                      lambda name: read_prior(spec_file.parent / name))
    result = split(
        spec.total,
        spec.unit,
        spec.axes,
        prior=spec.prior,
        locks=spec.locks,
        spread_zero_prior=spec.spread_zero_prior or spread_zero_prior,
        places=spec.places,
    )
    payload = split_payload(result, spec)
    if out is not None:
        write_cells(out, payload, [axis.name for axis in spec.axes])
    if as_json:
        print_json(payload)
        return
    _print_warnings(spec.warnings)
    _print_split_tables(payload, [axis.name for axis in spec.axes])


def split_payload(result: SplitResult, spec: SplitSpec) -> dict[str, Any]:
    """The JSON shape of a split: every amount a decimal string. Built a column at a time (the
    cells of a 10,000-rep × 12-month split are 120,000 rows)."""
    names = [axis.name for axis in result.axes]
    # Members of every cell in C order (the order of result.cells.ravel()), one column per axis.
    members = [axis.members for axis in result.axes]
    columns = list(zip(*product(*members))) if result.cells.size else [() for _ in names]
    targets = format_amounts(result.cells.ravel(), spec.places)
    cells = [dict(zip([*names, "target"], row)) for row in zip(*columns, targets)]
    margins = {
        axis.name: dict(zip(axis.members, format_amounts(margin, spec.places)))
        for axis, margin in zip(result.axes, result.margins)
    }
    error = Decimal(repr(result.max_margin_error)).scaleb(-spec.places).quantize(Decimal("0.000001"))
    return {
        "total": format_amount(spec.total, spec.places),
        "cells": cells,
        "margins": margins,
        "fit": {"iterations": result.iterations, "max_margin_error": str(error)},
        "warnings": list(spec.warnings),
    }


def format_amounts(values: np.ndarray, places: int) -> list[str]:
    """`format_amount` of every value, mapped over the column (whole numbers: plain int strings)."""
    ints = np.asarray(values).tolist()
    if not places:
        return list(map(str, ints))
    return list(map(str, map(Decimal.scaleb, map(Decimal, ints), repeat(-places))))


def _print_warnings(warnings: Sequence[str]) -> None:
    for warning in warnings:
        err_console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)


def _print_split_tables(payload: dict[str, Any], names: Sequence[str]) -> None:
    cells = Table(title=f"Split of {payload['total']}")
    for name in names:
        cells.add_column(name)
    cells.add_column("target", justify="right")
    for row in payload["cells"]:
        cells.add_row(*(row[name] for name in names), row["target"])
    console.print(cells)
    for name, members in payload["margins"].items():
        margin = Table(title=f"Total by {name}")
        margin.add_column(name)
        margin.add_column("target", justify="right")
        for member, value in members.items():
            margin.add_row(member, value)
        console.print(margin)
    fit = payload["fit"]
    console.print(f"fit: {fit['iterations']} iterations, largest margin error {fit['max_margin_error']} before rounding")


def write_cells(path: Path, payload: dict[str, Any], names: Sequence[str]) -> None:
    """Write the cells to CSV (UTF-8 with BOM, so Excel shows Chinese) or XLSX (cells + margins sheets)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(csv_row([*names, "target"]))
        for row in payload["cells"]:
            writer.writerow(csv_row([*(row[name] for name in names), row["target"]], numeric=[len(names)]))
        _write_text(path, buffer.getvalue(), "utf-8-sig")
    elif suffix == ".xlsx":
        _write_xlsx(path, payload, names)
    else:
        raise InvalidInput(f"--out must end in .csv or .xlsx, got '{path.name}'")


def _write_text(path: Path, text: str, encoding: str) -> None:
    try:
        path.write_text(text, encoding=encoding, newline="")
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from exc


def _write_xlsx(path: Path, payload: dict[str, Any], names: Sequence[str]) -> None:
    from xlsxwriter.exceptions import FileCreateError

    try:
        workbook = new_workbook(path)
        cells = workbook.add_worksheet("cells")
        write_cells_in_row(cells, 0, 0, [*names, "target"])
        for r, row in enumerate(payload["cells"], start=1):
            write_cells_in_row(cells, r, 0, [*(str(row[name]) for name in names), Decimal(row["target"])])
        margins = workbook.add_worksheet("margins")
        write_cells_in_row(margins, 0, 0, ["axis", "member", "target"])
        r = 1
        for name, members in payload["margins"].items():
            for member, value in members.items():
                write_cells_in_row(margins, r, 0, [name, str(member), Decimal(value)])
                r += 1
        workbook.close()
    except (OSError, FileCreateError) as exc:
        raise InvalidInput(f"cannot write {path}: {exc}") from exc


def split_time_command(
    start: Annotated[str, typer.Option("--start", help="First day, e.g. 2026-01-01.")],
    end: Annotated[str, typer.Option("--end", help="Last day, e.g. 2026-12-31.")],
    total: Annotated[str, typer.Option("--total", help="Amount to split, e.g. 12000000.")],
    unit: Annotated[str, typer.Option("--unit", help="Rounding unit; every target is a multiple of it.")] = "1",
    grain: Annotated[str, typer.Option("--grain", help="quarter, month, week or day.")] = "month",
    method: Annotated[TimeMethod, typer.Option("--method", help="equal, working-days or seasonal.")] = TimeMethod.EQUAL,
    history: Annotated[Path | None, typer.Option("--history", help="Orders CSV (date and amount columns) for seasonal.")] = None,
    calendar: Annotated[
        Path | None, typer.Option("--calendar", help='JSON {"holidays": [...], "workdays": [...]} on top of the company calendar.')
    ] = None,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Split a target over the periods of a date range, by working days or by last years' season."""
    if grain not in TIME_GRAINS:
        raise InvalidInput(f"--grain must be one of {', '.join(TIME_GRAINS)}, got '{grain}'")
    total_amount = parse_amount(total, "--total")
    unit_amount = parse_amount(unit, "--unit")
    if unit_amount <= 0:
        raise InvalidInput(f"--unit must be positive, got {unit}")
    check_multiple(total_amount, unit_amount, "--total")
    places = decimal_places([total_amount, unit_amount])
    history_dates, history_amounts = read_history(history) if history is not None else (None, None)
    if method is TimeMethod.SEASONAL and history is None:
        raise InvalidInput("--method seasonal needs --history orders.csv")
    result = split_time(
        to_int(total_amount, places),
        to_int(unit_amount, places),
        _parse_date(start, "--start"),
        _parse_date(end, "--end"),
        Grain(grain),
        method,
        calendar=split_calendar(db, calendar),
        history_dates=history_dates,
        history_amounts=history_amounts,
    )
    payload = time_payload(result, places)
    if as_json:
        print_json(payload)
        return
    _print_warnings(result.warnings)
    table = Table(title=f"Split of {payload['total']} by {grain} ({method.value})")
    for column in ("period", "start", "end", "working_days"):
        table.add_column(column)
    table.add_column("target", justify="right")
    for row in payload["periods"]:
        table.add_row(row["period"], row["start"], row["end"], str(row["working_days"]), row["target"])
    console.print(table)


def time_payload(result: TimeSplit, places: int) -> dict[str, Any]:
    """The JSON shape of a time split."""
    return {
        "total": format_amount(int(result.day_targets.sum()), places),
        "periods": [
            {
                "period": period.label,
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "working_days": int(days),
                "target": format_amount(int(target), places),
            }
            for period, days, target in zip(result.periods, result.working_days, result.targets)
        ],
        "warnings": list(result.warnings),
    }


def _parse_date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidInput(f"{what} must be a date like 2026-01-01, got '{text}'") from exc


def _read_json(path: Path) -> Any:
    """The spec or calendar file. Parsed by orjson when that is exact (no amount written as a JSON
    number with decimals, no key repeated in an object), else by the standard library, whose
    Decimals and duplicate-key check say the same for any file."""
    text = _read_text(path)
    fast = _read_json_fast(text)
    if fast is not None:
        return fast
    try:
        return json.loads(text, parse_float=Decimal, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc


_KEY_BEFORE_SPACE = re.compile(r'"[ \t\r\n]+:')


def _read_json_fast(text: str) -> Any | None:
    """orjson's parse of `text`, or None where the standard library must say: invalid JSON, a
    float among the exact amounts (total, unit, lock values), or keys that might repeat.

    No key repeats when the objects parsed hold as many keys as the text has `":` (each key,
    written right before its colon, has one; a `\\":` inside a string adds one, and makes the
    check fail safe); keys written with a space before the colon go the slow way."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if _KEY_BEFORE_SPACE.search(text) or _key_count(data) != text.count('":'):
        return None
    if isinstance(data, dict):
        locks = data.get("locks")
        amounts = [data.get("total"), data.get("unit")]
        if isinstance(locks, list):
            amounts += [lock.get("value") for lock in locks if isinstance(lock, dict)]
        if any(isinstance(amount, float) for amount in amounts):
            return None
    return data


def _key_count(value: Any) -> int:
    """Keys of every object in a parsed JSON value."""
    if isinstance(value, dict):
        return len(value) + sum(map(_key_count, value.values()))
    if isinstance(value, list):
        return sum(map(_key_count, value))
    return 0


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    keys = [key for key, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise InvalidInput(f"'{key}' appears twice in the same JSON object")
    return dict(pairs)


def _read_text(path: Path) -> str:
    """File text as UTF-8 (with or without BOM), else GBK, the usual export of Chinese Excel."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise InvalidInput(f"file not found: {path}") from exc
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc
    for encoding in ("utf-8-sig", "gbk"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(f"{path} is neither UTF-8 nor GBK text")


def split_calendar(db: str | None, path: Path | None) -> WorkCalendar:
    """The company calendar (`attain calendar`, `attain config set calendar`) when there is an Attain
    database (--db, $ATTAIN_DATABASE_URL or ./attain.db), else the official Chinese calendar; the days
    of a --calendar file on top."""
    base = WorkCalendar()
    if db is not None or os.environ.get("ATTAIN_DATABASE_URL") or Path("attain.db").exists():
        from attain.calendars.service import company_calendar
        from attain.cli.data import open_session

        with open_session(db) as session:
            base = company_calendar(session=session)
    return base.with_overrides(read_calendar(path)) if path is not None else base


def read_calendar(path: Path) -> WorkCalendar:
    """A calendar file: {"holidays": [dates], "workdays": [dates], "official": true}."""
    return parse_calendar(_read_json(path), str(path))


def read_prior(path: Path) -> dict[str, list[Any]]:
    """A long prior file (CSV with a header, or Parquet): its columns by header name, values as
    read (CSV: all text; the spec's parser checks members and numbers, naming the line)."""
    import duckdb

    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InvalidInput(f"the prior file must be .csv or .parquet (columns: one per axis and value), got '{path.name}'")
    if not path.is_file():
        raise InvalidInput(f"prior file not found: {path}")
    reader = "read_csv(?, all_varchar = true, header = true)" if suffix == ".csv" else "read_parquet(?)"
    try:
        with duckdb.connect() as con:
            cursor = con.execute(f"SELECT * FROM {reader}", [str(path)])
            names = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
    except duckdb.Error as exc:
        raise InvalidInput(f"cannot read the prior file {path}: {str(exc).splitlines()[0]}") from exc
    columns = list(zip(*rows)) if rows else [() for _ in names]
    return {name.strip(): list(values) for name, values in zip(names, columns)}


def read_history(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Order dates (datetime64[D]) and amounts (float) from a CSV with date and amount columns."""
    rows = list(csv.reader(io.StringIO(_read_text(path))))
    if not rows:
        raise InvalidInput(f"{path} is empty")
    header = [cell.strip().lower() for cell in rows[0]]
    date_column = _find_column(header, DATE_HEADERS, path, "date")
    amount_column = _find_column(header, AMOUNT_HEADERS, path, "amount")
    dates: list[date] = []
    amounts: list[float] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(date_column, amount_column):
            raise InvalidInput(f"{path}, line {line}: missing the date or amount")
        dates.append(_history_date(row[date_column], path, line, rows[0][date_column]))
        amounts.append(_history_amount(row[amount_column], path, line, rows[0][amount_column]))
    if not dates:
        raise InvalidInput(f"{path} has no orders")
    return np.array(dates, dtype="datetime64[D]"), np.array(amounts)


def _find_column(header: Sequence[str], names: Sequence[str], path: Path, what: str) -> int:
    for name in names:
        if name in header:
            return header.index(name)
    for i, cell in enumerate(header):
        if any(name in cell for name in names):
            return i
    raise InvalidInput(f"{path} has no {what} column (looked for {', '.join(names)})")


def _history_date(text: str, path: Path, line: int, column: str) -> date:
    cleaned = text.strip()
    for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"):
        try:
            return datetime.strptime(cleaned, pattern).date()
        except ValueError:
            continue
    raise InvalidInput(f"{path}, line {line}, {column}: '{text}' is not a date")


def _history_amount(text: str, path: Path, line: int, column: str) -> float:
    try:
        amount = Decimal(text.strip().replace(",", "").replace("¥", "").replace("￥", ""))
    except InvalidOperation as exc:
        raise InvalidInput(f"{path}, line {line}, {column}: '{text}' is not an amount") from exc
    if not amount.is_finite():
        raise InvalidInput(f"{path}, line {line}, {column}: '{text}' is not an amount")
    return float(amount)
