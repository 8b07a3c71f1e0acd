"""Metrics evaluated by the database, exact on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from attain.errors import Conflict, InvalidInput, NotFound
from attain.imports.service import import_file
from attain.metrics.service import create_metric, display, evaluate, require_metric

ORDERS = """订单号,明细号,下单日期,销售员,客户,产品,区域,数量,金额,成本
A1,1,2026-01-05,张三,C1,P1,华东,2,100.10,60.00
A1,2,2026-01-05,张三,C1,P2,华东,1,0.20,
A2,1,2026-01-20,李四,C2,P1,华南,3,300.00,200.00
A3,1,2026-02-03,张三,C1,P1,华东,1,50.00,20.00
A4,1,2025-12-30,李四,C2,P2,华南,1,10.00,5.00
"""
JANUARY = (date(2026, 1, 1), date(2026, 1, 31))


@pytest.fixture
def orders(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS, encoding="utf-8")
    import_file(session=session, kind="orders", path=path)


def value(session: Session, code: str, group_by: str | None = None) -> dict[str | None, object]:
    metric = require_metric(session=session, code=code)
    return {row.label: row.value for row in evaluate(session=session, metric=metric, start=JANUARY[0], end=JANUARY[1], group_by=group_by)}


@pytest.mark.usefixtures("orders")
def test_builtin_metrics_for_january(session: Session) -> None:
    assert value(session, "revenue") == {None: 40030}  # fen
    assert value(session, "gross_profit") == {None: 14010}  # the line without cost is left out
    assert value(session, "quantity") == {None: 6}
    assert value(session, "orders") == {None: 2}
    assert value(session, "new_customers") == {None: 1}  # C2 first ordered in December


@pytest.mark.usefixtures("orders")
def test_revenue_by_rep_and_region(session: Session) -> None:
    assert value(session, "revenue", "rep") == {"张三": 10030, "李四": 30000}
    assert value(session, "revenue", "region") == {"华东": 10030, "华南": 30000}


@pytest.mark.usefixtures("orders")
def test_user_defined_average_and_ratio(session: Session) -> None:
    create_metric(session=session, code="avg_line", name="Average line", aggregation="average", source="amount", unit="CNY", scale=2)
    create_metric(session=session, code="margin", name="Margin", aggregation="ratio", numerator="gross_profit",
                  denominator="revenue", unit="%", scale=4)
    assert value(session, "avg_line") == {None: Decimal(40030) / 3}
    margin = value(session, "margin")[None]
    assert margin == Decimal(14010) / Decimal(40030)
    assert display(require_metric(session=session, code="margin"), margin) == "0.3500"


def test_metric_errors(session: Session) -> None:
    with pytest.raises(NotFound, match="no metric 'nope'"):
        require_metric(session=session, code="nope")
    with pytest.raises(Conflict):
        create_metric(session=session, code="revenue", name="again", aggregation="sum", source="amount", unit="CNY")
    with pytest.raises(InvalidInput, match="aggregation"):
        create_metric(session=session, code="x", name="x", aggregation="median", source="amount", unit="CNY")
    with pytest.raises(InvalidInput, match="source"):
        create_metric(session=session, code="x", name="x", aggregation="sum", source="price", unit="CNY")
    with pytest.raises(InvalidInput, match="numerator"):
        create_metric(session=session, code="x", name="x", aggregation="ratio", unit="%")
    with pytest.raises(InvalidInput, match="group"):
        evaluate(session=session, metric=require_metric(session=session, code="revenue"), start=JANUARY[0], end=JANUARY[1], group_by="planet")
