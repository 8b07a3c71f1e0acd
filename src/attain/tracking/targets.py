"""Targets of a plan over any date window, per report row, from `plan_cells`.

The cells that overlap the window are selected in SQL (plan-sized, never order lines); the pure
core prorates partial cells by working days and picks one layer of cells per key
(`calc.prorated_targets`), and rolls nodes without a cell of their own up from their children
(`calc.rolled_up_target`). Every row says whether its target is the node's own cell or the sum of
its children, so a report never counts a manager's cell and the team's cells twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from attain.calendars.service import company_calendar
from attain.errors import InvalidInput
from attain.org.models import OrgNode
from attain.periods import Grain, Period, clip, parse_period, periods_between
from attain.plans.models import ALL_CUSTOMERS, Plan, PlanCell
from attain.settings.service import get_setting
from attain.split.calendar import WorkCalendar
from attain.tracking.calc import (
    MANAGER_OWN,
    OWN,
    Cell,
    CellDays,
    CellRun,
    cell_days,
    cell_table_of_runs,
    prorated_target_matrix,
    rolled_up_target,
)
from attain.tracking.engine import core_rows
from attain.tracking.query import ORG_DIMENSIONS, Grouping, parse_by

_GRAIN_RANK = {Grain.YEAR: 0, Grain.HALF: 1, Grain.QUARTER: 2, Grain.MONTH: 3, Grain.WEEK: 4, Grain.DAY: 5}

Key = tuple[int | str | None, ...]


@dataclass(slots=True)  # not frozen: a rep × month report makes 60,000 (a frozen constructor is 6× slower)
class TargetRow:
    """The target of one report row. `key` holds one value per dimension of the grouping (ids for
    region/team/rep/product_line, 'new'/'existing' for customer_type, yyyymm for month)."""

    key: Key
    node_id: int
    value: Fraction | int  # exact: an int when whole cells make it up
    source: str  # calc.OWN or calc.SUM_OF_CHILDREN


@dataclass(frozen=True)
class OrgTree:
    kinds: dict[int, str]
    parents: dict[int, int | None]
    children: dict[int, list[int]]
    managers: frozenset[int] = frozenset()  # people whose own targets are never added into totals
    names: dict[int, str] = field(default_factory=dict)
    likely_managers: frozenset[int] = frozenset()  # manager-like titles while manager_titles is unset

    @property
    def roots(self) -> list[int]:
        return sorted(node for node, parent in self.parents.items() if parent is None)

    def subtree(self, node: int) -> set[int]:
        """The node and every node below it."""
        found, todo = {node}, [node]
        while todo:
            for child in self.children.get(todo.pop(), ()):
                found.add(child)
                todo.append(child)
        return found

    def ancestor(self, node: int, kind: str) -> int | None:
        """The node itself or its nearest ancestor of this kind."""
        current: int | None = node
        while current is not None:
            if self.kinds[current] == kind:
                return current
            current = self.parents[current]
        return None


# Titles that suggest a manager's target when `manager_titles` is not set (a report then warns).
LIKELY_MANAGER = re.compile(r"manager|director|head of|vice president|\bvp\b|经理|总监|主管|总裁|负责人", re.IGNORECASE)


def load_org_tree(session: Session) -> OrgTree:
    """The org tree, with the people whose targets cover their people's: those whose title matches
    the company setting `manager_titles` (none when it is empty)."""
    rows = session.execute(select(OrgNode.id, OrgNode.parent_id, OrgNode.kind, OrgNode.title, OrgNode.name)).all()
    children: dict[int, list[int]] = {}
    for node, parent, *_rest in rows:
        if parent is not None:
            children.setdefault(parent, []).append(node)
    pattern = str(get_setting(session, "manager_titles") or "")
    titled = re.compile(pattern, re.IGNORECASE) if pattern else None
    managers = frozenset(r[0] for r in rows if titled is not None and r[3] and titled.search(r[3]))
    likely = frozenset(r[0] for r in rows if titled is None and r[3] and LIKELY_MANAGER.search(r[3]))
    return OrgTree({r[0]: r[2] for r in rows}, {r[0]: r[1] for r in rows}, children, managers,
                   {r[0]: r[4] for r in rows}, likely)


@lru_cache(maxsize=4096)
def _label_rank(label: str) -> int | None:
    try:
        return _GRAIN_RANK[parse_period(label).grain]
    except InvalidInput:
        return None


def _rank(label: str, start: date, end: date) -> int:
    rank = _label_rank(label)
    if rank is not None:
        return rank
    # A custom range: rank by length so that longer ranges are coarser layers.
    days = (end - start).days + 1
    return 0 if days > 300 else 2 if days > 80 else 3 if days > 27 else 4 if days > 1 else 5


def plan_cells_between(
    session: Session, plan: Plan, start: date, end: date, grouping: Grouping, *, under: str | None = None,
) -> CellDays:
    """Cells of the plan overlapping [start, end] at the grouping's product and customer level,
    as columns (a rep × month plan of 5,000 reps has 60,000 of them); only those of the nodes whose
    path starts with `under` when given (one rep's or team's report reads its own cells only).

    The database sends one row per span and product and customer type, its cells' nodes and values
    as one string ("node value node value ..."): 60,000 rows of seven columns cost more to fetch and
    convert in Python than everything the report does with them."""
    node_values = func.aggregate_strings(cast(PlanCell.org_node_id, String) + " " + cast(PlanCell.value, String), " ")
    attributes = grouping.customer_attributes
    # Cells of a plan split by a customer attribute hold the member in customer_value (their own
    # axis); a grouping by that attribute reads them, every other grouping the cells of all customers.
    customer_key = PlanCell.customer_value if attributes else PlanCell.customer_type
    run_of = (PlanCell.product_node_id, customer_key, PlanCell.period, PlanCell.period_start, PlanCell.period_end)
    query = select(*run_of, node_values).where(
        PlanCell.plan_id == plan.id, PlanCell.period_start <= end, PlanCell.period_end >= start,
    ).group_by(*run_of)
    if under is not None:
        query = query.where(PlanCell.org_node_id.in_(select(OrgNode.id).where(OrgNode.path.startswith(under, autoescape=True))))
    if "product_line" in grouping.dimensions:
        query = query.where(PlanCell.product_node_id.is_not(None))
    else:
        query = query.where(PlanCell.product_node_id.is_(None))
    if attributes:
        query = query.where(PlanCell.customer_axis == attributes[0], PlanCell.customer_value != ALL_CUSTOMERS,
                            PlanCell.customer_type == ALL_CUSTOMERS)
    elif "customer_type" in grouping.dimensions:
        query = query.where(PlanCell.customer_type != ALL_CUSTOMERS, PlanCell.customer_axis == "")
    else:
        query = query.where(PlanCell.customer_type == ALL_CUSTOMERS, PlanCell.customer_axis == "")
    runs = []
    for product, ctype, label, first, last, text in core_rows(session, query):
        pairs = np.array(text.split(" "), dtype=np.int64).reshape(-1, 2)
        runs.append(CellRun((product, ctype), _rank(label, first, last), first, last, pairs[:, 0], pairs[:, 1]))
    return cell_table_of_runs(runs)


def windows(start: date, end: date, grouping: Grouping) -> list[tuple[int | None, date, date]]:
    """(month key yyyymm or None, start, end): one window, or one per month when grouped by month."""
    if "month" not in grouping.dimensions:
        return [(None, start, end)]
    return [
        (p.start.year * 100 + p.start.month, c.start, c.end)
        for p in periods_between(start, end, Grain.MONTH)
        for c in [clip(p, start, end)]
    ]


def target_between(
    session: Session, plan: Plan, start: date, end: date, by: str | Sequence[str] | Grouping | None = None,
    *, tree: OrgTree | None = None, cells: Sequence[Cell] | CellDays | None = None, within: int | None = None,
) -> list[TargetRow]:
    """The plan's target of every row of the grouping over [start, end] (rows without any target
    left out). Without an organisation dimension the row's node is the company (the root), or
    `within` (an org node id) when given; with one, only the nodes under `within` have rows.
    `cells` may pass the plan's cells already selected with `plan_cells_between` for this grouping."""
    found = target_columns(session, plan, start, end, by, tree=tree, cells=cells, within=within)
    return list(map(TargetRow, found.keys, found.node_ids, found.values, found.sources))


