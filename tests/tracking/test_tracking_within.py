"""`attainment(within=node)`: one node's part of the company, filtered in SQL, equals the same rows
of the whole-company report (rows, totals and every figure), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.errors import InvalidInput, NotFound
from attain.org.models import OrgNode
from attain.periods import parse_period
from attain.tracking.attainment import attainment
from tests.tracking.conftest import DEMO_AS_OF

YEAR = parse_period("2026")


def _nodes(session: Session, kind: str) -> list[OrgNode]:
    return list(session.scalars(select(OrgNode).where(OrgNode.kind == kind).order_by(OrgNode.id)))


def _row_of(report, node_id: int):  # type: ignore[no-untyped-def]
    (row,) = [r for r in report.rows if r.node_id == node_id]
    return row


def _same(a, b) -> None:  # type: ignore[no-untyped-def]
    assert (a.actual, a.target, a.target_source, a.figures, a.progress) == (
        b.actual, b.target, b.target_source, b.figures, b.progress)


def test_a_team_s_report_is_its_reps_rows_and_its_own_row_as_total(demo: Session) -> None:
    whole_by_rep = attainment(session=demo, period=YEAR, by="rep", as_of=DEMO_AS_OF)
    whole_by_team = attainment(session=demo, period=YEAR, by="team", as_of=DEMO_AS_OF)
    for team in _nodes(demo, "team")[:3]:
        mine = attainment(session=demo, period=YEAR, by="rep", as_of=DEMO_AS_OF, within=team.id)
        reps = {n.id for n in demo.scalars(select(OrgNode).where(OrgNode.parent_id == team.id))}
        assert {r.node_id for r in mine.rows} == {r.node_id for r in whole_by_rep.rows if r.node_id in reps} != set()
        for row in mine.rows:
            assert row.labels == _row_of(whole_by_rep, row.node_id).labels
            _same(row, _row_of(whole_by_rep, row.node_id))
        assert mine.total.node_id == team.id
        _same(mine.total, _row_of(whole_by_team, team.id))


def test_a_rep_s_report_by_month_adds_up_to_the_rep_s_row(demo: Session) -> None:
    whole = attainment(session=demo, period=YEAR, by="rep", as_of=DEMO_AS_OF)
    whole_months = attainment(session=demo, period=YEAR, by="rep,month", as_of=DEMO_AS_OF)
    rep = next(r for r in whole.rows if r.actual and r.target)
    mine = attainment(session=demo, period=YEAR, by="month", as_of=DEMO_AS_OF, within=rep.node_id)
    _same(mine.total, rep)
    months = {r.key[1]: r for r in whole_months.rows if r.key[0] == rep.node_id}
    assert [r.key[0] for r in mine.rows] == sorted(months)
    for row in mine.rows:
        assert (row.actual, row.target, row.figures) == (months[row.key[0]].actual, months[row.key[0]].target,
                                                         months[row.key[0]].figures)
    assert sum(r.actual for r in mine.rows) == rep.actual


def test_a_region_s_report_by_team_matches_and_the_company_is_the_whole(demo: Session) -> None:
    (region, *_) = _nodes(demo, "region")
    whole = attainment(session=demo, period=YEAR, by="team", as_of=DEMO_AS_OF)
    mine = attainment(session=demo, period=YEAR, by="team", as_of=DEMO_AS_OF, within=region.id)
    assert mine.rows and all(demo.get(OrgNode, r.node_id).path.startswith(region.path) for r in mine.rows)
    for row in mine.rows:
        _same(row, _row_of(whole, row.node_id))
    company = demo.scalars(select(OrgNode).where(OrgNode.parent_id.is_(None))).one()
    everything = attainment(session=demo, period=YEAR, by="team", as_of=DEMO_AS_OF, within=company.id)
    assert [(r.key, r.actual, r.figures) for r in everything.rows] == [(r.key, r.actual, r.figures) for r in whole.rows]
    _same(everything.total, whole.total)


def test_a_level_above_the_node_or_an_unknown_node_is_refused(demo: Session) -> None:
    (team, *_) = _nodes(demo, "team")
    with pytest.raises(InvalidInput, match="report by team or a level below, not region"):
        attainment(session=demo, period=YEAR, by="region,rep", as_of=DEMO_AS_OF, within=team.id)
    with pytest.raises(NotFound, match="no org node with id 987654"):
        attainment(session=demo, period=YEAR, by="rep", as_of=DEMO_AS_OF, within=987654)


def test_the_scope_selects_the_same_lines_through_the_full_crediting_statement(demo: Session) -> None:
    """With crediting features in use the scope reads the credited position, not the order rep:
    on data that uses none, both statements must select the same lines."""
    from attain.credit.sql import ALL_FEATURES, credit_features
    from attain.tracking.query import Grouping, Scope, actuals_statement

    (team, *_) = _nodes(demo, "team")
    scope = Scope(team.id, team.kind, team.path)
    used = credit_features(demo)

    def rows(features):  # type: ignore[no-untyped-def]
        statement = actuals_statement(metric="revenue", grouping=Grouping(("rep", "month")), start=YEAR.start,
                                      end=DEMO_AS_OF, features=features, scope=scope)
        return sorted(tuple(r) for r in demo.execute(statement))

    full = rows(ALL_FEATURES)
    assert full and full == rows(used)


def test_the_seasonal_history_is_read_again_once_an_order_line_is_added(demo: Session) -> None:
    """The seasonal weights are kept between reports of one process, but never past a new line."""
    from datetime import date

    from attain.facts.models import OrderLine

    def expected() -> object:
        return attainment(session=demo, period=YEAR, by="region", as_of=DEMO_AS_OF).total.figures.expected_to_date

    before = expected()
    assert expected() == before  # from the cache: the same figure
    rep = _nodes(demo, "rep")[0]
    demo.add(OrderLine(line_id="test-history-spike", order_id="test-history-spike", order_date=date(2025, 12, 15),
                       rep_id=rep.id, amount=10**12, quantity=1))
    demo.flush()
    assert expected() != before  # a huge December last year: less of the year is due by late November
    demo.rollback()
    assert expected() == before


@pytest.mark.parametrize("by", ["rep,month", "team", None])
def test_a_parallel_report_equals_the_sequential_one(demo: Session, by: str | None) -> None:
    """`parallel=True` (the CLI's) runs the rollup on a connection of its own: same report."""
    one = attainment(session=demo, period=YEAR, by=by, as_of=DEMO_AS_OF)
    two = attainment(session=demo, period=YEAR, by=by, as_of=DEMO_AS_OF, parallel=True)
    assert [(r.key, r.actual, r.target, r.figures) for r in two.rows] == [(r.key, r.actual, r.target, r.figures) for r in one.rows]
    assert (two.total.actual, two.total.target, two.total.figures) == (one.total.actual, one.total.target, one.total.figures)
