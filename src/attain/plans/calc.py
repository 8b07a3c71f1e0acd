"""The pure core of plans: the cell layout, the top-down split over the org tree, roll-ups,
reach probabilities and catch-up targets. NumPy and the split engine only; no database.

A plan is split into *leaf slices*: leaf period × product member × customer-type member. Every org
node gets one row of leaf-slice values; every stored cell (any period level, "all products",
"all customers") is a sum of leaf slices, so every level adds up to its parent by construction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from attain.errors import InvalidInput
from attain.periods import Period
from attain.split.calc import Axis, Lock, Shares, split
from attain.split.rounding import largest_remainder

ALL = "all"


@dataclass(frozen=True)
class Layout:
    """Which cells a plan has. Members are keys as stored: product node ids (None = all products),
    customer types ('all' = all customers). The first product/type key is always the 'all' one."""

    periods: tuple[Period, ...]  # every period with cells (leaf periods and the ones they add up to)
    leaf_periods: tuple[Period, ...]
    product_keys: tuple[int | None, ...]
    type_keys: tuple[str, ...]
    # '' when the customer keys are customer types; else the customer attribute whose members they
    # are ('segment', 'grade' …, see catalog.dimensions): a plan splits customers by one or the other.
    customer_axis: str = ""

    @property
    def leaf_products(self) -> tuple[int | None, ...]:
        return self.product_keys[1:] if len(self.product_keys) > 1 else self.product_keys

    @property
    def leaf_types(self) -> tuple[str, ...]:
        return self.type_keys[1:] if len(self.type_keys) > 1 else self.type_keys

    @property
    def shape(self) -> tuple[int, int, int]:
        return len(self.leaf_periods), len(self.leaf_products), len(self.leaf_types)

    @property
    def slices(self) -> int:
        a, b, c = self.shape
        return a * b * c

    def time_matrix(self) -> NDArray[np.int64]:
        """1 where a period (row) contains a leaf period (column)."""
        return np.array(
            [[int(p.start <= leaf.start and leaf.end <= p.end) for leaf in self.leaf_periods] for p in self.periods],
            dtype=np.int64,
        )

    def product_matrix(self) -> NDArray[np.int64]:
        return _member_matrix(len(self.product_keys))

    def type_matrix(self) -> NDArray[np.int64]:
        return _member_matrix(len(self.type_keys))

    def covered(self, period: int, product: int, ctype: int) -> NDArray[np.intp]:
        """The leaf-slice indices that the cell (period, product, type) adds up."""
        mask = np.einsum("a,b,c->abc", self.time_matrix()[period], self.product_matrix()[product], self.type_matrix()[ctype])
        return np.flatnonzero(mask)


def _member_matrix(keys: int) -> NDArray[np.int64]:
    """Rows: the 'all' key then each member; columns: the members (a single 'all' is its own member)."""
    if keys == 1:
        return np.ones((1, 1), dtype=np.int64)
    return np.vstack([np.ones((1, keys - 1), dtype=np.int64), np.eye(keys - 1, dtype=np.int64)])


def roll_up(layout: Layout, leaf_rows: NDArray[np.int64]) -> NDArray[np.int64]:
    """Every cell of every node from its leaf slices: (nodes, slices) -> (nodes, periods, products, types)."""
    cube = leaf_rows.reshape((leaf_rows.shape[0], *layout.shape))
    return np.einsum(
        "nabc,pa,qb,rc->npqr", cube, layout.time_matrix(), layout.product_matrix(), layout.type_matrix()
    ).astype(np.int64)


def ancestry(parents: Sequence[int | None]) -> NDArray[np.int64]:
    """(nodes, nodes): 1 where the row node is the column node or one of its ancestors."""
    n = len(parents)
    matrix = np.eye(n, dtype=np.int64)
    for j in range(n):
        i = parents[j]
        while i is not None:
            matrix[i, j] = 1
            i = parents[i]
    return matrix


@dataclass(frozen=True)
class SliceLock:
    """A fixed amount for the leaf slices `slices` of one node (a locked cell, or a pinned edit)."""

    slices: tuple[int, ...]
    value: int
    label: str


@dataclass(frozen=True)
class Tree:
    """Org nodes top-down (every parent before its children); `parents` are indices into the same list."""

    names: tuple[str, ...]
    parents: tuple[int | None, ...]

    def children(self, i: int) -> list[int]:
        return [j for j, p in enumerate(self.parents) if p == i]


def split_root(
    total: int,
    unit: int,
    layout: Layout,
    time_weights: NDArray[np.float64],
    product_weights: NDArray[np.float64],
    type_weights: NDArray[np.float64],
    locks: Sequence[SliceLock] = (),
    prior: NDArray[np.float64] | None = None,
) -> NDArray[np.int64]:
    """The top node's leaf slices: `total` over time × product × customer type, every margin exact."""
    axes = [
        Axis("time", _keys("t", layout.shape[0]), Shares.WEIGHTS, tuple(float(w) for w in time_weights)),
        Axis("product", _keys("p", layout.shape[1]), Shares.WEIGHTS, tuple(float(w) for w in product_weights)),
        Axis("type", _keys("c", layout.shape[2]), Shares.WEIGHTS, tuple(float(w) for w in type_weights)),
    ]
    shaped_prior = None if prior is None else prior.reshape(layout.shape)
    first = split(total, unit, axes, prior=shaped_prior, spread_zero_prior=True).cells.ravel()
    if not locks:
        return first.astype(np.int64)
    member, cells = pin_locks(locks, first.astype(np.float64), unit, "the plan total")
    if member is not None and member != total:
        raise InvalidInput.coded("plans.differs_plan_total_unlock", describe=_describe(locks, member), total=total)
    engine_locks = [
        Lock.of({axis.name: axis.members[i] for axis, i in zip(axes, np.unravel_index(s, layout.shape))}, v)
        for s, v in cells.items()
    ]
    return split(total, unit, axes, prior=shaped_prior, locks=engine_locks, spread_zero_prior=True).cells.ravel().astype(np.int64)


