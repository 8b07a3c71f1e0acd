"""Pure reverse funnel: exact ceil counts, per-day spread, vectorised many-rep form, bad input."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import ceil

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from attain.errors import InvalidInput
from attain.funnel.calc import (
    RATE_SCALE,
    deals_needed,
    rate_to_ppm,
    reverse_funnel,
    spread_over_days,
    stage_counts,
)


def test_issue_example_250000_by_83334() -> None:
    funnel = reverse_funnel(stages=["deal", "prospect", "lead"], rates=["0.2", "0.1"], target="250000", deal_size="83334", days=5)
    assert funnel.counts == (3, 15, 150)
    assert funnel.per_day == ((1, 3, 30), (1, 3, 30), (1, 3, 30), (0, 3, 30), (0, 3, 30))


def test_rounding_is_exact_where_floats_are_not() -> None:
    assert reverse_funnel(stages=["a", "b"], rates=["0.2"], deals=3).counts == (3, 15)
    assert reverse_funnel(stages=["a", "b"], rates=["0.7"], deals=7).counts == (7, 10)
    assert reverse_funnel(stages=["a", "b"], rates=["0.3"], deals=3).counts == (3, 10)
    assert reverse_funnel(stages=["a", "b"], rates=["0.3"], deals=4).counts == (4, 14)  # 13.33 → 14


def test_target_exactly_divisible_is_not_rounded_up() -> None:
    assert reverse_funnel(stages=["deal"], rates=[], target="250000", deal_size="125000").counts == (2,)
    assert reverse_funnel(stages=["deal"], rates=[], target="250000.01", deal_size="125000").counts == (3,)


def test_deals_given_directly() -> None:
    funnel = reverse_funnel(stages=["deal", "prospect", "lead"], rates=["0.5", "0.25"], deals=4, days=3)
    assert funnel.counts == (4, 8, 32)
    assert funnel.per_day == ((2, 3, 11), (1, 3, 11), (1, 2, 10))


def test_rate_of_one_keeps_the_count() -> None:
    assert reverse_funnel(stages=["a", "b", "c"], rates=["1", "1.0"], deals=5).counts == (5, 5, 5)


@pytest.mark.parametrize("rate", ["0", "-0.1", "1.01", "abc", "NaN", "0.0000001"])
def test_bad_rates_are_rejected(rate: str) -> None:
    with pytest.raises(InvalidInput):
        reverse_funnel(stages=["a", "b"], rates=[rate], deals=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": "0", "deal_size": "10"}, "target must be positive"),
        ({"target": "-5", "deal_size": "10"}, "target must be positive"),
        ({"target": "100", "deal_size": "0"}, "deal size must be positive"),
        ({"target": "100"}, "give a target with a deal size"),
        ({"deals": -1}, "must not be negative"),
        ({"target": "1", "deal_size": "1", "deals": 1}, "not both"),
    ],
)
def test_bad_target_or_deal_size(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        reverse_funnel(stages=["deal", "lead"], rates=["0.5"], **kwargs)  # type: ignore[arg-type]


def test_stage_and_rate_count_mismatch() -> None:
    with pytest.raises(InvalidInput, match="3 stages need 2 conversion rates"):
        reverse_funnel(stages=["deal", "prospect", "lead"], rates=["0.2"], deals=1)
    with pytest.raises(InvalidInput, match="repeat"):
        reverse_funnel(stages=["deal", "deal"], rates=["0.2"], deals=1)
    with pytest.raises(InvalidInput, match="days"):
        reverse_funnel(stages=["deal", "lead"], rates=["0.2"], deals=1, days=0)


def test_vectorised_matches_scalar_for_many_reps() -> None:
    targets_fen = np.array([25_000_000, 0, 100, 999_999_999])
    sizes_fen = np.array([8_333_400, 5_000, 100, 1_000_000])
    deals = deals_needed(targets_fen, sizes_fen)
    assert deals.tolist() == [3, 0, 1, 1000]
    rates = np.array([[200_000, 100_000], [500_000, 500_000], [RATE_SCALE, 333_333], [750_000, 10]])
    counts = stage_counts(deals, rates)
    for rep in range(4):
        scalar = reverse_funnel(stages=["d", "p", "l"], rates=[str(Decimal(int(r)) / RATE_SCALE) for r in rates[rep]],
                                deals=int(deals[rep]))
        assert tuple(counts[rep]) == scalar.counts


def test_vectorised_rejects_bad_shapes_and_values() -> None:
    with pytest.raises(InvalidInput):
        stage_counts([1, 2], [[100_000]])
    with pytest.raises(InvalidInput):
        stage_counts([1], [[0]])
    with pytest.raises(InvalidInput):
        deals_needed([100], [0])
    with pytest.raises(InvalidInput):
        deals_needed([-1], [10])


def test_spread_skips_non_working_days_and_fills_earlier_days_first() -> None:
    per_day = spread_over_days([[3, 7]], [True, False, True, True, False])[0]
    assert per_day.tolist() == [[1, 3], [0, 0], [1, 2], [1, 2], [0, 0]]
    with pytest.raises(InvalidInput, match="no working day"):
        spread_over_days([[1]], [False, False])
    assert spread_over_days([[0]], [False]).tolist() == [[[0]]]


def test_absurd_funnels_are_rejected_not_overflowed() -> None:
    with pytest.raises(InvalidInput, match="more than"):
        reverse_funnel(stages=["a", "b", "c", "d"], rates=["0.000001"] * 3, deals=10)


def test_rate_to_ppm_is_exact() -> None:
    assert rate_to_ppm("0.2") == 200_000
    assert rate_to_ppm(Decimal("0.123456")) == 123_456


rates_st = st.lists(st.integers(min_value=10_000, max_value=RATE_SCALE), min_size=0, max_size=4)  # rates from 1 %


@given(deals=st.integers(min_value=0, max_value=10_000), rates=rates_st, days=st.integers(min_value=1, max_value=10))
def test_counts_are_the_exact_ceiling_and_days_sum_to_them(deals: int, rates: list[int], days: int) -> None:
    stages = [f"s{k}" for k in range(len(rates) + 1)]
    funnel = reverse_funnel(stages=stages, rates=[str(Decimal(r) / RATE_SCALE) for r in rates], deals=deals, days=days)
    expected = [deals]
    for r in rates:
        expected.append(ceil(Fraction(expected[-1]) / Fraction(r, RATE_SCALE)))
    assert list(funnel.counts) == expected
    # each stage needs at least as many as the one after it converts into
    assert all(b >= a for a, b in zip(funnel.counts, funnel.counts[1:]))
    per_day = np.array(funnel.per_day)
    assert per_day.sum(axis=0).tolist() == list(funnel.counts)
    assert (per_day.max(axis=0) - per_day.min(axis=0) <= 1).all()
    # earlier days never get less than later days
    assert (np.diff(per_day, axis=0) <= 0).all()


@given(
    target=st.integers(min_value=1, max_value=10**12), size=st.integers(min_value=1, max_value=10**9),
)
def test_deals_cover_the_target_and_one_fewer_would_not(target: int, size: int) -> None:
    deals = int(deals_needed([target], [size])[0])
    assert deals * size >= target
    assert (deals - 1) * size < target
    scalar = reverse_funnel(stages=["deal"], rates=[], target=str(Decimal(target) / 100), deal_size=str(Decimal(size) / 100))
    assert scalar.counts == (deals,)


@given(
    counts=st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=4),
    worked=st.lists(st.booleans(), min_size=1, max_size=9).filter(any),
)
def test_spread_sums_exactly_over_working_days(counts: list[int], worked: list[bool]) -> None:
    per_day = spread_over_days([counts], worked)[0]
    assert per_day.sum(axis=0).tolist() == counts
    assert per_day[~np.array(worked)].sum() == 0
