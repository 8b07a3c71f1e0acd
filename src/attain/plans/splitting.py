"""Splitting a plan over the org tree, time, products and customer types, on data in the database.

`split_plan` builds the layout (which cells exist), the tree (which org nodes), the weights and
priors of the chosen method, then hands them to the pure core (`plans.calc`) and writes every cell
at every level. Locked cells keep their values; the rest is re-split around them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import bindparam, case, delete, insert, select, update
from sqlalchemy.orm import Session

from attain.calendars.service import company_calendar
from attain.catalog import dimensions as customer_dimensions
from attain.catalog.models import ProductNode
from attain.errors import Conflict, InvalidInput
from attain.metrics.models import Metric
from attain.org.models import OrgNode
from attain.periods import Grain, Period, clip, parse_period, periods_between
from attain.plans import calc, data
from attain.plans.baseline import BASES, LAST_FISCAL_YEAR, Baseline, baseline_window
from attain.plans.calc import Layout, SliceLock, Tree
from attain.plans.models import ALL_CUSTOMERS, Plan, PlanCell
from attain.plans.service import (
    CellKey,
    begin_change,
    record_cell_changes,
    require_draft,
)
from attain.split.calendar import day_range, working_day_mask

DIMENSIONS = ("org", "time", "product", "customer_type")
METHODS = ("equal", "history", "potential", "capacity")
TIME_METHODS = ("equal", "working-days", "seasonal")
GRAINS = ("month", "quarter", "week")
REVIEW_BY_GRAIN = {Grain.YEAR: "quarterly", Grain.HALF: "monthly", Grain.QUARTER: "monthly", Grain.MONTH: "weekly", Grain.WEEK: "weekly"}


@dataclass(frozen=True)
class SplitOptions:
    """How to split: dimensions, method for the org tree, method and grain for time, and optional
    weights per member for products (by product line code) and customer types (new/existing)."""

    by: tuple[str, ...] = ("org", "time")
    method: str = "equal"
    time_method: str | None = None
    grain: str = "month"
    weights: dict[str, dict[str, str]] = field(default_factory=dict)
    baseline: str = LAST_FISCAL_YEAR  # which window history and seasonal shares come from (plans.baseline)

    def as_dict(self) -> dict[str, Any]:
        return {"by": list(self.by), "method": self.method, "time_method": self.time_method, "grain": self.grain,
                "weights": self.weights, "baseline": self.baseline}


@dataclass(frozen=True)
class SplitReport:
    plan: str
    version: int
    method: str
    by: tuple[str, ...]
    cells: int
    changed: int
    locked: int
    total: int
    warnings: tuple[str, ...]
    baseline: dict[str, Any] | None = None  # the window history / seasonal shares came from (Baseline.as_dict)


@dataclass
class Cell:
    value: int
    locked: bool = False
    owner_id: int | None = None
    note: str | None = None
    rule: dict[str, Any] | None = None


def check_options(options: SplitOptions) -> None:
    unknown = [d for d in options.by if d not in DIMENSIONS and not customer_dimensions.is_customer_dimension(d)]
    if unknown:
        raise InvalidInput.coded("plans.splitting.cannot_split_choose_attr", unknown=unknown[0], items=', '.join(DIMENSIONS), items2=', '.join(customer_dimensions.NAMED))
    if "org" not in options.by:
        raise InvalidInput.coded("plans.splitting.include_org_every_cell")
    if len(set(options.by)) != len(options.by):
        raise InvalidInput.coded("plans.splitting.lists_dimension_twice", items=','.join(options.by))
    if options.method not in METHODS:
        raise InvalidInput.coded("plans.splitting.unknown_split_method_choose", method=options.method, items=', '.join(METHODS))
    if options.time_method is not None and options.time_method not in TIME_METHODS:
        raise InvalidInput.coded("plans.splitting.unknown_time_method_choose", time_method=options.time_method, items=', '.join(TIME_METHODS))
    if options.baseline not in BASES:
        raise InvalidInput.coded("plans.splitting.unknown_baseline_choose", baseline=options.baseline, items=' or '.join(BASES))
    if options.grain not in GRAINS:
        raise InvalidInput.coded("plans.splitting.unknown_grain_choose", grain=options.grain, items=', '.join(GRAINS))
    customer_axes = [d for d in options.by if d == "customer_type" or customer_dimensions.is_customer_dimension(d)]
    if len(customer_axes) > 1:
        raise InvalidInput.coded("plans.splitting.split_customers_one_axis", items=' and '.join(customer_axes))
    for axis in options.weights:
        if axis not in ("product", "customer_type") and not customer_dimensions.is_customer_dimension(axis):
            raise InvalidInput.coded("plans.splitting.weights_apply_product_customer", axis=axis)
        if axis not in options.by:
            raise InvalidInput.coded("plans.splitting.weights_given_but_does", axis=axis)


# --- layout and tree -------------------------------------------------------------------------------

def year_period(plan: Plan) -> Period:
    label = str(plan.year) if plan.year else f"{plan.start_date.year}"
    return Period(plan.start_date, plan.end_date, Grain.YEAR, label)


def fresh_layout(*, session: Session, plan: Plan, options: SplitOptions) -> Layout:
    whole = year_period(plan)
    if "time" in options.by:
        grain = Grain(options.grain)
        leaves = tuple(clip(p, plan.start_date, plan.end_date) for p in periods_between(plan.start_date, plan.end_date, grain))
        middle: tuple[Period, ...] = ()
        if grain is Grain.MONTH:
            middle = tuple(clip(p, plan.start_date, plan.end_date) for p in periods_between(plan.start_date, plan.end_date, Grain.QUARTER))
        periods = (whole, *middle, *leaves)
    else:
        leaves, periods = (whole,), (whole,)
    products: tuple[int | None, ...] = (None,)
    if "product" in options.by:
        lines = session.execute(select(ProductNode.id).where(ProductNode.parent_id.is_(None)).order_by(ProductNode.code)).scalars().all()
        if not lines:
            raise InvalidInput.coded("plans.splitting.there_product_lines_split")
        products = (None, *lines)
    types: tuple[str, ...] = (ALL_CUSTOMERS,)
    axis = customer_axis_of(options.by)
    if "customer_type" in options.by:
        types = (ALL_CUSTOMERS, "new", "existing")
    elif axis:
        members = customer_dimensions.members(session, axis)
        if not members:
            raise InvalidInput.coded("plans.splitting.customer_import_first_leave", axis=axis)
        clash = [m for m in members if m in customer_dimensions.RESERVED_MEMBERS]
        if clash:
            raise InvalidInput.coded("plans.splitting.value_reserved_all_customers", axis=axis, clash=clash[0])
        types = (ALL_CUSTOMERS, *members)
    return Layout(periods, leaves, products, types, axis)


def customer_axis_of(by: tuple[str, ...] | list[str]) -> str:
    """The customer attribute a split's dimensions name (segment, grade …), or ''."""
    return next((d for d in by if customer_dimensions.is_customer_dimension(d)), "")


