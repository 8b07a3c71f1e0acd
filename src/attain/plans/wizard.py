"""The plan editor's split wizard (preview and apply) and the plan grid it reads.

The wizard splits a total over org × time × product × customer type with the split engine and the
baseline window of `plans.baseline`; applying it creates a draft plan through the plans service and
writes every level's cells (a leaf's detailed cells, then 'all products / all customers' cells for
every node up to the scope, month and year) as one version. Cells the user locked in the wizard are
stored locked, so later edits keep them. Grid edits go through `plans.edits` (the one edit rule).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from attain.catalog.models import ProductNode
from attain.errors import InvalidInput
from attain.metrics.service import require_metric
from attain.org import lookups as queries
from attain.org.models import OrgNode
from attain.periods import Grain, month, periods_between, year
from attain.plans import service as plans
from attain.plans.baseline import (
    LAST_FISCAL_YEAR,
    Baseline,
    baseline_window,
    fiscal_start_month,
    history_by_member,
)
from attain.plans.models import ALL_CUSTOMERS, Plan, PlanCell
from attain.plans.setting import propose_total
from attain.split.calc import Axis, Lock, Shares, split
from attain.split.calendar import day_range, working_day_mask

ORG_LEVELS = ("region", "team", "rep")
METHODS = ("equal", "history", "weights")
TIME_METHODS = ("equal", "history", "working-days")
CUSTOMER_TYPES = ("new", "existing")


# --- money in forms ----------------------------------------------------------------------------


def parse_yuan(text: str, what: str) -> int:
    """'12,000,000' / '1200万' / '1.5亿' yuan → fen (exact)."""
    raw = (text or "").strip().replace(",", "").replace("，", "")
    factor = Decimal(1)
    if raw.endswith("亿"):
        raw, factor = raw[:-1], Decimal(100_000_000)
    elif raw.endswith("万"):
        raw, factor = raw[:-1], Decimal(10_000)
    try:
        value = Decimal(raw) * factor * 100
    except InvalidOperation as exc:
        raise InvalidInput.coded("amount.not_yuan", what=what, text=text) from exc
    if value != value.to_integral_value():
        raise InvalidInput.coded("amount.too_precise", what=what, text=text)
    if value < 0:
        raise InvalidInput.coded("amount.negative", what=what, text=text)
    return int(value)


def parse_weights(text: str, count: int, what: str) -> tuple[float, ...]:
    parts = [p for p in (text or "").replace("，", ",").replace("/", ",").split(",") if p.strip()]
    try:
        weights = tuple(float(p) for p in parts)
    except ValueError as exc:
        raise InvalidInput.coded("weights.not_numbers", what=what, text=text) from exc
    if len(weights) != count:
        raise InvalidInput.coded("weights.count", what=what, count=count, text=text)
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise InvalidInput.coded("weights.all_zero", what=what, text=text)
    return weights


# --- defaults and the total ------------------------------------------------------------------

TOTAL_BASES = ("total", "growth", "capacity")  # as `attain plan create --total / --growth / --from-capacity`
DEFAULT_GROWTH = "10%"


def plan_year(*, session: Session, today: date) -> int:
    """The year a new plan is most likely for: the next one from the last quarter of the fiscal year."""
    months_into_year = (today.month - fiscal_start_month(session)) % 12
    return today.year + 1 if months_into_year >= 9 else today.year


@dataclass(frozen=True)
class WizardDefaults:
    year: int
    basis: str  # one of TOTAL_BASES
    growth: str
    total: int | None  # fen: last complete year's actual × (1 + growth), None when it cannot be worked out
    base: int | None  # that year's actual (fen)
    window: Baseline | None
    note: str | None  # why there is no proposal, or what to know about the window


def wizard_defaults(*, session: Session, scope: OrgNode, today: date, unit: str = "10000",
                    growth: str = DEFAULT_GROWTH) -> WizardDefaults:
    """The wizard's opening values: next year in Q4, and the CLI's growth total (`plan create --growth`)
    when the scope is the whole company (growth and capacity totals are company totals)."""
    year_ = plan_year(session=session, today=today)
    if scope.parent_id is not None:
        return WizardDefaults(year_, "total", growth, None, None, None, None)
    try:
        proposed = propose_total(session=session, year=year_, metric_code="revenue", growth=growth, unit=unit, as_of=today)
    except InvalidInput as exc:
        return WizardDefaults(year_, "total", growth, None, None, None, str(exc))
    window = proposed.baseline
    return WizardDefaults(year_, "growth", growth, proposed.total, proposed.base, window, window.note if window else None)


def wizard_total(*, session: Session, basis: str, total: str, growth: str, unit: str, year: int, scope: OrgNode,
                 today: date) -> int:
    """The total (fen) the wizard splits: as typed, or the CLI's growth or capacity total for the company."""
    if basis == "total":
        return parse_yuan(total, "total")
    if basis not in TOTAL_BASES:
        raise InvalidInput.coded("plans.wizard.total_set", items=', '.join(TOTAL_BASES), basis=basis)
    if scope.parent_id is not None:
        raise InvalidInput.coded("plans.wizard.growth_capacity_totals_whole", name=scope.name)
    proposed = propose_total(session=session, year=year, metric_code="revenue", growth=growth if basis == "growth" else None,
                             from_capacity=basis == "capacity", unit=unit or None, as_of=today)
    return proposed.total


