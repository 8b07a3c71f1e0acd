"""Pure core of tracking: time progress, target proration, attainment figures, status, milestones.

NumPy and the standard library only (plus the pure working-day calendar of the split engine); no
database. Money is in the metric's minor units (fen for revenue): actuals are exact integers (or
Decimals for quantities), targets are exact Fractions until they are rounded once to the minor
unit, ratios are Decimals with four decimal places (0.0001 = 0.01 %).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from attain.split.calendar import WorkCalendar, day_range, working_day_mask

OFFICIAL_CALENDAR = WorkCalendar()
RATIO = Decimal("0.0001")
WHOLE = Decimal(1)

# Status from the pace index = actual / expected-to-date (equivalently seasonal forecast / target).
# At or above the first bound "ahead", then "on track", then "at risk", below the last "behind".
STATUS_BOUNDS: tuple[tuple[Decimal, str], ...] = (
    (Decimal("1.05"), "ahead"),
    (Decimal("0.95"), "on track"),
    (Decimal("0.85"), "at risk"),
)
BEHIND = "behind"
NOT_STARTED = "not started"
MILESTONES: tuple[Decimal, ...] = (Decimal("0.25"), Decimal("0.50"), Decimal("0.75"), Decimal("1.00"))

OWN = "own"
SUM_OF_CHILDREN = "sum of children"


def to_decimal(value: Fraction | int | Decimal, step: Decimal = WHOLE) -> Decimal:
    """Round an exact value to a multiple of `step`, half to even (the one rounding of tracking)."""
    if isinstance(value, Fraction):
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        # Decimal division is exact to 28 digits, far more than any money figure in fen needs.
        return exact.quantize(step, rounding=ROUND_HALF_EVEN)
    return Decimal(value).quantize(step, rounding=ROUND_HALF_EVEN)


def ratio(top: Fraction | Decimal | int, bottom: Fraction | Decimal | int) -> Decimal | None:
    """top / bottom to four decimals, None when the bottom is zero or missing."""
    if bottom is None or bottom == 0 or top is None:
        return None
    return to_decimal(Fraction(top) / Fraction(bottom), RATIO)


# --- time progress -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeProgress:
    """How much of [start, end] has passed at `as_of` (inclusive), by calendar and by working days,
    and by the seasonal pattern of past sales (share of the period's expected sales already due)."""

    start: date
    end: date
    as_of: date
    days: int
    days_elapsed: int
    working_days: int
    working_days_elapsed: int
    seasonal_share: Fraction

    @property
    def calendar_share(self) -> Fraction:
        return Fraction(self.days_elapsed, self.days)

    @property
    def working_share(self) -> Fraction:
        if self.working_days == 0:
            return self.calendar_share
        return Fraction(self.working_days_elapsed, self.working_days)

    @property
    def working_days_left(self) -> int:
        return self.working_days - self.working_days_elapsed


def elapsed_days(start: date, end: date, as_of: date) -> int:
    """Days of [start, end] on or before `as_of`: 0 before the start, all of them after the end."""
    if as_of < start:
        return 0
    return (min(as_of, end) - start).days + 1


def time_progress(
    start: date,
    end: date,
    as_of: date,
    *,
    day_weights: NDArray[np.float64] | None = None,
    calendar: WorkCalendar = OFFICIAL_CALENDAR,
) -> TimeProgress:
    """Progress of [start, end] at `as_of`. `day_weights` (one per day of the range, e.g. from
    `seasonal_day_weights`) give the seasonal share; without them it equals the working-day share."""
    days = day_range(start, end)
    workdays = working_days(start, end, calendar)
    elapsed = elapsed_days(start, end, as_of)
    working_elapsed = int(workdays[:elapsed].sum())
    working_total = int(workdays.sum())
    if day_weights is None or float(np.sum(day_weights)) <= 0:
        share = Fraction(working_elapsed, working_total) if working_total else Fraction(elapsed, days.size)
    else:
        # Weights are floats learnt from history; the share is fixed to 6 decimals so that every
        # figure derived from it is reproducible Decimal arithmetic.
        raw = float(np.sum(day_weights[:elapsed])) / float(np.sum(day_weights))
        share = Fraction(Decimal(repr(raw)).quantize(Decimal("0.000001")))
    return TimeProgress(start, end, as_of, int(days.size), elapsed, working_total, working_elapsed, share)


# --- targets -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """A plan cell as tracking needs it. `key` identifies what it targets (node, product, customer
    type); `rank` orders the cell layers of one key from coarse (year, 0) to fine (day)."""

    key: tuple[object, ...]
    rank: int
    start: date
    end: date
    value: int


def _day_number(day: date) -> int:
    return int(np.datetime64(day, "D").astype(np.int64))


@lru_cache(maxsize=64)
def _year_mask(year: int, calendar: WorkCalendar) -> NDArray[np.bool_]:
    mask, _warnings = working_day_mask(day_range(date(year, 1, 1), date(year, 12, 31)), calendar)
    mask.setflags(write=False)
    return mask


def working_days(first: date, last: date, calendar: WorkCalendar = OFFICIAL_CALENDAR) -> NDArray[np.bool_]:
    """`working_day_mask` of [first, last] (each day on its own), from whole years looked up once per
    process: the official calendar is slow per day, and a rep × month report asks for it thousands of times."""
    if last < first:
        day_range(first, last)  # the same InvalidInput
    years = [_year_mask(year, calendar) for year in range(first.year, last.year + 1)]
    whole = years[0] if len(years) == 1 else np.concatenate(years)
    offset = (first - date(first.year, 1, 1)).days
    return whole[offset:offset + (last - first).days + 1]


def _working_prefix(first: date, last: date, calendar: WorkCalendar) -> tuple[np.datetime64, NDArray[np.int64]]:
    mask = working_days(first, last, calendar)
    return np.datetime64(first, "D"), np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])


@dataclass(frozen=True)
class CellDays:
    """Cells with their dates as day numbers, built once for many windows (rep × month reports)."""

    cells: tuple[Cell, ...]
    starts: NDArray[np.int64]  # days since 1970-01-01
    ends: NDArray[np.int64]  # exclusive


def cell_days(cells: Sequence[Cell]) -> CellDays:
    day_numbers = np.array([(c.start, c.end) for c in cells], dtype="datetime64[D]").reshape(-1, 2).astype(np.int64)
    return CellDays(tuple(cells), day_numbers[:, 0], day_numbers[:, 1] + 1)


def prorated_targets(
    cells: Sequence[Cell] | CellDays, start: date, end: date, *, calendar: WorkCalendar = OFFICIAL_CALENDAR
) -> dict[tuple[object, ...], Fraction]:
    """Exact target of each key over [start, end].

    Cells inside the window count whole; a cell that overlaps it partly counts for the share of
    its working days that fall inside (calendar days when the cell has no working day). A key may
    hold several layers of cells (a year cell and twelve month cells, as quota sheets do): the
    finest layer that covers the whole window is used, else the layer covering most of it, so a
    figure is never counted twice.
    """
    table = cells if isinstance(cells, CellDays) else cell_days(cells)
    cells = table.cells
    if not cells:
        return {}
    window_start, window_end = _day_number(start), _day_number(end) + 1
    near = np.nonzero((table.starts < window_end) & (table.ends > window_start))[0]
    if not near.size:
        return {}
    first = min(int(table.starts[near].min()), window_start)
    last = max(int(table.ends[near].max()), window_end)
    origin = np.datetime64(first, "D")
    _origin, prefix = _working_prefix(origin.item(), (np.datetime64(last - 1, "D")).item(), calendar)
    cells = [cells[i] for i in near.tolist()]
    starts = table.starts[near] - first
    ends = table.ends[near] - first
    lo = np.maximum(starts, (np.datetime64(start, "D") - origin).astype(np.int64))
    hi = np.minimum(ends, (np.datetime64(end, "D") - origin).astype(np.int64) + 1)
    overlap_days = np.clip(hi - lo, 0, None)
    cell_work = prefix[ends] - prefix[starts]
    overlap_work = np.where(overlap_days > 0, prefix[np.maximum(hi, lo)] - prefix[lo], 0)
    overlapping = np.nonzero(overlap_days > 0)[0].tolist()
    coverage: dict[tuple[object, ...], dict[int, int]] = {}
    for i in overlapping:
        layers = coverage.setdefault(cells[i].key, {})
        layers[cells[i].rank] = layers.get(cells[i].rank, 0) + int(overlap_days[i])
    chosen = {key: _best_layer(layers) for key, layers in coverage.items()}
    whole: dict[tuple[object, ...], int] = dict.fromkeys(chosen, 0)
    parts: dict[tuple[object, ...], list[Fraction]] = {}
    for i in overlapping:
        cell = cells[i]
        if chosen[cell.key] != cell.rank:
            continue
        if overlap_days[i] == ends[i] - starts[i]:
            whole[cell.key] += cell.value
        elif cell_work[i]:
            parts.setdefault(cell.key, []).append(Fraction(cell.value * int(overlap_work[i]), int(cell_work[i])))
        else:
            parts.setdefault(cell.key, []).append(Fraction(cell.value * int(overlap_days[i]), int(ends[i] - starts[i])))
    totals = {key: sum(parts.get(key, ()), Fraction(value)) for key, value in whole.items()}
    return totals


def _best_layer(layers: Mapping[int, int]) -> int:
    """The finest layer among those that cover the most days of the window."""
    most = max(layers.values())
    return max(rank for rank, days in layers.items() if days == most)


def rolled_up_target(
    node: int, own: Mapping[int, Fraction], children: Mapping[int, Sequence[int]]
) -> tuple[Fraction | None, str | None]:
    """A node's target: its own cell when it has one, else the sum of its children's (each own or
    rolled up in turn). (None, None) when nothing below it has a target."""
    if node in own:
        return own[node], OWN
    parts = [rolled_up_target(child, own, children)[0] for child in children.get(node, ())]
    known = [p for p in parts if p is not None]
    if not known:
        return None, None
    return sum(known, Fraction(0)), SUM_OF_CHILDREN


# --- attainment figures -------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Attainment figures of one row. Money in the metric's minor unit, rounded to whole units."""

    attainment: Decimal | None
    pace_gap: Decimal | None
    expected_to_date: Decimal | None
    run_rate_forecast: Decimal | None
    seasonal_forecast: Decimal | None
    required_daily: Decimal | None
    status: str | None