@dataclass(frozen=True)
class TargetColumns:
    """The rows of `target_between` as columns: row i is (keys[i], node_ids[i], values[i], sources[i]).
    A rep × month report reads 60,000 targets without making an object of each."""

    keys: list[Key]
    node_ids: list[int]
    values: list[Fraction | int]
    sources: list[str]


def target_columns(
    session: Session, plan: Plan, start: date, end: date, by: str | Sequence[str] | Grouping | None = None,
    *, tree: OrgTree | None = None, cells: Sequence[Cell] | CellDays | None = None, within: int | None = None,
    calendar: WorkCalendar | None = None,
) -> TargetColumns:
    """`target_between` as columns, in the same order; cells are prorated by the company calendar's
    working days (`calendar` passes it when the caller has it already)."""
    if end < start:
        raise InvalidInput.coded("tracking.targets.end_before_start", end=end, start=start)
    grouping = by if isinstance(by, Grouping) else parse_by(by)
    tree = tree or load_org_tree(session)
    if cells is None:
        cells = plan_cells_between(session, plan, start, end, grouping)
    table = cells if isinstance(cells, CellDays) else cell_days(cells)
    org = grouping.org
    nodes = sorted(n for n, k in tree.kinds.items() if k == org) if org else tree.roots
    if within is not None:
        below = tree.subtree(within)
        nodes = [n for n in nodes if n in below] if org else [within]
    order = {(p, c): i for i, (p, c) in enumerate(
        (p, c)
        for p in sorted({k[1] for k in table.keys if k[1] is not None}) or [None]
        for c in sorted({str(k[2]) for k in table.keys if k[2] != ALL_CUSTOMERS}) or [ALL_CUSTOMERS]
    )}
    org_parts = {node: tuple(tree.ancestor(node, name) if name in ORG_DIMENSIONS else None
                             for name in grouping.dimensions) for node in nodes}
    plain = all(name in ORG_DIMENSIONS for name in grouping.dimensions)
    # The common case, org levels and month (rep × month): the month goes at its place in the org key.
    month_at = grouping.dimensions.index("month") if "month" in grouping.dimensions else None
    org_and_month = month_at is not None and all(
        name in ORG_DIMENSIONS or name == "month" for name in grouping.dimensions)
    spans = windows(start, end, grouping)
    found = TargetColumns([], [], [], [])
    if not nodes:
        return found
    # Keys × windows, and a last row of None: the "key" of nodes without one in a slice.
    calendar = calendar or company_calendar(session=session)
    exact = np.concatenate([prorated_target_matrix(table, [(s, e) for _, s, e in spans], calendar=calendar),
                            np.full((1, len(spans)), None, dtype=object)])
    present = np.not_equal(exact, None)
    slices = _Slices(table.keys, nodes)
    own_sources = [MANAGER_OWN if node in tree.managers else OWN for node in nodes]
    org_columns = list(zip(*(org_parts[node] for node in nodes)))
    plain_keys = [org_parts[node] for node in nodes]

    def keys_of(product: object, ctype: object, month_key: int | None) -> list[Key]:
        """The row key of every node (in `nodes` order) in one slice and window."""
        if plain:
            return plain_keys
        if org_and_month:  # built as columns: the month goes at its place in the org key
            columns: list[Sequence[object]] = list(org_columns)
            columns[month_at] = [month_key] * len(nodes)  # type: ignore[index]
            return list(zip(*columns))
        return [_row_key(grouping, org_parts[node], product, ctype, month_key) for node in nodes]

    for w, (month_key, _start, _end) in enumerate(spans):
        for at in sorted(slices.in_window(present[:, w]), key=lambda s: order.get(slices.names[s], len(order))):
            product, ctype = slices.names[at]
            values = exact[slices.of_nodes[at], w].tolist()
            sources = list(own_sources)
            keys = keys_of(product, ctype, month_key)
            missing = [i for i, value in enumerate(values) if value is None]
            if missing:  # nodes without a cell of their own: roll their children up, or leave them out
                parents = [i for i in missing if nodes[i] in tree.children]
                if parents:
                    own_here = {node: value for node, value in zip(slices.member_nodes[at],
                                                                   exact[slices.members[at], w].tolist())
                                if value is not None}
                    for i in parents:
                        values[i], sources[i] = rolled_up_target(nodes[i], own_here, tree.children, tree.managers)
                kept = [i for i, value in enumerate(values) if value is not None]
                keys, values, sources = [keys[i] for i in kept], [values[i] for i in kept], [sources[i] for i in kept]
                found.node_ids.extend([nodes[i] for i in kept])
            else:
                found.node_ids.extend(nodes)
            found.keys.extend(keys)
            found.values.extend(values)
            found.sources.extend(sources)  # type: ignore[arg-type]
    return found


