"""Exact rounding of a total into parts that sum to it.

Pure NumPy: every function takes integer totals in the stored unit (for example fen) and returns
integer arrays whose sum is exactly the total.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from attain.errors import InvalidInput


def largest_remainder(total: int, weights: ArrayLike, unit: int = 1) -> NDArray[np.int64]:
    """Split `total` into parts proportional to `weights`, each a multiple of `unit`.

    Largest-remainder (Hamilton) rounding: every part is floored to the unit, then the units
    left over go to the parts with the largest fractional remainders (ties to the earlier part),
    so the parts sum to `total` exactly and each is within one unit of its exact share.
    """
    shares = np.asarray(weights, dtype=np.float64)
    if shares.ndim != 1 or shares.size == 0:
        raise InvalidInput("weights must be a non-empty list")
    if not np.all(np.isfinite(shares)) or np.any(shares < 0):
        raise InvalidInput("weights must be finite and non-negative")
    if unit <= 0:
        raise InvalidInput(f"rounding unit must be positive, got {unit}")
    if total % unit:
        raise InvalidInput(f"total {total} is not a multiple of the rounding unit {unit}")
    weight_sum = shares.sum()
    if weight_sum <= 0:
        if total == 0:
            return np.zeros(shares.size, dtype=np.int64)
        raise InvalidInput("weights are all zero, so there is nothing to split the total by")
    units = total // unit
    exact = shares / weight_sum * units
    floors = np.floor(exact).astype(np.int64)
    shortfall = int(units - floors.sum())
    if shortfall:
        # Stable sort on the negated remainder: ties go to the earlier member, so the
        # result does not depend on anything but the input order.
        order = np.argsort(-(exact - floors), kind="stable")
        floors[order[:shortfall]] += 1
    return floors * unit
