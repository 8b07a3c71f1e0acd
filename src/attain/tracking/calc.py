"""Pure core of tracking: time progress, target proration, attainment figures, status, milestones.

NumPy and the standard library only (plus the pure working-day calendar of the split engine); no
database. Money is in the metric's minor units (fen for revenue): actuals are exact integers (or
Decimals for quantities), targets are exact Fractions until they are rounded once to the minor
unit, ratios are Decimals with four decimal places (0.0001 = 0.01 %).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from functools import lru_cache
from itertools import accumulate, repeat
from operator import attrgetter

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
MANAGER_OWN = "own (manager)"  # shown on the manager's row, never added into a total
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


@dataclass(frozen=True)
class CellDays:
    """Plan cells as columns, built once for many windows (a rep × month report has 60,000 cells
    and twelve windows). `keys[key_index[i]]` is cell i's key; days count from 1970-01-01."""

    keys: tuple[tuple[object, ...], ...]
    key_index: NDArray[np.int64]
    ranks: NDArray[np.int64]
    starts: NDArray[np.int64]
    ends: NDArray[np.int64]  # exclusive
    values: NDArray[np.int64] | NDArray[np.object_]  # object (exact Python ints) beyond int64's safe range

    @property
    def size(self) -> int:
        return int(self.starts.size)


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Cell values below this (88 billion yuan in fen) sum exactly in int64: one key and window add at
# most one cell per day of the window, and 2**43 × 3,660 days < 2**63. Larger ones stay Python ints.
_INT64_SAFE = 2**43


def cell_table(
    keys: Sequence[tuple[object, ...]], ranks: Sequence[int], starts: Sequence[date], ends: Sequence[date],
    values: Sequence[int],
) -> CellDays:
    """A CellDays from parallel columns (one entry per cell, `ends` inclusive)."""
    index: dict[tuple[object, ...], int] = {}
    key_index = np.fromiter((index.setdefault(k, len(index)) for k in keys), np.int64, len(keys))
    number = np.array(values, dtype=object) if len(values) else np.zeros(0, np.int64)
    if not len(values) or max(abs(int(v)) for v in (min(values), max(values))) < _INT64_SAFE:
        number = np.fromiter((int(v) for v in values), np.int64, len(values))
    return CellDays(
        tuple(index), key_index, np.fromiter(ranks, np.int64, len(ranks)),
        np.fromiter((d.toordinal() for d in starts), np.int64, len(starts)) - _EPOCH_ORDINAL,
        np.fromiter((d.toordinal() for d in ends), np.int64, len(ends)) - _EPOCH_ORDINAL + 1,
        number,
    )


def cell_days(cells: Sequence[Cell]) -> CellDays:
    return cell_table([c.key for c in cells], [c.rank for c in cells], [c.start for c in cells],
                      [c.end for c in cells], [c.value for c in cells])


@dataclass(frozen=True)
class CellRun:
    """Cells that differ only by org node: one span (and rank) of one rest of the key (product,
    customer type), as the database groups them. `nodes[i]` has the cell of value `values[i]`."""

    rest: tuple[object, ...]
    rank: int
    start: date
    end: date  # inclusive
    nodes: NDArray[np.int64]
    values: NDArray[np.int64]


def cell_table_of_runs(runs: Sequence[CellRun]) -> CellDays:
    """A CellDays from runs of cells, keyed (node, *rest), without a Python object per cell: a rep ×
    month plan arrives as twelve runs of 5,000 cells."""
    if not runs:
        return cell_table([], [], [], [], [])
    sizes = np.array([run.nodes.size for run in runs], dtype=np.int64)
    rests: dict[tuple[object, ...], int] = {}
    rest_ids = np.repeat([rests.setdefault(run.rest, len(rests)) for run in runs], sizes)
    node_ids, node_index = np.unique(np.concatenate([run.nodes for run in runs]), return_inverse=True)
    # One integer per (rest, node), in [0, rests × nodes): np.unique on it is a plain int64 sort.
    unique_codes, key_index = np.unique(rest_ids * node_ids.size + node_index, return_inverse=True)
    key_rests, key_nodes = np.divmod(unique_codes, node_ids.size)
    rest_of = list(rests)
    values = np.concatenate([run.values for run in runs])
    if values.size and (values.max() >= _INT64_SAFE or values.min() <= -_INT64_SAFE):
        values = values.astype(object)  # exact Python ints, as `cell_table` keeps them
    return CellDays(
        tuple((node, *rest_of[rest]) for rest, node in zip(key_rests.tolist(), node_ids[key_nodes].tolist())),
        key_index.reshape(-1),
        np.repeat([run.rank for run in runs], sizes).astype(np.int64),
        np.repeat([run.start.toordinal() for run in runs], sizes).astype(np.int64) - _EPOCH_ORDINAL,
        np.repeat([run.end.toordinal() for run in runs], sizes).astype(np.int64) - _EPOCH_ORDINAL + 1,
        values,
    )