# --- the wizard --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WizardSpec:
    name: str
    year: int
    total: int  # fen
    unit: int  # fen
    scope: OrgNode
    org_level: str | None  # None: the scope node alone
    org_method: str
    time: bool  # split by month
    time_method: str
    product: bool  # split by product line
    product_method: str
    product_weights: str
    customer_type: bool
    customer_method: str
    customer_weights: str
    locks: dict[str, str] = field(default_factory=dict)  # "member" or "row|col" → yuan text
    baseline: str = LAST_FISCAL_YEAR  # which window history shares come from (plans.baseline)
    as_of: date | None = None  # today for the baseline (None: date.today())

    @property
    def start(self) -> date:
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        return date(self.year, 12, 31)


@dataclass(frozen=True)
class Member:
    key: str  # the axis member in the split
    label: str
    ref: int | str | None  # org node id, month label, product node id or customer type


@dataclass(frozen=True)
class WizardResult:
    axes: list[tuple[str, list[Member]]]
    cells: np.ndarray  # int fen, one axis per entry of `axes`
    spec: WizardSpec
    window: Baseline | None = None  # the baseline history shares came from, when an axis used history

    def pivot(self) -> tuple[list[Member], list[Member], np.ndarray]:
        """Rows × columns of the first two axes (other axes summed); one column when there is one axis."""
        rows = self.axes[0][1]
        if len(self.axes) == 1:
            return rows, [Member("total", "", None)], self.cells.reshape(-1, 1)
        other = tuple(range(2, self.cells.ndim))
        return rows, self.axes[1][1], self.cells.sum(axis=other) if other else self.cells


def _leaf_nodes(session: Session, scope: OrgNode, level: str | None, on: date) -> list[OrgNode]:
    """The nodes of `level` under `scope` to split to; reps only if employed on `on` and in a team
    (a director attached straight to the company is not given a sales target)."""
    if level is None:
        return [scope]
    if level not in ORG_LEVELS:
        raise InvalidInput.coded("plans.wizard.org_level_one", level=level, items=', '.join(ORG_LEVELS))
    nodes = queries.nodes_of_kind(session=session, kind=level, under=scope)
    if level == "rep":
        teams = {t.id for t in queries.nodes_of_kind(session=session, kind="team", under=scope)}
        nodes = [n for n in nodes if n.parent_id in teams and (n.end_date is None or n.end_date >= on)]
    if not nodes:
        raise InvalidInput.coded("wizard.no_level", scope=scope.name, level=level)
    return nodes


def wizard_baseline(session: Session, spec: WizardSpec) -> Baseline:
    """'Last year' for the wizard's history shares: the plans' one baseline rule (`plans.baseline`)."""
    return baseline_window(session=session, target_start=spec.start, basis=spec.baseline, as_of=spec.as_of)


def _history(session: Session, spec: WizardSpec, window: Baseline, group: str, keys: list[Any]) -> np.ndarray:
    """The baseline window's credited sales per member of one axis under the scope, aligned with
    `keys` (months: January first, a complete year)."""
    return history_by_member(session=session, window=window, group=group, keys=keys, under_path=spec.scope.path)


def _working_days(spec: WizardSpec) -> np.ndarray:
    """Working days per month of the wizard's year by the company calendar (read with the session
    that loaded the scope node)."""
    from sqlalchemy.orm import object_session

    from attain.calendars.service import company_calendar

    session = object_session(spec.scope)
    if session is None:
        raise InvalidInput.coded("wizard.preview_again")
    days = day_range(spec.start, spec.end)
    mask, _warnings = working_day_mask(days, company_calendar(session=session))
    months = days.astype("datetime64[M]").astype(np.int64) % 12
    return np.bincount(months, weights=mask.astype(np.float64), minlength=12)


