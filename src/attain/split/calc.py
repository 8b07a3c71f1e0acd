"""Split one target into cells along any number of axes so that every figure adds up exactly.

Pure NumPy (plus SciPy's max-flow in `rounding`): integers in, integers out. Amounts are Python
ints in the stored money unit (fen, yuan, 100 yuan...) and every result is a multiple of `unit`.

Steps: margins per axis (largest remainder, locks first) -> joint cells (product of the margins,
or a prior raked to the margins by IPF) -> controlled rounding that keeps every 1-D margin exact
-> locked cells put back. Members are processed in name order and mapped back at the end, so the
result does not depend on the order members are listed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from attain.errors import InvalidInput
from attain.split.ipf import fit_margins, margin_errors
from attain.split.rounding import RoundingInfeasible, largest_remainder, round_table


class Shares(str, Enum):
    """Where an axis takes its member shares from."""

    WEIGHTS = "weights"
    EQUAL = "equal"
    HISTORY = "history"


@dataclass(frozen=True)
class Axis:
    """One dimension of the split. `weights` (same length as `members`) only for Shares.WEIGHTS."""

    name: str
    members: tuple[str, ...]
    shares: Shares = Shares.EQUAL
    weights: tuple[float, ...] = ()


@dataclass(frozen=True)
class Lock:
    """A fixed amount for one cell (every axis named) or one member (a single axis named)."""

    where: tuple[tuple[str, str], ...]
    value: int
    label: str = ""  # the value as the user wrote it, for messages (e.g. "5000.50")

    @classmethod
    def of(cls, where: Mapping[str, str], value: int) -> Lock:
        return cls(tuple(where.items()), value)

    def describe(self) -> str:
        place = ", ".join(f"{axis}={member}" for axis, member in self.where)
        return f"lock {place} ({self.label or self.value})"


@dataclass(frozen=True)
class Money:
    """Formats unit counts for messages: `places` decimal places of the stored ints (0 = whole)."""

    unit: int
    places: int = 0

    def __call__(self, units: float) -> str:
        return format_amount(round(units * self.unit), self.places)


def format_amount(value: int, places: int) -> str:
    """An int in 10**-places units as a decimal string: format_amount(123456, 2) == '1234.56'."""
    return str(Decimal(int(value)).scaleb(-places))


@dataclass(frozen=True)
class SplitResult:
    """Cells (shape: one axis per `axes`, members in the given order) and margins, in money.

    `fitted` is the unrounded table (locks included) the cells were rounded from;
    `max_margin_error` is its largest 1-D margin gap in money, before rounding.
    """

    axes: tuple[Axis, ...]
    cells: NDArray[np.int64]
    margins: tuple[NDArray[np.int64], ...]
    fitted: NDArray[np.float64] = field(repr=False)
    iterations: int
    max_margin_error: float


def split(
    total: int,
    unit: int,
    axes: Sequence[Axis],
    *,
    prior: ArrayLike | None = None,
    locks: Sequence[Lock] = (),
    spread_zero_prior: bool = False,
    places: int = 0,
) -> SplitResult:
    """Split `total` over `axes`; see the module docstring. User mistakes raise InvalidInput.

    `places` only affects messages: amounts are ints in 10**-places of the money unit.
    """
    _check_amounts(total, unit)
    money = Money(unit, places)
    _check_axes(axes)
    prior_weights = _check_prior(prior, axes)
    orders = [np.argsort(np.array(axis.members, dtype=object), kind="stable") for axis in axes]
    canonical = [_reorder_axis(axis, order) for axis, order in zip(axes, orders)]
    if prior_weights is not None:
        prior_weights = prior_weights[np.ix_(*orders)]
    member_locks, cell_locks = _resolve_locks(locks, canonical, money)

    total_units = total // unit
    margins = [
        _axis_margin(axis, total_units, member_locks.get(k, {}), _axis_weights(axis, k, prior_weights))
        for k, axis in enumerate(canonical)
    ]
    locked_units = _locked_table(cell_locks, tuple(len(axis.members) for axis in canonical))
    free = np.ones(locked_units.shape, dtype=bool)
    for index in cell_locks:
        free[index] = False
    residual = _residual_margins(margins, locked_units, cell_locks, canonical, money)

    fitted, iterations = _fit(residual, free, prior_weights, cell_locks, canonical, spread_zero_prior, money)
    try:
        rounded = round_table(fitted, residual, fitted > 0)
    except RoundingInfeasible as exc:
        raise _infeasible(fitted, residual, canonical, locks, prior_weights is not None, money) from exc
    error_units = margin_errors(fitted, [r.astype(np.float64) for r in residual])

    restore = [np.argsort(order, kind="stable") for order in orders]
    cells_units = (rounded + locked_units)[np.ix_(*restore)]
    fitted_units = (fitted + locked_units)[np.ix_(*restore)]
    cells = cells_units * unit
    return SplitResult(
        axes=tuple(axes),
        cells=cells,
        margins=tuple(_margin_of(cells, k) for k in range(cells.ndim)),
        fitted=fitted_units * unit,
        iterations=iterations,
        max_margin_error=error_units * unit,
    )


def _locked_table(
    cell_locks: Mapping[tuple[int, ...], tuple[Lock, int]], shape: tuple[int, ...]
) -> NDArray[np.int64]:
    """The locked cells' units in a table of `shape` (zero elsewhere)."""
    table = np.zeros(shape, dtype=np.int64)
    for index, (_, units) in cell_locks.items():
        table[index] = units
    return table


