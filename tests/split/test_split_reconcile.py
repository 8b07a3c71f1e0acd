"""Top-down versus bottom-up: gaps and the two reconcile rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.errors import InvalidInput
from attain.split.reconcile import ReconcileRule, reconcile

TOP_DOWN = [3000, 3000, 4000]
BOTTOM_UP = [5000, 1000, 1000]


def test_reconcile_reports_gap_per_node():
    result = reconcile(TOP_DOWN, BOTTOM_UP, 100, ReconcileRule.SCALE)
    assert result.gaps.tolist() == [2000, -2000, -3000]


def test_reconcile_scale_keeps_bottom_up_shares_and_top_down_total():
    result = reconcile(TOP_DOWN, BOTTOM_UP, 100, ReconcileRule.SCALE)
    assert result.plan.tolist() == [7200, 1400, 1400]  # 71.4 / 14.3 / 14.3 hundreds
    assert result.total == 10_000


def test_reconcile_max_keeps_higher_commitments_and_resplits_the_rest():
    result = reconcile(TOP_DOWN, BOTTOM_UP, 100, ReconcileRule.MAX)
    assert result.plan[0] == 5000
    assert result.plan[1:].tolist() == [2100, 2900]  # 5000 left, by top-down 3000:4000
    assert result.total == 10_000
    assert result.warnings == ()


def test_reconcile_max_raises_total_when_commitments_exceed_it():
    result = reconcile([1000, 1000], [3000, 0], 100, ReconcileRule.MAX)
    assert result.plan.tolist() == [3000, 0]
    assert result.total == 3000
    assert "rises" in result.warnings[0]


def test_reconcile_rejects_amount_off_the_unit_naming_the_node():
    with pytest.raises(InvalidInput, match="bottom-up amount 150 of bob"):
        reconcile([100, 100], [100, 150], 100, ReconcileRule.SCALE, names=("ann", "bob"))


def test_reconcile_scale_rejects_empty_bottom_up():
    with pytest.raises(InvalidInput, match="no bottom-up commitments"):
        reconcile([100, 100], [0, 0], 100, ReconcileRule.SCALE)


@settings(max_examples=150, deadline=None)
@given(
    unit=st.sampled_from([1, 100]),
    pairs=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)), min_size=1, max_size=12),
    rule=st.sampled_from(list(ReconcileRule)),
)
def test_reconcile_plans_are_exact_and_keep_the_total(unit, pairs, rule):
    top_down = [a * unit for a, _ in pairs]
    bottom_up = [b * unit for _, b in pairs]
    try:
        result = reconcile(top_down, bottom_up, unit, rule)
    except InvalidInput:
        assert rule is ReconcileRule.SCALE and sum(bottom_up) == 0 < sum(top_down)
        return
    assert (result.plan % unit == 0).all() and (result.plan >= 0).all()
    assert result.gaps.tolist() == [b - a for a, b in zip(top_down, bottom_up)]
    higher = [b for a, b in zip(top_down, bottom_up) if b > a]
    if rule is ReconcileRule.SCALE or sum(higher) <= sum(top_down):
        assert result.total == sum(top_down)
    else:
        assert result.total == sum(higher)
    if rule is ReconcileRule.MAX:
        assert all(p == b for p, a, b in zip(result.plan, top_down, bottom_up) if b > a)