def wizard_axes(
    session: Session, spec: WizardSpec, window: Baseline | None = None,
) -> tuple[list[tuple[str, list[Member]]], list[Axis], list[np.ndarray | None]]:
    """The chosen dimensions as split axes, and each history axis's 1-D prior (history from `window`,
    default the wizard's baseline)."""
    named: list[tuple[str, list[Member]]] = []
    axes: list[Axis] = []
    priors: list[np.ndarray | None] = []
    window = window or wizard_baseline(session, spec)

    def add(name: str, members: list[Member], method: str, weights_text: str = "", history: Any = None) -> None:
        keys = tuple(m.key for m in members)
        named.append((name, members))
        if method == "equal":
            axes.append(Axis(name, keys, Shares.EQUAL))
            priors.append(None)
        elif method == "weights":
            axes.append(Axis(name, keys, Shares.WEIGHTS, parse_weights(weights_text, len(keys), name)))
            priors.append(None)
        elif method in ("history", "working-days"):
            prior = history()
            if prior.sum() <= 0:
                raise InvalidInput.coded("wizard.no_history", window=window.label, what=name)
            axes.append(Axis(name, keys, Shares.HISTORY))
            priors.append(prior)
        else:
            raise InvalidInput.coded("plans.wizard.method_one", method=method, name=name, items=', '.join(METHODS))

    on = spec.start
    if spec.org_level is not None:
        nodes = _leaf_nodes(session, spec.scope, spec.org_level, on)
        add("org", [Member(n.code, n.name, n.id) for n in nodes], spec.org_method,
            history=lambda: _history(session, spec, window, "org", [n.id for n in nodes]))
    if spec.time:
        months = [month(spec.year, m) for m in range(1, 13)]
        members = [Member(p.label, p.label[5:], p.label) for p in months]
        if spec.time_method == "working-days":
            add("time", members, "working-days", history=lambda: _working_days(spec))
        else:
            add("time", members, spec.time_method if spec.time_method in METHODS else "bad",
                history=lambda: _history(session, spec, window, "time", [p.label for p in months]))
    if spec.product:
        lines = list(session.scalars(select(ProductNode).where(ProductNode.parent_id.is_(None)).order_by(ProductNode.code)))
        if not lines:
            raise InvalidInput.coded("wizard.no_products")
        add("product", [Member(p.code, p.name, p.id) for p in lines], spec.product_method, spec.product_weights,
            history=lambda: _history(session, spec, window, "product", [p.id for p in lines]))
    if spec.customer_type:
        if spec.customer_method == "history":
            raise InvalidInput.coded("wizard.customer_history")
        add("customer_type", [Member(t, t, t) for t in CUSTOMER_TYPES], spec.customer_method, spec.customer_weights)
    if not axes:
        raise InvalidInput.coded("wizard.no_dimension")
    return named, axes, priors


def _locks(spec: WizardSpec, named: list[tuple[str, list[Member]]]) -> list[Lock]:
    locks = []
    keys0 = {m.key for m in named[0][1]}
    keys1 = {m.key for m in named[1][1]} if len(named) > 1 else set()
    for where, text in sorted(spec.locks.items()):
        if not (text or "").strip():
            continue
        value = parse_yuan(text, where)
        row, _, col = where.partition("|")
        if row not in keys0 or (col and col not in keys1):
            raise InvalidInput.coded("wizard.lock_gone", cell=where)
        if col and len(named) != 2:
            raise InvalidInput.coded("wizard.cell_locks")
        place = {named[0][0]: row, named[1][0]: col} if col else {named[0][0]: row}
        lock = Lock.of(place, value)
        locks.append(Lock(lock.where, value, text.strip()))
    return locks


def preview(*, session: Session, spec: WizardSpec) -> WizardResult:
    """Split the total as the wizard says, without writing anything."""
    if spec.unit <= 0:
        raise InvalidInput.coded("wizard.unit_positive")
    if spec.total % spec.unit:
        raise InvalidInput.coded("wizard.total_off_unit", total=f"{spec.total / 100:,.2f}", unit=f"{spec.unit / 100:,.2f}")
    window = wizard_baseline(session, spec)
    named, axes, priors = wizard_axes(session, spec, window)
    prior = None
    if any(p is not None for p in priors):
        factors = [p if p is not None else np.ones(len(a.members)) for p, a in zip(priors, axes)]
        prior = factors[0]
        for f in factors[1:]:
            prior = np.multiply.outer(prior, f)
    result = split(spec.total, spec.unit, axes, prior=prior, locks=_locks(spec, named), spread_zero_prior=True, places=2)
    used_history = any(p is not None for p, a in zip(priors, axes) if a.name != "time" or spec.time_method != "working-days")
    return WizardResult(named, result.cells.astype(np.int64), spec, window if used_history else None)