def stored_layout(*, plan: Plan, cells: dict[CellKey, Cell]) -> Layout:
    """The layout a plan's stored cells have: its finest periods are the leaves."""
    if not cells:
        raise InvalidInput.coded("plans.splitting.plan_cells_yet_split", name=plan.name)
    labels = {key[0] for key in cells}
    periods = sorted((clip(parse_period(label), plan.start_date, plan.end_date) for label in labels),
                     key=lambda p: (p.start, -p.days))
    leaves = tuple(p for p in periods if not any(q is not p and p.start <= q.start and q.end <= p.end for q in periods))
    ordered = tuple(sorted(periods, key=lambda p: (-p.days, p.start)))
    product_ids = sorted({key[2] for key in cells if key[2] is not None})
    axis = customer_axis_of((plan.split_spec or {}).get("by") or ())
    if axis:
        type_names = sorted({key[3] for key in cells} - {ALL_CUSTOMERS})
    else:
        type_names = [t for t in ("new", "existing") if any(key[3] == t for key in cells)]
    products: tuple[int | None, ...] = (None, *product_ids)
    types: tuple[str, ...] = (ALL_CUSTOMERS, *type_names)
    return Layout(ordered, leaves, products, types, axis if type_names else "")


@dataclass(frozen=True)
class OrgTree:
    nodes: tuple[OrgNode, ...]
    tree: Tree
    leaves: tuple[int, ...]  # indices of the nodes without children in the tree

    @property
    def parents(self) -> tuple[int | None, ...]:
        return self.tree.parents


