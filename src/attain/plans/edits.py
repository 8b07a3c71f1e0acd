"""Changing a draft plan: set, lock, unlock and annotate cells, bottom-up commitments and their
reconciliation, and mid-period re-splits. Every change is one new version (who, when, why) and
takes the version it was based on (`expect`); a stale one raises Conflict."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.catalog.models import ProductNode
from attain.errors import Conflict, InvalidInput, NotFound
from attain.metrics.models import Metric
from attain.org.models import OrgNode
from attain.org.service import require_node
from attain.periods import Grain, parse_period
from attain.plans import calc, data
from attain.plans.models import ALL_CUSTOMERS, Plan, PlanCell, PlanCommitment
from attain.plans.service import (
    CellKey,
    begin_change,
    record_cell_changes,
    require_draft,
    require_plan,
)
from attain.plans.splitting import (
    Cell,
    build_cells,
    leaf_rows_of,
    load_cells,
    plan_total,
    resplit_current,
    save_cells,
    stored_layout,
    stored_tree,
)
from attain.split.reconcile import ReconcileRule, reconcile

CUSTOMER_TYPES = (ALL_CUSTOMERS, "new", "existing")
RESPLIT_RULES = ("keep-total", "leaver")


@dataclass(frozen=True)
class CellRef:
    """A cell as users name it: org node code, period label, product line code (None = all), customer type."""

    node: str
    period: str
    product: str | None = None
    customer_type: str = ALL_CUSTOMERS


@dataclass(frozen=True)
class EditResult:
    plan: str
    version: int
    action: str
    cells_changed: int
    total: int


def resolve(*, session: Session, plan: Plan, ref: CellRef, cells: dict[CellKey, Cell]) -> CellKey:
    """The stored key of `ref`, or NotFound naming what is missing."""
    node = require_node(session=session, key=ref.node)
    period = parse_period(ref.period).label
    product_id = None
    if ref.product:
        product_id = session.scalar(select(ProductNode.id).where(ProductNode.code == ref.product))
        if product_id is None:
            raise NotFound(f"no product line '{ref.product}'")
    if ref.customer_type not in CUSTOMER_TYPES:
        raise InvalidInput(f"customer type '{ref.customer_type}' is not one of {', '.join(CUSTOMER_TYPES)}")
    key = (period, node.id, product_id, ref.customer_type)
    if key not in cells:
        raise NotFound(f"plan {plan.name} has no cell for {node.code} in {period}"
                       + (f", product {ref.product}" if ref.product else "") + (f", {ref.customer_type} customers" if ref.customer_type != ALL_CUSTOMERS else ""))
    return key


def _draft(session: Session, name: str, expect: int | None) -> tuple[Plan, dict[CellKey, Cell]]:
    plan = require_draft(session=session, name=name, expect=expect)
    return plan, load_cells(session=session, plan=plan)


def _check_value(plan: Plan, value: int) -> None:
    if value < 0:
        raise InvalidInput(f"a target cannot be negative, got {value}")
    if value % plan.unit:
        raise InvalidInput(f"{value} is not a multiple of the plan's rounding unit {plan.unit} (minor units)")


def _save_resplit(
    session: Session, plan: Plan, old: dict[CellKey, Cell], pins: dict[CellKey, int], *, by: str, expect: int | None,
    action: str, reason: str | None, hold: dict[CellKey, int] | None = None,
) -> EditResult:
    layout, org, new = resplit_current(session=session, plan=plan, cells=old, extra_locks={**(hold or {}), **pins})
    for key in hold or {}:
        if key not in pins:
            new[key].locked = old[key].locked  # held only for this re-split
    version = begin_change(session=session, plan=plan, expect=expect, by=by, action=action, reason=reason)
    changed = save_cells(session=session, plan=plan, version=version, layout=layout, old=old, new=new)
    plan.total = plan_total(layout, org, new)
    session.commit()
    return EditResult(plan.name, version.version, action, changed, plan.total)


def set_cells(
    *, session: Session, name: str, values: dict[CellRef, int], by: str, expect: int | None = None, reason: str | None = None,
) -> EditResult:
    """Set cells (minor units) and pin them (locked); the unlocked cells around them are re-split so
    every parent keeps its value and every level still adds up. Setting the company's year cell
    changes the plan total."""
    plan, old = _draft(session, name, expect)
    pins: dict[CellKey, int] = {}
    for ref, value in values.items():
        key = resolve(session=session, plan=plan, ref=ref, cells=old)
        _check_value(plan, value)
        if old[key].locked and old[key].value != value:
            raise Conflict(f"cell {ref.node} {key[0]} is locked at {old[key].value}; unlock it first")
        pins[key] = value
    labels = ", ".join(f"{r.node} {r.period}" for r in values)
    return _save_resplit(session, plan, old, pins, by=by, expect=expect, action="set cells", reason=reason or f"set {labels}")


def set_lock(
    *, session: Session, name: str, ref: CellRef, locked: bool, by: str, expect: int | None = None, reason: str | None = None,
) -> EditResult:
    """Lock a cell at its value (re-splits keep it) or unlock it."""
    plan, cells = _draft(session, name, expect)
    key = resolve(session=session, plan=plan, ref=ref, cells=cells)
    cell = session.scalars(select(PlanCell).where(
        PlanCell.plan_id == plan.id, PlanCell.period == key[0], PlanCell.org_node_id == key[1],
        PlanCell.customer_type == key[3],
        PlanCell.product_node_id.is_(None) if key[2] is None else PlanCell.product_node_id == key[2],
    )).one()
    if cell.locked == locked:
        raise InvalidInput(f"cell {ref.node} {key[0]} is already {'locked' if locked else 'unlocked'}")
    action = "lock" if locked else "unlock"
    version = begin_change(session=session, plan=plan, expect=expect, by=by, action=action, reason=reason or f"{action} {ref.node} {key[0]}")
    record_cell_changes(session=session, version=version, before={key: (cell.value, cell.locked)}, after={key: (cell.value, locked)})
    cell.locked = locked
    session.commit()
    return EditResult(plan.name, version.version, action, 1, plan.total or 0)


def set_note(
    *, session: Session, name: str, ref: CellRef, note: str | None = None, rule: dict[str, str] | None = None,
    owner: str | None = None, by: str, expect: int | None = None, reason: str | None = None,
) -> EditResult:
    """Change a cell's strategy note, assessment rule or owner (not its value)."""
    plan, cells = _draft(session, name, expect)
    key = resolve(session=session, plan=plan, ref=ref, cells=cells)
    if note is None and rule is None and owner is None:
        raise InvalidInput("give --note, --owner or an assessment rule option to change")
    cell = session.scalars(select(PlanCell).where(
        PlanCell.plan_id == plan.id, PlanCell.period == key[0], PlanCell.org_node_id == key[1],
        PlanCell.customer_type == key[3],
        PlanCell.product_node_id.is_(None) if key[2] is None else PlanCell.product_node_id == key[2],
    )).one()
    new_rule = dict(cell.assessment_rule or {})
    if rule:
        metric_code = rule.get("metric")
        if metric_code and session.scalar(select(Metric.id).where(Metric.code == metric_code)) is None:
            raise NotFound(f"no metric '{metric_code}' for the assessment rule")
        achieved = rule.get("achieved_at")
        if achieved is not None:
            try:
                ratio = float(achieved)
            except ValueError as exc:
                raise InvalidInput(f"achieved-at '{achieved}' is not a ratio such as 1.00 or 0.95") from exc
            if not 0 < ratio <= 10:
                raise InvalidInput(f"achieved-at {achieved} must be between 0 and 10 (1.00 = 100 % of target)")
        review = rule.get("review")
        if review is not None and review not in ("daily", "weekly", "monthly", "quarterly"):
            raise InvalidInput(f"review '{review}' is not daily, weekly, monthly or quarterly")
        new_rule.update({k: v for k, v in rule.items() if v is not None})
    owner_id = cell.owner_id
    if owner is not None:
        owner_id = require_node(session=session, key=owner).id
    version = begin_change(session=session, plan=plan, expect=expect, by=by, action="note", reason=reason or f"note on {ref.node} {key[0]}")
    if note is not None:
        cell.strategy_note = note
    cell.assessment_rule = new_rule
    cell.owner_id = owner_id
    session.commit()
    return EditResult(plan.name, version.version, "note", 0, plan.total or 0)


