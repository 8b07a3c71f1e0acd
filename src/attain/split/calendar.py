"""Time axes: split a total over the days of a date range, then sum the days up to periods.

Days are the atoms, so days add up to their month, months to their quarter, quarters to the year,
and an ISO week that crosses a month is just the sum of its days. Rounding is nested top-down
(range -> year -> quarter -> month -> day, largest remainder at every level), so each level is
within one unit of its exact share of its parent and the whole chain adds up exactly.

Working days follow the company's official calendar: China's (`chinese_calendar`: holidays and
make-up workdays) by default, another country's public holidays through the `holidays` package;
weekends-only where it has no data (with a warning), then the company's own holidays and make-up
workdays on top. `attain.calendars.service.company_calendar` builds the company's `WorkCalendar`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from functools import lru_cache

import chinese_calendar
import holidays as holiday_data
import numpy as np
from numpy.typing import ArrayLike, NDArray

from attain.errors import InvalidInput
from attain.periods import Grain, Period, clip, periods_between
from attain.split.rounding import largest_remainder


class TimeMethod(str, Enum):
    EQUAL = "equal"
    WORKING_DAYS = "working-days"
    SEASONAL = "seasonal"


CHINA = "CN"


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are worked: the official calendar of `country` (if `official`), then these overrides.

    `country` is "CN" (the official Chinese calendar, with make-up workdays) or an ISO 3166 code
    the `holidays` package knows, with an optional `subdivision` (e.g. "US", "CA"). `names` labels
    the override days (for messages only)."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    official: bool = True
    country: str = CHINA
    subdivision: str | None = None
    names: tuple[tuple[date, str], ...] = ()

    def working_days(self, start: date, end: date) -> NDArray[np.bool_]:
        """One flag per day of [start, end]: True for a working day."""
        return working_day_mask(day_range(start, end), self)[0]

    def count_working_days(self, start: date, end: date) -> int:
        return int(self.working_days(start, end).sum())

    def warnings(self, start: date, end: date) -> list[str]:
        """What the user should know about [start, end], e.g. years without official data."""
        return working_day_mask(day_range(start, end), self)[1]

    def missing_years(self, start: date, end: date) -> list[int]:
        """Years of [start, end] the official calendar has no data for (Monday to Friday is used)."""
        if not self.official:
            return []
        return [y for y in range(start.year, end.year + 1) if _official_year(self.country, self.subdivision, y) is None]

    def company_days(self, year: int) -> list[tuple[date, bool, str]]:
        """The company's own days in `year`: (day, worked, name), by date."""
        labels = dict(self.names)
        listed = [(d, False) for d in self.holidays if d.year == year] + [(d, True) for d in self.workdays if d.year == year]
        return [(d, worked, labels.get(d, "")) for d, worked in sorted(listed)]

    def with_overrides(self, extra: WorkCalendar) -> WorkCalendar:
        """This calendar with `extra`'s holidays and workdays on top (they win); official only if both are."""
        holidays = (self.holidays - extra.workdays) | extra.holidays
        workdays = (self.workdays - extra.holidays) | extra.workdays
        return WorkCalendar(holidays=holidays, workdays=workdays, official=self.official and extra.official,
                            country=self.country, subdivision=self.subdivision, names=self.names + extra.names)


def check_country(code: str) -> tuple[str, str | None]:
    """'CN', 'US', 'US-CA' (any case) as (country, subdivision); InvalidInput when unknown."""
    text = code.strip().upper().replace("_", "-")
    country, _, subdivision = text.partition("-")
    if country == CHINA and not subdivision:
        return CHINA, None
    supported = holiday_data.list_supported_countries()
    if country not in supported:
        raise InvalidInput.coded("split.calendar.unknown_calendar_country_cn", strip=code.strip())
    if country == CHINA:
        raise InvalidInput.coded("split.calendar.chinese_calendar_subdivisions_cn")
    if subdivision and subdivision not in supported[country]:
        some = ", ".join(supported[country][:8])
        raise InvalidInput.coded("split.calendar.country_subdivision_known_ones", country=country, subdivision=subdivision, some=some)
    return country, subdivision or None


