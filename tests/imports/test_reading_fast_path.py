"""The quote-free CSV fast path reads exactly what the csv module reads, and steps aside otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.errors import InvalidInput
from attain.imports.fields import header_score
from attain.imports.reading import _plain_columns, read_table

SCORE = header_score("orders")
CELL = st.text(alphabet=st.sampled_from(list("AZ09 .-_/年月日销售额¥万订单号")), max_size=8)


def read_both(tmp_path: Path, text: str) -> tuple[object, object]:
    plain = tmp_path / "plain.csv"
    plain.write_text(text, encoding="utf-8", newline="")
    crlf = tmp_path / "crlf.csv"  # a carriage return sends the file through the csv module
    crlf.write_text(text.replace("\n", "\r\n"), encoding="utf-8", newline="")
    return outcome(plain), outcome(crlf)


def outcome(path: Path) -> object:
    """What reading gives: header, rows and lines, or the error message (without the file name)."""
    try:
        table = read_table(path, header_score=SCORE)
    except InvalidInput as exc:
        return str(exc).replace(path.name, "FILE")
    return table.header, list(table.rows), table.lines


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=2, max_size=12))
def test_fast_path_matches_csv_module(tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]]) -> None:
    rows = [["订单号", "下单日期", "金额"], *rows]
    if len(rows) < 2:
        return
    text = "\n".join(",".join(r) for r in rows) + "\n"
    fast, slow = read_both(tmp_path_factory.mktemp("t"), text)
    assert fast == slow


@pytest.mark.parametrize(
    "text",
    [
        '订单号,金额\n"A,1",5\n',  # quotes
        "订单号,金额\r\nA1,5\r\n",  # carriage returns
        "订单号,金额\nA1,5,9\n",  # ragged rows
        "订单号,金额\nA1,5\n\nA2,6\n",  # blank line
        "订单号,金额\n,\nA2,6\n",  # a row of delimiters only
        "订单号,金额\n ,\t\nA2,6\n",  # a row of spaces
        "订单号,金额\n\u3000,\nA2,6\n",  # a row of an ideographic space
    ],
)
def test_fast_path_steps_aside(text: str) -> None:
    assert _plain_columns(text, ",") is None


def test_fast_path_gives_columns() -> None:
    assert _plain_columns("a,b\n1,2\n3,4\n", ",") == [["a", "1", "3"], ["b", "2", "4"]]