def prorated_targets(
    cells: Sequence[Cell] | CellDays, start: date, end: date, *, calendar: WorkCalendar = OFFICIAL_CALENDAR
) -> dict[tuple[object, ...], Fraction | int]:
    """Exact target of each key over [start, end].

    Cells inside the window count whole; a cell that overlaps it partly counts for the share of
    its working days that fall inside (calendar days when the cell has no working day). A key may
    hold several layers of cells (a year cell and twelve month cells, as quota sheets do): the
    finest layer that covers the whole window is used, else the layer covering most of it, so a
    figure is never counted twice.
    """
    return prorated_targets_many(cells, [(start, end)], calendar=calendar)[0]


def prorated_targets_many(
    cells: Sequence[Cell] | CellDays, windows: Sequence[tuple[date, date]], *,
    calendar: WorkCalendar = OFFICIAL_CALENDAR,
) -> list[dict[tuple[object, ...], Fraction | int]]:
    """`prorated_targets` of every window at once (see `prorated_target_matrix`)."""
    table = cells if isinstance(cells, CellDays) else cell_days(cells)
    exact = prorated_target_matrix(table, windows, calendar=calendar)
    present = np.not_equal(exact, None)
    return [{table.keys[k]: exact[k, w] for k in np.flatnonzero(present[:, w]).tolist()} for w in range(len(windows))]


def prorated_target_matrix(
    cells: Sequence[Cell] | CellDays, windows: Sequence[tuple[date, date]], *,
    calendar: WorkCalendar = OFFICIAL_CALENDAR,
) -> NDArray[np.object_]:
    """Keys × windows (keys in `CellDays.keys` order): each key's exact target in each window as
    `prorated_targets` counts it, None where none of its cells overlaps the window. One cells ×
    windows overlap matrix in NumPy; whole cells sum as integers, only partly covered cells make
    Fractions. A report reads its rows' targets as columns of it, without a dictionary per window."""
    table = cells if isinstance(cells, CellDays) else cell_days(cells)
    results = np.full((len(table.keys), len(windows)), None, dtype=object)
    if not table.size or not windows:
        return results
    bounds = np.array([(w.toordinal(), e.toordinal() + 1) for w, e in windows], dtype=np.int64) - _EPOCH_ORDINAL
    window_starts, window_ends = bounds[:, 0], bounds[:, 1]
    lo = np.maximum(table.starts[:, None], window_starts[None, :])
    hi = np.minimum(table.ends[:, None], window_ends[None, :])
    overlap = np.clip(hi - lo, 0, None)  # days of cell i inside window w
    cell_index, window_index = np.nonzero(overlap)
    if not cell_index.size:
        return results
    first = int(min(table.starts[cell_index].min(), window_starts.min()))
    last = int(max(table.ends[cell_index].max(), window_ends.max()))
    mask = working_days(date.fromordinal(first + _EPOCH_ORDINAL), date.fromordinal(last - 1 + _EPOCH_ORDINAL), calendar)
    prefix = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
    keys = table.key_index[cell_index]
    ranks = table.ranks[cell_index]
    days = overlap[cell_index, window_index]
    # The layer of each (key, window): the most days covered, the finest rank among ties.
    rank_count = int(table.ranks.max()) + 1
    coverage = np.zeros((len(table.keys), len(windows), rank_count), dtype=np.int64)
    np.add.at(coverage, (keys, window_index, ranks), days)
    most = coverage.max(axis=2, keepdims=True)
    best = rank_count - 1 - np.argmax((coverage == most)[:, :, ::-1], axis=2)
    chosen = ranks == best[keys, window_index]
    cell_index, window_index, keys, days = cell_index[chosen], window_index[chosen], keys[chosen], days[chosen]
    length = table.ends[cell_index] - table.starts[cell_index]
    whole = days == length
    values = table.values[cell_index]
    sums = np.zeros((len(table.keys), len(windows)), dtype=table.values.dtype)
    if table.values.dtype == object:
        sums.fill(0)  # Python ints, not None
    np.add.at(sums, (keys[whole], window_index[whole]), values[whole])
    present = np.zeros((len(table.keys), len(windows)), dtype=bool)
    present[keys, window_index] = True
    results[present] = sums[present]  # Python ints in an object array
    partial = np.nonzero(~whole)[0]
    if partial.size:
        starts = table.starts[cell_index[partial]] - first
        ends = table.ends[cell_index[partial]] - first
        part_lo = lo[cell_index[partial], window_index[partial]] - first
        part_hi = hi[cell_index[partial], window_index[partial]] - first
        cell_work = prefix[ends] - prefix[starts]
        part_work = prefix[part_hi] - prefix[part_lo]
        for j, i in enumerate(partial.tolist()):
            k, w = int(keys[i]), int(window_index[i])
            if cell_work[j]:
                share = Fraction(int(values[i]) * int(part_work[j]), int(cell_work[j]))
            else:
                share = Fraction(int(values[i]) * int(days[i]), int(length[i]))
            results[k, w] = results[k, w] + share
    return results


