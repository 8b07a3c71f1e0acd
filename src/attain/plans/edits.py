"""Changing a draft plan: set, lock, unlock and annotate cells, bottom-up commitments and their
reconciliation, and mid-period re-splits. Every change is one new version (who, when, why) and
takes the version it was based on (`expect`); a stale one raises Conflict."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from attain.auth.models import User
from attain.catalog.models import ProductNode
from attain.errors import Conflict, InvalidInput, NotFound
from attain.metrics.models import Metric
from attain.org.models import OrgNode
from attain.org.service import require_node
from attain.periods import Grain, parse_period
from attain.plans import calc, data
from attain.plans.models import ALL_CUSTOMERS, Plan, PlanCell, PlanCommitment
from attain.plans.service import (
    CellDiff,
    CellKey,
    authorize,
    begin_change,
    frozen_before,
    plan_root,
    record_cell_changes,
    require_draft,
    require_plan,
)
from attain.plans.splitting import (
    Cell,
    build_cells,
    cell_label,
    check_locks_kept,
    leaf_rows_of,
    load_cells,
    plan_total,
    save_cells,
    slice_names,
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


# One cell whose value an edit changed (the "who moved" list after an edit): the same record as a diff.
CellChange = CellDiff


@dataclass(frozen=True)
class EditResult:
    plan: str
    version: int
    action: str
    cells_changed: int
    total: int
    changes: tuple[CellChange, ...] = ()
    customers: tuple[tuple[str, str], ...] = ()  # (customer, new owner) handed over by the leaver rule


def closed_labels(plan: Plan, labels: set[str] | list[str]) -> set[str]:
    """Labels of the periods that ended before the plan version's effective date: frozen."""
    cutoff = frozen_before(plan)
    if cutoff is None:
        return set()
    return {label for label in labels if parse_period(label).end < cutoff}


def _check_open(plan: Plan, key: CellKey, what: str = "changed") -> None:
    if closed_labels(plan, [key[0]]):
        raise Conflict.coded("plans.edits.period_closed_before_revision", key=key[0], effective_from=plan.effective_from, what=what)


def _changes(session: Session, old: dict[CellKey, Cell], new: dict[CellKey, Cell]) -> tuple[CellChange, ...]:
    moved = [k for k in old.keys() | new.keys()
             if (old[k].value if k in old else None) != (new[k].value if k in new else None)]
    if not moved:
        return ()
    nodes = {n.id: n for n in session.scalars(select(OrgNode).where(OrgNode.id.in_({k[1] for k in moved})))}
    products = dict(session.execute(select(ProductNode.id, ProductNode.code)).all()) if any(k[2] for k in moved) else {}
    moved.sort(key=lambda k: (nodes[k[1]].depth, nodes[k[1]].path, _period_key(k[0]), k[2] or 0, k[3]))
    return tuple(
        CellDiff(k[0], k[1], nodes[k[1]].code, nodes[k[1]].name, products.get(k[2]) if k[2] else None, k[3],
                 old[k].value if k in old else None, new[k].value if k in new else None)
        for k in moved
    )


def _period_key(label: str) -> tuple[object, ...]:
    period = parse_period(label)
    return (period.start, -period.days)


def resolve(*, session: Session, plan: Plan, ref: CellRef, cells: dict[CellKey, Cell]) -> CellKey:
    """The stored key of `ref`, or NotFound naming what is missing."""
    node = require_node(session=session, key=ref.node)
    period = parse_period(ref.period).label
    product_id = None
    if ref.product:
        product_id = session.scalar(select(ProductNode.id).where(ProductNode.code == ref.product))
        if product_id is None:
            raise NotFound.coded("plans.edits.product_line", product=ref.product)
    if ref.customer_type not in CUSTOMER_TYPES:
        raise InvalidInput.coded("plans.edits.customer_type_one", customer_type=ref.customer_type, items=', '.join(CUSTOMER_TYPES))
    key = (period, node.id, product_id, ref.customer_type)
    if key not in cells:
        customers = ref.customer_type != ALL_CUSTOMERS
        code = {(False, False): "cell.no_cell", (True, False): "plans.edits.no_cell_product",
                (False, True): "plans.edits.no_cell_customers", (True, True): "plans.edits.no_cell_product_customers"}
        raise NotFound.coded(code[bool(ref.product), customers], plan=plan.name, node=node.code, period=period,
                             product=ref.product, customer_type=ref.customer_type)
    return key