# --- bottom-up commitments ------------------------------------------------------------------------

@dataclass(frozen=True)
class Gap:
    node: str
    name: str
    parent: str
    period: str
    top_down: int
    bottom_up: int | None
    gap: int | None
    reconciled: int


@dataclass(frozen=True)
class ReconcileReport:
    plan: str
    rule: str
    period: str
    gaps: list[Gap]
    warnings: tuple[str, ...]
    applied_version: int | None


def commit_number(
    *, session: Session, name: str, node: str, period: str, value: int, by: str, note: str | None = None,
    expect: int | None = None,
) -> EditResult:
    """Record (or replace) a rep's or manager's own number for one node and period."""
    plan, cells = _draft(session, name, expect)
    key = resolve(session=session, plan=plan, ref=CellRef(node, period), cells=cells)
    _check_value(plan, value)
    scale = session.get(Metric, plan.metric_id).scale
    version = begin_change(session=session, plan=plan, expect=expect, by=by, action="commitment",
                           reason=f"{node} commits {Decimal(value).scaleb(-scale):,.{scale}f} for {key[0]}")
    existing = session.scalars(select(PlanCommitment).where(
        PlanCommitment.plan_id == plan.id, PlanCommitment.org_node_id == key[1], PlanCommitment.period == key[0])).first()
    now = datetime.now(UTC).replace(tzinfo=None)
    if existing is None:
        session.add(PlanCommitment(plan_id=plan.id, org_node_id=key[1], period=key[0], value=value, committed_by=version.changed_by,
                                   committed_at=now, note=note))
    else:
        existing.value, existing.committed_by, existing.committed_at, existing.note = value, version.changed_by, now, note
    session.commit()
    return EditResult(plan.name, version.version, "commitment", 0, plan.total or 0)


