"""Issue 18 (market inputs, anchoring, early warning) on SQLite and PostgreSQL: the seed's 150万 → 220万
example end to end, imports (all or nothing, zh/en headers, GBK), and the early-warning draft revision.
Today is always given (as_of / the plans clock), never read from the wall clock."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from attain.cli.main import app
from attain.errors import ImportRejected, InvalidInput
from attain.facts.models import OpportunityStageChange, OrderLine  # noqa: F401
from attain.imports.service import import_file
from attain.market import calc
from attain.market.models import CompetitorEvent, MarketShare, MarketSize
from attain.market.service import anchor, create_from_market, early_warning, list_market, propose
from attain.org.models import OrgNode
from attain.periods import parse_period
from attain.plans.models import Plan, PlanCell
from attain.plans.service import approve_plan, plan_in_force, submit_plan
from attain.plans.setting import create_target
from attain.plans.splitting import SplitOptions, split_plan
from attain.tracking.models import AlertEvent
from tests.plans.conftest import make_org, make_users, today_is  # noqa: F401

runner = CliRunner()
AS_OF = date(2027, 1, 10)
REPS = ("R1-T1-1", "R1-T1-2", "R2-T1-1", "R2-T1-2")


def _seed_company(session: Session) -> dict[str, int]:
    """2 regions × 2 reps; 2026 sales 1,520,016 yuan (each rep 31,667 a month), one line in Dec 2025
    so that 2026 is a complete year of history; 80 leads in 2026 (20 won at 25,000, 60 lost) and a
    marketing spend of 200,000 yuan; market 2027: R1 6,000,000 + R2 5,000,000."""
    from attain.facts.models import Opportunity

    ids = make_org(session, regions=2, teams=1, reps=2, managers=True)
    rows = [{"line_id": f"{c}-{m}", "order_id": f"O-{c}-{m}", "order_date": date(2026, m, 15), "rep_id": ids[c],
             "amount": 31_667_00, "quantity": 1, "currency": "CNY"} for c in REPS for m in range(1, 13)]
    rows.append({"line_id": "old", "order_id": "O-old", "order_date": date(2025, 12, 15), "rep_id": ids[REPS[0]],
                 "amount": 100, "quantity": 1, "currency": "CNY"})
    session.execute(insert(OrderLine), rows)
    session.execute(insert(Opportunity), [
        {"code": f"OP{i}", "rep_id": ids[REPS[i % 4]], "amount": 25_000_00, "currency": "CNY",
         "stage": "won" if i < 20 else "lost", "created_on": date(2026, 1 + i % 12, 3), "closed_on": date(2026, 1 + i % 12, 20)}
        for i in range(80)])
    session.commit()
    return ids


def _import(session: Session, kind: str, path: Path) -> object:
    return import_file(session=session, kind=kind, path=path)


def test_seed_example_150_to_220_end_to_end(session: Session, tmp_path: Path) -> None:
    _seed_company(session)
    sizes = tmp_path / "市场规模.csv"
    sizes.write_text("区域,期间,市场规模,行业增长率,本公司份额,数据来源,来源日期\n"
                     "R1,2027,6000000,8%,14%,行业协会年报,2026-12-01\nR2,2027,5000000,6%,13%,行业协会年报,2026-12-01\n",
                     encoding="gbk")
    spend = tmp_path / "spend.csv"
    spend.write_text("Period,Marketing Spend\n2026,200000\n", encoding="utf-8")
    _import(session, "market-size", sizes)
    _import(session, "marketing-spend", spend)

    plain = anchor(session=session, year=2027, share="20%", productivity="37500", as_of=AS_OF)
    a = plain.anchor
    assert a.market_size == 11_000_000_00 and a.market_target == 2_200_000_00
    assert a.history == 1_520_016_00 and f"{a.headroom * 100:.0f}" == "45"
    assert a.capacity == 1_800_000_00 and a.gap == 400_000_00
    assert a.new_rep_output == 393_750_00 and a.extra_reps == 2 and a.productivity_lift == Decimal("0.22")
    assert plain.words_zh == "市场允许 220万，产能只有 180万：需增 2 名销售或提高人效 22 %"
    assert plain.words_en == "the market allows 220万, capacity is only 180万: add 2 reps or raise productivity by 22 %"

    created, full = create_from_market(session=session, name="FY2027-market", year=2027, share="0.2", by="wang",
                                       productivity="37500", hires=(date(2027, 7, 1),) * 2, budget_change="30%",
                                       as_of=AS_OF, unit="10000")
    f = full.anchor
    assert created.total == 2_200_000_00
    # Two hires from 1 July: 0.25 + 0.5 + 0.75 + 1 + 1 + 1 = 4.5 ramped months each at 37,500.
    assert f.hires_capacity == 2 * 45 * 3_750_00
    # +30 % of 200,000 = 60,000 → 80 leads / 20万 = 4 leads per 万 → 24 leads × 25 % × 25,000 = 150,000.
    m = full.marketing
    assert m is not None and m.lead_yield == Decimal("4") and m.win_rate == Decimal("0.25") and m.deal_size == 25_000_00
    assert m.extra_revenue == 150_000_00 and "learned 2026" in m.yield_basis
    assert f.capacity == 1_800_000_00 + 337_500_00 + 150_000_00 and f.gap < 0 and f.extra_reps == 0
    assert full.words_zh.startswith("市场允许 220万，产能 228.75万：产能足够")


def test_from_market_cli_prints_the_three_views(session: Session, database_url: str, tmp_path: Path) -> None:
    _seed_company(session)
    sizes = tmp_path / "market.csv"
    sizes.write_text("Region,Period,Market Size,Source\nR1,2027,6000000,IDC\nR2,2027,5000000,IDC\n", encoding="utf-8")
    _import(session, "market-size", sizes)
    result = runner.invoke(app, ["plan", "create", "--name", "M", "--year", "2027", "--from-market", "--share", "0.2",
                                 "--productivity", "37500", "--as-of", "2027-01-10", "--lead-yield", "4",
                                 "--budget", "200000", "--budget-change", "30%", "--hire", "2@2027-07-01",
                                 "--db", database_url, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["total"] == "2200000.00" and payload["anchor"]["capacity"]["hires_capacity"] == "337500.00"
    assert payload["anchor"]["marketing"]["lead_yield_basis"] == "assumed"
    bad = runner.invoke(app, ["plan", "create", "--name", "M2", "--year", "2027", "--from-market", "--db", database_url])
    assert bad.exit_code == 1 and "--share" in str(bad.exception)


def test_anchor_refuses_a_year_without_market(session: Session) -> None:
    _seed_company(session)
    with pytest.raises(InvalidInput, match="no market size is recorded for 2027"):
        anchor(session=session, year=2027, share="0.2", as_of=AS_OF)
    with pytest.raises(InvalidInput, match="must be more than 0 and at most 100 %"):
        calc.check_share(Decimal("1.5"))


def test_market_import_is_all_or_nothing_and_names_the_line(session: Session, tmp_path: Path) -> None:
    make_org(session, regions=2, teams=1, reps=1)
    bad = tmp_path / "bad.csv"
    bad.write_text("Region,Period,Market Size\nR1,2027,100\nR9,2027,100\nR1-T1,2027,100\nR2,2027x,100\nR2,2027,-5\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as caught:
        _import(session, "market-size", bad)
    lines = {(e.line, e.column) for e in caught.value.errors}
    assert lines == {(3, "Region"), (4, "Region"), (5, "Period"), (6, "Market Size")}
    assert "no region 'R9'" in {e.message for e in caught.value.errors if e.line == 3}.pop()
    assert session.scalar(select(func.count(MarketSize.id))) == 0
    events = tmp_path / "events.csv"
    events.write_text("日期,区域,类型,严重度,竞争对手\n2027-03-01,R1,降价,高,对手A\n2027-03-02,R2,打折扣吧,中,对手B\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match="1 bad row"):
        _import(session, "competitor-events", events)
    assert session.scalar(select(func.count(CompetitorEvent.id))) == 0
    shares = tmp_path / "shares.csv"
    shares.write_text("Region,Period,Competitor,Share\nR1,2027,us,60%\nR1,2027,A,50%\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match="1 bad row"):
        _import(session, "market-shares", shares)
    assert session.scalar(select(func.count(MarketShare.id))) == 0


def test_reimport_keeps_the_previous_size(session: Session, tmp_path: Path) -> None:
    make_org(session, regions=1, teams=1, reps=1)
    path = tmp_path / "m.csv"
    path.write_text("Region,Period,Market Size\nR1,2027,1000000\n", encoding="utf-8")
    _import(session, "market-size", path)
    path.write_text("Region,Period,Market Size\nR1,2027,900000\n", encoding="utf-8")
    result = _import(session, "market-size", path)
    assert result.updated == 1  # type: ignore[attr-defined]
    (row,) = list_market(session=session, year=2027)
    assert row.size == 900_000_00 and row.previous_size == 1_000_000_00


@pytest.fixture
def approved(session: Session, today_is) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """FY2027 of 1,200,000 split by org and month (each rep 25,000 a month), approved by zhao."""
    today_is(date(2027, 5, 10))
    ids = make_org(session, regions=2, teams=1, reps=2, managers=True)
    make_users(session)
    create_target(session=session, name="FY2027", year=2027, metric_code="revenue", by="wang", total="1200000", unit="100")
    split_plan(session=session, name="FY2027", options=SplitOptions(by=("org", "time")), by="wang")
    submit_plan(session=session, name="FY2027", by="wang")
    approve_plan(session=session, name="FY2027", by="zhao")
    return ids


def _region_month(session: Session, plan: Plan, region: int, period: str) -> int:
    return session.scalar(select(PlanCell.value).where(PlanCell.plan_id == plan.id, PlanCell.org_node_id == region,
                                                       PlanCell.period == period, PlanCell.product_node_id.is_(None),
                                                       PlanCell.customer_type == "all"))  # type: ignore[return-value]


def test_competitor_event_proposes_a_draft_revision_and_an_alert(session: Session, approved: dict[str, int], database_url: str) -> None:
    result = runner.invoke(app, ["market", "event", "--region", "R1", "--kind", "price_cut", "--severity", "2",
                                 "--date", "2027-05-10", "--competitor", "对手A", "--by", "wang", "--db", database_url, "--json"])
    assert result.exit_code == 0, result.output
    (warning,) = json.loads(result.output)["warnings"]
    assert warning["draft_version"] is not None and warning["alerts"] == 1
    session.expire_all()
    in_force = plan_in_force(session=session, name="FY2027")
    assert in_force is not None and in_force.version == 4  # the approved version stays in force
    draft = session.scalars(select(Plan).where(Plan.name == "FY2027", Plan.status == "draft")).one()
    assert draft.effective_from == date(2027, 6, 1)
    r1, r2 = approved["R1"], approved["R2"]
    # Price cut, severity 2: 6 % for 3 months from May; May is under way, so June and July move.
    for period, (before_r1, after_r1) in {"2027-06": (50_000_00, 47_000_00), "2027-07": (50_000_00, 47_000_00),
                                           "2027-05": (50_000_00, 50_000_00), "2027-08": (50_000_00, 50_000_00)}.items():
        assert _region_month(session, in_force, r1, period) == before_r1
        assert _region_month(session, draft, r1, period) == after_r1
        assert _region_month(session, draft, r2, period) == 100_000_00 - after_r1  # the company month is unchanged
    event = session.scalars(select(AlertEvent)).one()
    assert event.org_node_id == r1 and event.details["draft_version"] == draft.version
    assert [c["period"] for c in event.details["cells"]] == ["2027-06", "2027-07"]
    assert event.details["cells"][0]["delta"] == -3_000_00 and "price cut" in event.message
    again = runner.invoke(app, ["market", "warn", "--by", "wang", "--as-of", "2027-05-10", "--db", database_url, "--json"])
    assert again.exit_code == 0 and json.loads(again.output)[0]["repeated"] is True


def test_share_drop_and_market_cut_are_signals(session: Session, approved: dict[str, int]) -> None:
    from attain.market.service import put_market_size, put_share

    r2 = approved["R2"]
    for label, share in (("2026Q3", "0.20"), ("2026Q4", "0.21"), ("2027Q1", "0.17")):
        put_share(session=session, region_id=r2, product_node_id=None, period=parse_period(label), player="own", share=Decimal(share))
    plan = plan_in_force(session=session, name="FY2027")
    assert plan is not None
    found = propose(session=session, plan=plan, as_of=date(2027, 5, 10))
    # 17 % against a mean of 20.5 %: a drop of 3.5 points, 17.07 % of each open month from June.
    assert {m.period for m in found.moves} == {f"2027-{m:02d}" for m in range(6, 13)}
    assert all(m.region_id == r2 and m.after == 41_500_00 for m in found.moves)
    quiet = propose(session=session, plan=plan, as_of=date(2027, 5, 10), threshold=Decimal("0.05"))
    assert quiet.moves == ()
    put_market_size(session=session, region_id=approved["R1"], product_node_id=None, period=parse_period("2027Q4"), size=1_000_000_00)
    put_market_size(session=session, region_id=approved["R1"], product_node_id=None, period=parse_period("2027Q4"), size=900_000_00)
    cut = propose(session=session, plan=plan, as_of=date(2027, 5, 10), threshold=Decimal("0.05"))
    assert {(m.period, m.after) for m in cut.moves} == {("2027-10", 45_000_00), ("2027-11", 45_000_00), ("2027-12", 45_000_00)}


def test_alerts_run_carries_the_proposal(session: Session, approved: dict[str, int]) -> None:
    from attain.market.service import add_event
    from attain.tracking.alerts import run_rules

    add_event(session=session, day=date(2027, 5, 3), region_id=approved["R2"], kind="new_product", severity=3)
    result = run_rules(session=session, as_of=date(2027, 5, 10))
    shifts = [e for e in result.new_events if e.condition.startswith("market:")]
    assert len(shifts) == 1 and shifts[0].org_node_id == approved["R2"]
    assert shifts[0].details["cells"][0] == {"region": "R2", "period": "2027-06", "product_line": None, "before": 50_000_00,
                                              "after": 46_000_00, "delta": -4_000_00, "why": [shifts[0].details["signals"][0]["key"]]}
    assert session.scalar(select(func.count(Plan.id)).where(Plan.status == "draft")) == 0  # only `market warn` opens a draft


def test_market_change_needs_region_nodes(session: Session) -> None:
    make_org(session, regions=1, teams=1, reps=1)
    team = session.scalars(select(OrgNode).where(OrgNode.code == "R1-T1")).one()
    from attain.market.service import require_region

    with pytest.raises(Exception, match="no region 'R1-T1'"):
        require_region(session=session, key=team.code)