def org_tree(nodes: list[OrgNode]) -> OrgTree:
    index = {n.id: i for i, n in enumerate(nodes)}
    parents = tuple(index.get(n.parent_id) if n.parent_id is not None else None for n in nodes)
    parents = tuple(p if i else None for i, p in enumerate(parents))
    tree = Tree(tuple(f"{n.name} ({n.code})" for n in nodes), parents)
    has_children = {p for p in parents if p is not None}
    return OrgTree(tuple(nodes), tree, tuple(i for i in range(len(nodes)) if i not in has_children))


def stored_tree(*, session: Session, cells: dict[CellKey, Cell]) -> OrgTree:
    """The nodes with cells and every node above them (an imported quota sheet may hold reps only)."""
    ids = {key[1] for key in cells}
    leaves = list(session.scalars(select(OrgNode).where(OrgNode.id.in_(ids))))
    return org_tree(data.with_ancestors(session=session, leaves=leaves))


def plan_total(layout: Layout, org: OrgTree, cells: dict[CellKey, Cell]) -> int:
    """The plan total, whatever period levels the plan stores: the leaf cells of the top nodes that
    have cells (the company; the scope of a plan made for a region; every rep of a quota sheet)."""
    stored = {key[1] for key in cells}
    depths = [n.depth for n in org.nodes if n.id in stored]
    if not depths:
        return 0
    tops = [n.id for n in org.nodes if n.id in stored and n.depth == min(depths)]
    return sum(
        cells[(p.label, top, q, t)].value
        for top in tops for p in layout.leaf_periods for q in layout.leaf_products for t in layout.leaf_types
        if (p.label, top, q, t) in cells
    )


def with_sums_above(org: OrgTree, rows: NDArray[np.int64], cells: dict[CellKey, Cell]) -> NDArray[np.int64]:
    """Rows of nodes that have no stored cells (ancestors of an imported sheet) as sums of their leaves."""
    stored = {key[1] for key in cells}
    missing = [i for i, n in enumerate(org.nodes) if n.id not in stored]
    if not missing:
        return rows
    leaves = list(org.leaves)
    summed = calc.ancestry(org.parents)[:, leaves] @ rows[leaves]
    filled = rows.copy()
    filled[missing] = summed[missing]
    return filled


# --- loading and saving cells ---------------------------------------------------------------------

def customer_key(table) -> Any:  # type: ignore[no-untyped-def]
    """The fourth part of a cell key: the customer type, or the member of the plan's customer axis."""
    return case((table.c.customer_axis == "", table.c.customer_type), else_=table.c.customer_value)


def load_cells(*, session: Session, plan: Plan) -> dict[CellKey, Cell]:
    table = PlanCell.__table__
    rows = session.execute(
        select(table.c.period, table.c.org_node_id, table.c.product_node_id, customer_key(table), table.c.value,
               table.c.locked, table.c.owner_id, table.c.strategy_note, table.c.assessment_rule)
        .where(table.c.plan_id == plan.id)
    ).all()
    return {(r[0], r[1], r[2], r[3]): Cell(r[4], bool(r[5]), r[6], r[7], r[8]) for r in rows}


def leaf_rows_of(layout: Layout, org: OrgTree, cells: dict[CellKey, Cell]) -> NDArray[np.int64]:
    """(nodes, leaf slices) of the stored values (missing cells count as zero)."""
    rows = np.zeros((len(org.nodes), layout.slices), dtype=np.int64)
    shape = layout.shape
    for i, node in enumerate(org.nodes):
        for a, period in enumerate(layout.leaf_periods):
            for b, product in enumerate(layout.leaf_products):
                for c, ctype in enumerate(layout.leaf_types):
                    cell = cells.get((period.label, node.id, product, ctype))
                    if cell is not None:
                        rows[i, np.ravel_multi_index((a, b, c), shape)] = cell.value
    return rows


