"""Tracking services on a small hand-made company (SQLite and PostgreSQL): own targets vs sums of
children, proration, overlay credit, fiscal years and every kind of bad input."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from attain.catalog.models import Customer, ProductNode
from attain.credit.models import CreditSplit
from attain.errors import InvalidInput, NotFound
from attain.facts.models import OrderLine
from attain.metrics.service import create_metric, require_metric
from attain.org.service import create_node, ensure_root
from attain.periods import parse_period
from attain.plans.models import PlanCell
from attain.plans.service import create_plan
from attain.settings.service import set_setting
from attain.tracking.attainment import actuals, attainment, resolve_period
from attain.tracking.leaderboard import leaderboard
from attain.tracking.targets import target_between


@dataclass
class Company:
    root: int
    region: int
    team_own: int  # a team with a manager's own target cell
    team_sum: int  # a team whose target is the sum of its reps
    reps: dict[str, int]
    line: int


def _company(session: Session) -> Company:
    root = ensure_root(session=session, name="测试公司")
    region = create_node(session=session, code="R1", name="华东", kind="region", parent_id=root)
    team_own = create_node(session=session, code="T1", name="上海团队", kind="team", parent_id=region)
    team_sum = create_node(session=session, code="T2", name="杭州团队", kind="team", parent_id=region)
    reps = {code: create_node(session=session, code=code, name=name, kind="rep", parent_id=team)
            for code, name, team in (("A", "张三", team_own), ("B", "李四", team_own), ("C", "王五", team_sum))}
    line = ProductNode(code="L1", name="软件", kind="line", path="/")
    session.add(line)
    session.flush()
    session.add(ProductNode(code="P1", name="软件A", kind="product", parent_id=line.id, path=f"/{line.id}/"))
    session.add(Customer(code="CU1", name="客户一", first_order_date=date(2027, 3, 2)))
    session.flush()
    return Company(root, region, team_own, team_sum, reps, line.id)


def _orders(session: Session, company: Company, rows: list[tuple[str, str, date, int]]) -> None:
    products = {p.code: p.id for p in session.query(ProductNode)}
    customer = session.query(Customer).one().id
    session.execute(insert(OrderLine), [
        {"line_id": line, "order_id": line, "order_date": day, "rep_id": company.reps[rep], "customer_id": customer,
         "product_id": products["P1"], "amount": amount, "cost": amount // 2, "quantity": Decimal(1)}
        for line, rep, day, amount in rows
    ])


def _plan(session: Session, company: Company, name: str = "FY2027", metric: str = "revenue", status: str = "approved"):  # type: ignore[no-untyped-def]
    plan = create_plan(session=session, name=name, metric=require_metric(session=session, code=metric),
                       start=date(2027, 1, 1), end=date(2027, 12, 31), status=status)
    march = parse_period("2027-03")
    cells = [(company.reps["A"], 2_300_000), (company.reps["B"], 4_600_000), (company.reps["C"], 1_150_000),
             (company.team_own, 10_000_000)]  # the manager's own figure, above A + B
    session.execute(insert(PlanCell), [
        {"plan_id": plan.id, "period": march.label, "period_start": march.start, "period_end": march.end,
         "org_node_id": node, "customer_type": "all", "value": value} for node, value in cells
    ])
    session.flush()
    return plan


@pytest.fixture
def company(session: Session) -> Company:
    made = _company(session)
    _orders(session, made, [("o1", "A", date(2027, 3, 1), 100_000), ("o2", "A", date(2027, 3, 9), 50_000),
                            ("o3", "B", date(2027, 3, 10), 200_000), ("o4", "C", date(2027, 3, 31), 70_000),
                            ("o5", "C", date(2027, 4, 1), 999_999)])
    session.commit()
    return made


def test_team_with_own_cell_uses_it_and_region_sums_its_teams(session: Session, company: Company) -> None:
    plan = _plan(session, company)
    march = parse_period("2027-03")
    teams = {t.node_id: t for t in target_between(session, plan, march.start, march.end, "team")}
    assert (teams[company.team_own].value, teams[company.team_own].source) == (10_000_000, "own")
    assert (teams[company.team_sum].value, teams[company.team_sum].source) == (1_150_000, "sum of children")
    (region,) = target_between(session, plan, march.start, march.end, "region")
    assert (region.value, region.source) == (11_150_000, "sum of children")


def test_a_week_gets_its_working_days_share_of_the_month(session: Session, company: Company) -> None:
    plan = _plan(session, company)
    week = parse_period("2027-W10")  # 8-14 March: 5 of 23 working days (Monday-Friday for 2027)
    reps = {t.node_id: t.value for t in target_between(session, plan, week.start, week.end, "rep")}
    assert reps[company.reps["A"]] == Fraction(2_300_000 * 5, 23)
    result = attainment(session=session, period=week, by="rep", as_of=date(2027, 3, 14))
    row = next(r for r in result.rows if r.node_id == company.reps["A"])
    assert row.target == Decimal(500_000) and row.actual == 50_000 and row.figures.attainment == Decimal("0.1000")


def test_attainment_rows_totals_and_sources(session: Session, company: Company) -> None:
    _plan(session, company)
    result = attainment(session=session, period=parse_period("2027-03"), by="team", as_of=date(2027, 3, 31))
    rows = {r.node_id: r for r in result.rows}
    assert rows[company.team_own].actual == 350_000 and rows[company.team_own].target_source == "own"
    assert rows[company.team_sum].actual == 70_000
    assert result.total.actual == 420_000  # April's order is outside the period
    assert result.total.target == Decimal(11_150_000) and result.total.target_source == "sum of children"
    assert result.total.progress.calendar_share == 1


def test_as_of_cuts_the_actuals(session: Session, company: Company) -> None:
    _plan(session, company)
    result = attainment(session=session, period=parse_period("2027-03"), by="rep", as_of=date(2027, 3, 9))
    assert {r.node_id: r.actual for r in result.rows} == {company.reps["A"]: 150_000, company.reps["B"]: 0, company.reps["C"]: 0}


def test_overlay_credit_counts_for_its_rep_only(session: Session, company: Company) -> None:
    session.add(CreditSplit(order_id="o4", rep_id=company.reps["A"], kind="overlay", share_bp=10_000,
                            cum_from_bp=0, cum_to_bp=10_000))
    session.commit()
    march = parse_period("2027-03")
    reps = {r.key[0]: r.value for r in actuals(session=session, period=march, by="rep").rows}
    teams = {r.key[0]: r.value for r in actuals(session=session, period=march, by="team").rows}
    assert reps[company.reps["A"]] == 150_000 + 70_000
    assert teams[company.team_own] == 350_000 and teams[company.team_sum] == 70_000
    assert actuals(session=session, period=march, by="rep").total == 420_000


def test_actuals_by_product_line_and_customer_type(session: Session, company: Company) -> None:
    result = actuals(session=session, period=parse_period("2027-03"), by="product_line,customer_type")
    assert [(r.labels, r.value) for r in result.rows] == [(("软件", "new"), 420_000)]
    later = actuals(session=session, period=parse_period("2027-04"), by="customer_type", metric="new_customers")
    assert [(r.key, r.value) for r in later.rows] == [(("existing",), 0)]


def test_fiscal_year_follows_the_company_setting(session: Session, company: Company) -> None:
    set_setting(session, "fiscal_year_start_month", 4)
    session.commit()
    fy = resolve_period(session, "FY2027")
    assert (fy.start, fy.end) == (date(2026, 4, 1), date(2027, 3, 31))
    assert actuals(session=session, period=fy).total == 420_000  # April 2027 belongs to FY2028
    q1 = resolve_period(session, "FY2028Q1")
    assert actuals(session=session, period=q1).total == 999_999


def test_leaderboard_ranks_reps(session: Session, company: Company) -> None:
    _plan(session, company)
    board = leaderboard(session=session, period=parse_period("2027-03"), as_of=date(2027, 3, 31))
    assert [leader.row.node_id for leader in board.rows] == [company.reps["A"], company.reps["C"], company.reps["B"]]
    assert [leader.rank for leader in board.rows] == [1, 2, 3]
    first = board.rows[0].milestones
    assert first.first_deal == date(2027, 3, 1) and dict(first.reached)[Decimal("0.25")] is None


def test_leaderboard_rejects_other_dimensions(session: Session, company: Company) -> None:
    _plan(session, company)
    with pytest.raises(InvalidInput, match="rep or team"):
        leaderboard(session=session, period=parse_period("2027-03"), by="region")


def test_unknown_dimension_is_named(session: Session, company: Company) -> None:
    with pytest.raises(InvalidInput, match="'salesman'"):
        actuals(session=session, period=parse_period("2027-03"), by="rep,salesman")


def test_unknown_metric_is_named(session: Session, company: Company) -> None:
    with pytest.raises(InvalidInput, match="'margin'"):
        actuals(session=session, period=parse_period("2027-03"), metric="margin")


def test_unknown_period_is_named(session: Session) -> None:
    with pytest.raises(InvalidInput, match="'2027Q7'"):
        resolve_period(session, "2027Q7")


def test_no_plan_covering_the_period(session: Session, company: Company) -> None:
    with pytest.raises(NotFound, match="no approved plan covers 2027-03"):
        attainment(session=session, period=parse_period("2027-03"), by="rep")
    _plan(session, company, status="draft")
    with pytest.raises(NotFound, match="no approved plan"):
        attainment(session=session, period=parse_period("2027-03"), by="rep")
    with pytest.raises(NotFound, match="no plan named 'FY2030'"):
        attainment(session=session, period=parse_period("2027-03"), plan="FY2030")


def test_named_plan_outside_the_period(session: Session, company: Company) -> None:
    _plan(session, company)
    with pytest.raises(InvalidInput, match="outside 2028-03"):
        attainment(session=session, period=parse_period("2028-03"), plan="FY2027")


def test_plan_of_another_metric(session: Session, company: Company) -> None:
    _plan(session, company, name="GP2027", metric="gross_profit")
    with pytest.raises(InvalidInput, match="sets gross_profit targets, not revenue"):
        attainment(session=session, period=parse_period("2027-03"), plan="GP2027", metric="revenue")
    result = attainment(session=session, period=parse_period("2027-03"), plan="GP2027", as_of=date(2027, 3, 31))
    assert result.metric.code == "gross_profit" and result.total.actual == 210_000


def test_plan_of_a_metric_tracking_cannot_total(session: Session, company: Company) -> None:
    create_metric(session=session, code="margin", name="Margin", aggregation="ratio", unit="%",
                  numerator="gross_profit", denominator="revenue")
    _plan(session, company, name="M2027", metric="margin")
    with pytest.raises(InvalidInput, match="targets metric 'margin'"):
        attainment(session=session, period=parse_period("2027-03"), plan="M2027")


def test_managers_by_title_keep_their_own_target_out_of_totals(session: Session, company: Company) -> None:
    """A quota sheet with one row per person, managers included (AdventureWorks): with
    manager_titles set, the manager's row keeps its target, the roll-ups and total leave it out."""
    from sqlalchemy import update

    from attain.org.models import OrgNode

    boss = create_node(session=session, code="M", name="赵经理", kind="rep", parent_id=company.team_sum)
    session.execute(update(OrgNode).where(OrgNode.id == boss).values(title="区域销售经理"))
    plan = create_plan(session=session, name="Sheet", metric=require_metric(session=session, code="revenue"),
                       start=date(2027, 1, 1), end=date(2027, 12, 31), status="approved")
    march = parse_period("2027-03")
    session.execute(insert(PlanCell), [
        {"plan_id": plan.id, "period": march.label, "period_start": march.start, "period_end": march.end,
         "org_node_id": node, "customer_type": "all", "value": value}
        for node, value in ((company.reps["A"], 100), (company.reps["B"], 200), (company.reps["C"], 300), (boss, 5_000))
    ])
    session.commit()

    def report(by: str):  # type: ignore[no-untyped-def]
        return attainment(session=session, period=march, by=by, plan="Sheet", as_of=date(2027, 3, 31))

    unset = report("rep")
    assert unset.total.target == 5_600 and any("titles suggest managers" in w and "赵经理" in w for w in unset.warnings)
    set_setting(session, "manager_titles", "经理|总监")
    session.commit()
    by_rep = report("rep")
    rows = {r.node_id: r for r in by_rep.rows}
    assert (rows[boss].target, rows[boss].target_source) == (5_000, "own (manager)")
    assert rows[company.reps["C"]].target_source == "own"
    assert by_rep.total.target == 600 and by_rep.total.target_source == "sum of children"
    assert any(w.startswith("the total leaves out the own targets of 1 managers (赵经理)") for w in by_rep.warnings)
    teams = {r.node_id: r.target for r in report("team").rows}
    assert teams[company.team_sum] == 300  # C only: the manager's 5,000 covers C, it is not added to it
    with pytest.raises(InvalidInput, match="manager_titles: '\\[' is not a regular expression"):
        set_setting(session, "manager_titles", "[")
