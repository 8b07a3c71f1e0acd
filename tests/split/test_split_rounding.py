"""Rounding: largest remainder, 2-D controlled rounding, N-D tables with exact 1-D margins."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.errors import InvalidInput
from attain.split.ipf import fit_margins
from attain.split.rounding import (
    RoundingInfeasible,
    controlled_round,
    largest_remainder,
    round_table,
)


def test_largest_remainder_gives_leftover_units_to_largest_fractions():
    parts = largest_remainder(1000, [1, 1, 1], 100)
    assert parts.tolist() == [400, 300, 300]


def test_largest_remainder_rejects_total_off_the_unit():
    with pytest.raises(InvalidInput, match="not a multiple"):
        largest_remainder(1050, [1, 2], 100)


def test_controlled_round_keeps_rows_and_columns_where_cell_rounding_breaks_them():
    exact = np.array([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5]])
    rounded = controlled_round(exact, [1, 1, 1], [1, 1, 1])
    assert np.round(exact).sum() != 3  # naive per-cell rounding loses the total
    assert rounded.sum(axis=1).tolist() == [1, 1, 1]
    assert rounded.sum(axis=0).tolist() == [1, 1, 1]
    assert np.all(np.abs(rounded - exact) < 1)


def test_controlled_round_never_fills_a_forbidden_cell():
    exact = np.array([[1.5, 0.5], [0.5, 1.5]])
    allowed = np.array([[True, True], [False, True]])
    with pytest.raises(RoundingInfeasible):
        controlled_round(exact, [2, 2], [3, 1], allowed)


def _fitted_table(draw, shape: tuple[int, ...]) -> tuple[np.ndarray, list[np.ndarray]]:
    """A positive random table raked to random integer margins with one grand total."""
    total = draw(st.integers(0, 5000))
    seed = np.array(draw(st.lists(st.floats(0.05, 10), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))).reshape(shape)
    margins = []
    for size in shape:
        weights = draw(st.lists(st.floats(0.01, 10), min_size=size, max_size=size))
        margins.append(largest_remainder(total, weights, 1))
    fit = fit_margins(seed, margins, tolerance=1e-9, max_iterations=5000)
    return fit.cells, margins


@st.composite
def fitted_2d(draw):
    shape = (draw(st.integers(1, 8)), draw(st.integers(1, 8)))
    return _fitted_table(draw, shape)


@st.composite
def fitted_nd(draw):
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)))
    return _fitted_table(draw, shape)


@settings(max_examples=150, deadline=None)
@given(fitted_2d())
def test_controlled_round_is_exact_and_within_one_unit(case):
    exact, (rows, cols) = case
    rounded = controlled_round(exact, rows, cols)
    assert rounded.dtype == np.int64
    assert (rounded.sum(axis=1) == rows).all()
    assert (rounded.sum(axis=0) == cols).all()
    assert (rounded >= 0).all()
    assert np.all(np.abs(rounded - exact) < 1 + 1e-6)


@settings(max_examples=150, deadline=None)
@given(fitted_nd())
def test_round_table_keeps_every_one_dimensional_margin(case):
    exact, margins = case
    rounded = round_table(exact, margins)
    for axis, margin in enumerate(margins):
        others = tuple(a for a in range(exact.ndim) if a != axis)
        assert (rounded.sum(axis=others) == margin).all() if others else (rounded == margin).all()
    assert (rounded >= 0).all()


def test_largest_remainder_with_unequal_remainders_follows_the_remainders_not_the_weights():
    # 10 units by 2:3:6 -> exact 1.818, 2.727, 5.455; floors 1, 2, 5 leave 2 units, which go to the two
    # largest remainders (.818 and .727), not to the largest weight: 2, 3, 5 units of 100.
    assert largest_remainder(1000, [2, 3, 6], 100).tolist() == [200, 300, 500]
    # 10 units by 1:2:4 -> 1.429, 2.857, 5.714: the remainders .857 and .714 win, .429 does not.
    assert largest_remainder(1000, [1, 2, 4], 100).tolist() == [100, 300, 600]


@st.composite
def rational_2d(draw):
    """A table M / d whose row and column sums are whole numbers (so a floor/ceil rounding exists)."""
    rows, cols = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    d = draw(st.integers(2, 9))
    m = np.array(draw(st.lists(st.integers(0, 5 * d), min_size=rows * cols, max_size=rows * cols)), dtype=np.int64)
    m = m.reshape(rows, cols)
    m[:, -1] += (-m.sum(axis=1)) % d  # every row sum a multiple of d
    m[-1, :] += (-m.sum(axis=0)) % d  # every column sum too (the last row stays one: the total is)
    assert not (m.sum(axis=1) % d).any() and not (m.sum(axis=0) % d).any()
    return m, d


@settings(max_examples=300, deadline=None)
@given(rational_2d())
def test_controlled_round_puts_every_cell_at_its_floor_or_ceiling(case):
    """Not just 'within one unit' (that lets 2.0 become 3): each cell is floor(x) or ceil(x), and a
    whole-number cell keeps its value."""
    m, d = case
    exact = m / d
    rounded = controlled_round(exact, m.sum(axis=1) // d, m.sum(axis=0) // d)
    floor, ceil = m // d, -(-m // d)
    assert ((rounded == floor) | (rounded == ceil)).all(), (exact, rounded)
    assert (rounded.sum(axis=1) == m.sum(axis=1) // d).all() and (rounded.sum(axis=0) == m.sum(axis=0) // d).all()
    table = round_table(exact, [m.sum(axis=1) // d, m.sum(axis=0) // d])
    assert ((table == floor) | (table == ceil)).all(), (exact, table)
