"""Pure figures behind the pages: forecast band, status, milestones, grid re-split; the RFM scores,
segments and lifecycle stages live in `attain.catalog.grading` (shared with the CLI) and are
re-exported here.

NumPy and the standard library only (plus the pure split engine); no database, no web.
Money stays integer fen everywhere except the forecast band, which is a chart (floats in yuan).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from attain.catalog.grading import (
    LIFECYCLE,
    RFM_SEGMENTS,
    lifecycle_stage,
    quintile_scores,
    rfm_segments,
)
from attain.split.calc import Axis, Lock, Shares, split

# Pace gap (attainment − time progress) thresholds for a row's status, in percentage points.
AHEAD_AT = 5.0
ON_TRACK_AT = -5.0
AT_RISK_AT = -15.0
STATUS_LABELS = {
    "ahead": ("领先", "ahead"),
    "on_track": ("正常", "on track"),
    "at_risk": ("有风险", "at risk"),
    "behind": ("落后", "behind"),
    "no_target": ("无目标", "no target"),
}
MILESTONES = (25, 50, 75, 100)


def percent(part: int, whole: int) -> float | None:
    """part / whole in percent (display only), None without a whole."""
    return None if whole <= 0 else 100.0 * part / whole


def status_of(attainment_pct: float | None, time_progress_pct: float) -> str:
    """ahead / on_track / at_risk / behind from the pace gap; no_target without a target."""
    if attainment_pct is None:
        return "no_target"
    gap = attainment_pct - time_progress_pct
    if gap >= AHEAD_AT:
        return "ahead"
    if gap >= ON_TRACK_AT:
        return "on_track"
    if gap >= AT_RISK_AT:
        return "at_risk"
    return "behind"


@dataclass(frozen=True)
class ForecastBand:
    """Cumulative actual (to the last closed point) and a P10/P50/P90 cumulative forecast, in fen."""

    cumulative_actual: NDArray[np.int64]  # one per month up to and including the current month
    p10: NDArray[np.float64]  # one per month of the year, NaN before the current month
    p50: NDArray[np.float64]
    p90: NDArray[np.float64]


def forecast_band(
    actual_by_month: Sequence[int], target_by_month: Sequence[int], current: int, elapsed_share: float
) -> ForecastBand:
    """Forecast the rest of the year from how closed months did against their targets.

    `current` is the 0-based index of the month holding the as-of date, `elapsed_share` the share of
    it that has passed. Each remaining month is forecast as its target × a ratio taken from the closed
    months' actual/target ratios (10th, 50th, 90th percentile); the current month keeps its actual so
    far plus the unelapsed share of its target × the same ratio. Without a closed month with a target
    the ratio is the current month's pace (or 1).
    """
    actual = np.asarray(actual_by_month, dtype=np.int64)
    target = np.asarray(target_by_month, dtype=np.int64)
    closed = np.arange(len(actual)) < current
    with_target = closed & (target > 0)
    if with_target.any():
        ratios = actual[with_target] / target[with_target]
    elif target[current] > 0 and elapsed_share > 0:
        ratios = np.array([actual[current] / (target[current] * elapsed_share)])
    else:
        ratios = np.array([1.0])
    cumulative = np.cumsum(actual)[: current + 1]
    bands = []
    for q in (10, 50, 90):
        ratio = float(np.percentile(ratios, q))
        future = target.astype(np.float64) * ratio
        future[current] = actual[current] + (1.0 - elapsed_share) * target[current] * ratio
        path = np.full(len(actual), np.nan)
        path[current:] = cumulative[current - 1] if current > 0 else 0.0
        path[current:] += np.cumsum(future[current:])
        bands.append(path)
    return ForecastBand(cumulative, *bands)


def milestones_reached(actual: int, target: int) -> list[int]:
    """The 25/50/75/100 % marks of the target that the actual has passed."""
    if target <= 0:
        return []
    return [m for m in MILESTONES if actual * 100 >= target * m]


def streak(hits: Sequence[bool]) -> int:
    """How many of the last periods in a row were hits (counting back from the end)."""
    count = 0
    for hit in reversed(hits):
        if not hit:
            break
        count += 1
    return count


def ranks(scores: Sequence[float | None]) -> list[int | None]:
    """Competition ranks (1, 2, 2, 4 …) of the scores, highest first; None scores get no rank."""
    values = [s for s in scores if s is not None]
    ordered = sorted(values, reverse=True)
    return [None if s is None else ordered.index(s) + 1 for s in scores]


# --- plan grid ---------------------------------------------------------------------------------


def resplit_grid(
    values: Mapping[tuple[int, str], int], locked: set[tuple[int, str]], total: int, unit: int,
    edit: tuple[tuple[int, str], int],
) -> dict[tuple[int, str], int]:
    """Set one cell of a (row, column) grid and re-split the unlocked rest so the total holds.

    The edited cell and every locked cell keep their values; the other cells share what is left in
    proportion to their current values (equally when they are all zero), as exact multiples of
    `unit` (largest remainder, through the split engine). The grid's sum stays `total`.
    """
    key, value = edit
    keys = sorted(values)
    members = tuple(f"{row}|{col}" for row, col in keys)
    prior = np.array([max(values[k], 0) for k in keys], dtype=np.float64)
    fixed = (locked | {key}) & set(keys)
    locks = [Lock.of({"cell": f"{k[0]}|{k[1]}"}, value if k == key else values[k]) for k in sorted(fixed)]
    free = [i for i, k in enumerate(keys) if k not in fixed]
    shares = Shares.HISTORY if free and prior[free].sum() > 0 else Shares.EQUAL
    result = split(total, unit, [Axis("cell", members, shares)], prior=prior if shares is Shares.HISTORY else None,
                   locks=locks, spread_zero_prior=True)
    return {k: int(v) for k, v in zip(keys, result.cells.tolist())}


def spread_down(new_value: int, children: Mapping[int, int], locked: set[int], unit: int) -> dict[int, int]:
    """Share a parent's new value over its children in proportion to their current values, keeping
    locked children fixed; exact multiples of `unit` that add up to `new_value`."""
    ids = sorted(children)
    members = tuple(str(i) for i in ids)
    prior = np.array([max(children[i], 0) for i in ids], dtype=np.float64)
    locks = [Lock.of({"child": str(i)}, children[i]) for i in ids if i in locked]
    free = [k for k, i in enumerate(ids) if i not in locked]
    shares = Shares.HISTORY if free and prior[free].sum() > 0 else Shares.EQUAL
    result = split(new_value, unit, [Axis("child", members, shares)], prior=prior if shares is Shares.HISTORY else None,
                   locks=locks, spread_zero_prior=True)
    return {i: int(v) for i, v in zip(ids, result.cells.tolist())}


# The grading names are re-exported for the customers page, which reads them as calc.*.
__all__ = [
    "LIFECYCLE", "MILESTONES", "RFM_SEGMENTS", "STATUS_LABELS", "ForecastBand", "forecast_band", "lifecycle_stage",
    "milestones_reached", "percent", "quintile_scores", "ranks", "resplit_grid", "rfm_segments", "spread_down",
    "status_of", "streak",
]