def _draft(session: Session, name: str, expect: int | None) -> tuple[Plan, dict[CellKey, Cell]]:
    plan = require_draft(session=session, name=name, expect=expect)
    return plan, load_cells(session=session, plan=plan)


def _check_value(plan: Plan, value: int) -> None:
    if value < 0:
        raise InvalidInput.coded("cell.negative", value=value)
    if value % plan.unit:
        raise InvalidInput.coded("cell.off_unit", value=value, unit=plan.unit)


def _contains(outer: CellKey, inner: CellKey, nodes: dict[int, OrgNode], periods: dict[str, Any]) -> bool:
    """Whether cell `outer` covers all of cell `inner` (an ancestor or itself in every dimension)."""
    x, y = periods[outer[0]], periods[inner[0]]
    return (nodes[inner[1]].path.startswith(nodes[outer[1]].path) and x.start <= y.start and y.end <= x.end
            and (outer[2] is None or outer[2] == inner[2]) and (outer[3] == ALL_CUSTOMERS or outer[3] == inner[3]))


def _save_resplit(
    session: Session, plan: Plan, old: dict[CellKey, Cell], pins: dict[CellKey, int], *, by: str, expect: int | None,
    action: str, reason: str | None, within: OrgNode | None = None, change_total: bool = False,
    closed: set[str] | None = None, lock_pins: bool = True, role: str | None = None,
) -> EditResult:
    """THE edit rule, for every entry point (CLI set-cell, web grid, API, reconcile, leaver re-split).

    Each pinned cell takes its value, spread over the open cells under it in proportion to what
    they had. Cells of closed periods (before a revision's effective date, or `closed`) and locked
    cells keep theirs. Then either
    - redistribute within (default): the difference is taken from the open cells of the same periods
      under `within` (default: the plan's top node; a locked cell above the edited one narrows it),
      so every cell of that node keeps its value; or
    - change the total: the difference goes up to every cell above, up to the plan total.
    Returns every cell whose value changed.
    """
    layout = stored_layout(plan=plan, cells=old)
    org = stored_tree(session=session, cells=old)
    metric = session.get(Metric, plan.metric_id)
    nodes = {n.id: n for n in org.nodes}
    position = {n.id: i for i, n in enumerate(org.nodes)}
    periods = {p.label: p for p in layout.periods}
    period_index = {p.label: i for i, p in enumerate(layout.periods)}
    product_index = {q: i for i, q in enumerate(layout.product_keys)}
    type_index = {t: i for i, t in enumerate(layout.type_keys)}
    below = calc.ancestry(org.parents).astype(bool)

    def covered(key: CellKey) -> tuple[int, ...]:
        if key[0] not in period_index or key[2] not in product_index or key[3] not in type_index:
            raise InvalidInput.coded("plans.edits.cell_does_fit_plan", cell_label=cell_label(key, org))
        return tuple(int(s) for s in layout.covered(period_index[key[0]], product_index[key[2]], type_index[key[3]]))

    shape = (len(org.nodes), layout.slices)
    closed_mask = np.zeros(shape, dtype=bool)
    shut = closed_labels(plan, {k[0] for k in old}) | (closed or set())
    leaf_closed = [s for s in range(layout.slices)
                   if layout.leaf_periods[int(np.unravel_index(s, layout.shape)[0])].label in shut]
    closed_mask[:, leaf_closed] = True
    for key in pins:
        _check_open(plan, key)
        if key[0] in shut:
            raise Conflict.coded("cell.closed", period=key[0], cell=cell_label(key, org))
    locks = []
    for key, cell in old.items():
        if cell.locked and key[1] in position:
            mask = np.zeros(shape, dtype=bool)
            mask[np.ix_(below[position[key[1]]], covered(key))] = True
            locks.append((key, mask))
    top = position[(within or org.nodes[0]).id]
    edits = []
    for key, value in pins.items():
        fixed = closed_mask.copy()
        donors: int | None = None if change_total else top
        donor_slices: tuple[int, ...] | None = None
        for lock_key, mask in locks:
            if lock_key == key:
                continue
            if _contains(lock_key, key, nodes, periods):
                if change_total:
                    raise Conflict(f"changing {cell_label(key, org)} would change locked cell {cell_label(lock_key, org)}; "
                                   "unlock it or redistribute within it", code="cell.lock_conflict",
                                   params={"cell": cell_label(key, org), "locked": cell_label(lock_key, org)})
                # The difference must stay inside the locked cell: narrow the donors to it, unless
                # they already lie inside it (then it keeps its value anyway).
                inner, spread_over = position[lock_key[1]], covered(lock_key)
                if donors is None or not below[donors, inner]:
                    continue  # the donors are a node below the locked cell's
                if inner == donors and (donor_slices is None or len(donor_slices) <= len(spread_over)):
                    continue  # slice by slice, or over fewer slices, the locked cell already holds
                donors = inner
                donor_slices = None if set(spread_over) == set(covered(key)) else spread_over
            else:
                fixed |= mask
        if donors is not None and not below[donors, position[key[1]]]:
            raise InvalidInput.coded("plans.edits.under_part_plan_gives", cell_label=cell_label(key, org), code=org.nodes[donors].code)
        if donors == position[key[1]] and donor_slices is None:
            raise InvalidInput(f"{cell_label(key, org)} is the top of the part being redistributed; change the total instead "
                               "(--change-total), or edit the cells under it", code="cell.top", params={"cell": cell_label(key, org)})
        edits.append(calc.Edit(position[key[1]], covered(key), value, cell_label(key, org), donors, fixed, donor_slices))
    rows = calc.apply_edits(leaf_rows_of(layout, org, old), org.parents, edits, plan.unit,
                            tuple(n.code for n in org.nodes), slice_names(session, layout))
    # Every node above the plan's cells gets its sums too (a rep-only quota sheet gains its teams).
    new = build_cells(layout=layout, org=org, leaf_rows=rows, old=old, metric=metric)
    for key, value in pins.items():
        if new[key].value != value:
            raise InvalidInput.coded("plans.edits.cannot_set_here_cells", cell_label=cell_label(key, org), value=value, value2=new[key].value)
        if lock_pins:
            new[key].locked = True
    check_locks_kept(old, new, org)
    for key, cell in old.items():
        if key[0] in shut and new[key].value != cell.value:  # pragma: no cover - apply_edits never moves a closed slice
            raise InvalidInput.coded("plans.edits.closed_cell_would_change", cell_label=cell_label(key, org))
    version = begin_change(session=session, plan=plan, expect=expect, by=by, action=action, reason=reason, role=role)
    changed = save_cells(session=session, plan=plan, version=version, layout=layout, old=old, new=new)
    plan.total = plan_total(layout, org, new)
    changes = _changes(session, old, new)
    session.commit()
    return EditResult(plan.name, version.version, action, changed, plan.total, changes)