def split_tree(
    tree: Tree,
    root_row: NDArray[np.int64],
    unit: int,
    weights: NDArray[np.float64],
    priors: NDArray[np.float64] | None,
    locks: dict[int, list[SliceLock]],
    slice_names: Sequence[str] = (),
) -> NDArray[np.int64]:
    """Leaf slices of every node, top-down: each node's row is split over its children.

    The parent's row is kept exactly (every leaf slice), the children's totals follow `weights`
    (largest remainder), a child's pattern over the slices follows its `priors` row (raked to the
    margins) or, without one, the parent's pattern. A lock covering a child's whole row fixes its
    total; other locks are spread over the slices they cover by the parent's pattern and fixed.
    """
    rows = np.zeros((len(tree.names), root_row.size), dtype=np.int64)
    rows[0] = root_row
    for i in range(len(tree.names)):
        children = tree.children(i)
        if children:
            rows[children] = _split_children(tree, i, children, rows[i], unit, weights, priors, locks, slice_names)
    return rows


def _split_children(
    tree: Tree,
    parent: int,
    children: list[int],
    parent_row: NDArray[np.int64],
    unit: int,
    weights: NDArray[np.float64],
    priors: NDArray[np.float64] | None,
    locks: dict[int, list[SliceLock]],
    slice_names: Sequence[str],
) -> NDArray[np.int64]:
    total = int(parent_row.sum())
    slice_keys = _keys("s", parent_row.size)
    child_keys = _keys("n", len(children))
    child_weights = np.asarray([weights[c] for c in children], dtype=np.float64)
    engine_locks: list[Lock] = []
    for k, child in enumerate(children):
        if not locks.get(child):
            continue
        member, cells = pin_locks(locks[child], parent_row.astype(np.float64), unit, tree.names[child])
        if member is not None:
            engine_locks.append(Lock((("org", child_keys[k]),), member, f"{tree.names[child]} {member}"))
        engine_locks += [Lock((("org", child_keys[k]), ("slice", slice_keys[s])), v, tree.names[child]) for s, v in cells.items()]
    locked_children = {lock.where[0][1] for lock in engine_locks if len(lock.where) == 1}
    open_weight = sum(w for key, w in zip(child_keys, child_weights) if key not in locked_children)
    if total and open_weight <= 0 and len(locked_children) < len(children):
        child_weights = np.ones(len(children))  # nothing to go by: the open children share equally
    prior = None
    if priors is not None:
        prior = np.vstack([priors[c] for c in children])
        if prior.sum() <= 0:
            prior = None
    axes = [
        Axis("org", child_keys, Shares.WEIGHTS, tuple(float(w) for w in child_weights)),
        Axis("slice", slice_keys, Shares.WEIGHTS, tuple(float(v) for v in parent_row)),
    ]
    try:
        result = split(total, unit, axes, prior=prior, locks=engine_locks, spread_zero_prior=True)
    except InvalidInput as exc:
        raise InvalidInput.coded("plans.cannot_split_over_members", names=tree.names[parent], readable=_readable(exc, tree, children, slice_names)) from exc
    return result.cells.astype(np.int64)


