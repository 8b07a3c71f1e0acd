"""Pure crediting arithmetic: percentages, sales-team cells, exact integer shares."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from attain.credit.calc import (
    allocate,
    check_direct,
    cumulative,
    parse_share,
    parse_team,
    percent_to_bp,
)
from attain.errors import InvalidInput


def test_percent_to_bp_reads_percent_signs_and_two_decimals() -> None:
    assert percent_to_bp("50", what="x") == 5000
    assert percent_to_bp("33.33%", what="x") == 3333
    assert percent_to_bp("100％", what="x") == 10000


@pytest.mark.parametrize("text", ["0", "-5", "100.01", "12.345", "abc", ""])
def test_percent_to_bp_rejects_bad_values_naming_them(text: str) -> None:
    with pytest.raises(InvalidInput, match="order A7"):
        percent_to_bp(text, what="order A7")


def test_parse_share_and_team_cells() -> None:
    assert parse_share("张三：60", what="x") == ("张三", 6000)
    assert parse_share("B", what="x") == ("B", None)
    assert parse_team("A:60;B:40", what="x") == [("A", 6000), ("B", 4000)]
    assert parse_team("A/B/C", what="x") == [("A", 3334), ("B", 3333), ("C", 3333)]


def test_parse_team_rejects_partial_percentages() -> None:
    with pytest.raises(InvalidInput, match="some reps only"):
        parse_team("A:60/B", what="order 9")


def test_check_direct_names_the_order_and_the_total() -> None:
    check_direct([("A", 5000), ("B", 5000)], scope="order O1")
    with pytest.raises(InvalidInput, match=r"order O1: direct shares sum to 90 %"):
        check_direct([("A", 5000), ("B", 4000)], scope="order O1")
    with pytest.raises(InvalidInput, match="named twice"):
        check_direct([("A", 5000), ("A", 5000)], scope="order O1")


def test_odd_fen_split_fifty_fifty_sums_exactly() -> None:
    parts = allocate(np.array([10001, -10001, 1]), cumulative([5000, 5000]))
    assert parts.tolist() == [[5000, 5001], [-5000, -5001], [0, 1]]


@given(
    amounts=st.lists(st.integers(min_value=-10**12, max_value=10**12), min_size=1, max_size=30),
    cuts=st.lists(st.integers(min_value=1, max_value=9999), max_size=6, unique=True),
)
def test_shares_always_sum_to_each_line(amounts: list[int], cuts: list[int]) -> None:
    points = sorted(cuts) + [10000]
    shares = [b - a for a, b in zip([0, *points[:-1]], points)]
    parts = allocate(np.array(amounts, dtype=np.int64), cumulative(shares))
    assert parts.sum(axis=1).tolist() == amounts
    # each share is within one fen of its exact value
    exact = np.array(amounts, dtype=np.float64)[:, None] * np.array(shares)[None, :] / 10000
    assert np.all(np.abs(parts - exact) < 1.0 + 1e-6 * np.maximum(1, np.abs(exact)))
