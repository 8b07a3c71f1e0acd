"""SMART check: each failing property is found, with its severity, cell and figure."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update
from sqlalchemy.orm import Session

from attain.org.models import OrgNode
from attain.plans.check import check_plan
from attain.plans.edits import CellRef, set_note
from attain.plans.setting import create_target
from attain.plans.splitting import SplitOptions, split_plan
from tests.plans.conftest import add_sales, make_org


AS_OF = date(2027, 1, 5)  # 2026, the last year of the sales below, is complete


def _plan(session: Session, total: str) -> dict[str, int]:
    ids = make_org(session, regions=1, teams=1, reps=2)
    add_sales(session, ids, 2025, {"R1-T1-1": 9_000, "R1-T1-2": 9_000})
    add_sales(session, ids, 2026, {"R1-T1-1": 10_000, "R1-T1-2": 10_000})
    create_target(session=session, name="P", year=2027, metric_code="revenue", by="a", total=total)
    split_plan(session=session, name="P", options=SplitOptions(by=("org", "time"), method="history"), by="a", as_of=AS_OF)
    return ids


def test_a_target_in_line_with_the_trend_passes(session: Session) -> None:
    ids = _plan(session, "264000")  # +10 %, the same growth as last year
    session.execute(update(OrgNode).where(OrgNode.code.in_(["R1", "R1-T1"])).values(manager_id=ids["R1-T1-1"]))
    session.commit()
    report = check_plan(session=session, name="P", as_of=AS_OF)
    assert [f for f in report.findings if f.check == "realistic"] == []


def test_an_unreachable_target_is_an_error_with_its_probability(session: Session) -> None:
    _plan(session, "960000")  # four times last year
    report = check_plan(session=session, name="P", as_of=AS_OF)
    total = next(f for f in report.findings if f.check == "realistic" and f.cell == "total")
    assert total.severity == "error" and "+300%" in total.figure and "P(reach) 0%" in total.figure
    assert not report.passed


def test_cells_without_an_owner_are_errors_per_node(session: Session) -> None:
    _plan(session, "264000")  # the region and the team have no manager in this org
    owners = [f for f in check_plan(session=session, name="P", as_of=AS_OF).findings if f.check == "owner"]
    assert {f.cell for f in owners} == {"R1 (all 17 cells)", "R1-T1 (all 17 cells)"}
    assert all(f.severity == "error" for f in owners)


def test_a_rule_on_another_metric_is_not_relevant(session: Session) -> None:
    _plan(session, "264000")
    set_note(session=session, name="P", ref=CellRef("R1-T1-1", "2027-03"), rule={"metric": "quantity"}, by="a")
    relevant = [f for f in check_plan(session=session, name="P", as_of=AS_OF).findings if f.check == "relevant"]
    assert [(f.severity, f.cell, f.figure) for f in relevant] == [("warning", "R1-T1-1 (1 cells)", "rule metric quantity")]


def test_a_plan_without_cells_is_not_measurable(session: Session) -> None:
    create_target(session=session, name="E", year=2027, metric_code="revenue", by="a", total="100")
    report = check_plan(session=session, name="E")
    assert [(f.severity, f.check) for f in report.findings] == [("error", "measurable")]
