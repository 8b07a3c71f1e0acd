"""Pure LMDI gap attribution: parts add up to the gap, zero rules, causes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from attain.tracking.decompose import (
    Factors,
    funnel_factors,
    lmdi,
    log_mean,
    main_cause,
    round_parts,
    target_factors,
)


def test_log_mean_of_equal_values_is_the_value() -> None:
    assert_allclose(log_mean([5.0, 1e9], [5.0, 1e9]), [5.0, 1e9])


def test_log_mean_matches_its_definition_and_is_symmetric() -> None:
    a, b = 30.0, 10.0
    assert_allclose(log_mean(a, b), (a - b) / math.log(a / b))
    assert_allclose(log_mean(a, b), log_mean(b, a))
    assert_allclose(log_mean(1.0 + 1e-9, 1.0), 1.0 + 5e-10, rtol=1e-12)


def test_log_mean_with_a_zero_is_zero() -> None:
    assert_allclose(log_mean([0.0, 4.0, 0.0], [3.0, 0.0, 0.0]), [0.0, 0.0, 0.0])


def test_lead_shortage_only_goes_to_leads() -> None:
    # Same conversion and deal size, half the leads: the whole gap is the lead effect.
    actual = funnel_factors([10], [5], [500_000])
    reference = funnel_factors([20], [10], [1_000_000])
    parts = lmdi(actual, reference)
    assert_allclose(parts, [[-500_000.0, 0.0, 0.0]], atol=1e-6)
    assert main_cause(parts) == ["leads"]


def test_known_example_matches_hand_computation() -> None:
    actual = Factors(np.array([[12.0, 0.25, 45_000.0]]))  # 135,000
    reference = Factors(np.array([[10.0, 0.30, 50_000.0]]))  # 150,000
    weight = (135_000 - 150_000) / math.log(135_000 / 150_000)
    expected = [weight * math.log(1.2), weight * math.log(0.25 / 0.30), weight * math.log(0.9)]
    parts = lmdi(actual, reference)
    assert_allclose(parts[0], expected)
    assert_allclose(parts.sum(), -15_000.0)
    assert main_cause(parts) == ["conversion"]


def test_factor_zero_in_actual_takes_the_whole_gap() -> None:
    # No deal won and no revenue, leads as planned: conversion is zero, so it carries the gap.
    reference = target_factors([400_000], [0.25], [50_000])
    actual = funnel_factors([8], [0], [0], fallback=reference)
    parts = lmdi(actual, reference)
    assert_allclose(parts, [[0.0, -400_000.0, 0.0]])
    assert main_cause(parts) == ["conversion"]


def test_no_leads_and_no_deals_share_the_gap_between_the_zero_factors() -> None:
    actual = funnel_factors([0], [0], [0])  # without a fallback: leads, conversion and size all zero
    reference = funnel_factors([10], [2], [90_000])
    parts = lmdi(actual, reference)
    assert_allclose(parts, [[-30_000.0, -30_000.0, -30_000.0]])


def test_no_leads_with_the_reference_as_fallback_is_a_lead_shortage() -> None:
    reference = funnel_factors([10], [2], [90_000])
    actual = funnel_factors([0], [0], [0], fallback=reference)
    assert_allclose(actual.values, [[0.0, 0.2, 45_000.0]])
    parts = lmdi(actual, reference)
    assert_allclose(parts, [[-90_000.0, 0.0, 0.0]])
    assert main_cause(parts) == ["leads"]


def test_zero_reference_gives_the_gap_to_the_zero_reference_factors() -> None:
    actual = funnel_factors([4], [1], [20_000])
    reference = target_factors([0], [0.5], [10_000])  # no target: zero implied leads
    parts = lmdi(actual, reference)
    assert_allclose(parts, [[20_000.0, 0.0, 0.0]])
    assert main_cause(parts) == [None]


def test_both_sides_zero_give_zero_parts() -> None:
    parts = lmdi(funnel_factors([0, 3], [0, 0], [0, 0]), funnel_factors([0, 0], [0, 0], [0, 0]))
    assert_allclose(parts, np.zeros((2, 3)))


def test_deals_without_new_leads_count_as_their_own_leads() -> None:
    factors = funnel_factors([0], [3], [90_000])
    assert_allclose(factors.values, [[3.0, 1.0, 30_000.0]])
    assert_allclose(factors.totals, [90_000.0])


def test_revenue_without_won_deal_counts_as_one_deal() -> None:
    factors = funnel_factors([5], [0], [12_345])
    assert_allclose(factors.values, [[5.0, 0.2, 12_345.0]])
    assert_allclose(factors.totals, [12_345.0])


def test_target_factors_imply_leads_and_multiply_to_the_target() -> None:
    factors = target_factors([1_000_000, 500_000], [0.25, 0.0], [40_000, 0.0])
    assert_allclose(factors.values, [[100.0, 0.25, 40_000.0], [1.0, 1.0, 500_000.0]])
    assert_allclose(factors.totals, [1_000_000, 500_000])


def test_negative_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        funnel_factors([-1], [0], [0])
    with pytest.raises(ValueError, match="negative"):
        target_factors([-5], [0.1], [10])


def test_mismatched_shapes_are_rejected() -> None:
    with pytest.raises(ValueError, match="shape"):
        lmdi(funnel_factors([1, 2], [1, 1], [5, 5]), funnel_factors([1], [1], [5]))


def test_round_parts_add_up_to_the_integer_gap() -> None:
    parts = np.array([[-0.4, -0.4, -0.2], [333.3, 333.3, 333.4], [1e12 + 0.5, -2.25, 1.75]])
    gaps = [-1, 1000, 1_000_000_000_000]
    rounded = round_parts(parts, gaps)
    assert rounded.sum(axis=1).tolist() == gaps
    assert np.all(np.abs(rounded - parts) <= 1.0 + 1e-3)


counts = st.integers(min_value=0, max_value=5_000)
money = st.integers(min_value=0, max_value=10**12)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(counts, counts, money, counts, counts, money), min_size=1, max_size=20))
def test_parts_always_add_up_to_the_gap(rows: list[tuple[int, int, int, int, int, int]]) -> None:
    data = np.array(rows, dtype=np.float64)
    actual = funnel_factors(data[:, 0], data[:, 1], data[:, 2])
    reference = funnel_factors(data[:, 3], data[:, 4], data[:, 5])
    assert_allclose(actual.totals, data[:, 2], rtol=1e-9)
    parts = lmdi(actual, reference)
    gaps = data[:, 2] - data[:, 5]
    assert np.all(np.isfinite(parts))
    assert_allclose(parts.sum(axis=1), gaps, rtol=1e-9, atol=1e-3)
    rounded = round_parts(parts, (data[:, 2] - data[:, 5]).astype(np.int64))
    assert rounded.sum(axis=1).tolist() == [r[2] - r[5] for r in rows]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(counts, counts, money), min_size=1, max_size=10),
    st.lists(st.tuples(money, st.just(0.0) | st.floats(0.001, 3), st.just(0.0) | st.floats(1, 1e8)), min_size=10, max_size=10),
)
def test_parts_add_up_against_a_target(
    actual_rows: list[tuple[int, int, int]], target_rows: list[tuple[int, float, float]]
) -> None:
    n = len(actual_rows)
    data = np.array(actual_rows, dtype=np.float64)
    targets = np.array(target_rows[:n], dtype=np.float64)
    reference = target_factors(targets[:, 0], targets[:, 1], targets[:, 2])
    assert_allclose(reference.totals, targets[:, 0], rtol=1e-9)
    parts = lmdi(funnel_factors(data[:, 0], data[:, 1], data[:, 2]), reference)
    assert_allclose(parts.sum(axis=1), data[:, 2] - targets[:, 0], rtol=1e-9, atol=1e-3)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(counts, counts, money, counts, counts, money), min_size=2, max_size=8), st.randoms())
def test_rows_are_independent_of_order(rows: list[tuple[int, ...]], random) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(rows)
    random.shuffle(shuffled)

    def parts_of(table: list[tuple[int, ...]]) -> dict[tuple[int, ...], list[float]]:
        data = np.array(table, dtype=np.float64)
        parts = lmdi(funnel_factors(data[:, 0], data[:, 1], data[:, 2]), funnel_factors(data[:, 3], data[:, 4], data[:, 5]))
        return {row: p.tolist() for row, p in zip(table, parts)}

    assert parts_of(rows) == parts_of(shuffled)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(counts, counts, money, counts, counts, money), min_size=1, max_size=10))
def test_fallback_keeps_the_product_and_the_exact_split(rows: list[tuple[int, int, int, int, int, int]]) -> None:
    data = np.array(rows, dtype=np.float64)
    reference = funnel_factors(data[:, 3], data[:, 4], data[:, 5])
    actual = funnel_factors(data[:, 0], data[:, 1], data[:, 2], fallback=reference)
    reference = funnel_factors(data[:, 3], data[:, 4], data[:, 5], fallback=actual)
    assert_allclose(actual.totals, data[:, 2], rtol=1e-9)
    assert_allclose(reference.totals, data[:, 5], rtol=1e-9)
    parts = lmdi(actual, reference)
    assert_allclose(parts.sum(axis=1), data[:, 2] - data[:, 5], rtol=1e-9, atol=1e-3)
    # A row with leads but no deal and no revenue never blames deal size.
    no_deal = (data[:, 0] > 0) & (data[:, 1] == 0) & (data[:, 2] == 0) & (data[:, 5] > 0) & (data[:, 4] > 0)
    assert np.all(parts[no_deal, 2] == 0)
