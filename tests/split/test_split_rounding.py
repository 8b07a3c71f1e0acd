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