def slice_locks(
    layout: Layout, org: OrgTree, cells: dict[CellKey, Cell], *, products: dict[int, str] | None = None
) -> dict[int, list[SliceLock]]:
    """Every locked cell as a lock on the leaf slices it covers, per node index."""
    node_index = {n.id: i for i, n in enumerate(org.nodes)}
    period_index = {p.label: i for i, p in enumerate(layout.periods)}
    product_index = {p: i for i, p in enumerate(layout.product_keys)}
    type_index = {t: i for i, t in enumerate(layout.type_keys)}
    locks: dict[int, list[SliceLock]] = {}
    for key, cell in cells.items():
        if not cell.locked:
            continue
        label = cell_label(key, org, products)
        if key[1] not in node_index or key[0] not in period_index or key[2] not in product_index or key[3] not in type_index:
            raise InvalidInput.coded("plans.splitting.locked_cell_does_fit", label=label)
        covered = layout.covered(period_index[key[0]], product_index[key[2]], type_index[key[3]])
        locks.setdefault(node_index[key[1]], []).append(SliceLock(tuple(int(s) for s in covered), cell.value, label))
    return locks


def cell_label(key: CellKey, org: OrgTree | None = None, products: dict[int, str] | None = None) -> str:
    node = next((n.code for n in org.nodes if n.id == key[1]), str(key[1])) if org else str(key[1])
    parts = [node, key[0]]
    if key[2] is not None:
        parts.append((products or {}).get(key[2], f"product {key[2]}"))
    if key[3] != ALL_CUSTOMERS:
        parts.append(key[3])
    return " ".join(parts)


def default_rule(metric: Metric, period: Period) -> dict[str, str]:
    return {"metric": metric.code, "achieved_at": "1.00", "review": REVIEW_BY_GRAIN.get(period.grain, "weekly")}


def build_cells(
    *, layout: Layout, org: OrgTree, leaf_rows: NDArray[np.int64], old: dict[CellKey, Cell], metric: Metric,
    keep: dict[CellKey, int] | None = None,
) -> dict[CellKey, Cell]:
    """Every cell of every node from the nodes' leaf rows; locks, owners, notes and rules carried over.

    `keep` overrides the rolled-up value of some cells (a kept year total after a catch-up re-split).
    """
    cube = calc.roll_up(layout, leaf_rows)
    cells: dict[CellKey, Cell] = {}
    for i, node in enumerate(org.nodes):
        owner = node.id if node.kind == "rep" else node.manager_id
        for p, period in enumerate(layout.periods):
            for q, product in enumerate(layout.product_keys):
                for r, ctype in enumerate(layout.type_keys):
                    key = (period.label, node.id, product, ctype)
                    previous = old.get(key)
                    value = int(cube[i, p, q, r]) if not keep or key not in keep else keep[key]
                    cells[key] = Cell(
                        value,
                        previous.locked if previous else False,
                        (previous.owner_id if previous and previous.owner_id else owner),
                        previous.note if previous else None,
                        (previous.rule if previous and previous.rule else default_rule(metric, period)),
                    )
    return cells


