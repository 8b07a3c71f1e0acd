"""Reading files into text rows: encoding detection, delimiters, header search, line numbers. No database."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.errors import InvalidInput
from attain.imports.fields import header_score
from attain.imports.reading import decode, read_table

ORDERS_HEADER_SCORE = header_score("orders")
TEXT = "订单号,金额\nSO1,￥1,234.50\n"


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (TEXT.encode("utf-8-sig"), "utf-8-sig"),
        (TEXT.encode("gbk"), "gb18030"),
        (TEXT.encode("utf-16"), "utf-16"),
        (TEXT.encode("utf-16-le"), "utf-16-le"),
        (TEXT.encode("utf-16-be"), "utf-16-be"),
    ],
)
def test_decode_detects_encoding(raw: bytes, encoding: str) -> None:
    assert decode(raw, "f.csv") == (TEXT, encoding)


@pytest.mark.parametrize("raw", [b"\x80abc", b"abc\xff", "Café,€".encode("cp1252")])
def test_decode_rejects_bytes_neither_utf8_nor_gb18030(raw: bytes) -> None:
    with pytest.raises(InvalidInput, match=r"^f\.csv: unknown text encoding \(expected UTF-8, UTF-16 or GBK/GB18030\)"):
        decode(raw, "f.csv")


@pytest.mark.parametrize(("delimiter", "name"), [(",", "comma"), ("\t", "tab"), (";", "semicolon"), ("|", "pipe")])
def test_read_table_detects_delimiter(tmp_path: Path, delimiter: str, name: str) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_text(delimiter.join(["订单号", "下单日期", "金额"]) + "\n" + delimiter.join(["SO1", "2026-01-05", "100"]) + "\n", encoding="utf-8")

    table = read_table(path, header_score=ORDERS_HEADER_SCORE)

    assert (table.header, table.rows, table.lines) == (["订单号", "下单日期", "金额"], [["SO1", "2026-01-05", "100"]], [2])


def test_read_table_finds_header_below_title_rows_and_skips_blank_rows(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("2026年1月销售明细,,\n,,\n订单号,下单日期,金额\nSO1,2026-01-05,100\n,,\n\nSO2,2026-01-06,200\n", encoding="utf-8")

    table = read_table(path, header_score=ORDERS_HEADER_SCORE)

    assert table.header == ["订单号", "下单日期", "金额"]
    assert table.rows == [["SO1", "2026-01-05", "100"], ["SO2", "2026-01-06", "200"]]
    assert table.lines == [4, 7]


def test_read_table_without_header_names_columns_by_position(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("SO1,2026-01-05,100\nSO2,2026-01-06\n", encoding="utf-8")

    table = read_table(path, header_score=ORDERS_HEADER_SCORE, has_header=False)

    assert table.header == ["column1", "column2", "column3"]
    assert table.lines == [1, 2]


def test_read_table_strips_spaces_and_stray_bom_from_header(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("\ufeff订单号 , 下单日期,金额\nSO1,2026-01-05,100\n", encoding="utf-8")

    assert read_table(path, header_score=ORDERS_HEADER_SCORE).header == ["订单号", "下单日期", "金额"]


# Cells as ERP exports write them: CJK, ASCII, digits, commas, quotes, spaces and line breaks.
cells = st.text(alphabet="订单号客户金额上海甲乙丙abcXYZ0123456789 ,.\"'\n¥-", max_size=12)
first_cells = st.text(alphabet="订单客户abcXYZ0123456789", min_size=1, max_size=8)
tables = st.integers(min_value=1, max_value=4).flatmap(
    lambda width: st.lists(st.tuples(first_cells, st.lists(cells, min_size=width - 1, max_size=width - 1)), min_size=1, max_size=8)
)


@settings(max_examples=60, deadline=None)
@given(table=tables, encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "gb18030"]))
def test_read_table_round_trips_cells_and_physical_line_numbers(table: list[tuple[str, list[str]]], encoding: str) -> None:
    rows = [[first, *rest] for first, rest in table]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerows(rows)
    # A row starts on the line after the previous row's terminator and its quoted line breaks.
    expected_lines, line = [], 1
    for row in rows:
        expected_lines.append(line)
        line += 1 + sum(cell.count("\n") for cell in row)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.csv"
        path.write_bytes(buffer.getvalue().encode(encoding))
        read = read_table(path, header_score=ORDERS_HEADER_SCORE, has_header=False)

    assert read.rows == rows
    assert read.lines == expected_lines
