"""The plan editor's grid re-split (pure); the RFM scores, segments and lifecycle stages live in
`attain.catalog.grading` (shared with the CLI) and are re-exported here.

No figures of attainment here: statuses, forecasts and milestones are tracking's (`attain.tracking`).
NumPy and the standard library only (plus the pure split engine); no database, no web.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from attain.catalog.grading import (
    LIFECYCLE,
    RFM_SEGMENTS,
    lifecycle_stage,
    quintile_scores,
    rfm_segments,
)
from attain.split.calc import Axis, Lock, Shares, split

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
__all__ = ["LIFECYCLE", "RFM_SEGMENTS", "lifecycle_stage", "quintile_scores", "resplit_grid", "rfm_segments", "spread_down"]
