"""`node_overview`: a node's row, months and the nodes below it are `attainment()`'s own rows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.org.models import OrgNode
from attain.periods import year
from attain.tracking.attainment import attainment
from attain.tracking.overview import node_overview
from tests.tracking.conftest import DEMO_AS_OF

PERIOD = year(2026)


def _node(session: Session, code: str) -> OrgNode:
    return session.scalars(select(OrgNode).where(OrgNode.code == code)).one()


def test_a_region_overview_is_the_region_row_with_its_teams_ranked(demo: Session) -> None:
    east = _node(demo, "EAST")
    overview = node_overview(session=demo, node=east, period=PERIOD, as_of=DEMO_AS_OF)
    regions = attainment(session=demo, period=PERIOD, by="region", as_of=DEMO_AS_OF)
    (row,) = [r for r in regions.rows if r.node_id == east.id]
    assert overview.total.node_id == east.id
    assert (overview.total.actual, overview.total.target, overview.total.figures) == (row.actual, row.target, row.figures)
    assert sum(r.actual for r in overview.months.rows) == row.actual
    teams = {r.node_id: r for r in attainment(session=demo, period=PERIOD, by="team", as_of=DEMO_AS_OF).rows}
    children = set(demo.scalars(select(OrgNode.code).where(OrgNode.parent_id == east.id)))
    assert {b.node.code for b in overview.below} == children
    for below in overview.below:
        assert below.row.figures == teams[below.node.id].figures and below.row.actual == teams[below.node.id].actual
    attained = [b.row.figures.attainment for b in overview.below]
    assert attained == sorted(attained, reverse=True)  # type: ignore[type-var]
    assert overview.band is not None and overview.band.p50 == row.figures.seasonal_forecast


def test_a_rep_overview_has_nobody_below_and_the_company_lists_its_regions(demo: Session) -> None:
    rep = node_overview(session=demo, node=_node(demo, "R002"), period=PERIOD, as_of=DEMO_AS_OF)
    assert rep.below == () and len(rep.months.rows) == 12
    company = demo.scalars(select(OrgNode).where(OrgNode.parent_id.is_(None))).one()
    whole = node_overview(session=demo, node=company, period=PERIOD, as_of=DEMO_AS_OF)
    report = attainment(session=demo, period=PERIOD, as_of=DEMO_AS_OF)
    assert whole.total.figures == report.total.figures and whole.total.actual == report.total.actual
    assert {b.node.kind for b in whole.below} == {"region"}
