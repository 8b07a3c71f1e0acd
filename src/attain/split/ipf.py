"""Iterative proportional fitting (raking) of an N-D seed table to 1-D margins. Pure NumPy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

_STALL_CYCLES = 50


@dataclass(frozen=True)
class Fit:
    """A fitted table: `cells` in the margins' unit, the cycles run, and the largest margin gap."""

    cells: NDArray[np.float64]
    iterations: int
    max_margin_error: float


def margin_errors(cells: NDArray[np.float64], targets: Sequence[NDArray[np.float64]]) -> float:
    """Largest absolute gap between a 1-D margin of `cells` and its target, over all axes."""
    worst = 0.0
    for axis, target in enumerate(targets):
        others = tuple(a for a in range(cells.ndim) if a != axis)
        worst = max(worst, float(np.abs(cells.sum(axis=others) - target).max()))
    return worst


def fit_margins(
    seed: ArrayLike,
    targets: Sequence[ArrayLike],
    *,
    tolerance: float = 1e-7,
    max_iterations: int = 1000,
) -> Fit:
    """Scale `seed` (non-negative, one axis per target) until every 1-D margin matches its target.

    Each cycle rescales the table along every axis in turn (vectorised: one sum and one broadcast
    multiply per axis). It stops when, at the start of a cycle, no margin is off by more than
    `tolerance`, or when the gap has stopped shrinking (an infeasible pattern). Zero cells stay
    zero, so the seed's zeros are structural.
    """
    cells = np.array(seed, dtype=np.float64, copy=True)
    goals = [np.asarray(t, dtype=np.float64) for t in targets]
    others = [tuple(a for a in range(cells.ndim) if a != axis) for axis in range(cells.ndim)]
    iterations = 0
    best, best_at = float("inf"), 0
    for iterations in range(1, max_iterations + 1):
        worst = 0.0
        for axis, goal in enumerate(goals):
            current = cells.sum(axis=others[axis])
            worst = max(worst, float(np.abs(current - goal).max()))
            factor = np.divide(goal, current, out=np.zeros_like(current), where=current > 0)
            shape = [1] * cells.ndim
            shape[axis] = -1
            cells *= factor.reshape(shape)
        if worst <= tolerance:
            break
        if worst < best * (1 - 1e-3):
            best, best_at = worst, iterations
        elif iterations - best_at >= _STALL_CYCLES:
            # No progress for a while: the margins cannot all be met on the seed's non-zero cells.
            break
    return Fit(cells=cells, iterations=iterations, max_margin_error=margin_errors(cells, goals))