def rolled_up_target(
    node: int, own: Mapping[int, Fraction | int], children: Mapping[int, Sequence[int]],
    managers: AbstractSet[int] = frozenset(),
) -> tuple[Fraction | int | None, str | None]:
    """A node's target: its own cell when it has one, else the sum of its children's (each own or
    rolled up in turn). (None, None) when nothing below it has a target.

    A manager's own target (`managers`: people others report to, or with a manager's title) covers
    their people's targets: it is never added into a sum, only the people below them are."""
    if node in own:
        return own[node], MANAGER_OWN if node in managers else OWN
    return _sum_below(node, own, children, managers)


def _sum_below(
    node: int, own: Mapping[int, Fraction | int], children: Mapping[int, Sequence[int]], managers: AbstractSet[int],
) -> tuple[Fraction | int | None, str | None]:
    known = []
    for child in children.get(node, ()):
        if child in managers:
            part = _sum_below(child, own, children, managers)[0]
        else:
            part = rolled_up_target(child, own, children, managers)[0]
        if part is not None:
            known.append(part)
    if not known:
        return None, None
    # Whole parts add as ints first: a company of 5,000 reps would make 5,000 Fraction additions.
    whole = sum(part for part in known if type(part) is int)
    return sum((part for part in known if type(part) is not int), Fraction(whole)), SUM_OF_CHILDREN


# --- attainment figures -------------------------------------------------------------------------


# Not frozen: reports make one per row (60,000 for rep × month), and a frozen __init__ is 6× slower;
# slots: smaller rows, less for the garbage collector to walk.
@dataclass(slots=True)
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
STATUS_BOUND_SCALE = max(max(num, den) for (num, den), _name in _STATUS_BOUNDS_RATIONAL)


def _round_div_int(num: int, den: int, places: int = 0) -> int:
    """num / den × 10**places rounded half to even, as an int (den > 0)."""
    quotient, remainder = divmod(num * 10**places, den)
    if 2 * remainder > den or (2 * remainder == den and quotient % 2):
        quotient += 1
    return quotient


def _round_div(num: int, den: int, places: int = 0) -> Decimal:
    """num / den rounded half to even at `places` decimals, with integers only (den > 0).

    Tracking computes tens of thousands of rows (rep × month); plain integer arithmetic keeps that
    fast where Fraction (a gcd per operation) would not, and gives the same exact result."""
    quotient = _round_div_int(num, den, places)
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


def _round_div_many(num: NDArray[np.integer], den: NDArray[np.integer], places: int = 0) -> NDArray[np.integer]:
    """`_round_div` element by element (den > 0), on int64 arrays or arrays of Python ints."""
    scaled = num * 10**places if places else num
    quotient = scaled // den
    twice = 2 * (scaled - quotient * den)
    up = ((twice > den) | ((twice == den) & (quotient % 2 == 1))).astype(bool)
    return np.where(up, quotient + 1, quotient)


def _ints(values: Sequence[int]) -> NDArray[np.object_]:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


# Below this every product `figures_many` forms fits in int64 (the bounds are checked per call).
_INT64_LIMIT = 2**62


