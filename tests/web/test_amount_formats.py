"""Issue 19 numbers: a headline card precise enough to see a 20万 import on a 2.36亿 total, the exact
yuan for a hover title, input boxes in 万 that `parse_yuan` reads back exactly, one unit per table
column (amounts under 1万 in the column's unit too) and chart axes in 万/亿."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attain.plans.wizard import parse_yuan
from attain.web import i18n


def test_the_card_shows_a_20wan_import_on_a_236yi_total() -> None:
    total = 235_735_123_45  # fen: 2.36亿 yuan
    before, after = i18n.format_card_amount(total, "zh_CN"), i18n.format_card_amount(total + 20_000_000, "zh_CN")
    assert before == "23,573.51万" and after == "23,593.51万"
    assert i18n.format_amount(total, "zh_CN") == i18n.format_amount(total + 20_000_000, "zh_CN") == "2.36亿"  # why
    assert i18n.format_card_amount(total, "en") == "235,735,123"
    assert i18n.format_exact_yuan(total) == "¥235,735,123.45"
    assert i18n.format_card_amount(None, "zh_CN") == i18n.format_exact_yuan(None) == "—"


@given(st.integers(min_value=0, max_value=10**14))
def test_input_amounts_read_back_exactly(fen: int) -> None:
    for locale in ("zh_CN", "en"):
        text = i18n.format_input_amount(fen, locale)
        assert parse_yuan(text, "cell") == fen, text


def test_input_amounts_are_in_wan_with_separators() -> None:
    assert i18n.format_input_amount(12_000_000_00, "zh_CN") == "1,200万"
    assert i18n.format_input_amount(83_333_333, "zh_CN") == "83.333333万"
    assert i18n.format_input_amount(12_000_000_00, "en") == "12,000,000"


@pytest.mark.parametrize(("amounts", "unit"), [
    ([500_000, 12_345_678_900], "万"),  # 5,000 yuan beside 1.23亿: the column is in 万
    ([20_000_000_000, 12_345_678_900], "亿"),
    ([500_000, 99_900], "元"),
    ([None, 0], "万"),
])
def test_one_unit_per_column(amounts: list[int | None], unit: str) -> None:
    assert i18n.column_unit(amounts, "zh_CN") == unit
    assert i18n.column_unit(amounts, "en") == ""


def test_amounts_in_their_columns_unit() -> None:
    assert i18n.format_in_unit(500_000, "万") == "0.50"
    assert i18n.format_in_unit(12_345_678_900, "万") == "12,345.68"
    assert i18n.format_in_unit(12_345_678_900, "亿") == "1.23"
    assert i18n.format_in_unit(12_345_678, "元") == "123,457"
    assert i18n.format_in_unit(12_345_678, "") == "123,457"


def test_chart_axes_in_wan_or_yi() -> None:
    assert i18n.chart_unit([23_000_000_000], "zh_CN") == (10_000_000_000, "亿元")
    assert i18n.chart_unit([4_000_000_000], "zh_CN") == (1_000_000, "万元")
    assert i18n.chart_unit([23_000_000_000], "en") == (100_000_000, "million ¥")
    assert i18n.chart_unit([], "en") == (100_000, "thousand ¥")