def save_cells(
    *, session: Session, plan: Plan, version: Any, layout: Layout, old: dict[CellKey, Cell], new: dict[CellKey, Cell]
) -> int:
    """Write `new` over the plan's cells and log what changed in `version`; return the change count.

    Cells keep their ids (the API names cells by id): changed cells are updated in place, new ones
    inserted, cells that no longer exist deleted."""
    bounds = {p.label: p for p in layout.periods}
    table = PlanCell.__table__
    axis = layout.customer_axis
    stored = session.execute(
        select(table.c.id, table.c.period, table.c.org_node_id, table.c.product_node_id, customer_key(table),
               table.c.customer_axis).where(table.c.plan_id == plan.id)).all()
    # Cells of another customer axis (a plan split by segment, re-split by customer type) go.
    ids = {(r[1], r[2], r[3], r[4]): r[0] for r in stored if r[5] == axis or (r[5] == "" and r[4] == ALL_CUSTOMERS)}
    gone = [ids[k] for k in ids.keys() - new.keys()] + [r[0] for r in stored if r[0] not in ids.values()]
    if gone:
        for start in range(0, len(gone), 10_000):
            session.execute(delete(PlanCell).where(PlanCell.id.in_(gone[start:start + 10_000])))
    fresh, changed = [], []
    for key, cell in new.items():
        values = {"value": cell.value, "owner_id": cell.owner_id, "locked": cell.locked, "strategy_note": cell.note,
                  "assessment_rule": cell.rule}
        if key not in ids:
            fresh.append({"plan_id": plan.id, "period": key[0], "period_start": bounds[key[0]].start,
                          "period_end": bounds[key[0]].end, "org_node_id": key[1], "product_node_id": key[2],
                          **customer_columns(key[3], axis), **values})
        elif key not in old or old[key] != cell:
            changed.append({"cell_id": ids[key], **values})
    if changed:
        session.execute(
            update(table).where(table.c.id == bindparam("cell_id")).values(
                value=bindparam("value"), owner_id=bindparam("owner_id"), locked=bindparam("locked"),
                strategy_note=bindparam("strategy_note"), assessment_rule=bindparam("assessment_rule")),
            changed,
        )
    if fresh:
        session.execute(insert(table), fresh)
    return record_cell_changes(
        session=session, version=version,
        before={k: (c.value, c.locked) for k, c in old.items()},
        after={k: (c.value, c.locked) for k, c in new.items()}, customer_axis=axis,
    )


def customer_columns(key: str, axis: str) -> dict[str, str]:
    """customer_type / customer_axis / customer_value of a cell whose key part is `key`."""
    if not axis or key == ALL_CUSTOMERS:
        return {"customer_type": key, "customer_axis": "", "customer_value": ALL_CUSTOMERS}
    return {"customer_type": ALL_CUSTOMERS, "customer_axis": axis, "customer_value": key}


def check_locks_kept(old: dict[CellKey, Cell], new: dict[CellKey, Cell], org: OrgTree) -> None:
    for key, cell in old.items():
        if cell.locked and (key not in new or new[key].value != cell.value):
            got = new[key].value if key in new else "nothing"
            raise InvalidInput.coded("plans.splitting.locked_cell_cannot_kept", cell_label=cell_label(key, org), value=cell.value, got=got)


# --- weights per method ---------------------------------------------------------------------------

def _time_weights(
    *, session: Session, plan: Plan, metric: Metric, layout: Layout, method: str, root_history: NDArray[np.float64] | None,
    window: Baseline | None = None,
) -> tuple[NDArray[np.float64], list[str]]:
    leaves = layout.leaf_periods
    if method == "equal":
        return np.array([p.days / 7 if p.grain is Grain.WEEK else 1.0 for p in leaves]), []
    if method == "working-days":
        days = day_range(plan.start_date, plan.end_date)
        mask, warnings = working_day_mask(days, company_calendar(session=session))
        worked = days[mask]
        counts = np.array([float(np.count_nonzero((worked >= np.datetime64(p.start, "D")) & (worked <= np.datetime64(p.end, "D"))))
                           for p in leaves])
        if counts.sum() <= 0:
            raise InvalidInput.coded("plans.splitting.there_working_days_between", start_date=plan.start_date, end_date=plan.end_date)
        return counts, warnings
    # Seasonal: the month shares of the baseline window, twelve complete months (never a running one).
    window = window or baseline_window(session=session, target_start=plan.start_date)
    history = root_history
    if history is None or history.sum() <= 0:
        rep_ids = list(session.scalars(select(OrgNode.id).where(OrgNode.kind == "rep")))
        monthly = data.history_by_rep(session=session, metric=metric, start=window.start, end=window.end, rep_ids=rep_ids,
                                      product_lines=(None,), types=(ALL_CUSTOMERS,)).sum(axis=(0, 2, 3))
        history = data.month_matrix(leaves, plan.start_date.year) @ window.to_calendar_order(monthly)
    else:
        history = history.reshape(layout.shape).sum(axis=(1, 2))
    if history.sum() <= 0:
        raise InvalidInput.coded("plans.splitting.take_seasonal_pattern_time", code=metric.code, label=window.label)
    return history, []


