"""The pure core of plans: layouts, roll-ups, the top-down tree split, locks, reach and catch-up."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.errors import InvalidInput
from attain.periods import Grain, Period, month, quarter
from attain.plans import calc
from attain.plans.calc import Layout, SliceLock, Tree

YEAR = Period(date(2027, 1, 1), date(2027, 12, 31), Grain.YEAR, "2027")
MONTHS = tuple(month(2027, m) for m in range(1, 13))
QUARTERS = tuple(quarter(2027, q) for q in range(1, 5))


def layout(products: int = 0, types: bool = False) -> Layout:
    product_keys = (None, *range(1, products + 1)) if products else (None,)
    type_keys = ("all", "new", "existing") if types else ("all",)
    return Layout((YEAR, *QUARTERS, *MONTHS), MONTHS, product_keys, type_keys)


def test_roll_up_adds_leaf_slices_to_every_period_product_and_type() -> None:
    shape = layout(products=2, types=True)
    rows = np.arange(shape.slices, dtype=np.int64).reshape(1, -1) * 100
    cube = calc.roll_up(shape, rows)
    leaf = rows.reshape(1, 12, 2, 2)
    assert cube[0, 0, 0, 0] == rows.sum()  # year, all products, all customers
    assert cube[0, 1, 1, 2] == leaf[0, 0:3, 0, 1].sum()  # Q1, first line, existing
    assert cube[0, 5, 0, 0] == leaf[0, 0].sum()  # January, all, all


def test_covered_slices_of_a_quarter_cell() -> None:
    shape = layout(products=2)
    assert list(shape.covered(1, 2, 0)) == [1, 3, 5]  # Q1 × second line: months 1-3


def test_split_root_seed_example_is_exact() -> None:
    shape = layout(products=2, types=True)
    row = calc.split_root(12_000_000, 1, shape, np.ones(12), np.array([60.0, 40.0]), np.array([40.0, 60.0]))
    cube = row.reshape(12, 2, 2)
    np.testing.assert_array_equal(cube[:, 0, 0], np.full(12, 240_000))
    np.testing.assert_array_equal(cube[:, 0, 1], np.full(12, 360_000))
    np.testing.assert_array_equal(cube[:, 1, 0], np.full(12, 160_000))
    np.testing.assert_array_equal(cube[:, 1, 1], np.full(12, 240_000))


def test_split_tree_keeps_each_parent_row_and_follows_weights() -> None:
    tree = Tree(("company", "north", "south", "a", "b", "c"), (None, 0, 0, 1, 1, 2))
    root = np.full(4, 300, dtype=np.int64)
    rows = calc.split_tree(tree, root, 1, np.array([6, 2, 1, 1, 1, 1], dtype=float), None, {})
    np.testing.assert_array_equal(rows[1] + rows[2], root)
    np.testing.assert_array_equal(rows[3] + rows[4], rows[1])
    np.testing.assert_array_equal(rows[5], rows[2])
    assert rows[1].sum() == 800 and rows[2].sum() == 400


def test_split_tree_keeps_a_locked_cell_and_a_locked_total() -> None:
    tree = Tree(("team", "a", "b", "c"), (None, 0, 0, 0))
    root = np.array([300, 300, 300], dtype=np.int64)
    locks = {1: [SliceLock((0,), 250, "a m1")], 2: [SliceLock((0, 1, 2), 100, "b year")]}
    rows = calc.split_tree(tree, root, 1, np.ones(4), None, locks)
    assert rows[1, 0] == 250 and rows[2].sum() == 100
    np.testing.assert_array_equal(rows[1:].sum(axis=0), root)


def test_a_lock_larger_than_its_parent_is_refused_with_names() -> None:
    tree = Tree(("team", "a", "b"), (None, 0, 0))
    with pytest.raises(InvalidInput, match="a"):
        calc.split_tree(tree, np.array([100, 100], dtype=np.int64), 1, np.ones(3), None,
                        {1: [SliceLock((0,), 150, "a m1")]}, ("m1", "m2"))


def test_pin_locks_spreads_an_aggregate_lock_by_the_pattern() -> None:
    total, fixed = calc.pin_locks([SliceLock((0, 1), 90, "q")], np.array([1.0, 2.0, 3.0]), 10, "x")
    assert total is None and fixed == {0: 30, 1: 60}


def test_pin_locks_rejects_inner_locks_above_the_outer_one() -> None:
    with pytest.raises(InvalidInput, match="does not match"):
        calc.pin_locks([SliceLock((0,), 50, "m1"), SliceLock((0, 1), 40, "q")], np.ones(3), 10, "x")


def test_reach_probability_is_seeded_and_ordered() -> None:
    history = np.array([[100.0] * 12, [50.0, 150.0] * 6])
    p = calc.reach_probability(history, np.array([1200, 1300]), 12, draws=2000, seed=1)
    again = calc.reach_probability(history, np.array([1200, 1300]), 12, draws=2000, seed=1)
    np.testing.assert_array_equal(p, again)
    assert p[0] == 1.0 and 0 < p[1] < 0.5
    assert calc.reach_probability(history, np.array([1201, 0]), 12, draws=100)[0] == 0.0


def test_learn_productivity_gives_new_reps_the_median() -> None:
    actuals = np.array([[120.0] * 12, [60.0] * 12, [0.0] * 12])
    ramped = np.array([[1.0] * 12, [0.5] * 12, [0.0] * 12])
    np.testing.assert_allclose(calc.learn_productivity(actuals, ramped), [120.0, 120.0, 120.0])


def test_extra_reps_rounds_up() -> None:
    assert calc.extra_reps(1001, 500.0) == 3
    assert calc.extra_reps(-5, 500.0) == 0
    with pytest.raises(InvalidInput):
        calc.extra_reps(10, 0.0)


def test_catch_up_spreads_what_is_still_needed() -> None:
    remaining = np.array([[100, 100, 200], [0, 0, 0]], dtype=np.int64)
    new = calc.catch_up(remaining, np.array([1000, 300]), np.array([400, 400]), 10)
    np.testing.assert_array_equal(new[0], [150, 150, 300])
    np.testing.assert_array_equal(new[1], [0, 0, 0])  # already above target: nothing more


@st.composite
def trees(draw: st.DrawFn) -> tuple[Tree, np.ndarray, np.ndarray, int]:
    n = draw(st.integers(2, 9))
    parents: list[int | None] = [None] + [draw(st.integers(0, i - 1)) for i in range(1, n)]
    weights = np.array(draw(st.lists(st.integers(0, 50), min_size=n, max_size=n)), dtype=float) + 0.5
    slices = draw(st.integers(1, 6))
    unit = draw(st.sampled_from([1, 100, 10_000]))
    root = np.array(draw(st.lists(st.integers(0, 500), min_size=slices, max_size=slices)), dtype=np.int64) * unit
    return Tree(tuple(f"n{i}" for i in range(n)), tuple(parents)), weights, root, unit


@settings(max_examples=60, deadline=None)
@given(trees())
def test_any_split_keeps_every_level_summing_to_its_parent(case: tuple[Tree, np.ndarray, np.ndarray, int]) -> None:
    tree, weights, root, unit = case
    rows = calc.split_tree(tree, root, unit, weights, None, {})
    np.testing.assert_array_equal(rows[0], root)
    assert (rows >= 0).all() and (rows % unit == 0).all()
    for i in range(len(tree.names)):
        children = tree.children(i)
        if children:
            np.testing.assert_array_equal(rows[children].sum(axis=0), rows[i])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.lists(st.integers(1, 9), min_size=2, max_size=2), st.lists(st.integers(1, 9), min_size=2, max_size=2))
def test_root_split_rolls_up_exactly(total_units: int, products: list[int], types: list[int]) -> None:
    shape = layout(products=2, types=True)
    row = calc.split_root(total_units * 100, 100, shape, np.ones(12), np.array(products, float), np.array(types, float))
    cube = calc.roll_up(shape, row.reshape(1, -1))[0]
    assert cube[0, 0, 0] == total_units * 100
    np.testing.assert_array_equal(cube[1:5, 0, 0].sum(), cube[0, 0, 0])  # quarters add up to the year
    np.testing.assert_array_equal(cube[:, 1:, 0].sum(axis=1), cube[:, 0, 0])  # lines add up to all products
    np.testing.assert_array_equal(cube[:, :, 1:].sum(axis=2), cube[:, :, 0])  # types add up to all customers