def pin_locks(
    locks: Sequence[SliceLock], pattern: NDArray[np.float64], unit: int, owner: str
) -> tuple[int | None, dict[int, int]]:
    """Turn one node's locks into (its fixed total or None, {leaf slice: fixed value}).

    Narrow locks first; each lock's amount, less the slices already fixed, is spread over its
    other slices by `pattern` (largest remainder in `unit`).
    """
    member: int | None = None
    fixed: dict[int, int] = {}
    size = pattern.size
    for lock in sorted(locks, key=lambda lock: len(lock.slices)):
        if len(lock.slices) == size:
            if member is not None and member != lock.value:
                raise InvalidInput.coded("plans.two_locked_totals", owner=owner, member=member, value=lock.value)
            member = lock.value
            continue
        taken = sum(fixed[s] for s in lock.slices if s in fixed)
        free = [s for s in lock.slices if s not in fixed]
        rest = lock.value - taken
        if rest < 0 or (rest and not free):
            raise InvalidInput.coded("plans.locked_cell_does_match", label=lock.label, value=lock.value, owner=owner, taken=taken)
        if not free:
            continue
        shares = pattern[free]
        if shares.sum() <= 0:
            shares = np.ones(len(free))
        for s, v in zip(free, largest_remainder(rest, shares, unit)):
            fixed[s] = int(v)
    return member, fixed


def _keys(prefix: str, n: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{i:06d}" for i in range(n))


def _describe(locks: Sequence[SliceLock], value: int) -> str:
    return next((f"locked cell {lock.label} ({value})" for lock in locks if lock.value == value), f"a lock ({value})")


def _readable(exc: InvalidInput, tree: Tree, children: list[int], slice_names: Sequence[str]) -> str:
    """The engine's message with its internal member keys replaced by node and period names."""
    text = str(exc)
    for k, child in enumerate(children):
        text = text.replace(f"org={_keys('n', len(children))[k]}", tree.names[child])
    for s, name in enumerate(slice_names):
        text = text.replace(f"slice=s{s:06d}", name)
    return text


@dataclass(frozen=True)
class Edit:
    """Set the cell of org node `node` over leaf slices `slices` to `value`.

    `donors` is the node whose subtree gives or takes the difference (None lets the difference go up
    to the totals). With `donor_slices` None the difference is taken slice by slice in the edited
    slices, so every cell of the donor node keeps its value; with `donor_slices` (a locked cell
    above the edit, e.g. a rep's locked year when a month is edited) it is taken from the donor
    subtree over those slices as a whole, so that locked cell keeps its value."""

    node: int
    slices: tuple[int, ...]
    value: int
    label: str
    donors: int | None
    fixed: NDArray[np.bool_]  # (nodes, slices): leaf positions this edit must not move (locks, closed periods)
    donor_slices: tuple[int, ...] | None = None


def _spread(total: int, current: NDArray[np.int64], unit: int) -> NDArray[np.int64]:
    """`total` over positions in proportion to their current values (equal shares if all are zero)."""
    weights = current.astype(np.float64)
    if weights.sum() <= 0:
        weights = np.ones(current.size)
    return largest_remainder(total, weights, unit)


def apply_edits(
    rows: NDArray[np.int64], parents: Sequence[int | None], edits: Sequence[Edit], unit: int,
    names: Sequence[str], slice_names: Sequence[str],
) -> NDArray[np.int64]:
    """The one edit rule, on leaf values: (nodes, slices) in, every node's row (sums above) out.

    Each edit re-spreads its value over the free leaf positions under its node (in proportion to
    what they had), and, unless it changes the totals, takes the difference from the free leaf
    positions of the donor subtree outside the node, slice by slice, in proportion too. So every
    cell of the donor node keeps its value, fixed positions never move, and every level adds up.
    """
    below = ancestry(parents)  # below[i, j]: j is i or under i
    has_children = {p for p in parents if p is not None}
    is_leaf = np.array([i not in has_children for i in range(len(parents))])
    new = rows.copy()
    new[~is_leaf] = 0
    pinned = np.zeros(rows.shape, dtype=bool)
    for edit in edits:
        fixed = edit.fixed | pinned
        inside = below[edit.node].astype(bool) & is_leaf
        cols = np.asarray(edit.slices, dtype=np.intp)
        region = np.zeros(rows.shape, dtype=bool)
        region[np.ix_(inside, cols)] = True
        free = region & ~fixed
        need = edit.value - int(new[region & fixed].sum())
        if need < 0 or (need > 0 and not free.any()):
            held = int(new[region & fixed].sum())
            raise InvalidInput.coded("plans.held" if free.any() else "plans.held_nothing_open",
                                     label=edit.label, value=edit.value, held=held)
        before = new[:, cols].copy()
        new[free] = _spread(need, new[free], unit)
        if edit.donors is not None and edit.donor_slices is None:
            delta = (new[:, cols] - before)[inside].sum(axis=0)
            donor_nodes = below[edit.donors].astype(bool) & is_leaf & ~inside
            for k, s in enumerate(cols):
                if not delta[k]:
                    continue
                givers = donor_nodes & ~fixed[:, s]
                available = int(new[givers, s].sum())
                if not givers.any() or available - int(delta[k]) < 0:
                    raise InvalidInput.coded("plans.open_give_needed_change", label=edit.label, names=names[edit.donors], available=available, slice_names=slice_names[s], delta=int(delta[k]))
                new[givers, s] = _spread(available - int(delta[k]), new[givers, s], unit)
        elif edit.donors is not None:
            delta = int((new[:, cols] - before)[inside].sum())
            area = np.zeros(rows.shape, dtype=bool)
            area[np.ix_(below[edit.donors].astype(bool) & is_leaf, np.asarray(edit.donor_slices, dtype=np.intp))] = True
            givers = area & ~region & ~fixed
            available = int(new[givers].sum())
            if delta and (not givers.any() or available - delta < 0):
                raise InvalidInput.coded("plans.locked_cell_above_open", label=edit.label, available=available, delta=delta)
            if delta:
                new[givers] = _spread(available - delta, new[givers], unit)
        pinned |= region
    leaves = np.flatnonzero(is_leaf)
    return below[:, leaves] @ new[leaves]


def reach_probability(
    monthly_actuals: NDArray[np.float64], targets: NDArray[np.int64], months: int, draws: int = 10_000, seed: int = 2027
) -> NDArray[np.float64]:
    """P(sum of `months` months ≥ target) per node, by bootstrap over each node's past months.

    `monthly_actuals` is (nodes, past months); the same resampled month indices are used for every
    node (a common scenario), so one `draws × months` index array serves the whole tree.
    """
    if monthly_actuals.shape[1] == 0:
        return np.full(targets.shape, np.nan)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, monthly_actuals.shape[1], size=(draws, months))
    sums = monthly_actuals[:, picks].sum(axis=2)  # (nodes, draws)
    return (sums >= targets[:, None]).mean(axis=1)