def set_cells(
    *, session: Session, name: str, values: dict[CellRef, int], by: str, expect: int | None = None, reason: str | None = None,
    within: str | None = None, change_total: bool = False, actor: User | None = None,
) -> EditResult:
    """Set cells (minor units) and pin them (locked), then re-split by the one edit rule
    (`_save_resplit`): by default the cells of `within` (the plan's top node, or the part of the
    plan the actor manages) keep their values; with `change_total` the difference goes up to the
    plan total instead. Returns every cell whose value changed."""
    plan, old = _draft(session, name, expect)
    pins: dict[CellKey, int] = {}
    touched: list[OrgNode] = []
    for ref, value in values.items():
        key = resolve(session=session, plan=plan, ref=ref, cells=old)
        _check_value(plan, value)
        _check_open(plan, key)
        if old[key].locked and old[key].value != value:
            raise Conflict.coded("cell.locked", node=ref.node, period=key[0], value=old[key].value)
        pins[key] = value
        touched.append(require_node(session=session, key=ref.node))
    scope = _scope(session, plan, within, actor)
    if actor is not None:
        authorize(session=session, user=actor, plan=plan, action="change-total" if change_total else "edit",
                  nodes=(*touched, scope) if scope is not None else tuple(touched))
    labels = ", ".join(f"{r.node} {r.period}" for r in values)
    return _save_resplit(session, plan, old, pins, by=by, expect=expect, action="set cells", reason=reason or f"set {labels}",
                         within=None if change_total else scope, change_total=change_total,
                         role=actor.role if actor is not None else None)


