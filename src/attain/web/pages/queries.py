"""SQL aggregates the pages read: actuals from `credited_lines()`, targets from plan cells.

Everything is a GROUP BY in the database (SQLAlchemy Core, SQLite and PostgreSQL alike); Python only
arranges the few grouped rows. Figures are integer fen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Subquery, and_, extract, func, or_, select
from sqlalchemy.orm import Session

from attain.catalog.activity import CustomerActivity, customer_activity
from attain.credit.sql import credit_features, credited_lines
from attain.errors import NotFound
from attain.org.models import OrgNode
from attain.periods import Grain, Period, periods_between
from attain.plans.models import ALL_CUSTOMERS, Plan, PlanCell


def plan_months(plan: Plan) -> list[Period]:
    return periods_between(plan.start_date, plan.end_date, Grain.MONTH)


def choose_plan(*, session: Session, name: str | None, on: date) -> Plan:
    """The plan asked for by name (newest version), else the newest approved/locked plan covering `on`,
    else the newest plan of any status covering it, else the newest plan."""
    if name:
        plan = session.scalars(select(Plan).where(Plan.name == name).order_by(Plan.version.desc())).first()
        if plan is None:
            raise NotFound(f"no plan named '{name}'")
        return plan
    covering = select(Plan).where(Plan.start_date <= on, Plan.end_date >= on)
    for query in (
        covering.where(Plan.status.in_(("approved", "locked"))),
        covering,
        select(Plan),
    ):
        plan = session.scalars(query.order_by(Plan.start_date.desc(), Plan.version.desc(), Plan.id.desc())).first()
        if plan is not None:
            return plan
    raise NotFound("there is no target plan yet; create one in the plan editor or run `attain demo`")


def _plain_cells(plan: Plan) -> ColumnElement[bool]:
    return and_(PlanCell.plan_id == plan.id, PlanCell.customer_type == ALL_CUSTOMERS, PlanCell.product_node_id.is_(None))


def targets_by_node_month(*, session: Session, plan: Plan, node_ids: Iterable[int]) -> dict[tuple[int, str], int]:
    """{(org node id, 'YYYY-MM'): target} from the plan's month cells (all products, all customers)."""
    ids = list(node_ids)
    if not ids:
        return {}
    labels = [p.label for p in plan_months(plan)]
    rows = session.execute(
        select(PlanCell.org_node_id, PlanCell.period, func.sum(PlanCell.value))
        .where(_plain_cells(plan), PlanCell.org_node_id.in_(ids), PlanCell.period.in_(labels))
        .group_by(PlanCell.org_node_id, PlanCell.period)
    ).all()
    return {(node_id, period): int(value) for node_id, period, value in rows}


def actuals_by_group_month(
    *, session: Session, groups: Sequence[OrgNode], start: date, end: date
) -> dict[tuple[int, str], int]:
    """{(group node id, 'YYYY-MM'): credited sales} for each group node's subtree.

    One GROUP BY over `credited_lines()` by the levels asked for (rep, team, region), kind and month,
    limited to the groups' rows unless the company is asked for; then each group takes its rows: a
    rep every credit row of theirs (overlay too), a team or region its direct rows, the company
    every direct row, so that overlays are never summed twice into a team.
    """
    if not groups:
        return {}
    features = credit_features(session)
    lines = credited_lines(features=features, start=start, end=end, rollup="rep_months").subquery("cl")
    year = extract("year", lines.c.credit_date)
    month = extract("month", lines.c.credit_date)
    wanted = {(g.kind if g.kind in ("rep", "team", "region") else "company", g.id) for g in groups}
    company = [g.id for g in groups if g.kind not in ("rep", "team", "region")]
    # Group only by the levels asked for: a company dashboard needs regions × months, not 5,000 reps.
    key_columns = {"rep": lines.c.rep_id, "team": lines.c.team_id, "region": lines.c.org_region_id}
    levels = [level for level in key_columns if any(g.kind == level for g in groups)]
    grouped = [key_columns[level] for level in levels]
    query = (
        select(*grouped, lines.c.kind, year, month, func.sum(lines.c.amount))
        .where(lines.c.credit_date >= start, lines.c.credit_date <= end)
        .group_by(*grouped, lines.c.kind, year, month)
    )
    if not company:
        query = query.where(*_only_rows_of(lines, groups, positions=features.positions))
    rows = [(dict(zip(levels, row[: len(levels)])), *row[len(levels):]) for row in session.execute(query).all()]
    found: dict[tuple[int, str], int] = {}

    def add(node_id: int | None, kind: str, label: str, amount: int) -> None:
        if node_id is not None and (kind, node_id) in wanted:
            found[(node_id, label)] = found.get((node_id, label), 0) + amount

    for nodes, kind, y, m, total in rows:
        label, amount = f"{int(y):04d}-{int(m):02d}", int(total or 0)
        add(nodes.get("rep"), "rep", label, amount)
        if kind == "direct":
            add(nodes.get("team"), "team", label, amount)
            add(nodes.get("region"), "region", label, amount)
            for node_id in company:
                found[(node_id, label)] = found.get((node_id, label), 0) + amount
    return found


