"""Time axes: split a total over the days of a date range, then sum the days up to periods.

Days are the atoms, so days add up to their month, months to their quarter, quarters to the year,
and an ISO week that crosses a month is just the sum of its days. Rounding is nested top-down
(range -> year -> quarter -> month -> day, largest remainder at every level), so each level is
within one unit of its exact share of its parent and the whole chain adds up exactly.

Working days follow the official Chinese calendar (`chinese_calendar`: holidays and make-up
workdays) where it has data, weekends-only where it has none (with a warning), plus the user's own
extra holidays and workdays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

import chinese_calendar
import numpy as np
from numpy.typing import ArrayLike, NDArray

from attain.errors import InvalidInput
from attain.periods import Grain, Period, clip, periods_between
from attain.split.rounding import largest_remainder


class TimeMethod(str, Enum):
    EQUAL = "equal"
    WORKING_DAYS = "working-days"
    SEASONAL = "seasonal"


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are worked: the official calendar (if `official`), then these overrides."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    official: bool = True


@dataclass(frozen=True)
class TimeSplit:
    """Targets per period (clipped to the range) and per day, in money; warnings for the user."""

    periods: tuple[Period, ...]
    targets: NDArray[np.int64]
    working_days: NDArray[np.int64]
    days: NDArray[np.datetime64]
    day_targets: NDArray[np.int64]
    warnings: tuple[str, ...]


def day_range(start: date, end: date) -> NDArray[np.datetime64]:
    """Every day of [start, end] as datetime64[D]."""
    if end < start:
        raise InvalidInput(f"the end date {end} is before the start date {start}")
    return np.arange(np.datetime64(start, "D"), np.datetime64(end + timedelta(days=1), "D"))


def working_day_mask(
    days: NDArray[np.datetime64], calendar: WorkCalendar = WorkCalendar()
) -> tuple[NDArray[np.bool_], list[str]]:
    """True for worked days. Years the official calendar lacks fall back to Monday-Friday."""
    day_numbers = days.astype(np.int64)
    # 1970-01-01 was a Thursday: shifting by 3 makes Monday 0.
    mask = (day_numbers + 3) % 7 < 5
    warnings: list[str] = []
    if calendar.official:
        years = days.astype("datetime64[Y]").astype(np.int64) + 1970
        for year in np.unique(years):
            in_year = np.nonzero(years == year)[0]
            try:
                mask[in_year] = [chinese_calendar.is_workday(days[i].item()) for i in in_year]
            except NotImplementedError:
                warnings.append(
                    f"no official holiday calendar for {year}; counting Monday to Friday as working days"
                )
    for listed, worked in ((calendar.holidays, False), (calendar.workdays, True)):
        if listed:
            hits = np.isin(days, np.array(sorted(listed), dtype="datetime64[D]"))
            mask = np.where(hits, worked, mask)
    return mask, warnings


def split_time(
    total: int,
    unit: int,
    start: date,
    end: date,
    grain: Grain,
    method: TimeMethod,
    *,
    calendar: WorkCalendar = WorkCalendar(),
    history_dates: ArrayLike | None = None,
    history_amounts: ArrayLike | None = None,
) -> TimeSplit:
    """Split `total` (money, a multiple of `unit`) over [start, end] and report it by `grain`."""
    if unit <= 0:
        raise InvalidInput(f"the rounding unit must be positive, got {unit}")
    if total < 0:
        raise InvalidInput(f"the total must not be negative, got {total}")
    if total % unit:
        raise InvalidInput(f"the total {total} is not a multiple of the rounding unit {unit}")
    if grain not in (Grain.QUARTER, Grain.MONTH, Grain.WEEK, Grain.DAY):
        raise InvalidInput(f"time splits go by quarter, month, week or day, not {grain.value}")
    days = day_range(start, end)
    workdays, warnings = working_day_mask(days, calendar)
    periods = tuple(clip(p, start, end) for p in periods_between(start, end, grain))
    if method is TimeMethod.EQUAL:
        weights = _equal_period_weights(days, periods)
    elif method is TimeMethod.WORKING_DAYS:
        weights = workdays.astype(np.float64)
    else:
        if history_dates is None or history_amounts is None:
            raise InvalidInput("the seasonal method needs order history (dates and amounts)")
        weights, season_warnings = seasonal_day_weights(
            days, workdays, history_dates, history_amounts, calendar
        )
        warnings += season_warnings
    if total and weights.sum() <= 0:
        raise InvalidInput(f"there are no working days between {start} and {end} to put the target on")
    day_units = _nested_round(total // unit, weights, _calendar_keys(days))
    day_targets = day_units * unit
    return TimeSplit(
        periods=periods,
        targets=_sum_by_period(day_targets, days, periods),
        working_days=_sum_by_period(workdays.astype(np.int64), days, periods),
        days=days,
        day_targets=day_targets,
        warnings=tuple(warnings),
    )


def _equal_period_weights(days: NDArray[np.datetime64], periods: Sequence[Period]) -> NDArray[np.float64]:
    """Each (clipped) period weighs 1, spread evenly over its days."""
    weights = np.zeros(days.size)
    for period, (lo, hi) in zip(periods, _period_slices(days, periods)):
        weights[lo:hi] = 1.0 / period.days
    return weights


def _period_slices(days: NDArray[np.datetime64], periods: Sequence[Period]) -> list[tuple[int, int]]:
    first = days[0]
    return [
        (int((np.datetime64(p.start, "D") - first).astype(int)), int((np.datetime64(p.end, "D") - first).astype(int)) + 1)
        for p in periods
    ]


def _sum_by_period(values: NDArray[np.int64], days: NDArray[np.datetime64], periods: Sequence[Period]) -> NDArray[np.int64]:
    return np.array([values[lo:hi].sum() for lo, hi in _period_slices(days, periods)], dtype=np.int64)


def _calendar_keys(days: NDArray[np.datetime64]) -> list[NDArray[np.int64]]:
    """Group keys per day, coarse to fine: year, quarter, month."""
    months = days.astype("datetime64[M]").astype(np.int64)
    return [months // 12, months // 3, months]


def _nested_round(units: int, weights: NDArray[np.float64], keys: Sequence[NDArray[np.int64]]) -> NDArray[np.int64]:
    """Largest remainder at each calendar level in turn, so every level adds up to its parent."""
    if units == 0 or weights.sum() <= 0:
        return np.zeros(weights.size, dtype=np.int64)
    if not keys:
        return largest_remainder(units, weights, 1)
    starts = np.concatenate([[0], np.nonzero(np.diff(keys[0]))[0] + 1, [weights.size]])
    group_weights = np.add.reduceat(weights, starts[:-1])
    group_units = largest_remainder(units, group_weights, 1)
    parts = [
        _nested_round(int(u), weights[lo:hi], [k[lo:hi] for k in keys[1:]])
        for u, lo, hi in zip(group_units, starts[:-1], starts[1:])
    ]
    return np.concatenate(parts)


def seasonal_day_weights(
    days: NDArray[np.datetime64],
    workdays: NDArray[np.bool_],
    history_dates: ArrayLike,
    history_amounts: ArrayLike,
    calendar: WorkCalendar = WorkCalendar(),
) -> tuple[NDArray[np.float64], list[str]]:
    """Day weights from past orders: each calendar month's sales per working day, years averaged.

    For every history year, sales per working day in each fully covered month are divided by that
    year's mean, so a bigger year does not dominate; the months are then averaged over the years
    and put on this range's working days. A month no history year covers weighs like an average month.
    """
    order_days = np.asarray(history_dates, dtype="datetime64[D]")
    amounts = np.asarray(history_amounts, dtype=np.float64)
    if order_days.shape != amounts.shape or order_days.size == 0:
        raise InvalidInput("the order history is empty or its dates and amounts do not line up")
    if not np.all(np.isfinite(amounts)):
        raise InvalidInput("the order history has amounts that are not numbers")
    first_month = order_days.min().astype("datetime64[M]")
    last_month = order_days.max().astype("datetime64[M]")
    history_days = day_range(first_month.astype("datetime64[D]").item(), (last_month + 1).astype("datetime64[D]").item() - timedelta(days=1))
    history_workdays, warnings = working_day_mask(history_days, calendar)
    covered = _fully_covered_months(history_days, order_days.min(), order_days.max())
    month_index = history_days.astype("datetime64[M]").astype(np.int64)
    base = int(month_index[0])
    workdays_per_month = np.bincount(month_index - base, weights=history_workdays)
    sales_per_month = np.bincount(
        order_days.astype("datetime64[M]").astype(np.int64) - base, weights=amounts, minlength=workdays_per_month.size
    )
    intensity = np.divide(sales_per_month, workdays_per_month, out=np.zeros_like(sales_per_month), where=workdays_per_month > 0)
    months_abs = np.arange(workdays_per_month.size) + base
    relative = np.zeros(12)
    years_seen = np.zeros(12)
    for year in np.unique(months_abs // 12):
        in_year = (months_abs // 12 == year) & np.isin(months_abs, covered)
        mean = intensity[in_year].mean() if in_year.any() else 0.0
        if mean <= 0:
            continue
        calendar_month = months_abs[in_year] % 12
        relative[calendar_month] += intensity[in_year] / mean
        years_seen[calendar_month] += 1
    if not years_seen.any():
        raise InvalidInput("the order history covers no whole month with sales, so there is no season to learn")
    profile = np.divide(relative, years_seen, out=np.ones(12), where=years_seen > 0)
    negative = [str(m + 1) for m in np.nonzero(profile < 0)[0]]
    if negative:
        warnings.append(f"month(s) {', '.join(negative)} had more returns than sales in the history; they get no target")
        profile = np.clip(profile, 0.0, None)
    missing = [str(m + 1) for m in np.nonzero(years_seen == 0)[0]]
    if missing:
        warnings.append(f"no history for month(s) {', '.join(missing)}; they are weighted like an average month")
    target_months = days.astype("datetime64[M]").astype(np.int64) % 12
    return profile[target_months] * workdays, warnings


def _fully_covered_months(
    history_days: NDArray[np.datetime64], first: np.datetime64, last: np.datetime64
) -> NDArray[np.int64]:
    """Months (as datetime64[M] numbers) lying wholly between the first and last order day."""
    months = np.unique(history_days.astype("datetime64[M]"))
    month_starts = months.astype("datetime64[D]")
    month_ends = (months + 1).astype("datetime64[D]") - 1
    whole = (month_starts >= first) & (month_ends <= last)
    return months[whole].astype(np.int64)
