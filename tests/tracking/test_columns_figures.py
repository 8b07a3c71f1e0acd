"""The columnar path of tracking (`calc.figure_columns`, `calc.round_many`) against the scalar
`calc.figures`, row by row: integer columns equal the exact Decimal figures scaled to integers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.periods import parse_period
from attain.tracking import calc
from attain.tracking.calc import figures, time_progress

# The strategies of test_tracking_calc's figures_many tests.
MARCH = parse_period("2027-03")
progress_days = st.integers(min_value=-3, max_value=35).map(lambda d: MARCH.start + timedelta(days=d))
weights = st.one_of(st.none(), st.lists(st.floats(min_value=0, max_value=5), min_size=31, max_size=31))
actual_values = st.one_of(
    st.integers(min_value=-10**13, max_value=10**13),
    st.decimals(min_value=-10**6, max_value=10**6, places=4, allow_nan=False),
)
target_values = st.one_of(
    st.none(), st.integers(min_value=0, max_value=10**13),
    st.fractions(min_value=0, max_value=10**12, max_denominator=10**6),
)


def _scaled(value: Decimal | None, places: int = 0) -> int | None:
    return None if value is None else int(value.scaleb(places))


def _column(values: np.ndarray, keep: np.ndarray) -> list[int | None]:
    return [int(v) if k else None for v, k in zip(values.tolist(), keep.tolist())]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(actual_values, target_values, st.integers(0, 2)), min_size=1, max_size=20),
       st.lists(st.tuples(progress_days, weights), min_size=3, max_size=3))
def test_figure_columns_equal_figures_row_by_row(rows, windows) -> None:  # type: ignore[no-untyped-def]
    progresses = [time_progress(MARCH.start, MARCH.end, day, day_weights=None if w is None else np.array(w))
                  for day, w in windows]
    actuals, targets, index = [a for a, _, _ in rows], [t for _, t, _ in rows], np.array([i for _, _, i in rows])
    columns = calc.figure_columns(actuals, targets, progresses, index)
    scalar = [figures(a, t, progresses[i]) for a, t, i in rows]
    assert _column(columns.attainment, columns.has_attainment) == [_scaled(f.attainment, 4) for f in scalar]
    assert _column(columns.pace_gap, columns.has_attainment) == [_scaled(f.pace_gap, 4) for f in scalar]
    assert _column(columns.expected_to_date, columns.has_target) == [_scaled(f.expected_to_date) for f in scalar]
    assert _column(columns.run_rate_forecast, columns.has_run_rate) == [_scaled(f.run_rate_forecast) for f in scalar]
    assert _column(columns.seasonal_forecast, columns.has_season) == [_scaled(f.seasonal_forecast) for f in scalar]
    assert _column(columns.required_daily, columns.has_required) == [_scaled(f.required_daily) for f in scalar]
    assert columns.status.tolist() == [f.status for f in scalar]
    assert _column(columns.target, columns.has_target) == [
        None if t is None else int(calc.round_fraction(Fraction(t))) for t in targets]
    # The Decimal view is the scalar path exactly (exponents included), whole and in parts.
    assert [repr(f) for f in columns.figures()] == [repr(f) for f in scalar]
    tail = columns.take(slice(len(rows) // 2, None)).figures()
    assert [repr(f) for f in tail] == [repr(f) for f in scalar[len(rows) // 2:]]


@settings(max_examples=60, deadline=None)
@given(st.lists(target_values, max_size=30))
def test_round_many_rounds_each_target_half_to_even(targets) -> None:  # type: ignore[no-untyped-def]
    rounded, known = calc.round_many(targets)
    assert _column(rounded, known) == [None if t is None else int(calc.round_fraction(Fraction(t))) for t in targets]


def test_round_many_is_exact_beyond_int64() -> None:
    targets = [Fraction(10**30 + 1, 2), Fraction(3, 2), Fraction(5, 2), None, 2**70]
    rounded, known = calc.round_many(targets)
    assert _column(rounded, known) == [5 * 10**29, 2, 2, None, 2**70]
