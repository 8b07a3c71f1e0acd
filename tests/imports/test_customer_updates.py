from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.catalog.models import Customer
from attain.imports.service import import_file


def test_customer_file_without_names_keeps_the_names_attain_has(session: Session, tmp_path: Path) -> None:
    named = tmp_path / "customers.csv"
    named.write_text("客户编号,客户名称,客户等级\nC1,上海甲公司,A\nC2,广州乙公司,B\n", encoding="utf-8")
    import_file(session=session, kind="customers", path=named)
    grades_only = tmp_path / "grades.csv"
    grades_only.write_text("客户编号,客户等级\nC1,B\nC3,C\n", encoding="utf-8")

    result = import_file(session=session, kind="customers", path=grades_only)

    assert (result.inserted, result.updated, result.unchanged) == (1, 1, 0)
    rows = session.execute(select(Customer.code, Customer.name, Customer.grade).order_by(Customer.code)).all()
    assert [tuple(r) for r in rows] == [("C1", "上海甲公司", "B"), ("C2", "广州乙公司", "B"), ("C3", "C3", "C")]


def test_opportunity_file_without_optional_columns_keeps_stored_links(session: Session, tmp_path: Path) -> None:
    from attain.facts.models import Opportunity

    customers = tmp_path / "customers.csv"
    customers.write_text("客户编号,客户名称\nC1,上海甲公司\n", encoding="utf-8")
    import_file(session=session, kind="customers", path=customers)
    full = tmp_path / "opps.csv"
    full.write_text("商机编号,商机名称,客户,金额,阶段,创建日期\nO1,扩产项目,C1,50000,线索,2026-01-05\n", encoding="utf-8")
    import_file(session=session, kind="opportunities", path=full)
    thin = tmp_path / "thin.csv"
    thin.write_text("商机编号,金额,阶段,创建日期\nO1,60000,方案,2026-01-05\n", encoding="utf-8")

    result = import_file(session=session, kind="opportunities", path=thin)

    opportunity = session.scalars(select(Opportunity)).one()
    assert result.updated == 1
    assert (opportunity.name, opportunity.customer_id is not None, opportunity.amount, opportunity.stage) == (
        "扩产项目", True, 6_000_000, "proposal",
    )
