"""Pure figures of the pages: grid re-split, spread down, RFM scores, forecast band, ranks, status."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.errors import InvalidInput
from attain.web.pages import calc


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=50), min_size=2, max_size=12),
    st.data(),
)
def test_resplit_grid_keeps_total_locks_and_unit(units: list[int], data: st.DataObject) -> None:
    unit = 100
    keys = [(i // 3, f"2026-{i % 3 + 1:02d}") for i in range(len(units))]
    values = {k: u * unit for k, u in zip(keys, units)}
    total = sum(values.values())
    edited = data.draw(st.sampled_from(keys))
    new_value = data.draw(st.integers(min_value=0, max_value=total // unit)) * unit
    locked = {k for k in keys if k != edited and data.draw(st.booleans())}
    locked_sum = sum(values[k] for k in locked)
    if new_value + locked_sum > total or (new_value + locked_sum < total and len(locked) == len(keys) - 1):
        with pytest.raises(InvalidInput):
            calc.resplit_grid(values, locked, total, unit, (edited, new_value))
        return
    result = calc.resplit_grid(values, locked, total, unit, (edited, new_value))
    assert sum(result.values()) == total
    assert result[edited] == new_value
    assert all(result[k] == values[k] for k in locked)
    assert all(v % unit == 0 and v >= 0 for v in result.values())


def test_resplit_grid_shares_the_rest_in_proportion() -> None:
    values = {(1, "01"): 100, (1, "02"): 200, (2, "01"): 300, (2, "02"): 400}
    result = calc.resplit_grid(values, set(), 1000, 10, ((1, "01"), 400))
    # 600 left for cells that held 200:300:400.
    assert result == {(1, "01"): 400, (1, "02"): 130, (2, "01"): 200, (2, "02"): 270}


def test_resplit_grid_rejects_more_than_the_total() -> None:
    with pytest.raises(InvalidInput):
        calc.resplit_grid({(1, "01"): 100, (1, "02"): 100}, set(), 200, 10, ((1, "01"), 300))


def test_spread_down_keeps_locked_children() -> None:
    assert calc.spread_down(500, {5: 100, 6: 300, 7: 50}, {7}, 10) == {5: 110, 6: 340, 7: 50}
    assert sum(calc.spread_down(90, {1: 0, 2: 0, 3: 0}, set(), 10).values()) == 90


def test_quintile_scores_are_one_to_five_and_ties_share_a_score() -> None:
    values = np.array([5.0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 10])
    scores = calc.quintile_scores(values)
    assert scores.min() == 1 and scores.max() == 5
    assert scores[-1] == scores[-2]
    assert (np.diff(scores[np.argsort(values, kind="stable")]) >= 0).all()
    recency = calc.quintile_scores(np.array([1.0, 400.0]), higher_is_better=False)
    assert recency[0] > recency[1]
    assert calc.quintile_scores(np.array([])).size == 0


def test_rfm_segments_name_the_extremes() -> None:
    segments = calc.rfm_segments(np.array([5, 1, 5, 2]), np.array([5, 1, 1, 4]), np.array([5, 1, 1, 5]))
    assert segments == ["champions", "lost", "new", "at_risk"]


def test_lifecycle_stages() -> None:
    assert calc.lifecycle_stage(None, None) == "prospect"
    assert calc.lifecycle_stage(30, 10) == "new"
    assert calc.lifecycle_stage(400, 10) == "active"
    assert calc.lifecycle_stage(400, 200) == "sleeping"
    assert calc.lifecycle_stage(800, 500) == "lost"
