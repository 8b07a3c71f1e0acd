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

from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.errors import InvalidInput
from attain.org.models import OrgNode
from attain.periods import Grain, Period, clip, parse_period, periods_between
from attain.plans.models import ALL_CUSTOMERS, Plan, PlanCell
from attain.settings.service import get_setting
from attain.tracking.calc import (
    MANAGER_OWN,
    OWN,
    Cell,
    CellDays,
    cell_days,
    cell_table,
    prorated_targets_many,
    rolled_up_target,
)
from attain.tracking.engine import core_rows
from attain.tracking.query import ORG_DIMENSIONS, Grouping, parse_by

_GRAIN_RANK = {Grain.YEAR: 0, Grain.HALF: 1, Grain.QUARTER: 2, Grain.MONTH: 3, Grain.WEEK: 4, Grain.DAY: 5}

Key = tuple[int | str | None, ...]


@dataclass  # not frozen: a rep × month report makes 60,000 (a frozen constructor is 6× slower)
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
    path starts with `under` when given (one rep's or team's report reads its own cells only)."""
    query = select(
        PlanCell.org_node_id, PlanCell.product_node_id, PlanCell.customer_type,
        PlanCell.period, PlanCell.period_start, PlanCell.period_end, PlanCell.value,
    ).where(PlanCell.plan_id == plan.id, PlanCell.period_start <= end, PlanCell.period_end >= start)
    if under is not None:
        query = query.where(PlanCell.org_node_id.in_(select(OrgNode.id).where(OrgNode.path.startswith(under, autoescape=True))))
    if "product_line" in grouping.dimensions:
        query = query.where(PlanCell.product_node_id.is_not(None))
    else:
        query = query.where(PlanCell.product_node_id.is_(None))
    if "customer_type" in grouping.dimensions:
        query = query.where(PlanCell.customer_type != ALL_CUSTOMERS)
    else:
        query = query.where(PlanCell.customer_type == ALL_CUSTOMERS)
    rows = core_rows(session, query)
    if not rows:
        return cell_table([], [], [], [], [])
    nodes, products, ctypes, labels, starts, ends, values = zip(*rows)
    ranks: dict[tuple[str, date, date], int] = {}
    for span in zip(labels, starts, ends):
        if span not in ranks:
            ranks[span] = _rank(*span)
    return cell_table(
        list(zip(nodes, products, ctypes)), [ranks[span] for span in zip(labels, starts, ends)], starts, ends,
        [int(v) for v in values],
    )


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
    if end < start:
        raise InvalidInput(f"end {end} is before start {start}")
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
    rows: list[TargetRow] = []
    for (month_key, _start, _end), own in zip(spans, prorated_targets_many(table, [(s, e) for _, s, e in spans])):
        by_slice: dict[tuple[object, object], dict[int, Fraction | int]] = {}
        for (node, product, ctype), value in own.items():
            by_slice.setdefault((product, ctype), {})[node] = value  # type: ignore[index]
        for product, ctype in sorted(by_slice, key=lambda s: order.get(s, len(order))):
            own_here = by_slice[(product, ctype)]
            for node in nodes:
                value = own_here.get(node)
                source: str | None = MANAGER_OWN if node in tree.managers else OWN
                if value is None:  # no cell of its own: roll its children up
                    if node not in tree.children:
                        continue
                    value, source = rolled_up_target(node, own_here, tree.children, tree.managers)
                    if value is None or source is None:
                        continue
                if plain:
                    key = org_parts[node]
                elif org_and_month:
                    part = org_parts[node]
                    key = (*part[:month_at], month_key, *part[month_at + 1:])
                else:
                    key = _row_key(grouping, org_parts[node], product, ctype, month_key)
                rows.append(TargetRow(key, node, value, source))
    return rows


def _row_key(grouping: Grouping, org_part: Key, product: object, ctype: object, month_key: int | None) -> Key:
    parts: list[int | str | None] = []
    for name, org_value in zip(grouping.dimensions, org_part):
        if name in ORG_DIMENSIONS:
            parts.append(org_value)
        elif name == "product_line":
            parts.append(product)  # type: ignore[arg-type]
        elif name == "customer_type":
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
