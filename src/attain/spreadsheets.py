"""Cells of the files Attain writes for Excel (.xlsx and .csv): text always stays text.

A name such as `=HYPERLINK("http://evil", "click")`, `+1+cmd|' /C calc'!A0`, `-2+3` or `@SUM(A1)`
(users, reps, products and plans are named by whoever types them) must never become a live formula
in a review pack, a plan export or a split. In .xlsx every text cell is written with
`write_string` into a workbook that turns no string into a formula, URL or number; in .csv text that
Excel would read as a formula (starting with = + - @, tab or carriage return) gets a leading `'`
(the OWASP "CSV injection" advice). Numbers are written as numbers and are never touched.

Every .xlsx and .csv writer of Attain goes through this module.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Never let xlsxwriter guess: a string is a string.
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def new_workbook(path: Path | str) -> Any:
    """An xlsxwriter workbook that writes every string as text (use `write_cell` for the cells too)."""
    import xlsxwriter

    return xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)


def write_cell(sheet: Any, row: int, column: int, value: object, cell_format: Any = None) -> None:
    """One cell: text as a string (never a formula), numbers as numbers, None as a blank."""
    if value is None:
        if cell_format is not None:
            sheet.write_blank(row, column, None, cell_format)
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, column, value, cell_format)
    elif isinstance(value, numbers.Real | Decimal):  # int, float, Decimal, Fraction, NumPy scalars
        sheet.write_number(row, column, float(value), cell_format)  # type: ignore[arg-type]
    elif isinstance(value, datetime | date):
        sheet.write_datetime(row, column, value, cell_format)
    else:
        sheet.write_string(row, column, str(value), cell_format)


def write_cells_in_row(sheet: Any, row: int, first_column: int, values: Iterable[object], cell_format: Any = None) -> None:
    """`write_cell` along a row, from `first_column` on."""
    for offset, value in enumerate(values):
        write_cell(sheet, row, first_column + offset, value, cell_format)


def csv_text(value: str) -> str:
    """Text for a CSV cell: a leading `'` when Excel would otherwise run it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_row(values: Sequence[object], *, numeric: Iterable[int] = ()) -> list[object]:
    """A CSV row with every text cell made safe; the columns in `numeric` hold numbers written as
    text (e.g. "-1200.50") and are left as they are."""
    keep = set(numeric)
    return [v if (i in keep or not isinstance(v, str)) else csv_text(v) for i, v in enumerate(values)]
