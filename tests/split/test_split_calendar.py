"""Time splits: working days with the Chinese calendar, fallbacks, hierarchy, seasonality."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.errors import InvalidInput
from attain.periods import Grain
from attain.split.calendar import (
    TimeMethod,
    WorkCalendar,
    day_range,
    split_time,
    working_day_mask,
)


def by_label(result) -> dict[str, int]:
    return {p.label: int(t) for p, t in zip(result.periods, result.targets)}


def test_working_day_mask_knows_2026_national_day_and_make_up_workdays():
    days = day_range(date(2026, 9, 26), date(2026, 10, 11))
    mask, warnings = working_day_mask(days)
    worked = {d.item() for d, w in zip(days, mask) if w}
    assert date(2026, 10, 1) not in worked and date(2026, 10, 7) not in worked
    assert date(2026, 10, 10) in worked  # Saturday make-up workday
    assert date(2026, 10, 8) in worked
    assert warnings == []


def test_working_day_mask_falls_back_to_weekdays_for_2027_with_warning():
    days = day_range(date(2027, 1, 1), date(2027, 1, 10))
    mask, warnings = working_day_mask(days)
    assert mask.tolist() == [True, False, False, True, True, True, True, True, False, False]
    assert warnings == ["no official holiday calendar for 2027; counting Monday to Friday as working days"]


def test_working_day_mask_applies_user_holidays_and_workdays():
    days = day_range(date(2027, 1, 1), date(2027, 1, 3))
    calendar = WorkCalendar(holidays=frozenset({date(2027, 1, 1)}), workdays=frozenset({date(2027, 1, 2)}))
    mask, _ = working_day_mask(days, calendar)
    assert mask.tolist() == [False, True, False]


def test_split_time_2027_does_not_crash_and_warns():
    result = split_time(12_000_000, 100, date(2027, 1, 1), date(2027, 12, 31), Grain.MONTH, TimeMethod.WORKING_DAYS)
    assert result.targets.sum() == 12_000_000
    assert "2027" in result.warnings[0]


def test_split_time_october_2026_gets_fewer_working_days_and_less_target():
    result = split_time(12_000_000, 100, date(2026, 1, 1), date(2026, 12, 31), Grain.MONTH, TimeMethod.WORKING_DAYS)
    months = by_label(result)
    days = dict(zip([p.label for p in result.periods], result.working_days.tolist()))
    assert days["2026-10"] < days["2026-11"]
    assert months["2026-10"] < months["2026-11"]
    assert sum(days.values()) == int(result.day_targets.astype(bool).sum())


@pytest.mark.parametrize("grain", [Grain.QUARTER, Grain.MONTH, Grain.DAY])
@pytest.mark.parametrize("method", [TimeMethod.EQUAL, TimeMethod.WORKING_DAYS])
def test_split_time_days_add_up_to_months_quarters_and_year(method, grain):
    result = split_time(12_000_000, 100, date(2026, 1, 1), date(2026, 12, 31), grain, method)
    months = result.days.astype("datetime64[M]").astype(int) % 12
    by_month = np.bincount(months, weights=result.day_targets).astype(np.int64)
    by_quarter = by_month.reshape(4, 3).sum(axis=1)
    assert (result.day_targets % 100 == 0).all()
    assert by_quarter.sum() == result.targets.sum() == 12_000_000
    if grain is Grain.MONTH:
        assert (by_month == result.targets).all()
    if grain is Grain.QUARTER:
        assert (by_quarter == result.targets).all()
    if grain is Grain.DAY:
        assert (result.day_targets == result.targets).all()


def test_split_time_by_working_days_is_the_same_at_every_grain():
    args = (12_000_000, 100, date(2026, 1, 1), date(2026, 12, 31))
    days = split_time(*args, Grain.DAY, TimeMethod.WORKING_DAYS).day_targets
    for grain in (Grain.WEEK, Grain.MONTH, Grain.QUARTER):
        assert (split_time(*args, grain, TimeMethod.WORKING_DAYS).day_targets == days).all()


def test_split_time_equal_quarters_are_exactly_equal():
    result = split_time(12_000_000, 100, date(2026, 1, 1), date(2026, 12, 31), Grain.QUARTER, TimeMethod.EQUAL)
    assert result.targets.tolist() == [3_000_000] * 4


def test_split_time_week_crossing_a_month_is_the_sum_of_its_days():
    result = split_time(1_000_000, 1, date(2026, 1, 1), date(2026, 3, 31), Grain.WEEK, TimeMethod.WORKING_DAYS)
    week = next(p for p in result.periods if p.start <= date(2026, 1, 31) <= p.end)  # 2026-W05: Jan 26 - Feb 1
    assert week.label == "2026-W05" and week.start.month == 1 and week.end.month == 2
    lo = (week.start - date(2026, 1, 1)).days
    assert by_label(result)["2026-W05"] == result.day_targets[lo : lo + week.days].sum()
    assert result.periods[0].start == date(2026, 1, 1)  # ISO week 1 clipped to the range
    assert result.targets.sum() == 1_000_000


def test_split_time_seasonal_history_with_february_dip_gives_smaller_february():
    rng = np.random.default_rng(3)
    history_days = np.arange(np.datetime64("2023-01-01"), np.datetime64("2026-01-01"))
    amounts = rng.uniform(80, 120, history_days.size)
    amounts[history_days.astype("datetime64[M]").astype(int) % 12 == 1] *= 0.3
    result = split_time(
        12_000_000, 100, date(2026, 1, 1), date(2026, 12, 31), Grain.MONTH, TimeMethod.SEASONAL,
        history_dates=history_days, history_amounts=amounts,
    )
    months = result.targets
    assert months.sum() == 12_000_000
    assert months[1] < 0.5 * np.median(months)
    assert result.warnings == ()


def test_split_time_seasonal_warns_about_months_without_history():
    history_days = np.arange(np.datetime64("2025-03-01"), np.datetime64("2025-12-01"))
    result = split_time(
        1_200_000, 100, date(2026, 1, 1), date(2026, 12, 31), Grain.MONTH, TimeMethod.SEASONAL,
        history_dates=history_days, history_amounts=np.ones(history_days.size),
    )
    assert result.targets.sum() == 1_200_000
    assert "no history for month(s) 1, 2, 12" in result.warnings[0]


def test_split_time_rejects_end_before_start():
    with pytest.raises(InvalidInput, match="before the start date"):
        split_time(100, 1, date(2026, 2, 1), date(2026, 1, 1), Grain.MONTH, TimeMethod.EQUAL)


def test_split_time_rejects_range_without_working_days():
    with pytest.raises(InvalidInput, match="no working days"):
        split_time(100, 1, date(2026, 10, 1), date(2026, 10, 7), Grain.DAY, TimeMethod.WORKING_DAYS)


@settings(max_examples=60, deadline=None)
@given(
    start=st.dates(date(2024, 1, 1), date(2027, 12, 31)),
    length=st.integers(0, 500),
    grain=st.sampled_from([Grain.QUARTER, Grain.MONTH, Grain.WEEK, Grain.DAY]),
    method=st.sampled_from([TimeMethod.EQUAL, TimeMethod.WORKING_DAYS]),
    unit=st.sampled_from([1, 100]),
    units=st.integers(0, 10**7),
)
def test_split_time_periods_are_sums_of_days_and_add_up(start, length, grain, method, unit, units):
    end = start + timedelta(days=length)
    try:
        result = split_time(units * unit, unit, start, end, grain, method)
    except InvalidInput as exc:
        assert "no working days" in str(exc)
        return
    assert (result.day_targets % unit == 0).all() and (result.day_targets >= 0).all()
    assert result.targets.sum() == units * unit
    assert result.periods[0].start == start and result.periods[-1].end == end
    first = np.datetime64(start, "D")
    for period, target in zip(result.periods, result.targets):
        lo = int((np.datetime64(period.start, "D") - first).astype(int))
        assert result.day_targets[lo : lo + period.days].sum() == target
    months = result.days.astype("datetime64[M]").astype(int)
    by_month = np.bincount(months - months[0], weights=result.day_targets)
    weights = np.bincount(months - months[0], weights=working_day_mask(result.days)[0])
    if method is TimeMethod.WORKING_DAYS and weights.sum() > 0:
        exact = weights / weights.sum() * units
        # Nested rounding: within one unit of its quarter's share, so within 3 of the range's.
        assert np.all(np.abs(by_month / unit - exact) < 3)


def test_split_time_seasonal_gives_no_target_to_a_month_of_net_returns():
    history_days = np.arange(np.datetime64("2025-01-01"), np.datetime64("2026-01-01"))
    amounts = np.ones(history_days.size)
    amounts[history_days.astype("datetime64[M]").astype(int) % 12 == 7] = -1.0  # August: returns
    result = split_time(
        1_100_000, 100, date(2026, 1, 1), date(2026, 12, 31), Grain.MONTH, TimeMethod.SEASONAL,
        history_dates=history_days, history_amounts=amounts,
    )
    assert result.targets[7] == 0 and result.targets.sum() == 1_100_000
    assert "month(s) 8 had more returns than sales" in result.warnings[0]