def _member_weights(
    *, session: Session, axis: str, options: SplitOptions, members: tuple[Any, ...], fallback: NDArray[np.float64] | None,
) -> NDArray[np.float64]:
    given = options.weights.get(axis)
    if not given:
        if fallback is not None and fallback.sum() > 0:
            return fallback
        return np.ones(len(members))
    if axis == "product":
        codes = dict(session.execute(select(ProductNode.id, ProductNode.code).where(ProductNode.id.in_([m for m in members if m]))).all())
        names = [codes[m] for m in members]
    else:
        names = list(members)
    unknown = sorted(set(given) - set(names))
    if unknown:
        hint = " (customer segments, grades … are axes of their own: --by org,segment --weights segment=…)" if axis == "customer_type" else ""
        raise InvalidInput.coded("plans.splitting.weight_which_one", axis=axis, unknown=unknown[0], items=', '.join(names), hint=hint)
    missing = [n for n in names if n not in given]
    if missing:
        raise InvalidInput.coded("plans.splitting.weights_name_every_member", axis=axis, items=', '.join(missing))
    weights = []
    for name in names:
        try:
            weight = Decimal(given[name])
        except InvalidOperation as exc:
            raise InvalidInput.coded("plans.splitting.weight_number", axis=axis, name=name, given=given[name]) from exc
        if not weight.is_finite() or weight < 0:
            raise InvalidInput.coded("plans.splitting.weight_weights_zero_more", axis=axis, name=name, given=given[name])
        weights.append(float(weight))
    if sum(weights) <= 0:
        raise InvalidInput.coded("plans.splitting.weights_all_zero", axis=axis)
    return np.array(weights)


