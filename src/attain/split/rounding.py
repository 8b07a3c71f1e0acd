"""Exact rounding of a total into parts that sum to it.

NumPy plus SciPy's max-flow: every function takes integer totals in the stored unit (for example
fen) or in rounding units and returns integer arrays whose sums are exactly the targets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import maximum_flow

from attain.errors import InvalidInput


def largest_remainder(total: int, weights: ArrayLike, unit: int = 1) -> NDArray[np.int64]:
    """Split `total` into parts proportional to `weights`, each a multiple of `unit`.

    Largest-remainder (Hamilton) rounding: every part is floored to the unit, then the units
    left over go to the parts with the largest fractional remainders (ties to the earlier part),
    so the parts sum to `total` exactly and each is within one unit of its exact share.
    """
    shares = np.asarray(weights, dtype=np.float64)
    if shares.ndim != 1 or shares.size == 0:
        raise InvalidInput.coded("split.rounding.weights_non_empty_list")
    if not np.all(np.isfinite(shares)) or np.any(shares < 0):
        raise InvalidInput.coded("split.rounding.weights_finite_non_negative")
    if unit <= 0:
        raise InvalidInput.coded("split.rounding.rounding_unit_positive_got", unit=unit)
    if total % unit:
        raise InvalidInput.coded("split.rounding.total_multiple_rounding_unit", total=total, unit=unit)
    weight_sum = shares.sum()
    if weight_sum <= 0:
        if total == 0:
            return np.zeros(shares.size, dtype=np.int64)
        raise InvalidInput.coded("split.rounding.weights_all_zero_so")
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


class RoundingInfeasible(Exception):
    """No integer table on the allowed cells meets the targets. Internal: `calc` names the cause."""


# Fitted tables carry float noise of about 1e-9 units; a cell this close to an integer is that integer.
_SNAP = 1e-6


def controlled_round(
    exact: ArrayLike,
    row_targets: ArrayLike,
    col_targets: ArrayLike,
    allowed: ArrayLike | None = None,
) -> NDArray[np.int64]:
    """Round a 2-D table of non-negative unit counts to integers with exact row and column sums.

    `exact` has shape (rows, cols) in units; the targets are integer unit counts with equal sums;
    `allowed` marks the cells that may be non-zero (default: cells with a positive exact value).
    When the targets are the (integer) sums of `exact`, every cell ends at the floor or the ceiling
    of its exact value: floor every cell, then hand the leftover units to cells with a fraction by
    a bipartite max-flow (row -> column, capacity 1 per cell). The fractional parts are themselves
    a feasible flow, so by the integral-flow theorem an integral one exists.
    If the targets are not reachable that way (an unconverged fit), wider moves are allowed, and
    RoundingInfeasible is raised only when no integer table on the allowed cells exists.
    """
    exact_units, rows, cols, mask = _prepare(exact, row_targets, col_targets, allowed)
    rounded = _round_2d(exact_units, rows, cols, mask, strict=False)
    assert rounded is not None
    return rounded


def _prepare(
    exact: ArrayLike, row_targets: ArrayLike, col_targets: ArrayLike, allowed: ArrayLike | None
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    exact_units = np.clip(np.asarray(exact, dtype=np.float64), 0.0, None)
    rows = np.asarray(row_targets, dtype=np.int64)
    cols = np.asarray(col_targets, dtype=np.int64)
    if exact_units.ndim != 2 or rows.shape != exact_units.shape[:1] or cols.shape != exact_units.shape[1:]:
        raise ValueError("targets do not match the table shape")
    if rows.sum() != cols.sum():
        raise ValueError(f"row targets sum to {rows.sum()}, column targets to {cols.sum()}")
    mask = exact_units > 0 if allowed is None else np.asarray(allowed, dtype=bool)
    return exact_units, rows, cols, mask


def _round_2d(
    exact_units: NDArray[np.float64],
    rows: NDArray[np.int64],
    cols: NDArray[np.int64],
    mask: NDArray[np.bool_],
    strict: bool,
) -> NDArray[np.int64] | None:
    """Floor/ceil rounding by max-flow; if `strict`, None when that is impossible."""
    floors = np.where(mask, np.floor(exact_units + _SNAP), 0).astype(np.int64)
    can_round_up = mask & (exact_units - floors > _SNAP)
    zero = np.zeros_like(floors)
    attempts = [(can_round_up.astype(np.int64), zero)]
    if not strict:
        attempts += [
            (np.where(mask, 2, 0), np.where(mask, np.minimum(floors, 1), 0)),
            (np.where(mask, max(int(rows.sum()), 1), 0), floors),
        ]
    for up_capacity, down_capacity in attempts:
        rounded = _move_units(floors, rows, cols, up_capacity, down_capacity)
        if rounded is not None:
            return rounded
    if strict:
        return None
    raise RoundingInfeasible("no integer table on the allowed cells meets the row and column targets")


def _move_units(
    base: NDArray[np.int64],
    rows: NDArray[np.int64],
    cols: NDArray[np.int64],
    up_capacity: NDArray[np.int64],
    down_capacity: NDArray[np.int64],
) -> NDArray[np.int64] | None:
    """Add/remove units of `base` (within the capacities) so its sums hit the targets, or None.

    A circulation on the bipartite graph rows/columns: a unit flowing row i -> column j adds one to
    cell (i, j), one flowing column j -> row i removes one. Rows short of their target and columns
    over theirs are fed from the source; rows over and columns short drain to the sink.
    """
    n_rows, n_cols = base.shape
    row_gap = rows - base.sum(axis=1)
    col_gap = cols - base.sum(axis=0)
    if not row_gap.any() and not col_gap.any():
        return base.copy()
    source, sink = 0, n_rows + n_cols + 1
    row_nodes = np.arange(1, n_rows + 1)
    col_nodes = np.arange(n_rows + 1, n_rows + n_cols + 1)
    up_r, up_c = np.nonzero(up_capacity)
    down_r, down_c = np.nonzero(down_capacity)
    tails = [
        np.zeros(int((row_gap > 0).sum()) + int((col_gap < 0).sum()), dtype=np.int64),
        row_nodes[row_gap < 0],
        col_nodes[col_gap > 0],
        row_nodes[up_r],
        col_nodes[down_c],
    ]
    heads = [
        np.concatenate([row_nodes[row_gap > 0], col_nodes[col_gap < 0]]),
        np.full(int((row_gap < 0).sum()), sink),
        np.full(int((col_gap > 0).sum()), sink),
        col_nodes[up_c],
        row_nodes[down_r],
    ]
    capacities = [
        np.concatenate([row_gap[row_gap > 0], -col_gap[col_gap < 0]]),
        -row_gap[row_gap < 0],
        col_gap[col_gap > 0],
        up_capacity[up_r, up_c],
        down_capacity[down_r, down_c],
    ]
    needed = int(capacities[0].sum())
    capacity = np.minimum(np.concatenate(capacities), np.iinfo(np.int32).max).astype(np.int32)
    graph = csr_array(
        (capacity, (np.concatenate(tails), np.concatenate(heads))), shape=(sink + 1, sink + 1)
    )
    result = maximum_flow(graph, source, sink)
    if result.flow_value < needed:
        return None
    flow = result.flow.tocoo()
    moved = flow.data > 0
    tails, heads, units = flow.row[moved], flow.col[moved], flow.data[moved].astype(np.int64)
    rounded = base.copy()
    up = (tails >= 1) & (tails <= n_rows) & (heads > n_rows) & (heads < sink)
    rounded[tails[up] - 1, heads[up] - n_rows - 1] += units[up]
    down = (tails > n_rows) & (tails < sink) & (heads >= 1) & (heads <= n_rows)
    rounded[heads[down] - 1, tails[down] - n_rows - 1] -= units[down]
    return rounded


def round_table(
    exact: ArrayLike,
    margin_targets: Sequence[ArrayLike],
    allowed: ArrayLike | None = None,
) -> NDArray[np.int64]:
    """Round an N-D table of unit counts to integers whose 1-D margins are the given targets.

    Recursive: the table summed over the first axis is rounded first (its 1-D margins are the
    other axes), then the first axis against the flattened rest is a 2-D controlled rounding whose
    column targets are that rounded sub-table. In two dimensions every cell is its floor or
    ceiling. From three on that is not always possible (the general problem is NP-hard): each axis
    is tried as the first one, and only if none gives floor/ceil cells are wider moves allowed.
    The 1-D margins are exact either way.
    """
    exact_units = np.asarray(exact, dtype=np.float64)
    mask = exact_units > 0 if allowed is None else np.asarray(allowed, dtype=bool)
    targets = [np.asarray(t, dtype=np.int64) for t in margin_targets]
    if len(targets) != exact_units.ndim:
        raise ValueError("one margin per axis is needed")
    for first in range(exact_units.ndim if exact_units.ndim >= 3 else 1):
        order = [first] + [a for a in range(exact_units.ndim) if a != first]
        rounded = _round_nd(exact_units.transpose(order), [targets[a] for a in order], mask.transpose(order), True)
        if rounded is not None:
            return rounded.transpose(np.argsort(order))
    rounded = _round_nd(exact_units, targets, mask, False)
    assert rounded is not None
    return rounded


def _round_nd(
    exact_units: NDArray[np.float64], targets: Sequence[NDArray[np.int64]], mask: NDArray[np.bool_], strict: bool
) -> NDArray[np.int64] | None:
    if exact_units.ndim == 1:
        return targets[0].copy()
    if exact_units.ndim == 2:
        return _round_2d(*_prepare(exact_units, targets[0], targets[1], mask), strict=strict)
    rest = _round_nd(exact_units.sum(axis=0), targets[1:], mask.any(axis=0), strict)
    if rest is None:
        return None
    n_first = exact_units.shape[0]
    flat = _round_2d(
        *_prepare(exact_units.reshape(n_first, -1), targets[0], rest.ravel(), mask.reshape(n_first, -1)),
        strict=strict,
    )
    return None if flat is None else flat.reshape(exact_units.shape)
