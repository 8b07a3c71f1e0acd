"""`attain import credits|returns` and event dates on orders, and the property that direct credit
always adds up to the credited lines (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from attain.credit.models import CreditSplit
from attain.credit.service import write_direct_split
from attain.credit.sql import credited_lines
from attain.errors import ImportRejected
from attain.facts.models import OrderLine
from attain.imports.service import import_file
from attain.org.service import require_node

ORDERS = """订单号,下单日期,发货日期,回款日期,销售员,客户,产品,金额
S1,2027-03-02,2027-03-20,2027-06-01,张三,C1,P1,100.01
S1,2027-03-02,2027-04-02,,张三,C1,P2,50.00
S2,2027-03-05,,,李四,C2,P1,30.00
S3,2027-03-06,,,王五,C2,P1,20.00
"""


@pytest.fixture
def orders(session: Session, tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS, encoding="utf-8")
    import_file(session=session, kind="orders", path=path)
    return tmp_path


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _by_rep(session: Session, **options: object) -> dict[str, int]:
    lines = credited_lines(**options).subquery()  # type: ignore[arg-type]
    from attain.org.models import OrgNode

    rows = session.execute(
        select(OrgNode.code, func.sum(lines.c.amount)).join(OrgNode, OrgNode.id == lines.c.rep_id)
        .where(lines.c.kind == "direct").group_by(OrgNode.code)
    )
    return {code: int(total) for code, total in rows}


def test_orders_import_event_dates(session: Session, orders: Path) -> None:
    shipped = dict(session.execute(select(OrderLine.line_id, OrderLine.shipped_on)).all())
    paid = dict(session.execute(select(OrderLine.line_id, OrderLine.paid_on)).all())
    assert shipped == {"S1|P1": date(2027, 3, 20), "S1|P2": date(2027, 4, 2), "S2|P1": None, "S3|P1": None}
    assert paid == {"S1|P1": date(2027, 6, 1), "S1|P2": None, "S2|P1": None, "S3|P1": None}


def test_credits_file_with_rows_and_a_sales_team_column(session: Session, orders: Path) -> None:
    path = _write(orders, "credits.csv", "订单号,销售员,比例,类型\nS1,张三,50,直接\nS1,李四,50,直接\nS2,王五,100,叠加\n")
    result = import_file(session=session, kind="credits", path=path)
    assert result.inserted == 3
    assert _by_rep(session) == {"张三": 7500, "李四": 7501 + 3000, "王五": 2000}
    team_file = _write(orders, "team.csv", "订单号,销售团队\nS3,张三/李四/王五\n")
    import_file(session=session, kind="credits", path=team_file)
    shares = session.scalars(select(CreditSplit.share_bp).where(CreditSplit.order_id == "S3").order_by(CreditSplit.cum_from_bp)).all()
    assert shares == [3334, 3333, 3333]


def test_credits_file_not_summing_to_100_is_rejected_naming_the_order(session: Session, orders: Path) -> None:
    path = _write(orders, "bad.csv", "订单号,销售员,比例\nS1,张三,60\nS1,李四,30\nS9,张三,100\nS2,无名,100\n")
    with pytest.raises(ImportRejected) as caught:
        import_file(session=session, kind="credits", path=path)
    messages = " | ".join(e.message for e in caught.value.errors)
    assert "order S1: direct shares sum to 90 %" in messages
    assert "no order 'S9'" in messages
    assert "no rep with code or name '无名'" in messages
    assert session.scalar(select(func.count()).select_from(CreditSplit)) == 0


def test_returns_file_reverses_in_the_return_period(session: Session, orders: Path) -> None:
    path = _write(orders, "returns.csv", "原订单号,退货日期,退货原因\nS2,2027-04-15,质量问题\n")
    assert import_file(session=session, kind="returns", path=path).inserted == 1
    lines = credited_lines().subquery()
    rows = session.execute(select(lines.c.credit_date, lines.c.amount, lines.c.rule).where(lines.c.order_id == "S2")
                           .order_by(lines.c.credit_date)).all()
    assert [tuple(r) for r in rows] == [(date(2027, 3, 5), 3000, "order_rep"), (date(2027, 4, 15), -3000, "return")]
    bad = _write(orders, "bad_returns.csv", "订单号,退货日期\nNOPE,2027-04-15\n")
    with pytest.raises(ImportRejected, match="1 bad row"):
        import_file(session=session, kind="returns", path=bad)


amounts = st.lists(st.integers(min_value=-10**9, max_value=10**9), min_size=1, max_size=8)
splits = st.lists(st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=3), min_size=0, max_size=4)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line_amounts=amounts, weights=splits)
def test_direct_credit_over_all_reps_equals_the_credited_lines(session: Session, orders: Path, line_amounts: list[int], weights: list[list[int]]) -> None:
    session.execute(delete(CreditSplit))
    session.execute(delete(OrderLine).where(OrderLine.order_id.like("H%")))
    reps = [require_node(session=session, key=name).id for name in ("张三", "李四", "王五")]
    for index, amount in enumerate(line_amounts):
        session.add(OrderLine(line_id=f"H{index}", order_id=f"H{index % 4}", order_date=date(2027, 5, 1), rep_id=reps[index % 3],
                              amount=amount, quantity=0, currency="CNY"))
    session.flush()
    for order, raw in enumerate(weights):
        if order >= min(4, len(line_amounts)):
            continue
        # Weights → basis points summing to 10000 (the rest to the last rep).
        points = [w * 10000 // sum(raw) for w in raw]
        points[-1] += 10000 - sum(points)
        if any(p <= 0 for p in points):
            continue
        write_direct_split(session=session, order_id=f"H{order}", line_id=None, shares=list(zip(reps, points)), source="test")
    session.commit()
    lines = credited_lines().subquery()
    credited = session.scalar(select(func.sum(lines.c.amount)).where(lines.c.kind == "direct", lines.c.order_id.like("H%")))
    assert int(credited) == sum(line_amounts)
    per_rep = session.execute(select(lines.c.rep_id, func.sum(lines.c.amount)).where(
        lines.c.kind == "direct", lines.c.order_id.like("H%")).group_by(lines.c.rep_id)).all()
    assert sum(int(total) for _rep, total in per_rep) == sum(line_amounts)


def test_split_credit_stays_exact_on_duckdb(session: Session, orders: Path) -> None:
    """Tracking runs credited_lines() on DuckDB (PostgreSQL SQL, where `/` of integers is a float
    division): a 50/50 split of an odd amount still gives whole fen that add up to the line."""
    pytest.importorskip("duckdb")
    from attain.credit.service import set_split
    from attain.tracking.engine import open_duckdb, tables_read_by

    set_split(session=session, order_id="S1", shares=[("张三", 5000), ("李四", 5000)])
    rep = require_node(session=session, key="张三").id
    file = orders / "lines.csv"
    file.write_text(f"line_id,order_id,order_date,rep_id,amount,currency\nS1|P1,S1,2027-03-02,{rep},10001,CNY\n", encoding="utf-8")
    lines = credited_lines().subquery()
    statement = select(lines.c.rep_id, func.sum(lines.c.amount)).where(lines.c.kind == "direct").group_by(lines.c.rep_id)
    runner = open_duckdb(session=session, orders=file, tables=tables_read_by([statement]))
    try:
        amounts = sorted(float(total) for _rep, total in runner.rows(statement))
    finally:
        runner.close()
    assert amounts == [5000.0, 5001.0]
