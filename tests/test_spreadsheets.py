"""attain.spreadsheets: text written for Excel stays text (no formula injection), numbers stay numbers."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from typer.testing import CliRunner

from attain.cli.main import app
from attain.spreadsheets import (
    csv_row,
    csv_text,
    new_workbook,
    write_cell,
    write_cells_in_row,
)
from tests.workbooks import FORMULA_NAMES, formulas_in, shared_strings


@pytest.mark.parametrize("name", FORMULA_NAMES)
def test_csv_text_defuses_every_formula_start(name: str) -> None:
    assert csv_text(name) == "'" + name


@pytest.mark.parametrize("name", ["华东", "Alice", "1-2", "a=b", "", "'quoted"])
def test_csv_text_leaves_ordinary_text_alone(name: str) -> None:
    assert csv_text(name) == name


def test_csv_row_leaves_numbers_and_numeric_columns_alone() -> None:
    assert csv_row(["-x", -5, Decimal("-1.5"), "-1200.50"], numeric=[3]) == ["'-x", -5, Decimal("-1.5"), "-1200.50"]


def test_write_cell_writes_text_as_text_and_numbers_as_numbers(tmp_path: Path) -> None:
    out = tmp_path / "cells.xlsx"
    workbook = new_workbook(out)
    sheet = workbook.add_worksheet("s")
    for row, name in enumerate(FORMULA_NAMES):
        write_cell(sheet, row, 0, name)
    # Even xlsxwriter's own write() cannot turn a string into a formula in this workbook.
    sheet.write(0, 3, "=1+2")
    write_cells_in_row(sheet, 10, 0, [7, Decimal("2.50"), np.int64(3), 1.25, None, True, "http://x.example"])
    workbook.close()
    assert formulas_in(out) == []
    sheet = openpyxl.load_workbook(out)["s"]
    # (xlsx stores a carriage return as _x000D_; Excel reads it back, openpyxl does not)
    written = [sheet.cell(row + 1, 1).value.replace("_x000D_", "\r") for row in range(len(FORMULA_NAMES))]
    assert written == list(FORMULA_NAMES)
    assert sheet["D1"].value == "=1+2" and sheet["D1"].data_type == "s"
    values = [c.value for c in sheet[11]]
    assert values[:4] == [7, 2.5, 3, 1.25] and values[5] is True and values[6] == "http://x.example"
    assert "http://x.example" in shared_strings(out)


def test_split_out_csv_and_xlsx_write_member_names_as_text(tmp_path: Path) -> None:
    members = list(FORMULA_NAMES[:4]) + ["华东"]
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"total": "500", "unit": "1", "axes": [{"name": "=axis", "members": members}]}),
                    encoding="utf-8")
    runner = CliRunner()
    csv_out, xlsx_out = tmp_path / "out.csv", tmp_path / "out.xlsx"
    assert runner.invoke(app, ["split", str(spec), "--out", str(csv_out)]).exit_code == 0
    rows = list(csv.reader(io.StringIO(csv_out.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["'=axis", "target"]
    assert [r[0] for r in rows[1:]] == ["'" + m for m in members[:4]] + ["华东"]
    assert [r[1] for r in rows[1:]] == ["100"] * 5
    assert runner.invoke(app, ["split", str(spec), "--out", str(xlsx_out)]).exit_code == 0
    assert formulas_in(xlsx_out) == []
    book = openpyxl.load_workbook(xlsx_out)
    assert [c.value for c in book["cells"]["A"]][1:] == members
    assert [c.value for c in book["cells"]["B"]][1:] == [100] * 5
    assert [c.value for c in book["margins"]["B"]][1:] == members