def apply(*, session: Session, spec: WizardSpec, by: str, role: str) -> Plan:
    """Create the draft plan and write every level's cells from the wizard's split; the cells the
    wizard locked (a row total, or one cell of a two-way split) are stored locked."""
    result = preview(session=session, spec=spec)
    metric = require_metric(session=session, code="revenue")
    plan = plans.create_plan(session=session, name=spec.name, metric=metric, start=spec.start, end=spec.end,
                             unit=spec.unit, by=by)
    plan.total = spec.total
    plan.note = f"split wizard: {', '.join(n for n, _ in result.axes)}"
    cells = _level_cells(session, spec, result)
    locked = _locked_keys(spec, result)
    version = plans.begin_change(session=session, plan=plan, expect=None, by=by, action="split", role=role,
                                 reason=plan.note)
    rows = [{"plan_id": plan.id, **cell,
             "locked": (cell["period"], cell["org_node_id"], cell["product_node_id"], cell["customer_type"]) in locked}
            for cell in cells]
    session.execute(insert(PlanCell), rows)
    after = {(c["period"], c["org_node_id"], c["product_node_id"], c["customer_type"]): (c["value"], c["locked"]) for c in rows}
    plans.record_cell_changes(session=session, version=version, before={}, after=after)
    session.commit()
    return plan


def _locked_keys(spec: WizardSpec, result: WizardResult) -> set[tuple[str, int, int | None, str]]:
    """The stored cell of every wizard lock: a member of the first axis (its total over the rest), or a
    (row, column) cell of a two-way split."""
    members = {name: {m.key: m for m in items} for name, items in result.axes}
    names = [name for name, _ in result.axes]
    keys = set()
    for where, text in spec.locks.items():
        if not (text or "").strip():
            continue
        row, _, col = where.partition("|")
        place = {names[0]: members[names[0]][row]}
        if col:
            place[names[1]] = members[names[1]][col]
        org = place.get("org")
        time = place.get("time")
        product = place.get("product")
        ctype = place.get("customer_type")
        keys.add((
            str(time.ref) if time is not None and time.ref is not None else year(spec.year).label,
            int(org.ref) if org is not None and org.ref is not None else spec.scope.id,
            int(product.ref) if product is not None and product.ref is not None else None,  # type: ignore[arg-type]
            str(ctype.ref) if ctype is not None and ctype.ref is not None else ALL_CUSTOMERS,
        ))
    return keys


def _level_cells(session: Session, spec: WizardSpec, result: WizardResult) -> list[dict[str, Any]]:
    """Cells for the leaves and every node up to the scope: detailed (product/customer type) and
    'all' cells, by month (when split by time) and for the year."""
    names = [n for n, _ in result.axes]
    members = dict(result.axes)
    cube = result.cells
    # Normalise to (org, time, product, type) with singleton axes where a dimension is not split.
    shape_axes = []
    for name in ("org", "time", "product", "customer_type"):
        if name in names:
            shape_axes.append(names.index(name))
    cube = np.transpose(cube, shape_axes)
    full = []
    for name in ("org", "time", "product", "customer_type"):
        full.append(members[name] if name in names else [Member("*", "", None)])
    cube = cube.reshape(tuple(len(m) for m in full))
    org_members, time_members, product_members, type_members = full
    leaf_ids = [m.ref if m.ref is not None else spec.scope.id for m in org_members]
    # Each leaf's chain up to (and including) the scope.
    nodes = {n.id: n for n in session.scalars(select(OrgNode).where(OrgNode.path.startswith(spec.scope.path, autoescape=True)))}
    chains = []
    for leaf in leaf_ids:
        chain = [int(p) for p in nodes[int(leaf)].path.strip("/").split("/")]  # type: ignore[arg-type]
        chains.append([i for i in chain if i in nodes and nodes[i].path.startswith(spec.scope.path)])
    totals: dict[tuple[str, int, int | None, str], int] = {}
    year_label = year(spec.year).label
    for o, chain in enumerate(chains):
        for t, tm in enumerate(time_members):
            for p, pm in enumerate(product_members):
                for c, cm in enumerate(type_members):
                    value = int(cube[o, t, p, c])
                    product_keys = {None} | ({pm.ref} if pm.ref is not None else set())
                    type_keys = {ALL_CUSTOMERS} | ({cm.ref} if cm.ref is not None else set())
                    period_keys = {year_label} | ({tm.ref} if tm.ref is not None else set())
                    for node_id in chain:
                        for period in period_keys:
                            for product in product_keys:
                                for ctype in type_keys:
                                    key = (str(period), node_id, product, str(ctype))  # type: ignore[arg-type]
                                    totals[key] = totals.get(key, 0) + value
    rows = []
    for (period, node_id, product, ctype), value in totals.items():
        span = year(spec.year) if period == year_label else month(spec.year, int(period[5:]))
        node = nodes[node_id]
        rows.append({
            "period": period, "period_start": span.start, "period_end": span.end, "org_node_id": node_id,
            "product_node_id": product, "customer_type": ctype, "value": value,
            "owner_id": node_id if node.kind == "rep" else node.manager_id,
        })
    return rows