@lru_cache(maxsize=256)
def _official_year(country: str, subdivision: str | None, year: int) -> NDArray[np.bool_] | None:
    """Working-day flags of every day of `year` by the official calendar, or None without data."""
    days = day_range(date(year, 1, 1), date(year, 12, 31))
    if country == CHINA:
        try:
            flags = np.array([chinese_calendar.is_workday(day) for day in days.astype(object)], dtype=bool)
        except NotImplementedError:
            return None
    else:
        official = holiday_data.country_holidays(country, subdiv=subdivision, years=year)
        weekend = np.isin(_weekday(days), sorted(official.weekend))
        listed = np.array(sorted(official), dtype="datetime64[D]")
        flags = ~weekend & ~np.isin(days, listed)
    flags.setflags(write=False)
    return flags


def _weekday(days: NDArray[np.datetime64]) -> NDArray[np.int64]:
    """Monday 0 … Sunday 6."""
    # 1970-01-01 was a Thursday: shifting by 3 makes Monday 0.
    return (days.astype(np.int64) + 3) % 7


def _no_data_warning(year: int, calendar: WorkCalendar) -> str:
    own = calendar.company_days(year)
    if not own:
        return f"no official holiday calendar for {year}; counting Monday to Friday as working days"
    off = sum(1 for _, worked, _ in own if not worked)
    names = ", ".join(dict.fromkeys(name for _, _, name in own if name))
    return (
        f"no official holiday calendar for {year}; counting Monday to Friday plus the company's "
        f"{off} holiday(s) and {len(own) - off} make-up workday(s){f' ({names})' if names else ''} as working days"
    )


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
        raise InvalidInput.coded("split.calendar.end_date_before_start", end=end, start=start)
    return np.arange(np.datetime64(start, "D"), np.datetime64(end + timedelta(days=1), "D"))