def _scope(session: Session, plan: Plan, within: str | None, actor: User | None) -> OrgNode | None:
    """The node whose cells an edit keeps: asked for, else the actor's own part of the plan, else the top."""
    if within:
        return require_node(session=session, key=within)
    if actor is not None and actor.role not in ("admin",) and actor.org_node_id is not None:
        from attain.auth.access import can_see

        root = plan_root(session=session, plan=plan)
        if root is not None and not can_see(session=session, user=actor, node=root):
            return session.get(OrgNode, actor.org_node_id)
    return None


def set_lock(
    *, session: Session, name: str, ref: CellRef, locked: bool, by: str, expect: int | None = None, reason: str | None = None,
    actor: User | None = None,
) -> EditResult:
    """Lock a cell at its value (re-splits keep it) or unlock it."""
    plan, cells = _draft(session, name, expect)
    key = resolve(session=session, plan=plan, ref=ref, cells=cells)
    if actor is not None:
        authorize(session=session, user=actor, plan=plan, action="edit", nodes=(require_node(session=session, key=ref.node),))
    _check_open(plan, key, "locked or unlocked")
    cell = session.scalars(select(PlanCell).where(
        PlanCell.plan_id == plan.id, PlanCell.period == key[0], PlanCell.org_node_id == key[1],
        PlanCell.customer_type == key[3], PlanCell.customer_axis == "",  # not a segment's cell of a plan split by segment
        PlanCell.product_node_id.is_(None) if key[2] is None else PlanCell.product_node_id == key[2],
    )).one()
    if cell.locked == locked:
        raise InvalidInput.coded("plans.edits.cell_already", node=ref.node, key=key[0], value='locked' if locked else 'unlocked')
    action = "lock" if locked else "unlock"
    version = begin_change(session=session, plan=plan, expect=expect, by=by, action=action, reason=reason or f"{action} {ref.node} {key[0]}")
    record_cell_changes(session=session, version=version, before={key: (cell.value, cell.locked)}, after={key: (cell.value, locked)})
    cell.locked = locked
    session.commit()
    return EditResult(plan.name, version.version, action, 1, plan.total or 0)