def _margin_of(cells: NDArray[np.int64], axis: int) -> NDArray[np.int64]:
    others = tuple(a for a in range(cells.ndim) if a != axis)
    return cells.sum(axis=others) if others else cells.copy()


def _check_amounts(total: int, unit: int) -> None:
    if unit <= 0:
        raise InvalidInput.coded("split.rounding_unit_positive_got", unit=unit)
    if total < 0:
        raise InvalidInput.coded("split.total_negative_got", total=total)
    if total % unit:
        raise InvalidInput.coded("split.total_multiple_rounding_unit", total=total, unit=unit)


def _check_axes(axes: Sequence[Axis]) -> None:
    if not axes:
        raise InvalidInput.coded("split.split_needs_least_one")
    twice = _first_duplicate([axis.name for axis in axes])
    if twice is not None:
        raise InvalidInput.coded("split.axis_listed_twice", twice=twice)
    for axis in axes:
        if not axis.members:
            raise InvalidInput.coded("split.axis_members", name=axis.name)
        twice = _first_duplicate(axis.members)
        if twice is not None:
            raise InvalidInput.coded("split.axis_lists_member_twice", name=axis.name, twice=twice)
        if axis.shares is Shares.WEIGHTS:
            _check_weights(axis)


def _first_duplicate(names: Sequence[str]) -> str | None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return None


def _check_weights(axis: Axis) -> None:
    if len(axis.weights) != len(axis.members):
        raise InvalidInput.coded("split.axis_needs_one_weight", name=axis.name)
    for member, weight in zip(axis.members, axis.weights):
        if not np.isfinite(weight) or weight < 0:
            raise InvalidInput.coded("split.axis_weight_weights_zero", name=axis.name, member=member, weight=weight)


def _check_prior(prior: ArrayLike | None, axes: Sequence[Axis]) -> NDArray[np.float64] | None:
    if prior is None:
        for axis in axes:
            if axis.shares is Shares.HISTORY:
                raise InvalidInput.coded("split.axis_takes_shares_history", name=axis.name)
        return None
    weights = np.asarray(prior, dtype=np.float64)
    shape = tuple(len(axis.members) for axis in axes)
    if weights.shape != shape:
        raise InvalidInput.coded("split.prior_shape_but_axes", shape=weights.shape, shape2=shape)
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise InvalidInput.coded("split.prior_weights_finite_zero")
    return weights


def _reorder_axis(axis: Axis, order: NDArray[np.intp]) -> Axis:
    members = tuple(axis.members[i] for i in order)
    weights = tuple(axis.weights[i] for i in order) if axis.weights else ()
    return Axis(axis.name, members, axis.shares, weights)


