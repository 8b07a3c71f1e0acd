"""Capacity weights for an org axis: productivity x ramp-up x days employed, per rep and month.

Pure standard library and NumPy. A rep's capacity in a month is
`productivity * ramp[k] * (days employed in the month / days in the month)`, where k counts months
from the start month (0 = the month they start in) and is 1.0 once the ramp is over, so a July
hire gets a proportionally smaller year and nothing before the start date or after the end date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import NDArray

from attain.errors import InvalidInput
from attain.periods import Period

DEFAULT_RAMP: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class Rep:
    """A seller: output per month once fully ramped, and the employment dates (None = open)."""

    name: str
    productivity: float = 1.0
    start: date | None = None
    end: date | None = None


def capacity_matrix(
    reps: Sequence[Rep], months: Sequence[Period], ramp: Sequence[float] = DEFAULT_RAMP
) -> NDArray[np.float64]:
    """Capacity per rep (rows) and month (columns), in productivity units."""
    ramp_factors = np.asarray(ramp, dtype=np.float64)
    if ramp_factors.ndim != 1 or np.any(~np.isfinite(ramp_factors)) or np.any(ramp_factors < 0):
        raise InvalidInput.coded("split.capacity.ramp_list_non_negative")
    capacity = np.zeros((len(reps), len(months)))
    for i, rep in enumerate(reps):
        _check_rep(rep)
        for j, month in enumerate(months):
            capacity[i, j] = rep.productivity * _ramp_factor(rep, month, ramp_factors) * _employed_share(rep, month)
    return capacity


def _check_rep(rep: Rep) -> None:
    if not np.isfinite(rep.productivity) or rep.productivity < 0:
        raise InvalidInput.coded("split.capacity.productivity_zero_more_got", name=rep.name, productivity=rep.productivity)
    if rep.start and rep.end and rep.end < rep.start:
        raise InvalidInput.coded("split.capacity.leaves_before_starting", name=rep.name, end=rep.end, start=rep.start)


def _ramp_factor(rep: Rep, month: Period, ramp: NDArray[np.float64]) -> float:
    if rep.start is None:
        return 1.0
    months_in = (month.start.year - rep.start.year) * 12 + month.start.month - rep.start.month
    if months_in < 0:
        return 0.0
    return float(ramp[months_in]) if months_in < ramp.size else 1.0


def _employed_share(rep: Rep, month: Period) -> float:
    first = max(month.start, rep.start) if rep.start else month.start
    last = min(month.end, rep.end) if rep.end else month.end
    employed = (last - first).days + 1
    return max(employed, 0) / month.days
