"""The N-D split: margins, joint cells, exact rounding, locks, history priors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from attain.errors import InvalidInput
from attain.split.calc import Axis, Lock, Shares, split

CELL = {"customer_type": "new", "product": "mature", "quarter": "Q1"}


def spec_axes() -> list[Axis]:
    return [
        Axis("customer_type", ("new", "existing"), Shares.WEIGHTS, (40, 60)),
        Axis("product", ("new_high_margin", "mature"), Shares.WEIGHTS, (0.6, 0.4)),
        Axis("quarter", ("Q1", "Q2", "Q3", "Q4")),
    ]


def margin(cells: np.ndarray, axis: int) -> np.ndarray:
    others = tuple(a for a in range(cells.ndim) if a != axis)
    return cells.sum(axis=others) if others else cells


def test_split_without_prior_follows_the_product_of_the_margins():
    result = split(12_000_000, 100, spec_axes())
    assert result.margins[0].tolist() == [4_800_000, 7_200_000]
    assert result.margins[1].tolist() == [7_200_000, 4_800_000]
    assert result.margins[2].tolist() == [3_000_000] * 4
    assert result.cells[0, 1, 0] == 480_000  # 12M * 40% * 40% / 4
    assert result.iterations == 0
    assert (result.cells % 100 == 0).all()


def test_split_of_the_issue_spec_keeps_locks_and_every_sum():
    locks = [Lock.of(CELL, 500_000), Lock.of({"quarter": "Q4"}, 4_000_000)]
    result = split(12_000_000, 100, spec_axes(), locks=locks)
    assert result.cells[0, 1, 0] == 500_000
    assert result.margins[2][3] == 4_000_000
    assert result.cells.sum() == 12_000_000
    assert result.margins[0].tolist() == [4_800_000, 7_200_000]
    assert result.margins[2][:3].sum() == 8_000_000
    assert result.max_margin_error < 1


def test_split_with_prior_follows_history_within_each_margin():
    prior = np.ones((2, 2, 4))
    prior[:, :, 0] = 3.0  # Q1 historically three times as strong in every cell
    axes = spec_axes()[:2] + [Axis("quarter", ("Q1", "Q2", "Q3", "Q4"), Shares.HISTORY)]
    result = split(12_000_000, 100, axes, prior=prior)
    assert result.margins[2].tolist() == [6_000_000, 2_000_000, 2_000_000, 2_000_000]
    assert result.margins[0].tolist() == [4_800_000, 7_200_000]


def test_split_reports_fit_iterations_and_error():
    prior = np.arange(1.0, 17.0).reshape(2, 2, 4)
    result = split(12_000_000, 100, spec_axes(), prior=prior)
    assert result.iterations >= 2
    assert result.max_margin_error < 1e-3


def test_split_rejects_member_with_zero_history():
    prior = np.ones((2, 2, 4))
    prior[:, 1, :] = 0.0
    with pytest.raises(InvalidInput, match="product=mature has no history"):
        split(12_000_000, 100, spec_axes(), prior=prior)


def test_split_spreads_member_with_zero_history_when_asked():
    prior = np.ones((2, 2, 4))
    prior[:, 1, :] = 0.0
    result = split(12_000_000, 100, spec_axes(), prior=prior, spread_zero_prior=True)
    assert result.margins[1].tolist() == [7_200_000, 4_800_000]
    assert (result.cells[:, 1, :] > 0).all()


def test_split_rejects_total_off_the_unit():
    with pytest.raises(InvalidInput, match="not a multiple of the rounding unit 100"):
        split(12_000_050, 100, spec_axes())


@pytest.mark.parametrize(
    ("lock", "message"),
    [
        (Lock.of({"region": "north"}, 100), "unknown axis 'region'"),
        (Lock.of({"quarter": "Q5"}, 100), "axis 'quarter' has no member 'Q5'"),
        (Lock.of({"quarter": "Q4"}, 150), r"lock quarter=Q4 \(150\) is not a multiple"),
        (Lock.of({"quarter": "Q4"}, -100), "negative"),
        (Lock.of({"quarter": "Q4"}, 13_000_000), "add up to more than the total"),
        (Lock.of(CELL, 5_000_000), r"lock customer_type=new, product=mature, quarter=Q1 \(5000000\) exceeds the target of customer_type=new"),
        (Lock.of({"customer_type": "new", "quarter": "Q1"}, 100), "one member of one axis, or a member of every axis"),
    ],
)
def test_split_rejects_infeasible_lock_naming_it(lock, message):
    with pytest.raises(InvalidInput, match=message):
        split(12_000_000, 100, spec_axes(), locks=[lock])


def test_split_rejects_locking_every_member_short_of_the_total():
    locks = [Lock.of({"customer_type": "new"}, 100), Lock.of({"customer_type": "existing"}, 100)]
    with pytest.raises(InvalidInput, match="every member of axis 'customer_type' is locked"):
        split(12_000_000, 100, spec_axes(), locks=locks)


def test_split_rejects_cell_locks_that_starve_a_member():
    axes = [Axis("rep", ("a", "b")), Axis("month", ("m1", "m2"))]
    locks = [Lock.of({"rep": "a", "month": "m1"}, 100), Lock.of({"rep": "a", "month": "m2"}, 100)]
    with pytest.raises(InvalidInput, match="rep=a still needs 200, but every cell it could go to is locked"):
        split(800, 100, axes, locks=locks)


def test_split_rejects_history_that_cannot_reach_the_targets():
    axes = [Axis("rep", ("a", "b"), Shares.WEIGHTS, (3, 1)), Axis("month", ("m1", "m2"))]
    prior = np.array([[1.0, 0.0], [0.0, 1.0]])  # a only ever sold in m1, but m1 is only half the year
    with pytest.raises(InvalidInput, match="no way to meet every target"):
        split(400, 100, axes, prior=prior)


@pytest.mark.parametrize(
    ("axes", "message"),
    [
        ([], "at least one axis"),
        ([Axis("rep", ())], "axis 'rep' has no members"),
        ([Axis("rep", ("a", "a"))], "lists member 'a' twice"),
        ([Axis("rep", ("a",)), Axis("rep", ("b",))], "axis 'rep' is listed twice"),
        ([Axis("rep", ("a", "b"), Shares.WEIGHTS, (1, -1))], "weight of 'b' is -1"),
        ([Axis("rep", ("a", "b"), Shares.WEIGHTS, (0, 0))], "all have zero weight"),
        ([Axis("rep", ("a", "b"), Shares.HISTORY)], "no prior was given"),
    ],
)
def test_split_rejects_bad_axes(axes, message):
    with pytest.raises(InvalidInput, match=message):
        split(1000, 1, axes)


def test_split_result_does_not_depend_on_member_order():
    axes = spec_axes()
    reordered = [
        Axis("customer_type", ("existing", "new"), Shares.WEIGHTS, (60, 40)),
        Axis("product", ("mature", "new_high_margin"), Shares.WEIGHTS, (0.4, 0.6)),
        Axis("quarter", ("Q3", "Q1", "Q4", "Q2")),
    ]
    first = split(1_000_000, 100, axes)
    second = split(1_000_000, 100, reordered)
    back = second.cells[np.ix_([1, 0], [1, 0], [1, 3, 0, 2])]
    assert (first.cells == back).all()


# --- invariants on random shapes -------------------------------------------------------------


@st.composite
def split_cases(draw, with_locks: bool):
    n_axes = draw(st.integers(1, 4))
    sizes = [draw(st.integers(1, 4)) for _ in range(n_axes)]
    axes = []
    for k, size in enumerate(sizes):
        members = tuple(draw(st.permutations([f"m{i}" for i in range(size)])))
        if draw(st.booleans()):
            weights = tuple(draw(st.lists(st.floats(0.01, 100), min_size=size, max_size=size)))
            axes.append(Axis(f"axis{k}", members, Shares.WEIGHTS, weights))
        else:
            axes.append(Axis(f"axis{k}", members))
    unit = draw(st.sampled_from([1, 5, 100]))
    total = unit * draw(st.integers(0, 100_000))
    prior = None
    if draw(st.booleans()):
        size = int(np.prod(sizes))
        prior = np.array(draw(st.lists(st.floats(0.1, 10), min_size=size, max_size=size))).reshape(sizes)
    locks = []
    if with_locks:
        if n_axes > 1 and draw(st.booleans()):
            k = draw(st.integers(0, n_axes - 1))
            share = draw(st.floats(0, 1))
            locks.append(Lock.of({f"axis{k}": draw(st.sampled_from(axes[k].members))}, unit * int(share * total // unit)))
        if draw(st.booleans()):
            cell = {axis.name: draw(st.sampled_from(axis.members)) for axis in axes}
            share = draw(st.floats(0, 1)) / np.prod(sizes)
            locks.append(Lock.of(cell, unit * int(share * total // unit)))
    return total, unit, axes, prior, locks


def assert_exact(result, total: int, unit: int, locks) -> None:
    cells = result.cells
    assert cells.dtype == np.int64
    assert (cells % unit == 0).all()
    assert (cells >= 0).all()
    assert int(cells.sum()) == total
    for k in range(cells.ndim):
        assert (margin(cells, k) == result.margins[k]).all()
        assert int(result.margins[k].sum()) == total
    for lock in locks:
        names = [axis.name for axis in result.axes]
        where = dict(lock.where)
        index = tuple(
            result.axes[k].members.index(where[name]) if name in where else slice(None) for k, name in enumerate(names)
        )
        assert int(cells[index].sum()) == lock.value


@settings(max_examples=150, deadline=None)
@given(split_cases(with_locks=False))
def test_split_invariants_without_locks(case):
    total, unit, axes, prior, _ = case
    result = split(total, unit, axes, prior=prior)
    assert_exact(result, total, unit, [])
    # Guaranteed in 2-D (controlled rounding); in N-D the axis rotation finds one on every case seen.
    assert np.all(np.abs(result.cells - result.fitted) < unit * (1 + 1e-6))
    for k, axis in enumerate(axes):
        if axis.shares is Shares.WEIGHTS:
            exact = np.array(axis.weights) / sum(axis.weights) * total
            assert np.all(np.abs(result.margins[k] - exact) < unit)
    assert_allclose(result.fitted.sum(), total, rtol=1e-9)


@settings(max_examples=150, deadline=None)
@given(split_cases(with_locks=True))
def test_split_invariants_with_locks(case):
    total, unit, axes, prior, locks = case
    try:
        result = split(total, unit, axes, prior=prior, locks=locks)
    except InvalidInput as exc:
        # Only locks (a cell lock bigger than its members' targets) may make a random case infeasible.
        assert "lock" in str(exc)
        event("infeasible locks")
        return
    assert_exact(result, total, unit, locks)
    if len(axes) <= 2 and result.max_margin_error < 1e-3 * unit:
        assert np.all(np.abs(result.cells - result.fitted) < unit * (1 + 1e-6))


@settings(max_examples=100, deadline=None)
@given(split_cases(with_locks=True), st.randoms(use_true_random=False))
def test_split_is_the_same_when_members_are_reordered(case, random):
    total, unit, axes, prior, locks = case
    orders = [random.sample(range(len(axis.members)), len(axis.members)) for axis in axes]
    shuffled = [
        Axis(axis.name, tuple(axis.members[i] for i in order), axis.shares, tuple(axis.weights[i] for i in order) if axis.weights else ())
        for axis, order in zip(axes, orders)
    ]
    shuffled_prior = prior[np.ix_(*orders)] if prior is not None else None
    try:
        original = split(total, unit, axes, prior=prior, locks=locks)
    except InvalidInput:
        with pytest.raises(InvalidInput):
            split(total, unit, shuffled, prior=shuffled_prior, locks=locks)
        return
    permuted = split(total, unit, shuffled, prior=shuffled_prior, locks=locks)
    assert (original.cells[np.ix_(*orders)] == permuted.cells).all()


def test_split_of_zero_total_is_all_zero():
    result = split(0, 100, spec_axes(), prior=np.ones((2, 2, 4)))
    assert (result.cells == 0).all()


def test_split_with_one_axis_is_largest_remainder():
    result = split(1000, 100, [Axis("rep", ("c", "a", "b"))])
    assert result.cells.tolist() == [300, 400, 300]  # the spare unit goes to 'a', first by name
    assert result.margins[0].tolist() == [300, 400, 300]


def test_split_locks_a_whole_member_and_a_cell_inside_it():
    locks = [Lock.of({"quarter": "Q1"}, 1_000_000), Lock.of(CELL, 200_000)]
    result = split(12_000_000, 100, spec_axes(), locks=locks)
    assert result.margins[2][0] == 1_000_000
    assert result.cells[0, 1, 0] == 200_000
    assert result.margins[0].tolist() == [4_800_000, 7_200_000]