def set_note(
    *, session: Session, name: str, ref: CellRef, note: str | None = None, rule: dict[str, str] | None = None,
    owner: str | None = None, by: str, expect: int | None = None, reason: str | None = None, actor: User | None = None,
) -> EditResult:
    """Change a cell's strategy note, assessment rule or owner (not its value)."""
    plan, cells = _draft(session, name, expect)
    key = resolve(session=session, plan=plan, ref=ref, cells=cells)
    if actor is not None:
        authorize(session=session, user=actor, plan=plan, action="edit", nodes=(require_node(session=session, key=ref.node),))
    if note is None and rule is None and owner is None:
        raise InvalidInput.coded("plans.edits.give_note_owner_assessment")
    cell = session.scalars(select(PlanCell).where(
        PlanCell.plan_id == plan.id, PlanCell.period == key[0], PlanCell.org_node_id == key[1],
        PlanCell.customer_type == key[3], PlanCell.customer_axis == "",  # not a segment's cell of a plan split by segment
        PlanCell.product_node_id.is_(None) if key[2] is None else PlanCell.product_node_id == key[2],
    )).one()
    new_rule = dict(cell.assessment_rule or {})
    if rule:
        metric_code = rule.get("metric")
        if metric_code and session.scalar(select(Metric.id).where(Metric.code == metric_code)) is None:
            raise NotFound.coded("plans.edits.metric_assessment_rule", metric_code=metric_code)
        achieved = rule.get("achieved_at")
        if achieved is not None:
            try:
                ratio = float(achieved)
            except ValueError as exc:
                raise InvalidInput.coded("plans.edits.achieved_ratio_such", achieved=achieved) from exc
            if not 0 < ratio <= 10:
                raise InvalidInput.coded("plans.edits.achieved_between_target", achieved=achieved)
        review = rule.get("review")
        if review is not None and review not in ("daily", "weekly", "monthly", "quarterly"):
            raise InvalidInput.coded("plans.edits.review_daily_weekly_monthly", review=review)
        new_rule.update({k: v for k, v in rule.items() if v is not None})
    owner_id = cell.owner_id
    if owner is not None:
        owner_id = require_node(session=session, key=owner).id if owner else None
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
        raise InvalidInput.coded("plans.edits.unknown_reconcile_rule_rules", rule=rule, items=', '.join(r.value for r in ReconcileRule)) from exc
    plan = require_plan(session=session, name=name)
    label = parse_period(period).label if period else str(plan.year or plan.start_date.year)
    cells = load_cells(session=session, plan=plan)
    commitments = {
        c.org_node_id: c.value
        for c in session.scalars(select(PlanCommitment).where(PlanCommitment.plan_id == plan.id, PlanCommitment.period == label))
    }
    if not commitments:
        raise NotFound.coded("plans.edits.commitments_plan_reps_submit", label=label, name=plan.name)
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
            raise InvalidInput.coded("plans.edits.cannot_apply_raise_parent", warnings=warnings[0])
        if not pins:
            raise InvalidInput.coded("plans.edits.nothing_apply_reconciled_targets")
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
        raise InvalidInput.coded("plans.edits.unknown_re_split_rule", rule=rule, items=' or '.join(RESPLIT_RULES))
    plan, cells = _draft(session, name, expect)
    cut = parse_period(start).start
    if not plan.start_date < cut <= plan.end_date:
        raise InvalidInput.coded("plans.edits.fall_after_plan_first", start=start, start_date=plan.start_date, end_date=plan.end_date)
    cutoff = frozen_before(plan)
    if cutoff is not None and cut < cutoff:
        raise Conflict.coded("plans.edits.before_revision_effective_date", start=start, cutoff=cutoff)
    layout = stored_layout(plan=plan, cells=cells)
    org = stored_tree(session=session, cells=cells)
    straddling = [p.label for p in layout.leaf_periods if p.start < cut <= p.end]
    if straddling:
        raise InvalidInput.coded("plans.edits.cuts_period_two_start", start=start, straddling=straddling[0])
    closed = np.array([p.end < cut for p in layout.leaf_periods])
    if closed.all():
        raise InvalidInput.coded("plans.edits.every_period_plan_ends", name=plan.name, start=start)
    _a, b, c = layout.shape
    closed_slices = np.repeat(closed, b * c)
    rows = leaf_rows_of(layout, org, cells)
    if rule == "leaver":
        if not rep:
            raise InvalidInput.coded("plans.edits.leaver_rule_needs_rep")
        node = require_node(session=session, key=rep)
        index = next((i for i, n in enumerate(org.nodes) if n.id == node.id), None)
        if index is None or index not in org.leaves:
            raise NotFound.coded("plans.edits.targets_their_own_plan", code=node.code, name=plan.name)
        parent = org.parents[index]
        mates = [j for j in org.leaves if org.parents[j] == parent and j != index]
        if not mates:
            raise InvalidInput.coded("plans.edits.teammates_plan_take_over", code=node.code, name=plan.name)
        pins: dict[CellKey, int] = {}
        for s_ in np.flatnonzero(~closed_slices):
            key = _leaf_key(layout, node.id, int(s_))
            if key in cells:
                pins[key] = 0
        for key, value in pins.items():
            if cells[key].locked and cells[key].value != value:
                raise Conflict.coded("plans.edits.cell_locked_unlock_before", code=node.code, key=key[0])
        closed_now = {p.label for p in layout.leaf_periods if p.end < cut}
        from attain.credit.service import (
            hand_over_customers,  # late: credit reads plans
        )

        open_targets = rows[mates][:, ~closed_slices].sum(axis=1)
        handed = hand_over_customers(session=session, leaver=node, to=[org.nodes[j] for j in mates],
                                     weights=[int(w) for w in open_targets], from_date=cut)
        result = _save_resplit(session, plan, cells, pins, by=by, expect=expect, action="resplit leaver",
                               reason=reason or f"{node.code} leaves: targets from {start} go to the teammates",
                               within=org.nodes[parent] if parent is not None else None, closed=closed_now, lock_pins=False)
        result = replace(result, customers=tuple(handed))
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
        raise Conflict.coded("plans.edits.cell_locked_unlock_remaining", locked_remaining=locked_remaining[0][0], locked_remaining2=locked_remaining[0][1])
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
    changes = _changes(session, cells, new)
    session.commit()
    return EditResult(plan.name, version.version, "resplit keep-total", changed, plan.total or 0, changes)