def status_of(pace_index: Fraction | None) -> str:
    """ahead / on track / at risk / behind from actual ÷ expected-to-date (see STATUS_BOUNDS)."""
    if pace_index is None:
        return NOT_STARTED
    for bound, name in STATUS_BOUNDS:
        if pace_index >= bound:
            return name
    return BEHIND


def _status(num: int, den: int) -> str:
    """status_of(num / den) with integers only (den > 0)."""
    for bound, name in _STATUS_BOUNDS_RATIONAL:
        if num * bound[1] >= bound[0] * den:
            return name
    return BEHIND


_STATUS_BOUNDS_RATIONAL = tuple((bound.as_integer_ratio(), name) for bound, name in STATUS_BOUNDS)


def _round_div(num: int, den: int, places: int = 0) -> Decimal:
    """num / den rounded half to even at `places` decimals, with integers only (den > 0).

    Tracking computes tens of thousands of rows (rep × month); plain integer arithmetic keeps that
    fast where Fraction (a gcd per operation) would not, and gives the same exact result."""
    scaled = num * 10**places
    quotient, remainder = divmod(scaled, den)
    if 2 * remainder > den or (2 * remainder == den and quotient % 2):
        quotient += 1
    return Decimal(quotient).scaleb(-places) if places else Decimal(quotient)


