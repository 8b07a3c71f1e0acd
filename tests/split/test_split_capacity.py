"""Capacity: productivity x ramp x days employed, and a split weighted by it."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from numpy.testing import assert_allclose

from attain.errors import InvalidInput
from attain.periods import Grain, periods_between
from attain.split.calc import Axis, Shares, split
from attain.split.capacity import Rep, capacity_matrix

MONTHS = periods_between(date(2026, 1, 1), date(2026, 12, 31), Grain.MONTH)
REPS = [Rep("veteran", 100), Rep("july_hire", 100, start=date(2026, 7, 1)), Rep("leaver", 100, end=date(2026, 3, 15))]


def test_capacity_ramps_a_july_hire_and_stops_a_leaver():
    capacity = capacity_matrix(REPS, MONTHS)
    assert_allclose(capacity[0], 100)
    assert_allclose(capacity[1], [0] * 6 + [25, 50, 75, 100, 100, 100])
    assert_allclose(capacity[2][:3], [100, 100, 100 * 15 / 31])
    assert_allclose(capacity[2][3:], 0)


def test_capacity_prorates_a_mid_month_start_and_accepts_a_custom_ramp():
    capacity = capacity_matrix([Rep("a", 10, start=date(2026, 7, 16))], MONTHS, ramp=[0.5])
    assert_allclose(capacity[0][6:8], [10 * 0.5 * 16 / 31, 10])


def test_capacity_rejects_leaving_before_starting():
    with pytest.raises(InvalidInput, match="leaver leaves on 2026-01-01, before starting"):
        capacity_matrix([Rep("leaver", 1, start=date(2026, 2, 1), end=date(2026, 1, 1))], MONTHS)


def test_split_by_capacity_gives_hire_smaller_target_and_nothing_outside_employment():
    capacity = capacity_matrix(REPS, MONTHS)
    axes = [
        Axis("rep", tuple(r.name for r in REPS), Shares.HISTORY),
        Axis("month", tuple(p.label for p in MONTHS), Shares.HISTORY),
    ]
    result = split(1_200_000, 100, axes, prior=capacity)
    veteran, hire, leaver = result.margins[0]
    assert hire < veteran and leaver < hire
    assert (result.cells[1, :6] == 0).all()
    assert (result.cells[2, 3:] == 0).all()
    assert result.cells.sum() == 1_200_000
    assert_allclose(result.margins[0] / 1_200_000, capacity.sum(axis=1) / capacity.sum(), atol=1e-3)
    assert np.all(np.abs(result.cells - result.fitted) < 100)
