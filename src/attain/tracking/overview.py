"""One org node's overview: what the dashboard (page and GET /api/v1/dashboard) shows — the
node's attainment with its month rows, the nodes directly below it, and the forecast band.

Every figure is `attainment()`'s, the service behind `attain report attainment`, limited to the
node in SQL (`within`): the node's row is the report's total, its months the same report by month,
the nodes below the report by their level. So the dashboard and `attain report attainment --json`
agree field by field; there is no second aggregation, status rule or forecast.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.org.models import OrgNode
from attain.periods import Period
from attain.tracking import calc
from attain.tracking.attainment import Attainment, AttainmentRow, attainment

LEVELS = ("region", "team", "rep")  # what tracking reports by, coarse to fine


@dataclass(frozen=True)
class NodeRef:
    """What an overview shows of an org node. Unlike an OrgNode it belongs to no session, so a
    cached overview can hold it across requests and threads."""

    id: int
    code: str
    name: str
    kind: str

    @classmethod
    def of(cls, node: OrgNode) -> NodeRef:
        return cls(node.id, node.code, node.name, node.kind)


@dataclass(frozen=True)
class BelowRow:
    node: NodeRef
    row: AttainmentRow  # the node's row of the report by its level, within the overview's node


@dataclass(frozen=True)
class NodeOverview:
    node: NodeRef
    months: Attainment  # the node by month: `.total` is the node itself, `.rows` its months
    below: tuple[BelowRow, ...]  # nodes directly below with a target or a sale, best attainment first
    band: calc.ForecastBand | None  # None before the period starts

    @property
    def total(self) -> AttainmentRow:
        return self.months.total


def _ranking(below: BelowRow) -> tuple[bool, Decimal, Decimal]:
    attained = below.row.figures.attainment
    return (attained is None, -(attained or Decimal(0)), -Decimal(below.row.actual))


def node_overview(
    *, session: Session, node: OrgNode, period: Period, plan: str | None = None, as_of: date,
    parallel: bool = False,
) -> NodeOverview:
    """The overview of `node` (the caller has checked the user may see it) over `period` at `as_of`,
    with the plan `attainment()` resolves for `plan` (the named plan, else its default)."""
    months = attainment(session=session, period=period, by="month", plan=plan, as_of=as_of, within=node.id,
                        parallel=parallel)
    children = {child.id: child for child in session.scalars(select(OrgNode).where(OrgNode.parent_id == node.id))}
    below: list[BelowRow] = []
    for level in [level for level in LEVELS if any(child.kind == level for child in children.values())]:
        report = attainment(session=session, period=period, by=level, plan=plan, as_of=as_of, within=node.id,
                            parallel=parallel)
        below.extend(BelowRow(NodeRef.of(children[row.node_id]), row)
                     for row in report.rows if row.node_id in children)
    total = months.total
    band = calc.forecast_band(total.actual, total.figures.seasonal_forecast, [r.actual for r in months.rows],
                              [r.target for r in months.rows], [r.progress for r in months.rows])
    return NodeOverview(NodeRef.of(node), months, tuple(sorted(below, key=_ranking)), band)
