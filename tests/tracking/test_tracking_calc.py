"""Pure tracking core: time progress, target proration, roll-up, figures, status, milestones."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.periods import Grain, month, parse_period, periods_between
from attain.tracking import calc
from attain.tracking.calc import (
    Cell,
    figures,
    milestones,
    prorated_targets,
    rolled_up_target,
    time_progress,
)

# March 2027: 31 days; no official calendar for 2027 yet, so Monday-Friday: 23 working days.
MARCH = parse_period("2027-03")


def test_progress_on_the_first_day_counts_that_day() -> None:
    progress = time_progress(MARCH.start, MARCH.end, date(2027, 3, 1))  # a Monday
    assert (progress.days_elapsed, progress.working_days_elapsed, progress.working_days) == (1, 1, 23)
    assert progress.calendar_share == Fraction(1, 31)
    assert progress.working_share == Fraction(1, 23)


def test_progress_on_the_last_day_is_complete() -> None:
    progress = time_progress(MARCH.start, MARCH.end, date(2027, 3, 31))
    assert progress.calendar_share == 1 and progress.working_share == 1 and progress.seasonal_share == 1
    assert progress.working_days_left == 0


def test_progress_over_a_weekend_moves_calendar_days_but_not_working_days() -> None:
    friday = time_progress(MARCH.start, MARCH.end, date(2027, 3, 5))
    sunday = time_progress(MARCH.start, MARCH.end, date(2027, 3, 7))
    assert sunday.days_elapsed == friday.days_elapsed + 2
    assert sunday.working_days_elapsed == friday.working_days_elapsed == 5


def test_progress_after_the_period_end_and_before_its_start() -> None:
    after = time_progress(MARCH.start, MARCH.end, date(2027, 6, 1))
    before = time_progress(MARCH.start, MARCH.end, date(2027, 2, 28))
    assert (after.days_elapsed, after.working_days_elapsed) == (31, 23)
    assert (before.days_elapsed, before.working_days_elapsed, before.seasonal_share) == (0, 0, 0)


def test_progress_follows_the_official_holidays() -> None:
    # 2026-10-01..07 is the National Day holiday; 2026-10-10 (Saturday) a make-up working day.
    october = parse_period("2026-10")
    progress = time_progress(october.start, october.end, date(2026, 10, 10))
    assert progress.working_days_elapsed == 3  # 8th, 9th and the make-up 10th


def test_seasonal_share_follows_the_day_weights() -> None:
    weights = np.zeros(31)
    weights[:10] = 1.0  # all expected sales in the first ten days
    progress = time_progress(MARCH.start, MARCH.end, date(2027, 3, 5), day_weights=weights)
    assert progress.seasonal_share == Fraction(1, 2)


def cells_of(key: tuple[object, ...], periods_and_values: list[tuple[str, int]]) -> list[Cell]:
    rank = {Grain.YEAR: 0, Grain.QUARTER: 2, Grain.MONTH: 3}
    return [Cell(key, rank[parse_period(label).grain], parse_period(label).start, parse_period(label).end, value)
            for label, value in periods_and_values]


def test_cells_inside_the_window_count_whole_and_layers_are_not_double_counted() -> None:
    months = [(f"2027-{m:02d}", 1_000_00 * m) for m in range(1, 13)]
    cells = cells_of(("rep",), [("2027", sum(v for _, v in months))] + months)
    year = prorated_targets(cells, date(2027, 1, 1), date(2027, 12, 31))
    quarter = prorated_targets(cells, date(2027, 4, 1), date(2027, 6, 30))
    assert year[("rep",)] == sum(v for _, v in months)
    assert quarter[("rep",)] == 1_000_00 * (4 + 5 + 6)


def test_a_partly_covered_cell_is_prorated_by_working_days_exactly() -> None:
    cells = cells_of(("rep",), [("2027-03", 2_300_000)])
    # 2027-W10 is Monday 8 to Sunday 14 March: 5 of March's 23 working days.
    week = parse_period("2027-W10")
    assert prorated_targets(cells, week.start, week.end)[("rep",)] == Fraction(2_300_000 * 5, 23)


def test_a_year_cell_is_used_when_the_months_do_not_cover_the_window() -> None:
    cells = cells_of(("rep",), [("2027", 12_000), ("2027-01", 900)])  # months only for January
    target = prorated_targets(cells, date(2027, 1, 1), date(2027, 12, 31))
    assert target[("rep",)] == 12_000


def test_windows_outside_every_cell_have_no_target() -> None:
    cells = cells_of(("rep",), [("2027-03", 100)])
    assert prorated_targets(cells, date(2027, 5, 1), date(2027, 5, 31)) == {}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=12, max_size=12),
       st.sampled_from([Grain.QUARTER, Grain.MONTH, Grain.WEEK]))
def test_prorated_targets_of_a_partition_add_up_to_the_whole(values: list[int], grain: Grain) -> None:
    cells = cells_of(("rep",), [(month(2027, m + 1).label, v) for m, v in enumerate(values)])
    start, end = date(2027, 1, 1), date(2027, 12, 31)
    parts = [prorated_targets(cells, max(p.start, start), min(p.end, end)).get(("rep",), Fraction(0))
             for p in periods_between(start, end, grain)]
    assert sum(parts, Fraction(0)) == sum(values)


def test_a_node_with_its_own_cell_uses_it_else_the_sum_of_its_children() -> None:
    children = {1: [2, 3], 2: [4, 5], 3: [6]}
    own = {2: Fraction(500), 4: Fraction(200), 5: Fraction(250), 6: Fraction(100)}
    assert rolled_up_target(2, own, children) == (Fraction(500), calc.OWN)  # manager's own figure, not 450
    assert rolled_up_target(3, own, children) == (Fraction(100), calc.SUM_OF_CHILDREN)
    assert rolled_up_target(1, own, children) == (Fraction(600), calc.SUM_OF_CHILDREN)
    assert rolled_up_target(7, own, children) == (None, None)


def test_a_manager_s_own_target_is_shown_but_never_added_into_a_sum() -> None:
    children = {1: [2, 3, 4], 2: [5, 6]}  # company 1; 2 a manager (with people 5, 6), 3 a manager, 4 a rep
    own = {2: Fraction(900), 3: Fraction(700), 4: Fraction(100), 5: Fraction(300), 6: Fraction(400)}
    managers = frozenset({2, 3})
    assert rolled_up_target(2, own, children, managers) == (Fraction(900), calc.MANAGER_OWN)
    assert rolled_up_target(1, own, children, managers) == (Fraction(800), calc.SUM_OF_CHILDREN)  # 100 + 300 + 400
    assert rolled_up_target(1, own, children) == (Fraction(1700), calc.SUM_OF_CHILDREN)  # nobody a manager
    assert rolled_up_target(3, {}, children, managers) == (None, None)


def test_figures_halfway_through_on_pace() -> None:
    progress = time_progress(MARCH.start, MARCH.end, date(2027, 3, 15))  # 11 of 23 working days
    result = figures(1_100_000, Fraction(2_300_000), progress)
    assert result.attainment == Decimal("0.4783")
    assert result.pace_gap == Decimal("0.0000")
    assert result.expected_to_date == Decimal(1_100_000)
    assert result.run_rate_forecast == Decimal(2_300_000)
    assert result.required_daily == Decimal(100_000)  # 1,200,000 left over 12 working days
    assert result.status == "on track"


@pytest.mark.parametrize(("actual", "status"), [(1_160_000, "ahead"), (1_155_000, "ahead"), (1_045_000, "on track"),
                                                (1_044_999, "at risk"), (935_000, "at risk"), (934_999, "behind")])
def test_status_thresholds(actual: int, status: str) -> None:
    progress = time_progress(MARCH.start, MARCH.end, date(2027, 3, 15))  # expected-to-date 1,100,000
    assert figures(actual, Fraction(2_300_000), progress).status == status


def test_figures_without_target_or_before_the_start() -> None:
    progress = time_progress(MARCH.start, MARCH.end, date(2027, 3, 15))
    no_target = figures(500, None, progress)
    assert no_target.attainment is None and no_target.status is None and no_target.run_rate_forecast is not None
    before = figures(0, Fraction(100), time_progress(MARCH.start, MARCH.end, date(2027, 2, 1)))
    assert before.status == "not started" and before.run_rate_forecast is None
    done = figures(3_000_000, Fraction(2_300_000), time_progress(MARCH.start, MARCH.end, date(2027, 4, 2)))
    assert done.required_daily is None and done.attainment == Decimal("1.3043") and done.status == "ahead"


def test_zero_target_is_no_attainment_ratio() -> None:
    progress = time_progress(MARCH.start, MARCH.end, date(2027, 3, 15))
    assert figures(100, Fraction(0), progress).attainment is None


def test_milestones_dates_first_deal_and_streaks() -> None:
    start = date(2027, 3, 1)
    sale_days = np.array([start + timedelta(days=d) for d in (0, 1, 2, 7, 8)], dtype="datetime64[D]")
    amounts = np.array([10, 20, 0, 30, 40], dtype=object)
    workdays = np.array([d for d in (start + timedelta(days=i) for i in range(12)) if d.weekday() < 5], dtype="datetime64[D]")
    result = milestones(sale_days, amounts, Fraction(100), workdays)
    reached = dict(result.reached)
    assert reached[Decimal("0.25")] == date(2027, 3, 2)  # 30 >= 25
    assert reached[Decimal("0.50")] == date(2027, 3, 8)  # 60 >= 50
    assert reached[Decimal("1.00")] == date(2027, 3, 9)
    assert result.first_deal == date(2027, 3, 1)
    # Working days 1-5 and 8-12 March; sales on 1, 2 (3rd has 0), 8, 9: longest run 2, current run 0 (10th has none).
    assert (result.longest_day_streak, result.current_day_streak) == (2, 0)
    assert (result.longest_week_streak, result.current_week_streak) == (2, 2)


def test_milestones_without_sales_or_target() -> None:
    workdays = np.array([date(2027, 3, 1)], dtype="datetime64[D]")
    result = milestones(np.array([], dtype="datetime64[D]"), np.array([], dtype=object), None, workdays)
    assert all(day is None for _share, day in result.reached)
    assert result.first_deal is None and result.longest_day_streak == 0


# --- the vectorised paths equal the scalar definitions --------------------------------------------

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


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(actual_values, target_values, st.integers(0, 2)), min_size=1, max_size=20),
       st.lists(st.tuples(progress_days, weights), min_size=3, max_size=3))
def test_figures_many_equals_figures_row_by_row(rows, windows) -> None:  # type: ignore[no-untyped-def]
    progresses = [time_progress(MARCH.start, MARCH.end, day, day_weights=None if w is None else np.array(w))
                  for day, w in windows]
    many = calc.figures_many([a for a, _, _ in rows], [t for _, t, _ in rows], progresses, [i for _, _, i in rows])
    one_by_one = [figures(a, t, progresses[i]) for a, t, i in rows]
    assert many == one_by_one
    assert [repr(f) for f in many] == [repr(f) for f in one_by_one]  # the same Decimal exponents, shown alike


def test_figures_many_is_exact_beyond_int64() -> None:
    """Rows too big for int64 products (a 10^15-fen target) take the Python-int path, same result."""
    progress = time_progress(MARCH.start, MARCH.end, date(2027, 3, 15), day_weights=np.linspace(1, 3, 31))
    actuals, targets = [10**15 + 7, 3, -5], [Fraction(10**16 + 1, 3), 7, None]
    many = calc.figures_many(actuals, targets, [progress], [0, 0, 0])
    assert [repr(f) for f in many] == [repr(figures(a, t, progress)) for a, t in zip(actuals, targets)]
    assert not calc._int64_safe(10**15 + 7, 1, 10**16 + 1, 3, progress.seasonal_share.numerator,
                                progress.seasonal_share.denominator, 31)
    assert calc._int64_safe(10**9, 1, 10**9, 1, 999_999, 1_000_000, 366)


def test_prorated_targets_of_many_windows_equal_each_window_alone() -> None:
    months = [(f"2027-{m:02d}", 1_000_01 * m) for m in range(1, 13)]
    cells = (cells_of(("a",), [("2027", 7_777_777)] + months[:5])  # months for Jan-May only: the year elsewhere
             + cells_of(("b",), [("2027Q1", 300), ("2027Q2", 2**50)])  # beyond int64-safe sums: exact ints
             + cells_of(("c",), months))
    windows = [(p.start, p.end) for p in periods_between(date(2026, 12, 1), date(2027, 12, 31), Grain.MONTH)]
    windows += [(date(2027, 3, 8), date(2027, 3, 14)), (date(2027, 1, 1), date(2027, 12, 31))]
    many = calc.prorated_targets_many(cells, windows)
    assert many == [prorated_targets(cells, start, end) for start, end in windows]
    assert many[0] == {}  # December 2026: no cell
    march, quarter = calc.working_days(MARCH.start, MARCH.end), calc.working_days(date(2027, 1, 1), date(2027, 3, 31))
    assert many[3][("b",)] == Fraction(300 * int(march.sum()), int(quarter.sum()))  # March: its share of Q1's working days
    assert many[3][("a",)] == 1_000_01 * 3 and many[8][("a",)] == Fraction(7_777_777 * int(calc.working_days(
        date(2027, 8, 1), date(2027, 8, 31)).sum()), int(calc.working_days(date(2027, 1, 1), date(2027, 12, 31)).sum()))
    assert many[-1][("b",)] == 300 + 2**50 and many[-1][("c",)] == sum(v for _, v in months)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=-10**9, max_value=10**9),
                          st.one_of(st.none(), st.integers(min_value=0, max_value=10**9)), st.integers(0, 2)),
                min_size=1, max_size=20),
       st.lists(st.tuples(progress_days, weights), min_size=3, max_size=3))
def test_figures_many_on_int64_equals_figures_row_by_row(rows, windows) -> None:  # type: ignore[no-untyped-def]
    progresses = [time_progress(MARCH.start, MARCH.end, day, day_weights=None if w is None else np.array(w))
                  for day, w in windows]
    assert calc._int64_safe(10**9, 1, 10**9, 1, max(p.seasonal_share.numerator for p in progresses),
                            max(p.seasonal_share.denominator for p in progresses), 31)
    many = calc.figures_many([a for a, _, _ in rows], [t for _, t, _ in rows], progresses, [i for _, _, i in rows])
    assert [repr(f) for f in many] == [repr(figures(a, t, progresses[i])) for a, t, i in rows]