def _only_rows_of(lines: Subquery, groups: Sequence[OrgNode], *, positions: bool) -> list[ColumnElement[bool]]:
    """WHERE clauses keeping the credited rows that count for a rep, team or region among `groups`
    (and maybe others, which the caller drops): the rep's rows, the team's or region's direct rows.

    Without effective-dated positions a row's team and region are its rep's in the current tree,
    so its rep lies under the team or region: the indexed rep_id is then narrowed to the groups'
    subtrees first and only their order lines are read."""
    by_kind = {kind: [g.id for g in groups if g.kind == kind] for kind in ("rep", "team", "region")}
    column = {"rep": lines.c.rep_id, "team": lines.c.team_id, "region": lines.c.org_region_id}
    clauses = [or_(*(column[kind].in_(ids) for kind, ids in by_kind.items() if ids))]
    if not positions:
        tops = [g for g in groups if g.kind in ("team", "region")]
        reps = lines.c.rep_id.in_(by_kind["rep"])
        if tops:
            under = select(OrgNode.id).where(or_(*(OrgNode.path.startswith(g.path, autoescape=True) for g in tops)))
            reps = or_(reps, lines.c.rep_id.in_(under))
        clauses.append(reps)
    return clauses


def children(*, session: Session, node: OrgNode) -> list[OrgNode]:
    return list(session.scalars(select(OrgNode).where(OrgNode.parent_id == node.id).order_by(OrgNode.code)))


def reps_under(*, session: Session, node: OrgNode) -> list[OrgNode]:
    return list(session.scalars(
        select(OrgNode).where(OrgNode.kind == "rep", OrgNode.path.startswith(node.path, autoescape=True))
        .order_by(OrgNode.code)
    ))


def nodes_of_kind(*, session: Session, kind: str, under: OrgNode | None = None) -> list[OrgNode]:
    query = select(OrgNode).where(OrgNode.kind == kind)
    if under is not None:
        query = query.where(OrgNode.path.startswith(under.path, autoescape=True))
    return list(session.scalars(query.order_by(OrgNode.code)))


@dataclass(frozen=True)
class NodeFigures:
    node: OrgNode
    months: list[str]
    actual: list[int]  # per month, fen
    target: list[int]  # per month, fen

    def total(self, values: list[int], labels: set[str]) -> int:
        return sum(v for m, v in zip(self.months, values) if m in labels)


def node_figures(
    *, session: Session, plan: Plan, nodes: Sequence[OrgNode], as_of: date
) -> list[NodeFigures]:
    """Monthly actual (to `as_of`) and target of each node over the plan's months: two GROUP BYs."""
    months = [p.label for p in plan_months(plan)]
    end = min(as_of, plan.end_date)
    actual = actuals_by_group_month(session=session, groups=nodes, start=plan.start_date, end=end)
    target = targets_by_node_month(session=session, plan=plan, node_ids=[n.id for n in nodes])
    return [
        NodeFigures(
            node=n, months=months,
            actual=[actual.get((n.id, m), 0) for m in months],
            target=[target.get((n.id, m), 0) for m in months],
        )
        for n in nodes
    ]


# The customers page's GROUP BY lives in attain.catalog.activity (the CLI grades customers from it too).
__all__ = ["CustomerActivity", "customer_activity"]