def working_day_mask(
    days: NDArray[np.datetime64], calendar: WorkCalendar = WorkCalendar()
) -> tuple[NDArray[np.bool_], list[str]]:
    """True for worked days. Years the official calendar lacks fall back to Monday-Friday."""
    mask = _weekday(days) < 5
    warnings: list[str] = []
    if calendar.official and days.size:
        years = days.astype("datetime64[Y]")
        for year in np.unique(years):
            number = int(year.astype(np.int64)) + 1970
            flags = _official_year(calendar.country, calendar.subdivision, number)
            if flags is None:
                warnings.append(_no_data_warning(number, calendar))
                continue
            in_year = years == year
            mask[in_year] = flags[(days[in_year] - year.astype("datetime64[D]")).astype(np.int64)]
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
        raise InvalidInput.coded("split.calendar.rounding_unit_positive_got", unit=unit)
    if total < 0:
        raise InvalidInput.coded("split.calendar.total_negative_got", total=total)
    if total % unit:
        raise InvalidInput.coded("split.calendar.total_multiple_rounding_unit", total=total, unit=unit)
    if grain not in (Grain.QUARTER, Grain.MONTH, Grain.WEEK, Grain.DAY):
        raise InvalidInput.coded("split.calendar.time_splits_go_quarter", value=grain.value)
    days = day_range(start, end)
    workdays, warnings = working_day_mask(days, calendar)
    periods = tuple(clip(p, start, end) for p in periods_between(start, end, grain))
    if method is TimeMethod.EQUAL:
        weights = _equal_period_weights(days, periods)
    elif method is TimeMethod.WORKING_DAYS:
        weights = workdays.astype(np.float64)
    else:
        if history_dates is None or history_amounts is None:
            raise InvalidInput.coded("split.calendar.seasonal_method_needs_order")
        weights, season_warnings = seasonal_day_weights(
            days, workdays, history_dates, history_amounts, calendar
        )
        warnings += season_warnings
    if total and weights.sum() <= 0:
        raise InvalidInput.coded("split.calendar.there_working_days_between", start=start, end=end)
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

    Only complete periods count: a month is used when the orders cover it whole (a running month
    never is), and the months are taken in complete twelve-month years counted back from the last
    whole month, each divided by its year's mean, so a bigger year does not dominate and a year
    missing its strong months cannot inflate the rest. With less than twelve whole months the
    months there are are used, with a warning. The profile is put on this range's working days; a
    month no history year covers weighs like an average month.
    """
    order_days = np.asarray(history_dates, dtype="datetime64[D]")
    amounts = np.asarray(history_amounts, dtype=np.float64)
    if order_days.shape != amounts.shape or order_days.size == 0:
        raise InvalidInput.coded("split.calendar.order_history_empty_dates")
    if not np.all(np.isfinite(amounts)):
        raise InvalidInput.coded("split.calendar.order_history_amounts_numbers")
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
    # Years of twelve whole months ending at the last whole month (Dec–Nov when the history ends in a
    # running December); a part year at the start is left out when there is a whole one.
    block = (covered.max() - months_abs) // 12 if covered.size else np.zeros_like(months_abs)
    whole = [b for b in np.unique(block[np.isin(months_abs, covered)]) if np.isin(months_abs[block == b], covered).sum() == 12]
    short = (f"the order history has only {covered.size} whole month(s), less than a year: the season is learnt "
             "from those months") if covered.size and not whole else None
    for year in (whole or np.unique(block)):
        in_year = (block == year) & np.isin(months_abs, covered)
        mean = intensity[in_year].mean() if in_year.any() else 0.0
        if mean <= 0:
            continue
        calendar_month = months_abs[in_year] % 12
        relative[calendar_month] += intensity[in_year] / mean
        years_seen[calendar_month] += 1
    if not years_seen.any():
        raise InvalidInput.coded("split.calendar.order_history_covers_whole")
    profile = np.divide(relative, years_seen, out=np.ones(12), where=years_seen > 0)
    negative = [str(m + 1) for m in np.nonzero(profile < 0)[0]]
    if negative:
        warnings.append(f"month(s) {', '.join(negative)} had more returns than sales in the history; they get no target")
        profile = np.clip(profile, 0.0, None)
    missing = [str(m + 1) for m in np.nonzero(years_seen == 0)[0]]
    if missing:
        warnings.append(f"no history for month(s) {', '.join(missing)}; they are weighted like an average month")
    if short:
        warnings.append(short)
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


def month_shares_plain(shares_by_year: ArrayLike) -> NDArray[np.float64]:
    """The plain multi-year mean of monthly shares: (years, 12) shares → 12 shares summing to 1."""
    shares = np.asarray(shares_by_year, dtype=np.float64)
    mean = shares.mean(axis=0)
    return mean / mean.sum()


def month_shares_improved(
    shares_by_year: ArrayLike, workdays_by_year: ArrayLike, target_workdays: ArrayLike,
    *, decay: float = 0.6, shrink: float = 0.5,
) -> NDArray[np.float64]:
    """Monthly shares for a coming year from the years before (oldest first), shape (years, 12):

    - working-day adjustment: each year's shares become sales per working day, and the profile is
      put back on the target year's working days (a month with two more working days sells more);
    - recency weights: year k back weighs `decay`**k (the last year most);
    - shrinkage: the recency-weighted profile is pulled toward the plain multi-year mean by `shrink`
      (0 = recency only, 1 = plain mean), so one odd year does not swing the forecast."""
    shares = np.asarray(shares_by_year, dtype=np.float64)
    workdays = np.asarray(workdays_by_year, dtype=np.float64)
    target = np.asarray(target_workdays, dtype=np.float64)
    if shares.shape != workdays.shape or shares.ndim != 2 or shares.shape[1] != 12 or target.shape != (12,):
        raise InvalidInput.coded("split.calendar.monthly_shares_working_days")
    intensity = np.divide(shares, workdays, out=np.zeros_like(shares), where=workdays > 0)
    intensity = intensity / intensity.mean(axis=1, keepdims=True)
    ages = np.arange(shares.shape[0])[::-1]
    weights = decay ** ages
    recent = (weights[:, None] * intensity).sum(axis=0) / weights.sum()
    profile = (1 - shrink) * recent + shrink * intensity.mean(axis=0)
    out = profile * target
    return out / out.sum()
