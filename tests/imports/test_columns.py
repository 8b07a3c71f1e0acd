"""Column-wise validation: the fast paths must give the row-by-row answer. No database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attain.errors import RowError
from attain.imports.columns import EMPTY_MARKERS, Columns, clean_code, duplicates
from attain.imports.parsing import parse_decimal, to_minor
from attain.imports.reading import Table


def one_column(values: list[str], header: str = "数量") -> Columns:
    """Columns over a one-column table whose rows sit on lines 2, 3, …"""
    table = Table("f.csv", [header], [[v] for v in values], list(range(2, len(values) + 2)), "utf-8")
    return Columns(table, {"value": [0]})


def expected_numbers(values: list[str]) -> tuple[list[Decimal | None], list[int]]:
    """parse_decimal on every value, empty markers as blanks; returns (numbers, lines of bad values)."""
    numbers: list[Decimal | None] = []
    bad_lines: list[int] = []
    for line, value in enumerate(values, start=2):
        text = value.strip()
        if not text or text in EMPTY_MARKERS:
            numbers.append(None)
            continue
        try:
            numbers.append(parse_decimal(text))
        except ValueError:
            numbers.append(None)
            bad_lines.append(line)
    return numbers, bad_lines


number_texts = st.text(alphabet="0123456789.,-+eE_ ¥万%()１２²NaInf", max_size=8)


@given(values=st.lists(number_texts | st.sampled_from(["-", "NaN", "N/A", "1.5", "12", "+3", "1e3", "Infinity"]), max_size=10))
def test_number_column_agrees_with_parse_decimal_row_by_row(values: list[str]) -> None:
    columns = one_column(values)

    numbers = columns.number("value")

    expected, bad_lines = expected_numbers(values)
    assert numbers == expected
    assert [e.line for e in columns.errors] == bad_lines


@given(values=st.lists(st.text(alphabet="0123456789.,-¥万 １", max_size=8), max_size=10))
def test_amount_column_agrees_with_parse_decimal_row_by_row(values: list[str]) -> None:
    columns = one_column(values, header="金额")

    amounts = columns.amount("value", scale=2)

    numbers, bad_lines = expected_numbers(values)
    expected = [None if n is None or line in bad_lines else to_minor(n, 2) for line, n in enumerate(numbers, start=2)]
    assert amounts == expected
    assert [e.line for e in columns.errors] == bad_lines


def test_required_number_reports_blank_rows_by_line() -> None:
    columns = one_column(["1", "", "2", "NULL"], header="单价")

    assert columns.number("value", required=True) == [Decimal(1), None, Decimal(2), None]
    assert columns.errors == [RowError(3, "单价", "value is empty"), RowError(5, "单价", "value is empty")]


def test_number_limit_reports_values_too_large() -> None:
    columns = one_column(["1", "1e15"])

    columns.number("value", limit=Decimal(10) ** 14)

    assert columns.errors == [RowError(3, "数量", "1E+15 is too large (the limit is 100,000,000,000,000)")]


@pytest.mark.parametrize(
    ("raw", "code"),
    [("C001", "C001"), ("12923.0", "12923"), ("Ｃ００１", "C001"), ("A.0", "A.0"), ("1.0.0", "1.0.0"), ("客户１", "客户1")],
)
def test_codes_are_cleaned_like_clean_code(raw: str, code: str) -> None:
    columns = one_column([raw, "C002"], header="客户")

    assert columns.codes("value") == [code, "C002"]
    assert clean_code(raw) == code


@given(values=st.lists(st.text(alphabet="C0129.Ａ１客 ", max_size=6), max_size=8))
def test_codes_column_agrees_with_clean_code(values: list[str]) -> None:
    columns = one_column(values, header="客户")

    codes = columns.codes("value")

    assert codes == [clean_code(v.strip()) if v.strip() and v.strip() not in EMPTY_MARKERS else None for v in values]


def test_duplicates_name_the_first_line_of_each_key() -> None:
    columns = one_column(["A", "B", "A", "A", "B"], header="行号")

    duplicates(["A", "B", "A", "A", "B"], columns, "value", "line id")

    assert columns.errors == [
        RowError(4, "行号", "duplicate line id 'A' (first on line 2)"),
        RowError(5, "行号", "duplicate line id 'A' (first on line 2)"),
        RowError(6, "行号", "duplicate line id 'B' (first on line 3)"),
    ]