def round_fraction(value: Fraction) -> Decimal:
    """A Fraction rounded half to even to a whole number (of the minor unit)."""
    return _round_div(value.numerator, value.denominator)


def _ratio_parts(value: int | Decimal | Fraction) -> tuple[int, int]:
    if isinstance(value, int):
        return value, 1
    if isinstance(value, Fraction):
        return value.numerator, value.denominator
    return value.as_integer_ratio()


def figures(actual: int | Decimal, target: Fraction | None, progress: TimeProgress) -> Figures:
    """Every derived figure of a row from its actual (to as-of), its target and the time progress."""
    a_num, a_den = _ratio_parts(actual)
    s_num, s_den = progress.seasonal_share.numerator, progress.seasonal_share.denominator
    run_rate = None
    if progress.working_days_elapsed:
        run_rate = _round_div(a_num * progress.working_days, a_den * progress.working_days_elapsed)
    elif progress.days_elapsed:
        run_rate = _round_div(a_num * progress.days, a_den * progress.days_elapsed)
    seasonal = _round_div(a_num * s_den, a_den * s_num) if s_num else None
    if target is None:
        return Figures(None, None, None, run_rate, seasonal, None, None)
    t_num, t_den = target.numerator, target.denominator
    attainment = pace_gap = None
    if t_num:
        attainment = _round_div(a_num * t_den, a_den * t_num, 4)
        share = progress.working_share
        pace_gap = attainment - _round_div(share.numerator, share.denominator, 4)
    required = None
    if progress.working_days_left:
        left_num = t_num * a_den - a_num * t_den  # (target - actual) over t_den * a_den
        required = _round_div(max(left_num, 0), t_den * a_den * progress.working_days_left)
    expected_num, expected_den = t_num * s_num, t_den * s_den
    if not progress.days_elapsed:
        status = NOT_STARTED
    elif expected_num:
        status = _status(a_num * expected_den, a_den * expected_num)
    else:  # nothing was due yet (a zero target, or a season with no sales so far)
        status = status_of(Fraction(1))
    return Figures(attainment, pace_gap, _round_div(expected_num, expected_den), run_rate, seasonal, required, status)