def learn_productivity(actuals: NDArray[np.float64], capacity_units: NDArray[np.float64]) -> NDArray[np.float64]:
    """Output per fully ramped month per rep: actuals over ramped months; reps without history get the median."""
    ramped = capacity_units.sum(axis=1)
    known = ramped > 0.5
    productivity = np.zeros(actuals.shape[0])
    productivity[known] = actuals[known].sum(axis=1) / ramped[known]
    typical = float(np.median(productivity[known & (productivity > 0)])) if np.any(known & (productivity > 0)) else 0.0
    productivity[~known | (productivity <= 0)] = typical
    return productivity


def extra_reps(gap: int, output_per_new_rep: float) -> int:
    """Reps to hire on the first day of the plan to close `gap` (0 when capacity already covers it)."""
    if gap <= 0:
        return 0
    if output_per_new_rep <= 0:
        raise InvalidInput.coded("plans.new_rep_would_produce")
    return math.ceil(gap / output_per_new_rep)


def catch_up(
    remaining: NDArray[np.int64], year_targets: NDArray[np.int64], closed_actuals: NDArray[np.int64], unit: int
) -> NDArray[np.int64]:
    """Remaining leaf slices so that closed actuals + remaining = the year target, per node.

    `remaining` is (nodes, remaining slices); what each node still needs is rounded up to the unit
    and spread by its current remaining pattern (evenly when that is all zero). Never negative.
    """
    result = np.zeros_like(remaining)
    need = np.maximum(year_targets - closed_actuals, 0)
    need = -(-need // unit) * unit
    for i in range(remaining.shape[0]):
        shares = remaining[i].astype(np.float64)
        if shares.sum() <= 0:
            shares = np.ones(remaining.shape[1])
        result[i] = largest_remainder(int(need[i]), shares, unit)
    return result
