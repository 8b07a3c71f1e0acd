"""Top-down targets against bottom-up commitments: the gap per node and a reconciled plan. Pure NumPy."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from attain.errors import InvalidInput
from attain.split.rounding import largest_remainder


class ReconcileRule(str, Enum):
    SCALE = "scale"
    MAX = "max"


@dataclass(frozen=True)
class Reconciliation:
    """Per node (money): `gaps` = bottom-up minus top-down, `plan` the reconciled targets."""

    gaps: NDArray[np.int64]
    plan: NDArray[np.int64]
    warnings: tuple[str, ...]

    @property
    def total(self) -> int:
        return int(self.plan.sum())


def reconcile(
    top_down: ArrayLike,
    bottom_up: ArrayLike,
    unit: int,
    rule: ReconcileRule,
    names: tuple[str, ...] | None = None,
) -> Reconciliation:
    """Reconcile per-node targets (1-D, same order, multiples of `unit`).

    scale: bottom-up shares, scaled so the plan adds up to the top-down total exactly.
    max: nodes that committed more than top-down keep their commitment; what is left of the
    top-down total is re-split over the other nodes by their top-down targets, so the total stays
    the top-down total. Only if those commitments alone exceed it does the total rise to their sum
    (the other nodes then get nothing, and a warning says so).
    """
    planned = _amounts(top_down, unit, "top-down", names)
    committed = _amounts(bottom_up, unit, "bottom-up", names)
    if planned.shape != committed.shape:
        raise InvalidInput.coded("split.reconcile.top_down_bottom_up")
    total = int(planned.sum())
    gaps = committed - planned
    if rule is ReconcileRule.SCALE:
        if total and committed.sum() == 0:
            raise InvalidInput.coded("split.reconcile.there_bottom_up_commitments")
        return Reconciliation(gaps, largest_remainder(total, committed, unit), ())
    above = committed > planned
    plan = np.where(above, committed, 0).astype(np.int64)
    rest = total - int(plan.sum())
    if rest < 0:
        warning = (
            f"commitments above top-down add up to {int(plan.sum())}, more than the top-down total {total}; "
            "the plan total rises to that and the other nodes get nothing"
        )
        return Reconciliation(gaps, plan, (warning,))
    if rest:
        plan[~above] = largest_remainder(rest, planned[~above], unit)
    return Reconciliation(gaps, plan, ())


def _amounts(values: ArrayLike, unit: int, label: str, names: tuple[str, ...] | None) -> NDArray[np.int64]:
    amounts = np.asarray(values, dtype=np.int64)
    if amounts.ndim != 1 or amounts.size == 0:
        raise InvalidInput.coded("split.reconcile.needs_one_amount_per", label=label)
    if unit <= 0:
        raise InvalidInput.coded("split.reconcile.rounding_unit_positive_got", unit=unit)
    for i in np.nonzero((amounts < 0) | (amounts % unit != 0))[0]:
        node = names[i] if names else f"node {i + 1}"
        raise InvalidInput.coded("split.reconcile.amount_zero_more_multiple", label=label, amounts=int(amounts[i]), node=node, unit=unit)
    return amounts