def _int64_safe(a: int, a_den: int, t: int, t_den: int, s: int, s_den: int, days: int) -> bool:
    """Whether every intermediate of `figures_many` stays below 2**62 in absolute value, given
    the largest |actual numerator|, actual denominator, |target numerator|, target denominator,
    seasonal share numerator and denominator, and period length in days."""
    bound_scale = max(STATUS_BOUND_SCALE, 1)
    largest = max(
        bound_scale * a * t_den * s_den, bound_scale * a_den * t * s,  # status: actual vs expected
        a * t_den * 10**4, a_den * t,  # attainment to four places
        (t * a_den + a * t_den) * 2, t_den * a_den * days * 2,  # required daily
        a * max(s_den, days) * 2, a_den * max(s, days) * 2,  # seasonal and run-rate forecasts
        t * s, t_den * s_den * 2,  # expected to date
    )
    return largest < _INT64_LIMIT


@dataclass(frozen=True)
class FigureColumns:
    """`figures` of many rows as integer columns (int64, or arrays of Python ints when a product
    could pass int64): money in whole minor units (fen), `attainment` and `pace_gap` in 10**-4.
    Row i's figure is missing where its mask is False. `figures()` is the same as Decimals."""

    actual: NDArray[np.integer]  # numerator of each actual (denominator `actual_den`: 1 for sums of fen)
    actual_den: NDArray[np.integer]
    target: NDArray[np.integer]  # the target rounded half to even to whole minor units
    has_target: NDArray[np.bool_]
    attainment: NDArray[np.integer]
    pace_gap: NDArray[np.integer]
    has_attainment: NDArray[np.bool_]
    expected_to_date: NDArray[np.integer]  # where has_target
    run_rate_forecast: NDArray[np.integer]
    has_run_rate: NDArray[np.bool_]
    seasonal_forecast: NDArray[np.integer]
    has_season: NDArray[np.bool_]
    required_daily: NDArray[np.integer]
    has_required: NDArray[np.bool_]
    status: NDArray[np.object_]  # a status string, None where the row has no target

    def __len__(self) -> int:
        return len(self.status)

    def take(self, rows: slice | NDArray[np.integer]) -> FigureColumns:
        """The columns of some rows (a slice, or an index array)."""
        return FigureColumns(*(getattr(self, name)[rows] for name in self.__dataclass_fields__))

    def figures(self) -> list[Figures]:
        """Every row's `Figures` (Decimals, None where missing), exactly as `figures` gives them."""
        run_rates, seasonals = _decimals(self.run_rate_forecast, self.has_run_rate), _decimals(self.seasonal_forecast, self.has_season)
        attainments = _decimals(self.attainment, self.has_attainment, 4)
        gaps = _decimals(self.pace_gap, self.has_attainment, 4)
        expecteds, requireds = _decimals(self.expected_to_date, self.has_target), _decimals(self.required_daily, self.has_required)
        return list(map(Figures, attainments, gaps, expecteds, run_rates, seasonals, requireds, self.status.tolist()))