def reconcile_plan(
    *, session: Session, name: str, rule: str = "scale", period: str | None = None, apply: bool = False,
    by: str = "", expect: int | None = None, reason: str | None = None,
) -> ReconcileReport:
    """Top-down targets against commitments, per group of committed siblings: the group's top-down
    total is kept (so parents keep their targets) and shared by the rule; nodes without a
    commitment keep their top-down figure. With `apply`, the reconciled figures are
    set (and pinned) and the cells below them re-split.
    """
    try:
        chosen = ReconcileRule(rule)
    except ValueError as exc:
        raise InvalidInput(f"unknown reconcile rule '{rule}'; rules are {', '.join(r.value for r in ReconcileRule)}") from exc
    plan = require_plan(session=session, name=name)
    label = parse_period(period).label if period else str(plan.year or plan.start_date.year)
    cells = load_cells(session=session, plan=plan)
    commitments = {
        c.org_node_id: c.value
        for c in session.scalars(select(PlanCommitment).where(PlanCommitment.plan_id == plan.id, PlanCommitment.period == label))
    }
    if not commitments:
        raise NotFound(f"no commitments for {label} in plan {plan.name}; reps submit them with `attain plan commit`")
    nodes = {n.id: n for n in session.scalars(select(OrgNode).where(OrgNode.id.in_({k[1] for k in cells})))}
    # Committed siblings share their top-down total among themselves; the others keep theirs.
    groups: dict[int | None, list[int]] = {}
    for node_id in commitments:
        if node_id in nodes and (label, node_id, None, ALL_CUSTOMERS) in cells:
            groups.setdefault(nodes[node_id].parent_id, []).append(node_id)
    gaps: list[Gap] = []
    warnings: list[str] = []
    pins: dict[CellRef, int] = {}
    for parent_id, members in groups.items():
        members.sort(key=lambda i: nodes[i].code)
        top = np.array([cells[(label, i, None, ALL_CUSTOMERS)].value for i in members], dtype=np.int64)
        bottom = np.array([commitments.get(i, int(top[k])) for k, i in enumerate(members)], dtype=np.int64)
        result = reconcile(top, bottom, plan.unit, chosen, tuple(nodes[i].code for i in members))
        warnings += result.warnings
        parent = nodes.get(parent_id).code if parent_id in nodes else "-"
        for k, i in enumerate(members):
            committed = commitments.get(i)
            gaps.append(Gap(nodes[i].code, nodes[i].name, parent, label, int(top[k]), committed,
                            None if committed is None else committed - int(top[k]), int(result.plan[k])))
            if int(result.plan[k]) != int(top[k]):
                pins[CellRef(nodes[i].code, label)] = int(result.plan[k])
    applied = None
    if apply:
        if warnings:
            raise InvalidInput(f"cannot apply: {warnings[0]}; raise the parent's target first")
        if not pins:
            raise InvalidInput("nothing to apply: the reconciled targets equal the top-down ones")
        applied = set_cells(session=session, name=name, values=pins, by=by, expect=expect,
                            reason=reason or f"reconciled with commitments ({chosen.value})").version
    return ReconcileReport(plan.name, chosen.value, label, gaps, tuple(warnings), applied)


# --- mid-period re-split --------------------------------------------------------------------------

