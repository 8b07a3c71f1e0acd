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