def method_inputs(
    *, session: Session, plan: Plan, metric: Metric, layout: Layout, org: OrgTree, method: str,
    window: Baseline | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    """(weights per node, priors per node × leaf slice or None) for a fresh split; history comes from
    the baseline `window` (default: the last complete fiscal year before the plan, as of today)."""
    n = len(org.nodes)
    below = calc.ancestry(org.parents).astype(np.float64)  # node × node: row adds up its subtree
    leaves = list(org.leaves)
    leaf_nodes = [org.nodes[i] for i in leaves]
    leaf_ids = [node.id for node in leaf_nodes]
    months = periods_between(date(plan.start_date.year, 1, 1), date(plan.start_date.year, 12, 31), Grain.MONTH)
    capacity = data.ramped_capacity(leaf_nodes, months)  # (leaves, 12)
    to_leaf_periods = data.month_matrix(layout.leaf_periods, plan.start_date.year)  # (leaf periods, 12)
    if method == "equal":
        return np.ones(n), None
    leaf_weights = np.zeros(n)
    leaf_priors = np.zeros((n, layout.slices))
    if method == "potential":
        leaf_weights[leaves] = data.potential_by_rep(session=session, rep_ids=leaf_ids)
        if leaf_weights.sum() <= 0:
            raise InvalidInput.coded("plans.splitting.customer_owned_rep_plan")
        return below @ leaf_weights, None
    if method == "capacity":
        per_period = capacity @ to_leaf_periods.T  # (leaves, leaf periods)
        products, types = len(layout.leaf_products), len(layout.leaf_types)
        leaf_priors[leaves] = np.repeat(per_period, products * types, axis=1) / (products * types)
        leaf_weights[leaves] = per_period.sum(axis=1)
        if leaf_weights.sum() <= 0:
            raise InvalidInput.coded("plans.splitting.rep_plan_employed_plan")
        return below @ leaf_weights, below @ leaf_priors
    window = window or baseline_window(session=session, target_start=plan.start_date)
    history = window.to_calendar_order(data.history_by_rep(
        session=session, metric=metric, start=window.start, end=window.end, rep_ids=leaf_ids,
        product_lines=layout.leaf_products, types=layout.leaf_types, customer_axis=layout.customer_axis,
    ), axis=1)  # (leaves, 12 calendar months, products, types)
    by_period = np.einsum("lm,rmpt->rlpt", to_leaf_periods, history).reshape(len(leaves), -1)
    totals = by_period.sum(axis=1)
    if totals.sum() <= 0:
        raise InvalidInput.coded("plans.splitting.reps_plan_method_equal", code=metric.code, label=window.label)
    # Reps without last year's history (new hires) get a typical rep's output, ramped from their start.
    typical = float(np.median(totals[totals > 0]))
    ramp_share = capacity.sum(axis=1) / 12
    fallback = totals <= 0
    totals[fallback] = typical * ramp_share[fallback]
    leaf_weights[leaves] = totals
    leaf_priors[leaves] = by_period
    return below @ leaf_weights, below @ leaf_priors


# --- the split ------------------------------------------------------------------------------------

def split_plan(
    *, session: Session, name: str, options: SplitOptions, by: str, expect: int | None = None, reason: str | None = None,
    as_of: date | None = None,
) -> SplitReport:
    """Split plan `name` as `options` say and write every cell; locked cells keep their values.
    History and seasonal shares come from the `options.baseline` window as of `as_of` (default today)."""
    check_options(options)
    plan = require_draft(session=session, name=name, expect=expect)
    if plan.revision_of is not None and plan.effective_from is not None and plan.effective_from > plan.start_date:
        raise Conflict.coded("plans.splitting.plan_revises_approved_plan", name=plan.name, version=plan.version, effective_from=plan.effective_from)
    if plan.total is None:
        raise InvalidInput.coded("plans.splitting.plan_total_create_total", name=plan.name)
    metric = session.get(Metric, plan.metric_id)
    old = load_cells(session=session, plan=plan)
    layout = fresh_layout(session=session, plan=plan, options=options)
    leaves = data.sellers(session=session, start=plan.start_date, end=plan.end_date)
    if not leaves:
        raise InvalidInput.coded("plans.splitting.there_reps_employed_plan")
    org = org_tree(data.with_ancestors(session=session, leaves=leaves))
    window = baseline_window(session=session, target_start=plan.start_date, basis=options.baseline, as_of=as_of)
    weights, priors = method_inputs(session=session, plan=plan, metric=metric, layout=layout, org=org, method=options.method,
                                    window=window)
    time_method = options.time_method or ("seasonal" if options.method == "history" else "equal")
    root_prior = priors[0] if priors is not None else None
    if options.method == "capacity" and options.time_method is None:
        # Ramped headcount also says when in the year the output comes.
        time_method = "capacity"
        time_weights, warnings = root_prior.reshape(layout.shape).sum(axis=(1, 2)), []
    else:
        time_weights, warnings = _time_weights(session=session, plan=plan, metric=metric, layout=layout, method=time_method,
                                               root_history=root_prior if options.method == "history" else None,
                                               window=window)
    used_history = options.method == "history" or time_method == "seasonal"
    if used_history and window.note:
        warnings = [window.note, *warnings]
    margins = root_prior.reshape(layout.shape) if root_prior is not None and options.method == "history" else None
    product_weights = _member_weights(session=session, axis="product", options=options, members=layout.leaf_products,
                                      fallback=margins.sum(axis=(0, 2)) if margins is not None else None)
    type_weights = _member_weights(session=session, axis=layout.customer_axis or "customer_type", options=options,
                                   members=layout.leaf_types,
                                   fallback=margins.sum(axis=(0, 1)) if margins is not None else None)
    locks = slice_locks(layout, org, old)
    root_row = calc.split_root(plan.total, plan.unit, layout, time_weights, product_weights, type_weights,
                               locks.get(0, ()), prior=root_prior)
    rows = calc.split_tree(org.tree, root_row, plan.unit, weights, priors, locks, slice_names(session, layout))
    new = build_cells(layout=layout, org=org, leaf_rows=rows, old=old, metric=metric)
    check_locks_kept(old, new, org)
    version = begin_change(session=session, plan=plan, expect=expect, by=by, action=f"split {options.method}",
                           reason=reason or f"split by {','.join(options.by)} ({options.method}, time {time_method})")
    changed = save_cells(session=session, plan=plan, version=version, layout=layout, old=old, new=new)
    plan.split_spec = {**options.as_dict(), "time_method": time_method}
    session.commit()
    return SplitReport(plan.name, version.version, options.method, options.by, len(new), changed,
                       sum(1 for c in new.values() if c.locked), plan.total, tuple(warnings),
                       {**window.as_dict(), "description": window.description} if used_history else None)


def resplit_current(
    *, session: Session, plan: Plan, cells: dict[CellKey, Cell], extra_locks: dict[CellKey, int] | None = None,
    total: int | None = None,
) -> tuple[Layout, OrgTree, dict[CellKey, Cell]]:
    """Re-split the stored plan around its locked cells and `extra_locks`, keeping its pattern.

    Weights are the nodes' current totals and priors their current leaf slices, so cells nothing
    forces to move stay where they are. Returns the new cells (not saved).
    """
    metric = session.get(Metric, plan.metric_id)
    layout = stored_layout(plan=plan, cells=cells)
    org = stored_tree(session=session, cells=cells)
    pinned = {k: Cell(c.value, c.locked, c.owner_id, c.note, c.rule) for k, c in cells.items()}
    position = {n.id: i for i, n in enumerate(org.nodes)}
    only_child = {i for i in range(1, len(org.nodes)) if org.parents.count(org.parents[i]) == 1}
    for key, value in (extra_locks or {}).items():
        if key not in pinned:
            raise InvalidInput.coded("plans.splitting.plan_cell", name=plan.name, cell_label=cell_label(key, org))
        pinned[key] = Cell(value, True, pinned[key].owner_id, pinned[key].note, pinned[key].rule)
        # An only child is its parent: the parent's cell moves with it.
        i = position[key[1]]
        while i in only_child:
            i = org.parents[i]
            above = (key[0], org.nodes[i].id, key[2], key[3])
            if pinned[above].locked and pinned[above].value != value:
                raise InvalidInput.coded("plans.splitting.only_member_which_locked", cell_label=cell_label(key, org), cell_label2=cell_label(above, org), value=pinned[above].value)
            pinned[above] = Cell(value, True, pinned[above].owner_id, pinned[above].note, pinned[above].rule)
    current = with_sums_above(org, leaf_rows_of(layout, org, cells), cells)
    weights = current.sum(axis=1).astype(np.float64)
    priors = current.astype(np.float64)
    locks = slice_locks(layout, org, pinned)
    root_total = int(current[0].sum()) if total is None else total
    root_locks = locks.get(0, [])
    full = [lock for lock in root_locks if len(lock.slices) == layout.slices]
    if full:
        root_total = full[0].value
    if root_total % plan.unit:
        raise InvalidInput.coded("plans.splitting.plan_total_multiple_plan", root_total=root_total, unit=plan.unit)
    cube = current[0].reshape(layout.shape).astype(np.float64)
    root_row = calc.split_root(root_total, plan.unit, layout, cube.sum(axis=(1, 2)), cube.sum(axis=(0, 2)),
                               cube.sum(axis=(0, 1)), root_locks, prior=current[0].astype(np.float64))
    rows = calc.split_tree(org.tree, root_row, plan.unit, weights, priors, locks, slice_names(session, layout))
    new = build_cells(layout=layout, org=org, leaf_rows=rows, old=pinned, metric=metric)
    check_locks_kept(pinned, new, org)
    return layout, org, new


def slice_names(session: Session, layout: Layout) -> tuple[str, ...]:
    """'2027-03 LA new' for every leaf slice, for messages."""
    codes = dict(session.execute(select(ProductNode.id, ProductNode.code)).all()) if layout.leaf_products[0] is not None else {}
    return tuple(
        " ".join(x for x in (p.label, codes.get(q, "") if q else "", t if t != ALL_CUSTOMERS else "") if x)
        for p in layout.leaf_periods for q in layout.leaf_products for t in layout.leaf_types
    )




