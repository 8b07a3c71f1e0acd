"""Issue 20 finding 6: every code a file names must be of the kind its column means.

A rep placed under another rep, an order's region that is a rep, a sale credited to a region, a
customer owned by a region, a product under a product, a product file moving an existing line, a
quota sheet stretching a plan's end date to 2031: all used to be accepted silently. Each is now a
row error (line, column, message), the import writes nothing and the database checksum is unchanged.
Runs on SQLite and PostgreSQL against one seeded company per database (tests/imports/seeded.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from attain.db import get_engine, make_session_factory
from attain.errors import ImportRejected, RowError
from attain.imports.service import ImportOptions, import_file
from attain.plans.models import Plan
from tests.imports.seeded import checksum, seeded_database


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def company(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with seeded_database(request.param, tmp_path_factory.mktemp("kinds")) as url:
        yield url


def rejected(url: str, tmp_path: Path, kind: str, text: str, options: ImportOptions | None = None) -> list[RowError]:
    """Import `text` as a CSV of `kind`; it must be rejected row by row and change nothing."""
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    before = checksum(url)
    session = make_session_factory(get_engine(url))()
    try:
        with pytest.raises(ImportRejected, match=r"bad rows?; nothing was imported$") as caught:
            import_file(session=session, kind=kind, path=path, options=options)
    finally:
        session.close()
    assert checksum(url) == before
    return caught.value.errors


# --- reps: a rep under a rep, a region updated as a rep --------------------------------------


def test_reps_import_refuses_to_place_a_rep_under_another_rep(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "reps", "工号,姓名,区域\nR010,新人,R001\n")

    assert errors == [RowError(2, "区域", "'R001' is a rep, not a region")]


def test_reps_import_refuses_a_team_column_naming_a_rep(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "reps", "工号,姓名,团队\nR010,新人,R002\n")

    assert errors == [RowError(2, "团队", "'R002' is a rep, not a team")]


def test_reps_import_refuses_a_region_of_another_rep_in_the_same_file(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "reps", "工号,姓名,区域\nR010,新人,R011\nR011,另一人,华东\n")

    assert errors == [RowError(2, "区域", "'R011' is a rep in this file, not a region")]


def test_reps_import_refuses_to_turn_a_region_into_a_rep(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "reps", "工号,姓名\n华东,某人\n")

    assert errors == [RowError(2, "工号", "'华东' is a region, not a rep")]


def test_reps_import_refuses_a_manager_that_is_a_team(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "reps", "工号,姓名,经理\nR010,新人,华东/一组\n")

    assert errors == [RowError(2, "经理", "'华东/一组' is a team, not a rep")]


# --- orders ------------------------------------------------------------------------------------

ORDERS = "订单号,下单日期,销售员,客户,产品,产品线,区域,金额\n"


def test_orders_import_refuses_a_region_that_is_a_rep(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "orders", ORDERS + "SO9,2026-03-01,R001,C001,P1,,R002,100\n")

    assert errors == [RowError(2, "区域", "'R002' is a rep, not a region")]


def test_orders_import_refuses_a_sale_credited_to_a_region(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "orders", ORDERS + "SO9,2026-03-01,华南,C001,P1,,,100\n")

    assert errors == [RowError(2, "销售员", "'华南' is a region, not a rep")]


def test_orders_import_refuses_a_product_that_is_a_product_line(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "orders", ORDERS + "SO9,2026-03-01,R001,C001,工业,,,100\n")

    assert errors == [RowError(2, "产品", "'工业' is a product line, not a product")]


def test_orders_import_refuses_a_product_line_that_is_a_product(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "orders", ORDERS + "SO9,2026-03-01,R001,C001,P9,P1,,100\n")

    assert errors == [RowError(2, "产品线", "'P1' is a product, not a product line")]


def test_orders_import_refuses_a_new_product_named_as_its_own_line(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "orders", ORDERS + "SO9,2026-03-01,R001,C001,P9,P9,,100\n")

    assert errors == [RowError(2, "产品", "'P9' is a product line, not a product")]


def test_orders_import_refuses_a_new_rep_that_is_also_a_new_region(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "orders", ORDERS + "SO9,2026-03-01,X1,C001,P1,,X1,100\n")

    assert errors == [RowError(2, "销售员", "'X1' is a region, not a rep")]


# --- credits, customers, opportunities, activities --------------------------------------------


def test_credits_import_refuses_a_sale_credited_to_a_region(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "credits", "订单号,销售员,比例\nSO1,华东,100\n")

    assert errors == [RowError(2, "销售员", "'华东' is a region, not a rep")]


def test_credits_import_refuses_a_sales_team_share_for_a_team(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "credits", "订单号,销售团队\nSO1,张三:50;一组:50\n")

    assert errors == [RowError(2, "销售团队", "'一组' is a team, not a rep")]


def test_customers_import_refuses_an_owner_that_is_a_region(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "customers", "客户编号,客户名称,负责人\nC001,上海甲公司,华东\n")

    assert errors == [RowError(2, "负责人", "'华东' is a region, not a rep")]


def test_customers_import_refuses_a_region_that_is_a_rep(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "customers", "客户编号,客户名称,区域\nC001,上海甲公司,R001\n")

    assert errors == [RowError(2, "区域", "'R001' is a rep, not a region")]


def test_opportunities_import_refuses_a_region_as_rep(company: str, tmp_path: Path) -> None:
    text = "商机编号,销售员,预计金额,阶段,创建日期\nOP9,华南,100,线索,2026-03-01\n"

    assert rejected(company, tmp_path, "opportunities", text) == [RowError(2, "销售员", "'华南' is a region, not a rep")]


def test_activities_import_refuses_a_team_as_rep(company: str, tmp_path: Path) -> None:
    text = "活动类型,拜访日期,销售员,客户\n拜访,2026-03-01,华南/二组,C001\n"

    assert rejected(company, tmp_path, "activities", text) == [RowError(2, "销售员", "'华南/二组' is a team, not a rep")]


# --- products ------------------------------------------------------------------------------------


def test_products_import_refuses_a_product_under_a_product(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "products", "产品编号,产品名称,产品线\nP9,新品,P1\n")

    assert errors == [RowError(2, "产品线", "'P1' is a product, not a product line")]


def test_products_import_refuses_to_move_an_existing_line_as_a_product(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "products", "产品编号,产品名称,产品线\n工业,工业泵组,民用\n")

    assert errors == [RowError(2, "产品编号", "'工业' is a product line, not a product")]


def test_products_import_refuses_a_line_that_is_a_product_of_the_same_file(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "products", "产品编号,产品名称,产品线\nP8,甲,P9\nP9,乙,民用\n")

    assert errors == [RowError(2, "产品线", "'P9' is a product in this file, not a product line")]


# --- regions -----------------------------------------------------------------------------------


def test_regions_import_refuses_a_parent_that_is_a_rep(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "regions", "区域编号,区域名称,上级区域\nX1,西区,R001\n")

    assert errors == [RowError(2, "上级区域", "'R001' is a rep, not a region or a company")]


def test_regions_import_refuses_a_rep_as_region_row_by_row(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "regions", "区域编号,区域名称\nX1,西区\nR001,某区\n")

    assert errors == [RowError(3, "区域编号", "'R001' is a rep, not a region")]


def test_regions_import_refuses_a_manager_that_is_a_region(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "regions", "区域编号,区域名称,区域经理\nX1,西区,华南\n")

    assert errors == [RowError(2, "区域经理", "'华南' is a region, not a rep")]


# --- targets -----------------------------------------------------------------------------------


def test_targets_import_refuses_to_stretch_the_plan_to_2031(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "targets", "销售员,期间,目标\nR001,2027-03,10\nR001,2031-12,10\n",
                      ImportOptions(plan="FY2027"))

    assert errors == [RowError(3, "期间", "2031-12 is outside plan FY2027 (2027-01-01 – 2027-02-28); a quota sheet fills in "
                                          "the plan's own years (2027), it does not stretch the plan's dates beyond them")]
    session = make_session_factory(get_engine(company))()
    plan = session.scalars(select(Plan).where(Plan.name == "FY2027")).one()
    assert (plan.start_date, plan.end_date) == (date(2027, 1, 1), date(2027, 2, 28))
    session.close()


def test_targets_import_refuses_an_owner_that_is_a_region(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "targets", "销售员,期间,目标,负责人\nR001,2027-01,10,华东\n", ImportOptions(plan="FY2027"))

    assert errors == [RowError(2, "负责人", "'华东' is a region, not a rep")]