def resplit_from(
    *, session: Session, name: str, start: str, rule: str, by: str, rep: str | None = None, expect: int | None = None,
    reason: str | None = None,
) -> EditResult:
    """Re-split the periods from `start` on; closed periods keep their targets.

    keep-total: each rep's remaining periods get what the rep still needs for the year target
    (year target − actuals of the closed periods), spread by the remaining periods' current shares;
    the year cells keep their value (so the month cells then add up to year + shortfall).
    leaver: rep `rep`'s remaining targets go to teammates in proportion to their own targets.
    """
    if rule not in RESPLIT_RULES:
        raise InvalidInput(f"unknown re-split rule '{rule}'; choose {' or '.join(RESPLIT_RULES)}")
    plan, cells = _draft(session, name, expect)
    cut = parse_period(start).start
    if not plan.start_date < cut <= plan.end_date:
        raise InvalidInput(f"--from {start} must fall after the plan's first day and within {plan.start_date}..{plan.end_date}")
    layout = stored_layout(plan=plan, cells=cells)
    org = stored_tree(session=session, cells=cells)
    straddling = [p.label for p in layout.leaf_periods if p.start < cut <= p.end]
    if straddling:
        raise InvalidInput(f"--from {start} cuts period {straddling[0]} in two; start at a period boundary")
    closed = np.array([p.end < cut for p in layout.leaf_periods])
    if closed.all():
        raise InvalidInput(f"every period of plan {plan.name} ends before {start}; nothing left to re-split")
    _a, b, c = layout.shape
    closed_slices = np.repeat(closed, b * c)
    rows = leaf_rows_of(layout, org, cells)
    if rule == "leaver":
        if not rep:
            raise InvalidInput("the leaver rule needs --rep CODE")
        node = require_node(session=session, key=rep)
        index = next((i for i, n in enumerate(org.nodes) if n.id == node.id), None)
        if index is None or index not in org.leaves:
            raise NotFound(f"{node.code} has no targets of their own in plan {plan.name}")
        parent = org.parents[index]
        mates = [j for j in org.leaves if org.parents[j] == parent and j != index]
        if not mates:
            raise InvalidInput(f"{node.code} has no teammates in plan {plan.name} to take over the target")
        hold: dict[CellKey, int] = {}
        pins: dict[CellKey, int] = {}
        for i, member in enumerate(org.nodes):
            for s in np.flatnonzero(closed_slices):
                key = _leaf_key(layout, member.id, int(s))
                hold[key] = int(rows[i, s])
        for s in np.flatnonzero(~closed_slices):
            pins[_leaf_key(layout, node.id, int(s))] = 0
        whole = layout.periods[0]
        if whole.grain is Grain.YEAR:
            pins[(whole.label, node.id, None, ALL_CUSTOMERS)] = int(rows[index, closed_slices].sum())
        for key, value in pins.items():
            if cells[key].locked and cells[key].value != value:
                raise Conflict(f"{node.code}'s cell {key[0]} is locked; unlock it before reassigning the target")
        result = _save_resplit(session, plan, cells, {}, hold={**hold, **pins}, by=by, expect=expect, action="resplit leaver",
                               reason=reason or f"{node.code} leaves: targets from {start} go to the teammates")
        return result
    leaves = list(org.leaves)
    leaf_nodes = [org.nodes[i] for i in leaves]
    metric = session.get(Metric, plan.metric_id)
    actual = data.actuals_by_rep(session=session, metric=metric, rep_ids=[n.id for n in leaf_nodes], start=plan.start_date,
                                 end=cut - timedelta(days=1))
    year_targets = rows[leaves].sum(axis=1)
    remaining = calc.catch_up(rows[leaves][:, ~closed_slices], year_targets, actual, plan.unit)
    locked_remaining = [
        (n.code, p.label) for n in leaf_nodes for p in layout.leaf_periods
        if p.start >= cut and (p.label, n.id, None, ALL_CUSTOMERS) in cells and cells[(p.label, n.id, None, ALL_CUSTOMERS)].locked
    ]
    if locked_remaining:
        raise Conflict(f"cell {locked_remaining[0][0]} {locked_remaining[0][1]} is locked; unlock the remaining periods before a catch-up re-split")
    leaf_rows = rows.copy()
    leaf_rows[np.ix_(leaves, np.flatnonzero(~closed_slices))] = remaining
    below = calc.ancestry(org.parents)
    is_leaf = np.zeros(len(org.nodes), dtype=np.int64)
    is_leaf[leaves] = 1
    all_rows = (below * is_leaf[None, :]) @ leaf_rows
    years = {p.label for p in layout.periods if p.grain is Grain.YEAR}
    keep = {k: c.value for k, c in cells.items() if k[0] in years}
    new = build_cells(layout=layout, org=org, leaf_rows=all_rows, old=cells, metric=metric, keep=keep)
    version = begin_change(session=session, plan=plan, expect=expect, by=by, action="resplit keep-total",
                           reason=reason or f"catch-up from {start}: closed shortfall spread over the remaining periods")
    changed = save_cells(session=session, plan=plan, version=version, layout=layout, old=cells, new=new)
    session.commit()
    return EditResult(plan.name, version.version, "resplit keep-total", changed, plan.total or 0)


def _leaf_key(layout: calc.Layout, node_id: int, s: int) -> CellKey:
    a, b, c = np.unravel_index(s, layout.shape)
    return (layout.leaf_periods[a].label, node_id, layout.leaf_products[b], layout.leaf_types[c])