def round_many(values: Sequence[Fraction | int | None]) -> tuple[NDArray[np.integer], NDArray[np.bool_]]:
    """`round_fraction` of every value as an integer column (0 where None) and where it is known."""
    known = [0 if value is None else value for value in values]
    has = np.fromiter(map(_is_not_none, values), bool, len(values))
    nums, dens = list(map(_NUMERATOR, known)), list(map(_DENOMINATOR, known))
    small = not nums or (max(map(abs, nums)) < _INT64_LIMIT // 4 and max(dens) < _INT64_LIMIT // 4)
    array = (lambda column: np.array(column, dtype=np.int64)) if small else _ints
    return _round_div_many(array(nums), array(dens)), has


def figures_many(
    actuals: Sequence[int | Decimal], targets: Sequence[Fraction | int | None],
    progresses: Sequence[TimeProgress], progress_index: Sequence[int],
) -> list[Figures]:
    """`figures(actuals[i], targets[i], progresses[progress_index[i]])` for every row at once: the
    Decimal view of `figure_columns`."""
    if not len(actuals):
        return []
    return figure_columns(actuals, targets, progresses, progress_index).figures()


def figure_columns(
    actuals: Sequence[int | Decimal], targets: Sequence[Fraction | int | None],
    progresses: Sequence[TimeProgress], progress_index: Sequence[int],
) -> FigureColumns:
    """`figures(actuals[i], targets[i], progresses[progress_index[i]])` for every row at once, as
    integer columns.

    The same exact integer arithmetic as `figures`, as array operations: on int64 when the inputs
    are small enough that no product can overflow (checked for each call; rows of up to about two
    billion yuan), else on arrays of Python ints. A rep × month report (60,000 rows) costs a few
    array operations instead of 60,000 calls."""
    n = len(actuals)
    if not n:
        empty, none = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
        return FigureColumns(empty, empty, empty, none, empty, empty, none, empty, empty, none, empty, none, empty, none,
                             np.zeros(0, dtype=object))
    if set(map(type, actuals)) == {int}:  # the usual case (sums of fen): no ratio to take apart
        a_list, a_den_list = list(actuals), [1] * n
    else:
        a_list, a_den_list = map(list, zip(*map(_ratio_parts, actuals)))
    has_target = np.fromiter(map(_is_not_none, targets), bool, n)
    known_targets = [0 if t is None else t for t in targets]
    t_list, t_den_list = list(map(_NUMERATOR, known_targets)), list(map(_DENOMINATOR, known_targets))
    at = np.asarray(progress_index, dtype=np.int64)
    shares = [p.seasonal_share for p in progresses]
    safe64 = _int64_safe(
        max(map(abs, a_list)), max(a_den_list), max(map(abs, t_list)), max(t_den_list),
        max(s.numerator for s in shares), max(s.denominator for s in shares), max(p.days for p in progresses),
    )
    array = (lambda values: np.array(values, dtype=np.int64)) if safe64 else _ints
    a_num, a_den, t_num, t_den = array(a_list), array(a_den_list), array(t_list), array(t_den_list)

    def column(read) -> NDArray[np.integer]:  # type: ignore[no-untyped-def]
        return array([read(p) for p in progresses])[at]

    days, days_elapsed = column(lambda p: p.days), column(lambda p: p.days_elapsed)
    working, working_elapsed = column(lambda p: p.working_days), column(lambda p: p.working_days_elapsed)
    working_left = column(lambda p: p.working_days_left)
    s_num, s_den = column(lambda p: p.seasonal_share.numerator), column(lambda p: p.seasonal_share.denominator)
    share_pct = column(lambda p: _round_div_int(p.working_share.numerator, p.working_share.denominator, 4))
    one = array([1] * n)

    def safe(den: NDArray[np.integer], ok: NDArray[np.bool_]) -> NDArray[np.integer]:
        return np.where(ok, den, one)

    by_work = (working_elapsed != 0).astype(bool)
    by_day = ((working_elapsed == 0) & (days_elapsed != 0)).astype(bool)
    run_rate = np.where(by_work, _round_div_many(a_num * working, safe(a_den * working_elapsed, by_work)),
                        _round_div_many(a_num * days, safe(a_den * days_elapsed, by_day)))
    has_run_rate = by_work | by_day
    has_season = (s_num != 0).astype(bool)
    seasonal = _round_div_many(a_num * s_den, safe(a_den * s_num, has_season))
    has_attainment = has_target & (t_num != 0).astype(bool)
    attainment = _round_div_many(a_num * t_den, safe(a_den * t_num, has_attainment), 4)
    pace_gap = attainment - share_pct
    has_required = has_target & (working_left != 0).astype(bool)
    left = np.maximum(t_num * a_den - a_num * t_den, 0)
    required = _round_div_many(left, safe(t_den * a_den * working_left, has_required))
    expected_num, expected_den = t_num * s_num, t_den * s_den
    expected = _round_div_many(expected_num, expected_den)
    started = (days_elapsed != 0).astype(bool)
    due = (expected_num != 0).astype(bool)
    pace_num, pace_den = a_num * expected_den, a_den * expected_num
    status = np.full(n, BEHIND, dtype=object)
    for (bound_num, bound_den), name in reversed(_STATUS_BOUNDS_RATIONAL):
        status = np.where((pace_num * bound_den >= bound_num * pace_den).astype(bool), name, status)
    status = np.where(due, status, status_of(Fraction(1)))
    status = np.where(started, status, NOT_STARTED)

    target = _round_div_many(t_num, np.where(has_target, t_den, one))
    statuses = np.where(has_target, status, None)
    return FigureColumns(a_num, a_den, target, has_target, attainment, pace_gap, has_attainment, expected,
                         run_rate, has_run_rate, seasonal, has_season, required, has_required, statuses)


_NUMERATOR, _DENOMINATOR = attrgetter("numerator"), attrgetter("denominator")  # of ints and Fractions alike


def _is_not_none(value: object) -> bool:
    return value is not None


def _decimals(values: NDArray[np.integer], keep: NDArray[np.bool_], places: int = 0) -> list[Decimal | None]:
    """Decimal(v).scaleb(-places) of each value, None where `keep` is False. Mapped over the column
    rather than called per row: a rep × month report converts 360,000 figures."""
    numbers: list[Decimal | None] = list(map(Decimal, values.tolist()))
    if places:
        numbers = list(map(Decimal.scaleb, numbers, repeat(-places)))  # type: ignore[arg-type]
    for i in np.flatnonzero(~keep).tolist():
        numbers[i] = None
    return numbers


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


# --- forecast band (dashboard) --------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastBand:
    """Where a period may end: P50 is tracking's seasonal forecast of the row itself (the figure
    `attain report attainment` prints); P10 and P90 stretch what is still to come by how the pace
    (actual ÷ target) of the closed months spread around their median. Cumulative month paths for a
    chart: the actual up to the month holding as-of, the target, and each forecast from that month
    on (None before it). Money in the metric's minor unit, whole units."""

    p10: Decimal
    p50: Decimal
    p90: Decimal
    current: int  # index of the month holding as-of (the last month once the period is over)
    cumulative_actual: tuple[int | Decimal, ...]  # months 0..current
    cumulative_target: tuple[Decimal, ...]  # every month (a month without a target adds 0)
    path_p10: tuple[Decimal | None, ...]
    path_p50: tuple[Decimal | None, ...]
    path_p90: tuple[Decimal | None, ...]


BAND_QUANTILES = (10, 50, 90)
_STRETCH = Decimal("0.000001")  # the band's stretch factors are fixed to 6 decimals (reproducible)


def forecast_band(
    actual: int | Decimal, seasonal_forecast: Decimal | None, month_actuals: Sequence[int | Decimal],
    month_targets: Sequence[Decimal | None], month_progress: Sequence[TimeProgress],
) -> ForecastBand | None:
    """The band of a row from its own figures and its month rows (the same report by month).

    A closed month (all its days elapsed) with a positive target gives one pace ratio; the P10/P90
    stretch is the ratio's 10th/90th percentile over its median (1 without such months), applied to
    what the seasonal forecast still expects (forecast − actual). The rest is spread over the months
    from the current one in proportion to their target not yet due (target × (1 − seasonal share);
    equally when none is). None before the period starts (no seasonal forecast)."""
    if seasonal_forecast is None or not month_progress:
        return None
    closed = [Fraction(a) / Fraction(t) for a, t, p in zip(month_actuals, month_targets, month_progress)
              if t is not None and t > 0 and p.days_elapsed == p.days]
    stretch = {q: Decimal(1) for q in BAND_QUANTILES}
    if closed:
        ratios = np.array([float(r) for r in closed])
        median = float(np.percentile(ratios, 50))
        if median > 0:
            for q in (10, 90):
                stretch[q] = Decimal(repr(float(np.percentile(ratios, q)) / median)).quantize(_STRETCH)
    remaining = Fraction(seasonal_forecast) - Fraction(actual)
    ends = {q: seasonal_forecast if q == 50 else to_decimal(Fraction(actual) + remaining * Fraction(stretch[q]))
            for q in BAND_QUANTILES}
    started = [i for i, p in enumerate(month_progress) if p.days_elapsed]
    current = started[-1] if started else 0
    cumulative_actual = tuple(accumulate(month_actuals[: current + 1]))
    targets = [Fraction(0) if t is None else Fraction(t) for t in month_targets]
    cumulative_target = tuple(to_decimal(sum(targets[: i + 1], Fraction(0))) for i in range(len(targets)))
    due = [targets[i] * (1 - month_progress[i].seasonal_share) if i >= current else Fraction(0)
           for i in range(len(targets))]
    total_due = sum(due, Fraction(0))
    later = len(targets) - current
    weights = [d / total_due for d in due] if total_due > 0 else [
        Fraction(int(i >= current), later) for i in range(len(targets))]
    paths: dict[int, tuple[Decimal | None, ...]] = {}
    for q in BAND_QUANTILES:
        rest = Fraction(ends[q]) - Fraction(actual)
        share = Fraction(0)
        path: list[Decimal | None] = []
        for i in range(len(targets)):
            share += weights[i]
            path.append(None if i < current else to_decimal(Fraction(actual) + rest * share))
        path[-1] = ends[q]  # the end is the band's figure itself, whatever the rounding on the way
        paths[q] = tuple(path)
    return ForecastBand(ends[10], ends[50], ends[90], current, cumulative_actual, cumulative_target,
                        paths[10], paths[50], paths[90])
