"""Customer lifecycle metrics against a hand-computed fixture (March 2027), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from attain.catalog.models import Customer
from attain.catalog.service import refresh_first_order_dates
from attain.cli.main import app
from attain.db import get_engine, make_session_factory
from attain.errors import InvalidInput
from attain.facts.models import Activity, Opportunity, OpportunityStageChange, OrderLine
from attain.imports.service import import_file
from attain.metrics.service import display, evaluate, require_metric
from attain.org.service import create_node, ensure_root

MARCH = (date(2027, 3, 1), date(2027, 3, 31))
PIPELINE = ("lead", "qualified", "proposal", "negotiation", "won")


def _opportunity(session: Session, code: str, rep: int, created: date, reached: int | None, final: str,
                 closed: date | None = None, source: str | None = None) -> None:
    """History lead..PIPELINE[reached] (None: no history at all), current stage `final`."""
    opportunity = Opportunity(code=code, rep_id=rep, amount=100_00, stage=final, created_on=created, closed_on=closed, source=source)
    session.add(opportunity)
    session.flush()
    if reached is not None:
        for k, stage in enumerate(PIPELINE[: reached + 1]):
            session.add(OpportunityStageChange(opportunity_id=opportunity.id, stage=stage, changed_on=created + timedelta(days=k)))


def build(session: Session) -> dict[str, int]:
    root = ensure_root(session=session)
    a = create_node(session=session, code="RA", name="甲", kind="rep", parent_id=root)
    b = create_node(session=session, code="RB", name="乙", kind="rep", parent_id=root)
    customers = {}
    for code in ("C1", "C2", "C3", "C4"):
        customer = Customer(code=code, name=code)
        session.add(customer)
        session.flush()
        customers[code] = customer.id
    c1, c2, c3, c4 = (customers[c] for c in ("C1", "C2", "C3", "C4"))
    for n, (kind, day, rep, customer) in enumerate([
        ("visit", date(2027, 3, 2), a, c1), ("visit", date(2027, 3, 5), a, c2), ("call", date(2027, 3, 20), a, c1),
        ("call", date(2027, 3, 10), b, c3), ("email", date(2027, 3, 11), b, None), ("visit", date(2027, 2, 27), a, c4),
    ]):
        session.add(Activity(code=f"A{n}", kind=kind, activity_date=day, rep_id=rep, customer_id=customer))
    _opportunity(session, "O1", a, date(2027, 3, 3), 2, "lost", date(2027, 4, 10))
    _opportunity(session, "O2", a, date(2027, 3, 8), None, "negotiation")
    _opportunity(session, "O3", b, date(2027, 3, 9), 0, "lost", date(2027, 3, 25))
    _opportunity(session, "O4", b, date(2027, 3, 15), 1, "qualified")
    _opportunity(session, "O5", a, date(2027, 1, 10), 4, "won", date(2027, 3, 12), source="Trade show")
    _opportunity(session, "O6", b, date(2027, 2, 1), 2, "lost", date(2027, 3, 18))
    _opportunity(session, "O7", a, date(2027, 2, 2), 0, "lost", date(2027, 3, 19))
    _opportunity(session, "O8", b, date(2027, 2, 5), None, "won", date(2027, 3, 28), source="老客户转介绍")
    _opportunity(session, "O9", b, date(2027, 2, 6), None, "won", date(2027, 4, 2), source="Referral")
    for n, (day, customer) in enumerate([(date(2026, 5, 10), c1), (date(2027, 3, 5), c1), (date(2027, 3, 10), c2),
                                         (date(2027, 1, 15), c3), (date(2027, 3, 20), c3), (date(2026, 12, 1), c4)]):
        session.add(OrderLine(line_id=f"L{n}", order_id=f"SO{n}", order_date=day, rep_id=a, customer_id=customer, amount=1000_00))
    session.flush()
    refresh_first_order_dates(session=session)
    session.commit()
    return {"a": a, "b": b, **customers}


@pytest.fixture
def lifecycle(session: Session) -> dict[str, int]:
    return build(session)


def _total(session: Session, code: str, start: date = MARCH[0], end: date = MARCH[1]) -> object:
    return evaluate(session=session, metric=require_metric(session=session, code=code), start=start, end=end)[0].value


def _by_rep(session: Session, code: str) -> dict[int | None, object]:
    rows = evaluate(session=session, metric=require_metric(session=session, code=code), start=MARCH[0], end=MARCH[1], group_by="rep")
    return {r.key: r.value for r in rows}


def test_reach_counts_distinct_customers_with_an_activity(session: Session, lifecycle: dict[str, int]) -> None:
    assert _total(session, "reach") == 3  # C1 (twice), C2, C3; not C4 (February), not the email without customer
    assert _by_rep(session, "reach") == {lifecycle["a"]: 2, lifecycle["b"]: 1}


def test_interest_to_proposal_rate(session: Session, lifecycle: dict[str, int]) -> None:
    assert _total(session, "opportunities_created") == 4  # O1-O4
    assert _total(session, "opportunities_to_proposal") == 2  # O1 by history, O2 by its current stage
    assert _total(session, "interest_to_proposal_rate") == Decimal("0.5")
    assert _by_rep(session, "interest_to_proposal_rate") == {lifecycle["a"]: Decimal(1), lifecycle["b"]: Decimal(0)}


def test_proposal_to_close_rate(session: Session, lifecycle: dict[str, int]) -> None:
    assert _total(session, "proposals_closed") == 3  # O5 won, O6 lost at proposal, O8 won (no history); not O3/O7
    assert _total(session, "proposals_won") == 2
    metric = require_metric(session=session, code="proposal_to_close_rate")
    assert display(metric, _total(session, "proposal_to_close_rate")) == "0.6667"  # type: ignore[arg-type]
    assert _by_rep(session, "proposal_to_close_rate") == {lifecycle["a"]: Decimal(1), lifecycle["b"]: Decimal("0.5")}


def test_repurchase_rate(session: Session, lifecycle: dict[str, int]) -> None:
    assert _total(session, "active_customers") == 3  # C1, C2, C3 bought in March
    assert _total(session, "repeat_customers") == 2  # C1 (2026) and C3 (January) had bought before
    assert _total(session, "new_customers") == 1  # C2: consistent with the existing metric
    # The repeat buyers' share of buyers, repurchase_rate's measure before issue 17, under its own name.
    assert display(require_metric(session=session, code="repeat_buyer_share"), _total(session, "repeat_buyer_share")) == "0.6667"  # type: ignore[arg-type]
    # The seed's repurchase: February's customers (none) who bought again in March.
    assert _total(session, "prior_customers") == 0
    assert _total(session, "repurchase_rate") is None


def test_repurchase_rate_is_last_periods_customers_who_bought_again(session: Session) -> None:
    """Issue 17, the seed's example: 10 customers bought in 2026, 6 of them again in 2027, and 10 new
    ones in 2027. Repurchase = 6/10 = 60 %, not repeat buyers over all buyers (6/16 = 0.375)."""
    root = ensure_root(session=session)
    rep = create_node(session=session, code="R1", name="甲", kind="rep", parent_id=root)
    ids = []
    for n in range(21):
        customer = Customer(code=f"K{n}", name=f"K{n}")
        session.add(customer)
        session.flush()
        ids.append(customer.id)
    sales = [(date(2026, 3 + n % 9, 10), ids[n]) for n in range(10)]  # last year's 10 customers
    sales += [(date(2027, 2, 1 + n), ids[n]) for n in range(6)]  # 6 of them buy again
    sales += [(date(2027, 5, 1 + n), ids[10 + n]) for n in range(10)]  # 10 new customers
    sales += [(date(2025, 6, 1), ids[20])]  # bought two years ago only: not last year's customer
    for n, (day, customer) in enumerate(sales):
        session.add(OrderLine(line_id=f"L{n}", order_id=f"SO{n}", order_date=day, rep_id=rep, customer_id=customer, amount=500_00))
    session.flush()
    refresh_first_order_dates(session=session)
    session.commit()
    year = (date(2027, 1, 1), date(2027, 12, 31))
    assert _total(session, "prior_customers", *year) == 10
    assert _total(session, "retained_customers", *year) == 6
    assert _total(session, "repurchase_rate", *year) == Decimal("0.6")
    assert _total(session, "active_customers", *year) == 16
    assert _total(session, "repeat_buyer_share", *year) == Decimal("0.375")
    # By rep: last year's customers stay with the rep who sold them last year.
    rows = evaluate(session=session, metric=require_metric(session=session, code="repurchase_rate"), start=year[0], end=year[1],
                    group_by="rep")
    assert {r.key: r.value for r in rows} == {rep: Decimal("0.6")}
    # A quarter: the previous quarter (Q4 2026) had K7 (October) and K8 (November), neither back in Q1.
    assert _total(session, "prior_customers", date(2027, 1, 1), date(2027, 3, 31)) == 2  # K7 (Oct), K8 (Nov)
    assert _total(session, "retained_customers", date(2027, 1, 1), date(2027, 3, 31)) == 0


def test_referral_share(session: Session, lifecycle: dict[str, int]) -> None:
    assert _total(session, "won_deals") == 2  # O5, O8 (O9 closes in April)
    assert _total(session, "referral_deals") == 1  # 老客户转介绍
    assert _total(session, "referral_share") == Decimal("0.5")
    assert _total(session, "referral_share", date(2027, 4, 1), date(2027, 4, 30)) == Decimal(1)  # O9 "Referral"


def test_empty_period_gives_zero_counts_and_no_ratio(session: Session, lifecycle: dict[str, int]) -> None:
    assert _total(session, "reach", date(2030, 1, 1), date(2030, 1, 31)) == 0
    assert _total(session, "referral_share", date(2030, 1, 1), date(2030, 1, 31)) is None


def test_lifecycle_metrics_refuse_groupings_they_cannot_answer(session: Session, lifecycle: dict[str, int]) -> None:
    with pytest.raises(InvalidInput, match="group by rep or customer"):
        evaluate(session=session, metric=require_metric(session=session, code="reach"), start=MARCH[0], end=MARCH[1], group_by="region")


def test_lifecycle_source_cannot_be_summed(session: Session, lifecycle: dict[str, int]) -> None:
    from attain.metrics.service import create_metric

    metric = create_metric(session=session, code="odd", name="Odd", aggregation="sum", unit="x", source="interest")
    with pytest.raises(InvalidInput, match="counted"):
        evaluate(session=session, metric=metric, start=MARCH[0], end=MARCH[1])


def test_metric_value_cli(database_url: str) -> None:
    session = make_session_factory(get_engine(database_url))()
    try:
        build(session)
    finally:
        session.close()
    result = CliRunner().invoke(app, ["metric", "value", "referral_share", "--period", "2027-03", "--db", database_url, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"] == [{"id": None, "name": None, "value": "0.5000"}]


def test_opportunity_import_reads_the_source_column(session: Session, tmp_path: Path) -> None:
    root = ensure_root(session=session)
    create_node(session=session, code="R001", name="甲", kind="rep", parent_id=root)
    session.commit()
    path = tmp_path / "opps.csv"
    path.write_text("商机编号,销售员,预计金额,阶段,创建日期,成交日期,来源\n"
                    "X1,R001,1000,赢单,2027-03-01,2027-03-20,转介绍\nX2,R001,500,赢单,2027-03-02,2027-03-21,官网\n", encoding="utf-8")
    import_file(session=session, kind="opportunities", path=path)
    assert dict(session.query(Opportunity.code, Opportunity.source).all()) == {"X1": "转介绍", "X2": "官网"}
    assert _total(session, "referral_share") == Decimal("0.5")