# --- the grid ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    plan: Plan
    node: OrgNode
    rows: list[OrgNode]
    months: list[str]
    values: dict[tuple[int, str], int]  # (row node id, month) → fen
    locked: set[tuple[int, str]]
    row_totals: dict[int, int]
    column_totals: dict[str, int]
    total: int
    node_year: int | None  # the node's stored year cell, to show that the sums reconcile
    notes: dict[int, tuple[str | None, str | None]]  # row → (owner name, strategy note)
    editable: bool
    has_children: set[int]
    members: dict[int, list[OrgNode]] = field(default_factory=dict)  # a team row → its reps, shown under it


def _plain(plan: Plan) -> Any:
    return (PlanCell.plan_id == plan.id, PlanCell.customer_type == ALL_CUSTOMERS, PlanCell.customer_axis == "",
            PlanCell.product_node_id.is_(None))


def has_breakdown(session: Session, plan: Plan) -> bool:
    return bool(session.scalar(select(func.count(PlanCell.id)).where(
        PlanCell.plan_id == plan.id,
        (PlanCell.customer_type != ALL_CUSTOMERS) | (PlanCell.customer_axis != "") | PlanCell.product_node_id.is_not(None))))


def load_grid(*, session: Session, plan: Plan, node: OrgNode) -> Grid:
    months = [p.label for p in periods_between(plan.start_date, plan.end_date, Grain.MONTH)]
    with_cells = set(session.scalars(select(PlanCell.org_node_id).where(*_plain(plan)).distinct()))
    rows = [c for c in queries.children(session=session, node=node) if c.id in with_cells]
    members = {r.id: [c for c in queries.children(session=session, node=r) if c.id in with_cells and c.kind == "rep"]
               for r in rows if r.kind == "team"}
    members = {team: reps for team, reps in members.items() if reps}
    ids = [r.id for r in rows] + [rep.id for reps in members.values() for rep in reps]
    top = [r.id for r in rows]
    cells = session.execute(
        select(PlanCell.org_node_id, PlanCell.period, PlanCell.value, PlanCell.locked)
        .where(*_plain(plan), PlanCell.org_node_id.in_(ids + [node.id]))
    ).all()
    values, locked = {}, set()
    node_year = None
    year_label = str(plan.year) if plan.year else None
    for node_id, period, value, is_locked in cells:
        if node_id == node.id:
            if period == year_label:
                node_year = int(value)
            continue
        if period in months:
            values[(node_id, period)] = int(value)
            if is_locked:
                locked.add((node_id, period))
    row_totals = {r: sum(values.get((r, m), 0) for m in months) for r in ids}
    column_totals = {m: sum(values.get((r, m), 0) for r in top) for m in months}
    owners = dict(session.execute(select(OrgNode.id, OrgNode.name)).all())
    notes = {}
    for node_id, owner_id, note in session.execute(
        select(PlanCell.org_node_id, PlanCell.owner_id, PlanCell.strategy_note)
        .where(*_plain(plan), PlanCell.org_node_id.in_(ids), PlanCell.period == (year_label or months[0]))
    ).all():
        notes[node_id] = (owners.get(owner_id) if owner_id else None, note)
    parents = set(session.scalars(select(OrgNode.parent_id).where(OrgNode.id.in_(with_cells))))
    return Grid(plan, node, rows, months, values, locked, row_totals, column_totals, sum(row_totals[r] for r in top),
                node_year, notes, plan.status == "draft",
                {r for r in ids if r in parents}, members)
