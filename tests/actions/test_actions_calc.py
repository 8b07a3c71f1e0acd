"""Pure roll-forward and streaks of the daily action list."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from attain.actions.calc import current_streak, roll_forward
from attain.errors import InvalidInput


def test_shortfall_rolls_to_the_next_working_day_and_surplus_is_not_banked() -> None:
    planned = [[3], [3], [0], [3], [2]]
    done = [[1], [6], [0], [0], [5]]
    worked = [True, True, False, True, True]
    result = roll_forward(planned, done, worked)
    assert result.carried[:, 0].tolist() == [0, 2, 0, 0, 3]
    assert result.due[:, 0].tolist() == [3, 5, 0, 3, 5]
    assert result.remaining[:, 0].tolist() == [2, 0, 0, 3, 0]
    assert result.complete.tolist() == [False, True, False, False, True]


def test_carry_passes_over_a_holiday() -> None:
    result = roll_forward([[2], [2], [2]], [[0], [0], [0]], [True, False, True])
    assert result.due[:, 0].tolist() == [2, 0, 4]
    assert result.remaining[:, 0].tolist() == [2, 2, 4]


def test_roll_forward_rejects_mismatched_shapes() -> None:
    with pytest.raises(InvalidInput):
        roll_forward([[1, 2]], [[1]], [True])
    with pytest.raises(InvalidInput):
        roll_forward([[-1]], [[0]], [True])


def test_streak_counts_back_over_working_days() -> None:
    complete = [False, True, False, True, True, False, True]
    worked = [True, True, True, True, True, False, True]
    assert current_streak(complete, worked) == 3  # the weekend day neither breaks nor counts
    assert current_streak([True, False], [True, True]) == 0
    assert current_streak([True, False], [True, True], include_last=False) == 1
    assert current_streak([], []) == 0


@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9), st.booleans()), min_size=1, max_size=7))
def test_nothing_is_lost_done_plus_left_covers_planned(days: list[tuple[int, int, bool]]) -> None:
    planned = np.array([[p if w else 0] for p, _, w in days])
    done = np.array([[d] for _, d, _ in days])
    worked = np.array([w for _, _, w in days])
    result = roll_forward(planned, done, worked)
    assert (result.remaining >= 0).all()
    # what is left at the end is the planned work not covered by work done on the day it was due
    covered = np.minimum(result.due, done) * worked[:, None]
    assert result.remaining[-1, 0] == planned.sum() - covered.sum()