class _Slices:
    """The slices of a cell table's keys (node, product, customer type): `names[s]` is slice s's
    (product, customer type), `of_key[k]` the slice of key k, `members[s]` and `member_nodes[s]`
    its keys and their nodes, `of_nodes[s][i]` the key of `nodes[i]` in it (len(keys), the row
    after the last key, where the node has none)."""

    def __init__(self, keys: Sequence[Key], nodes: Sequence[int]):
        index: dict[tuple[object, object], int] = {}
        self.of_key = np.array([index.setdefault((k[1], k[2]), len(index)) for k in keys], dtype=np.int64)
        self.names = list(index)
        self.members = [np.flatnonzero(self.of_key == s) for s in range(len(index))]
        self.member_nodes = [[keys[k][0] for k in found.tolist()] for found in self.members]
        self.of_nodes = []
        for found, slice_nodes in zip(self.members, self.member_nodes):
            key_of = dict(zip(slice_nodes, found.tolist()))
            self.of_nodes.append(np.array([key_of.get(node, len(keys)) for node in nodes], dtype=np.int64))

    def in_window(self, present: NDArray[np.bool_]) -> list[int]:
        """The slices with a key present, in the order of their first such key."""
        found = self.of_key[present[:len(self.of_key)]]
        _slices, first = np.unique(found, return_index=True)
        return found[np.sort(first)].tolist()


def _row_key(grouping: Grouping, org_part: Key, product: object, ctype: object, month_key: int | None) -> Key:
    parts: list[int | str | None] = []
    for name, org_value in zip(grouping.dimensions, org_part):
        if name in ORG_DIMENSIONS:
            parts.append(org_value)
        elif name == "product_line":
            parts.append(product)  # type: ignore[arg-type]
        elif name == "customer_type" or name in grouping.customer_attributes:
            parts.append(str(ctype))
        else:
            parts.append(month_key)
    return tuple(parts)


def company_target(
    session: Session, plan: Plan, period: Period, *, tree: OrgTree | None = None, cells: Sequence[Cell] | CellDays | None = None,
    within: int | None = None,
) -> tuple[Fraction | None, str | None]:
    """The whole company's target over the period (all products, all customers), or the target of
    the org node `within`."""
    rows = target_between(session, plan, period.start, period.end, Grouping(()), tree=tree, cells=cells, within=within)
    if not rows:
        return None, None
    sources = {r.source for r in rows}
    return sum((r.value for r in rows), Fraction(0)), sources.pop() if len(sources) == 1 else "sum of children"