def _leaf_key(layout: calc.Layout, node_id: int, s: int) -> CellKey:
    a, b, c = np.unravel_index(s, layout.shape)
    return (layout.leaf_periods[a].label, node_id, layout.leaf_products[b], layout.leaf_types[c])


# --- the plan editor's row actions (web grid) -------------------------------------------------------

def unlock_under(
    *, session: Session, name: str, node: str, by: str, expect: int | None = None, actor: User | None = None,
    reason: str | None = None,
) -> EditResult:
    """Unlock every open cell of the nodes directly under `node` (all products, all customers) as one version."""
    plan, cells = _draft(session, name, expect)
    parent = require_node(session=session, key=node)
    children = {n.id: n for n in session.scalars(select(OrgNode).where(OrgNode.parent_id == parent.id))}
    if actor is not None:
        authorize(session=session, user=actor, plan=plan, action="edit", nodes=(parent,))
    frozen = closed_labels(plan, {k[0] for k in cells})
    keys = [k for k, c in cells.items() if c.locked and k[1] in children and k[2] is None and k[3] == ALL_CUSTOMERS
            and k[0] not in frozen]
    if not keys:
        return EditResult(plan.name, plan.version, "unlock", 0, plan.total or 0)
    version = begin_change(session=session, plan=plan, expect=expect, by=by, action="unlock",
                           reason=reason or f"unlock the cells under {parent.code}", role=actor.role if actor else None)
    record_cell_changes(session=session, version=version, before={k: (cells[k].value, True) for k in keys},
                        after={k: (cells[k].value, False) for k in keys})
    table = PlanCell.__table__
    session.execute(update(table).where(
        table.c.plan_id == plan.id, table.c.org_node_id.in_(list(children)), table.c.product_node_id.is_(None),
        table.c.customer_type == ALL_CUSTOMERS, table.c.customer_axis == "", table.c.locked.is_(True),
        table.c.period.not_in(frozen or {""}),
    ).values(locked=False))
    session.commit()
    return EditResult(plan.name, version.version, "unlock", len(keys), plan.total or 0)


def set_row_note(
    *, session: Session, name: str, node: str, note: str, by: str, expect: int | None = None, actor: User | None = None,
) -> EditResult:
    """The strategy note of one org node's cells (all products, all customers, every period)."""
    if len(note) > 2000:
        raise InvalidInput.coded("note.too_long")
    plan, _cells = _draft(session, name, expect)
    row = require_node(session=session, key=node)
    if actor is not None:
        authorize(session=session, user=actor, plan=plan, action="edit", nodes=(row,))
    version = begin_change(session=session, plan=plan, expect=expect, by=by, action="note",
                           reason=f"strategy note for {row.name}", role=actor.role if actor else None)
    table = PlanCell.__table__
    session.execute(update(table).where(
        table.c.plan_id == plan.id, table.c.org_node_id == row.id, table.c.product_node_id.is_(None),
        table.c.customer_type == ALL_CUSTOMERS, table.c.customer_axis == "",
    ).values(strategy_note=note.strip() or None))
    session.commit()
    return EditResult(plan.name, version.version, "note", 0, plan.total or 0)