def _resolve_locks(
    locks: Sequence[Lock], axes: Sequence[Axis], money: Money
) -> tuple[dict[int, dict[int, tuple[Lock, int]]], dict[tuple[int, ...], tuple[Lock, int]]]:
    """Map locks to member indices: ({axis: {member: (lock, units)}}, {cell index: (lock, units)})."""
    position = {axis.name: k for k, axis in enumerate(axes)}
    member_locks: dict[int, dict[int, tuple[Lock, int]]] = {}
    cell_locks: dict[tuple[int, ...], tuple[Lock, int]] = {}
    for lock in locks:
        if lock.value < 0:
            raise InvalidInput.coded("split.negative", describe=lock.describe())
        if lock.value % money.unit:
            raise InvalidInput.coded("split.multiple_rounding_unit", describe=lock.describe(), money=money(1))
        index: dict[int, int] = {}
        for axis_name, member in lock.where:
            if axis_name not in position:
                raise InvalidInput.coded("split.names_unknown_axis", describe=lock.describe(), axis_name=axis_name)
            axis = axes[position[axis_name]]
            if member not in axis.members:
                raise InvalidInput.coded("split.axis_member", describe=lock.describe(), axis_name=axis_name, member=member)
            index[position[axis_name]] = axis.members.index(member)
        entry = (lock, lock.value // money.unit)
        if len(index) == 1 and len(axes) > 1:
            (k, m), = index.items()
            if m in member_locks.setdefault(k, {}):
                raise InvalidInput.coded("split.locks_member_already_locked", describe=lock.describe())
            member_locks[k][m] = entry
        elif len(index) == len(axes):
            cell = tuple(index[k] for k in range(len(axes)))
            if len(axes) == 1:
                if cell[0] in member_locks.setdefault(0, {}):
                    raise InvalidInput.coded("split.locks_member_already_locked", describe=lock.describe())
                member_locks[0][cell[0]] = entry
                continue
            if cell in cell_locks:
                raise InvalidInput.coded("split.locks_cell_already_locked", describe=lock.describe())
            cell_locks[cell] = entry
        else:
            raise InvalidInput.coded("split.name_one_member_one", describe=lock.describe())
    return member_locks, cell_locks


def _axis_weights(axis: Axis, k: int, prior: NDArray[np.float64] | None) -> NDArray[np.float64]:
    if axis.shares is Shares.WEIGHTS:
        return np.asarray(axis.weights, dtype=np.float64)
    if axis.shares is Shares.HISTORY and prior is not None:
        return _margin_of(prior, k).astype(np.float64)
    return np.ones(len(axis.members))


def _axis_margin(
    axis: Axis, total_units: int, locked: Mapping[int, tuple[Lock, int]], weights: NDArray[np.float64]
) -> NDArray[np.int64]:
    """Member targets in units: locked members fixed, the rest split by weight (largest remainder)."""
    margin = np.zeros(len(axis.members), dtype=np.int64)
    for m, (_, units) in locked.items():
        margin[m] = units
    locked_sum = int(margin.sum())
    rest = total_units - locked_sum
    names = ", ".join(lock.describe() for lock, _ in locked.values())
    if rest < 0:
        raise InvalidInput.coded("split.locks_axis_add_up", name=axis.name, names=names)
    open_members = np.array([m not in locked for m in range(len(axis.members))])
    if not open_members.any():
        if rest:
            raise InvalidInput.coded("split.every_member_axis_locked", name=axis.name, names=names)
        return margin
    open_weights = weights[open_members]
    if rest and open_weights.sum() <= 0:
        unlocked = ", ".join(m for m, is_open in zip(axis.members, open_members) if is_open)
        raise InvalidInput.coded("split.unlocked_members_axis_all", name=axis.name, unlocked=unlocked)
    margin[open_members] = largest_remainder(rest, open_weights, 1)
    return margin


def _residual_margins(
    margins: Sequence[NDArray[np.int64]],
    locked_units: NDArray[np.int64],
    cell_locks: Mapping[tuple[int, ...], tuple[Lock, int]],
    axes: Sequence[Axis],
    money: Money,
) -> list[NDArray[np.int64]]:
    """Margins left for the free cells once locked cells are taken out; error if a lock overflows."""
    residual = []
    for k, margin in enumerate(margins):
        rest = margin - _margin_of(locked_units, k)
        for m in np.nonzero(rest < 0)[0]:
            inside = [lock.describe() for index, (lock, _) in cell_locks.items() if index[k] == m]
            raise InvalidInput.coded("split.target", items=', '.join(inside), value='exceeds' if len(inside) == 1 else 'exceed', name=axes[k].name, members=axes[k].members[m], money=money(int(margin[m])))
        residual.append(rest)
    return residual


def _fit(
    residual: Sequence[NDArray[np.int64]],
    free: NDArray[np.bool_],
    prior: NDArray[np.float64] | None,
    cell_locks: Mapping[tuple[int, ...], tuple[Lock, int]],
    axes: Sequence[Axis],
    spread_zero_prior: bool,
    money: Money,
) -> tuple[NDArray[np.float64], int]:
    """The unrounded free cells (units) and the IPF cycles used (0 for a plain product)."""
    goals = [r.astype(np.float64) for r in residual]
    product = _outer_product(goals)
    if prior is None and not cell_locks:
        return product, 0
    reachable = free & _outer_product([(g > 0).astype(np.float64) for g in goals]).astype(bool)
    seed = np.where(reachable, product if prior is None else prior, 0.0)
    seed = _fill_empty_members(
        seed, goals, reachable, product, prior is not None, spread_zero_prior, axes, cell_locks, money
    )
    total_units = float(goals[0].sum())
    fit = fit_margins(seed, goals, tolerance=max(1e-7, total_units * 1e-12))
    return fit.cells, fit.iterations


def _outer_product(goals: Sequence[NDArray[np.float64]]) -> NDArray[np.float64]:
    """The independence table of the margins: cell = total * product of member shares."""
    total = float(goals[0].sum())
    table = np.array(total)
    for goal in goals:
        shares = goal / total if total > 0 else np.zeros_like(goal)
        table = np.multiply.outer(table, shares)
    return table


def _fill_empty_members(
    seed: NDArray[np.float64],
    goals: Sequence[NDArray[np.float64]],
    reachable: NDArray[np.bool_],
    product: NDArray[np.float64],
    has_prior: bool,
    spread_zero_prior: bool,
    axes: Sequence[Axis],
    cell_locks: Mapping[tuple[int, ...], tuple[Lock, int]],
    money: Money,
) -> NDArray[np.float64]:
    """Members with a positive target but no seed mass: spread them by the margins, or explain."""
    seed = seed.copy()
    for k, goal in enumerate(goals):
        mass = _margin_of(seed, k)
        for m in np.nonzero((goal > 0) & (mass <= 0))[0]:
            place = f"{axes[k].name}={axes[k].members[m]}"
            needed = money(int(goal[m]))
            index = (slice(None),) * k + (m,)
            if not reachable[index].any():
                inside = [lock.describe() for cell, (lock, _) in cell_locks.items() if cell[k] == m]
                raise InvalidInput.coded("split.still_needs_but_every", place=place, needed=needed, value=', '.join(inside) or 'no locks')
            if has_prior and not spread_zero_prior:
                raise InvalidInput.coded("split.history_prior_all_zero", place=place, needed=needed)
            seed[index] = np.where(reachable[index], product[index], 0.0)
    return seed


def _infeasible(
    fitted: NDArray[np.float64],
    residual: Sequence[NDArray[np.int64]],
    axes: Sequence[Axis],
    locks: Sequence[Lock],
    has_prior: bool,
    money: Money,
) -> InvalidInput:
    """Name the member whose target the history/locks pattern misses by the most."""
    worst_gap, place = -1.0, ""
    for k, target in enumerate(residual):
        gaps = np.abs(_margin_of(fitted, k) - target)
        m = int(np.argmax(gaps))
        if gaps[m] > worst_gap:
            worst_gap, place = float(gaps[m]), f"{axes[k].name}={axes[k].members[m]}"
    cause = ("locks_history" if has_prior else "locks") if locks else ("history" if has_prior else "targets")
    return InvalidInput.coded(f"split.infeasible_{cause}", locks=", ".join(lock.describe() for lock in locks),
                              place=place, gap=money(round(worst_gap)))