# --- leaderboard --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Milestones:
    """What a rep (or team) reached in the period: the day each share of the target was first
    reached, the first deal, and streaks of consecutive working days / ISO weeks with sales."""

    reached: tuple[tuple[Decimal, date | None], ...]
    first_deal: date | None
    longest_day_streak: int
    current_day_streak: int
    longest_week_streak: int
    current_week_streak: int


def milestones(
    sale_days: NDArray[np.datetime64],
    daily_amounts: NDArray[np.int64],
    target: Fraction | None,
    workdays: NDArray[np.datetime64],
) -> Milestones:
    """Milestones from one row's daily sales (sorted days, amounts per day) in the period so far.

    `workdays` are the working days of the period up to as-of: a day streak counts consecutive
    working days with positive sales (weekends neither break nor extend it)."""
    cumulative = np.cumsum(daily_amounts.astype(object)) if daily_amounts.size else np.array([], dtype=object)
    reached = []
    for share in MILESTONES:
        when = None
        if target is not None and target > 0 and cumulative.size:
            hits = np.nonzero(cumulative >= target * Fraction(share))[0]
            when = sale_days[hits[0]].item() if hits.size else None
        reached.append((share, when))
    selling = sale_days[daily_amounts > 0]
    first_deal = selling[0].item() if selling.size else None
    day_flags = np.isin(workdays, selling)
    longest_days, current_days = _streaks(day_flags)
    weeks = _iso_week_numbers(workdays)
    week_ids = np.unique(weeks)
    week_flags = np.isin(week_ids, np.unique(_iso_week_numbers(selling)))
    longest_weeks, current_weeks = _streaks(week_flags)
    return Milestones(tuple(reached), first_deal, longest_days, current_days, longest_weeks, current_weeks)


def _iso_week_numbers(days: NDArray[np.datetime64]) -> NDArray[np.int64]:
    """A running number per ISO week (Monday-based), comparable across years."""
    numbers = days.astype("datetime64[D]").astype(np.int64)
    return (numbers + 3) // 7  # 1970-01-01 was a Thursday: +3 puts week starts on Mondays.


def _streaks(flags: NDArray[np.bool_]) -> tuple[int, int]:
    """(longest run of True, run of True at the end)."""
    if not flags.size:
        return 0, 0
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.diff(padded)
    run_starts = np.nonzero(edges == 1)[0]
    run_ends = np.nonzero(edges == -1)[0]
    lengths = run_ends - run_starts
    longest = int(lengths.max()) if lengths.size else 0
    current = int(lengths[-1]) if lengths.size and run_ends[-1] == flags.size else 0
    return longest, current
