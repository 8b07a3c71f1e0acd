"""Good files import exactly, on SQLite and PostgreSQL: every encoding, Excel, each kind, re-imports."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from attain.catalog.models import Customer, ProductNode
from attain.errors import Conflict, ImportRejected, InvalidInput
from attain.facts.models import Activity, Opportunity, OpportunityStageChange, OrderLine
from attain.imports.models import ImportRun
from attain.imports.service import ImportOptions, ImportResult, import_file
from attain.org.models import OrgNode
from attain.plans.models import Plan, PlanCell

GOOD = Path(__file__).parents[1] / "fixtures" / "good"

# tests/fixtures/orders_zh.csv as stored: (line id, order, date, rep, customer, product, region, quantity, fen, cost fen, currency)
ORDERS_ZH_ROWS = [
    ("SO1|P1", "SO1", date(2026, 1, 5), "张三", "C001", "P1", "华东", Decimal(2), 123450, 80000, "CNY"),
    ("SO1|P2", "SO1", date(2026, 1, 5), "张三", "C001", "P2", "华东", Decimal(1), 9990, None, "CNY"),
    ("SO2|P1", "SO2", date(2026, 2, 1), "李四", "C002", "P1", "华南", Decimal(3), 1200000, 900000, "CNY"),
]


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def codes_by_id(session: Session, model: type) -> dict[int, str]:
    return dict(session.execute(select(model.id, model.code)).all())


def order_rows(session: Session) -> list[tuple[object, ...]]:
    """Every order line with its dimensions as codes, in line id order."""
    org, customers, products = codes_by_id(session, OrgNode), codes_by_id(session, Customer), codes_by_id(session, ProductNode)
    return [
        (
            line.line_id, line.order_id, line.order_date, org.get(line.rep_id), customers.get(line.customer_id),
            products.get(line.product_id), org.get(line.region_id), line.quantity, line.amount, line.cost, line.currency,
        )
        for line in session.scalars(select(OrderLine).order_by(OrderLine.line_id))
    ]


def amounts_by_line(session: Session) -> dict[str, int]:
    return dict(session.execute(select(OrderLine.line_id, OrderLine.amount)).all())


def import_good(session: Session, kind: str, name: str, **options: object) -> ImportResult:
    return import_file(session=session, kind=kind, path=GOOD / name, options=ImportOptions(**options))  # type: ignore[arg-type]


# --- orders: encodings ------------------------------------------------------------------------


def _tab_separated(text: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter="\t", lineterminator="\r\n").writerows(csv.reader(io.StringIO(text)))
    return out.getvalue()


@pytest.mark.parametrize(
    ("encoding", "tabs", "detected"),
    [
        ("utf-8", False, "utf-8"),
        ("utf-8-sig", False, "utf-8-sig"),
        ("gbk", False, "gb18030"),
        ("gb18030", False, "gb18030"),
        ("utf-16", False, "utf-16"),  # with BOM
        ("utf-16-le", False, "utf-16-le"),  # no BOM, first character CJK
        ("utf-16-be", False, "utf-16-be"),
        ("utf-16", True, "utf-16"),  # Excel's "Unicode text": UTF-16 and tab-separated
    ],
)
def test_import_orders_gives_identical_rows_in_every_encoding(
    session: Session, fixtures: Path, tmp_path: Path, encoding: str, tabs: bool, detected: str
) -> None:
    text = (fixtures / "orders_zh.csv").read_text(encoding="utf-8")
    path = tmp_path / "orders.csv"
    path.write_bytes((_tab_separated(text) if tabs else text).encode(encoding))

    result = import_file(session=session, kind="orders", path=path)

    assert (result.rows, result.inserted, result.encoding) == (3, 3, detected)
    assert order_rows(session) == ORDERS_ZH_ROWS


def test_import_orders_creates_missing_reps_customers_products_and_regions(session: Session, fixtures: Path) -> None:
    result = import_file(session=session, kind="orders", path=fixtures / "orders_zh.csv")

    assert result.created == {"regions": 2, "reps": 2, "customers": 2, "product_lines": 1, "products": 2}
    assert "no line id column: each line is identified by order id + product" in result.warnings
    org = {n.code: n for n in session.scalars(select(OrgNode))}
    assert (org["张三"].kind, org["张三"].parent_id) == ("rep", org["华东"].id)
    assert org["华东"].kind == "region"
    customers = {c.code: c for c in session.scalars(select(Customer))}
    assert (customers["C001"].name, customers["C001"].region_id) == ("上海甲公司", org["华东"].id)
    products = {p.code: p for p in session.scalars(select(ProductNode))}
    assert products["P1"].parent_id == products["工业"].id
    assert products["工业"].kind == "line"


def test_import_orders_sets_customers_first_order_date(session: Session, fixtures: Path) -> None:
    import_file(session=session, kind="orders", path=fixtures / "orders_zh.csv")

    first = dict(session.execute(select(Customer.code, Customer.first_order_date)).all())
    assert first == {"C001": date(2026, 1, 5), "C002": date(2026, 2, 1)}


# --- orders: idempotence and updates -----------------------------------------------------------


def test_reimport_of_same_orders_file_is_unchanged(session: Session, fixtures: Path) -> None:
    import_file(session=session, kind="orders", path=fixtures / "orders_zh.csv")

    again = import_file(session=session, kind="orders", path=fixtures / "orders_zh.csv")

    assert (again.inserted, again.updated, again.unchanged, again.created) == (0, 0, 3, {})
    assert order_rows(session) == ORDERS_ZH_ROWS
    assert (count(session, Customer), count(session, ProductNode)) == (2, 3)


def test_reimport_with_one_changed_amount_updates_exactly_that_line(session: Session, fixtures: Path, tmp_path: Path) -> None:
    import_file(session=session, kind="orders", path=fixtures / "orders_zh.csv")
    changed = tmp_path / "orders_zh.csv"
    changed.write_text((fixtures / "orders_zh.csv").read_text(encoding="utf-8").replace("1.2万", "1.3万"), encoding="utf-8")

    result = import_file(session=session, kind="orders", path=changed)

    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 2)
    assert amounts_by_line(session) == {"SO1|P1": 123450, "SO1|P2": 9990, "SO2|P1": 1300000}


def test_reimport_with_an_added_line_inserts_only_that_line(session: Session, fixtures: Path, tmp_path: Path) -> None:
    import_file(session=session, kind="orders", path=fixtures / "orders_zh.csv")
    grown = tmp_path / "orders_zh.csv"
    grown.write_text(
        (fixtures / "orders_zh.csv").read_text(encoding="utf-8") + "SO3,2026-03-01,王五,C003,深圳丙公司,P1,工业,华南,1,500,\n",
        encoding="utf-8",
    )

    result = import_file(session=session, kind="orders", path=grown)

    assert (result.inserted, result.updated, result.unchanged) == (1, 0, 3)
    assert result.created == {"reps": 1, "customers": 1}
    assert amounts_by_line(session)["SO3|P1"] == 50000


def test_import_orders_with_line_id_column_uses_it_as_key(session: Session) -> None:
    result = import_good(session, "orders", "orders_line_ids.csv")

    assert result.inserted == 3
    assert not any("no line id" in w for w in result.warnings)
    assert amounts_by_line(session) == {"L1": 10000, "L2": 20000, "L3": 30000}


def test_import_orders_with_composite_line_id_map(session: Session) -> None:
    result = import_good(session, "orders", "orders_line_key.csv", mapping=("line_id=OrderNo+Product",))

    assert (result.inserted, result.rows) == (3, 3)
    assert not any("no line id" in w for w in result.warnings)
    assert amounts_by_line(session) == {"SO1|P1": 10000, "SO1|P2": 25010, "SO2|P1": 100000}
    again = import_good(session, "orders", "orders_line_key.csv", mapping=("line_id=OrderNo+Product",))
    assert (again.inserted, again.unchanged) == (0, 3)


def test_import_orders_with_composite_line_id_and_explicit_order_and_product_maps(session: Session) -> None:
    mapping = ("line_id=OrderNo+Product", "order_id=OrderNo", "product=Product")

    result = import_good(session, "orders", "orders_line_key.csv", mapping=mapping)

    assert (result.inserted, result.rows) == (3, 3)
    assert amounts_by_line(session) == {"SO1|P1": 10000, "SO1|P2": 25010, "SO2|P1": 100000}
    assert session.scalars(select(OrderLine.order_id).order_by(OrderLine.line_id)).all() == ["SO1", "SO1", "SO2"]


def test_import_orders_composite_line_id_rejects_repeats(session: Session) -> None:
    mapping = ("line_id=OrderNo+Customer", "order_id=OrderNo", "customer=Customer")

    with pytest.raises(ImportRejected) as caught:
        import_good(session, "orders", "orders_line_key.csv", mapping=mapping)

    assert [(e.line, e.column, e.message) for e in caught.value.errors] == [
        (3, "OrderNo+Customer", "duplicate line id 'SO1|C001' (first on line 2)")
    ]
    assert count(session, OrderLine) == 0


# --- orders: units ----------------------------------------------------------------------------


def test_import_orders_in_wan_yuan_header_multiplies_by_10000(session: Session) -> None:
    import_good(session, "orders", "orders_wan.csv")

    assert amounts_by_line(session) == {"SO1|P1": 1_500_000, "SO2|P1": 12_300, "SO3|P2": 12_000_000}


def test_import_orders_multiplier_option_scales_amounts(session: Session) -> None:
    import_good(session, "orders", "orders_line_key.csv", multiplier=Decimal(1000))

    assert amounts_by_line(session) == {"SO1|P1": 10_000_000, "SO1|P2": 25_010_000, "SO2|P1": 100_000_000}


def test_import_orders_without_amount_computes_unit_price_times_quantity(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "orders_prices.csv"
    path.write_text("订单号,下单日期,产品,数量,单价\nSO1,2026-01-05,P1,3,19.99\nSO2,2026-01-06,P1,0.5,¥10\n", encoding="utf-8")

    result = import_file(session=session, kind="orders", path=path)

    assert "amount computed as quantity × unit price, rounded half up to the cent" in result.warnings
    assert amounts_by_line(session) == {"SO1|P1": 5997, "SO2|P1": 500}


def test_import_orders_without_amount_rejects_blank_unit_price(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "orders_prices.csv"
    path.write_text("订单号,下单日期,产品,数量,单价\nSO1,2026-01-05,P1,3,19.99\nSO2,2026-01-06,P1,2,\n", encoding="utf-8")

    with pytest.raises(ImportRejected) as caught:
        import_file(session=session, kind="orders", path=path)

    assert [(e.line, e.column, e.message) for e in caught.value.errors] == [(3, "单价", "unit_price is empty")]
    assert count(session, OrderLine) == 0


# --- orders: Excel ----------------------------------------------------------------------------


def _orders_workbook(path: Path) -> Path:
    """A notes sheet first; the orders on a second sheet under a title row and a blank row."""
    workbook = Workbook()
    notes = workbook.active
    notes.title = "说明"
    notes.append(["本文件为2026年1月销售明细"])
    notes.append(["导出人: 财务部"])
    orders = workbook.create_sheet("订单")
    orders.append(["2026年1月销售明细"])
    orders.append([])
    orders.append(["订单号", "下单日期", "销售员", "客户", "产品", "数量", "金额"])
    orders.append(["SO1", datetime(2026, 1, 5), "张三", 12923, "P1", 2, 1234.5])
    orders.append(["SO1", datetime(2026, 1, 5, 14, 30), "张三", 12923, "P2", 1, "99.90"])
    orders.append(["SO2", date(2026, 2, 1), "李四", "C002", "P1", 3, 12000])
    workbook.save(path)
    return path


def test_import_orders_from_second_excel_sheet_below_a_title_row(session: Session, tmp_path: Path) -> None:
    path = _orders_workbook(tmp_path / "orders.xlsx")

    result = import_file(session=session, kind="orders", path=path, options=ImportOptions(sheet="订单"))

    assert (result.rows, result.inserted, result.encoding) == (3, 3, None)
    assert [row[:9] for row in order_rows(session)] == [
        ("SO1|P1", "SO1", date(2026, 1, 5), "张三", "12923", "P1", None, Decimal(2), 123450),
        ("SO1|P2", "SO1", date(2026, 1, 5), "张三", "12923", "P2", None, Decimal(1), 9990),
        ("SO2|P1", "SO2", date(2026, 2, 1), "李四", "C002", "P1", None, Decimal(3), 1200000),
    ]


def test_reimport_of_same_excel_file_is_unchanged(session: Session, tmp_path: Path) -> None:
    path = _orders_workbook(tmp_path / "orders.xlsx")
    import_file(session=session, kind="orders", path=path, options=ImportOptions(sheet="订单"))

    again = import_file(session=session, kind="orders", path=path, options=ImportOptions(sheet="订单"))

    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)


def test_import_excel_reads_the_first_sheet_by_default(session: Session, tmp_path: Path) -> None:
    path = _orders_workbook(tmp_path / "orders.xlsx")

    with pytest.raises(InvalidInput, match="^missing column for order_id .*columns found: 本文件为2026年1月销售明细"):
        import_file(session=session, kind="orders", path=path)

    assert count(session, OrderLine) == 0


# --- customers --------------------------------------------------------------------------------


def test_import_customers_updates_customers_created_by_orders(session: Session, fixtures: Path, tmp_path: Path) -> None:
    import_file(session=session, kind="orders", path=fixtures / "orders_zh.csv")
    path = tmp_path / "customers.csv"
    path.write_text("客户编号,客户名称,客户类型,客户等级\nC001,上海甲有限公司,老客户,A\nC002,广州乙公司,新客户,c\n", encoding="utf-8")

    result = import_file(session=session, kind="customers", path=path)

    assert (result.inserted, result.updated, result.unchanged) == (0, 2, 0)
    rows = session.execute(select(Customer.code, Customer.name, Customer.customer_type, Customer.grade).order_by(Customer.code)).all()
    assert [tuple(r) for r in rows] == [("C001", "上海甲有限公司", "existing", "A"), ("C002", "广州乙公司", "new", "C")]


def test_import_customers_with_grades_types_and_regions(session: Session) -> None:
    result = import_good(session, "customers", "customers.csv")

    assert (result.inserted, result.created) == (3, {"regions": 2})
    regions = {n.id: n.code for n in session.scalars(select(OrgNode).where(OrgNode.kind == "region"))}
    rows = session.scalars(select(Customer).order_by(Customer.code)).all()
    assert [(c.code, c.name, c.customer_type, c.grade, c.industry, c.city, regions[c.region_id]) for c in rows] == [
        ("C001", "上海甲公司", "existing", "A", "制造", "上海", "华东"),
        ("C002", "广州乙公司", "new", "B", "零售", "广州", "华南"),
        ("C003", "深圳丙公司", None, "C", None, "深圳", "华南"),
    ]


def test_reimport_of_customers_is_unchanged_and_a_changed_grade_updates_one(session: Session, tmp_path: Path) -> None:
    import_good(session, "customers", "customers.csv")
    assert import_good(session, "customers", "customers.csv").unchanged == 3
    changed = tmp_path / "customers.csv"
    changed.write_text((GOOD / "customers.csv").read_text(encoding="utf-8").replace(",C,", ",A,"), encoding="utf-8")

    result = import_file(session=session, kind="customers", path=changed)

    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 2)
    assert session.scalar(select(Customer.grade).where(Customer.code == "C003")) == "A"


# --- reps -------------------------------------------------------------------------------------


def test_import_reps_builds_regions_teams_and_managers(session: Session) -> None:
    result = import_good(session, "reps", "reps.csv")

    assert (result.inserted, result.created) == (4, {"regions": 2, "teams": 2})
    nodes = {n.code: n for n in session.scalars(select(OrgNode))}
    east, south = nodes["华东"], nodes["华南"]
    east_one, south_two = nodes["华东/一组"], nodes["华南/二组"]
    assert (east.kind, east_one.kind, east_one.name, east_one.parent_id) == ("region", "team", "一组", east.id)
    assert (south_two.name, south_two.parent_id) == ("二组", south.id)
    r1, r2, r3, r4 = (nodes[c] for c in ("R001", "R002", "R003", "R004"))
    assert [(r.name, r.kind) for r in (r1, r2, r3, r4)] == [("张三", "rep"), ("李四", "rep"), ("王五", "rep"), ("赵六", "rep")]
    assert (r1.parent_id, r2.parent_id, r3.parent_id, r4.parent_id) == (east_one.id, east_one.id, east.id, south_two.id)
    assert r1.path == f"{east_one.path}{r1.id}/" and r1.path.startswith(east.path)
    assert (r1.manager_id, r2.manager_id, r3.manager_id, r4.manager_id) == (r3.id, r3.id, None, None)
    assert (r1.start_date, r1.end_date) == (date(2024, 3, 1), None)
    assert (r4.start_date, r4.end_date) == (date(2023, 5, 10), date(2026, 6, 30))


def test_reimport_of_reps_is_unchanged(session: Session) -> None:
    import_good(session, "reps", "reps.csv")

    again = import_good(session, "reps", "reps.csv")

    assert (again.inserted, again.updated, again.unchanged, again.created) == (0, 0, 4, {})
    assert count(session, OrgNode) == 1 + 2 + 2 + 4  # company, regions, teams, reps


def test_import_reps_moves_rep_to_new_team(session: Session, tmp_path: Path) -> None:
    import_good(session, "reps", "reps.csv")
    moved = tmp_path / "reps.csv"
    moved.write_text("工号,姓名,团队,区域\nR002,李四,二组,华南\n", encoding="utf-8")

    import_file(session=session, kind="reps", path=moved)

    nodes = {n.code: n for n in session.scalars(select(OrgNode))}
    assert nodes["R002"].parent_id == nodes["华南/二组"].id
    assert nodes["R002"].path == f"{nodes['华南/二组'].path}{nodes['R002'].id}/"


# --- products ---------------------------------------------------------------------------------


def test_import_products_under_product_lines(session: Session) -> None:
    result = import_good(session, "products", "products.csv")

    assert (result.inserted, result.created) == (3, {"product_lines": 2})
    nodes = {p.code: p for p in session.scalars(select(ProductNode))}
    assert (nodes["工业"].kind, nodes["民用"].kind) == ("line", "line")
    assert [(nodes[c].name, nodes[c].kind, nodes[c].parent_id, nodes[c].launched_on) for c in ("P1", "P2", "P3")] == [
        ("工业泵", "product", nodes["工业"].id, date(2024, 1, 1)),
        ("阀门", "product", nodes["工业"].id, None),
        ("家用净水器", "product", nodes["民用"].id, date(2025, 6, 1)),
    ]


def test_reimport_of_products_is_unchanged(session: Session) -> None:
    import_good(session, "products", "products.csv")

    again = import_good(session, "products", "products.csv")

    assert (again.inserted, again.updated, again.unchanged, again.created) == (0, 0, 3, {})


# --- opportunities and activities ----------------------------------------------------------------


@pytest.fixture
def sales_org(session: Session) -> None:
    """Reps R001-R004 (imported) and customers C001-C003 (inserted directly)."""
    import_good(session, "reps", "reps.csv")
    session.add_all(Customer(code=code, name=name) for code, name in [("C001", "甲"), ("C002", "乙"), ("C003", "丙")])
    session.commit()


def test_import_opportunities_with_amounts_and_stage_history(session: Session, sales_org: None) -> None:
    result = import_good(session, "opportunities", "opportunities.csv")

    assert result.inserted == 5
    rows = session.scalars(select(Opportunity).order_by(Opportunity.code)).all()
    assert [(o.code, o.amount, o.stage, o.created_on, o.closed_on) for o in rows] == [
        ("OP1", 10_000_000, "negotiation", date(2026, 1, 5), None),
        ("OP2", 5_000_050, "won", date(2026, 1, 6), date(2026, 3, 1)),
        ("OP3", 2_000_000, "lead", date(2026, 2, 1), None),
        ("OP4", 3_000_000, "lost", date(2026, 2, 3), date(2026, 2, 28)),
        ("OP5", 1_500_000, "proposal", date(2026, 2, 10), None),
    ]
    codes = {o.id: o.code for o in rows}
    history = session.execute(select(OpportunityStageChange.opportunity_id, OpportunityStageChange.stage, OpportunityStageChange.changed_on))
    by_code: dict[str, dict[str, date]] = {}
    for opportunity_id, stage, changed_on in history:
        by_code.setdefault(codes[opportunity_id], {})[stage] = changed_on
    assert by_code == {
        "OP1": {"lead": date(2026, 1, 5), "qualified": date(2026, 1, 20), "proposal": date(2026, 2, 1), "negotiation": date(2026, 2, 15)},
        "OP2": {"lead": date(2026, 1, 6), "qualified": date(2026, 1, 10), "won": date(2026, 3, 1)},
        "OP3": {"lead": date(2026, 2, 1)},
        "OP4": {"lead": date(2026, 2, 3), "lost": date(2026, 2, 28)},
        "OP5": {"lead": date(2026, 2, 10), "proposal": date(2026, 2, 10)},  # stage without a date: reached when created
    }


def test_reimport_of_opportunities_is_unchanged_and_keeps_one_history(session: Session, sales_org: None) -> None:
    import_good(session, "opportunities", "opportunities.csv")

    again = import_good(session, "opportunities", "opportunities.csv")

    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)
    assert count(session, OpportunityStageChange) == 4 + 3 + 1 + 2 + 2


def test_import_activities_links_reps_and_customers(session: Session, sales_org: None) -> None:
    result = import_good(session, "activities", "activities.csv")

    assert result.inserted == 3
    org, customers = codes_by_id(session, OrgNode), codes_by_id(session, Customer)
    rows = session.scalars(select(Activity).order_by(Activity.activity_date, Activity.kind)).all()
    assert [(a.kind, a.activity_date, org[a.rep_id], customers[a.customer_id], a.note) for a in rows] == [
        ("visit", date(2026, 3, 1), "R001", "C001", "介绍新品"),
        ("call", date(2026, 3, 2), "R001", "C002", "跟进报价"),
        ("email", date(2026, 3, 2), "R002", "C001", None),
    ]


def test_reimport_of_activities_without_id_column_is_unchanged(session: Session, sales_org: None) -> None:
    import_good(session, "activities", "activities.csv")

    again = import_good(session, "activities", "activities.csv")

    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert count(session, Activity) == 3


def test_import_activities_rejects_unknown_kind_and_customer(session: Session, sales_org: None, tmp_path: Path) -> None:
    path = tmp_path / "activities.csv"
    path.write_text("活动类型,拜访日期,销售员,客户\n拜访,2026-03-01,R001,C001\n喝茶,2026-03-02,R001,C404\n", encoding="utf-8")

    with pytest.raises(ImportRejected) as caught:
        import_file(session=session, kind="activities", path=path)

    assert [(e.line, e.column, e.message) for e in caught.value.errors] == [
        (3, "客户", "no customer with code or name 'C404'"),
        (3, "活动类型", "'喝茶' is not an activity type (visit, call, proposal, meeting, email, demo, other)"),
    ]
    assert count(session, Activity) == 0


# --- targets ----------------------------------------------------------------------------------


@pytest.fixture
def reps(session: Session) -> None:
    import_good(session, "reps", "reps.csv")


def plan_cells(session: Session, plan_name: str) -> dict[tuple[str, str], int]:
    """(period, rep code) → target in fen."""
    org = codes_by_id(session, OrgNode)
    rows = session.execute(
        select(PlanCell.period, PlanCell.org_node_id, PlanCell.value).join(Plan, Plan.id == PlanCell.plan_id).where(Plan.name == plan_name)
    )
    return {(period, org[node_id]): value for period, node_id, value in rows}


def test_import_long_targets_creates_draft_plan_with_cells_in_fen(session: Session, reps: None) -> None:
    result = import_good(session, "targets", "targets_long.csv", plan="FY2027")

    assert (result.inserted, result.created) == (3, {"plans": 1})
    plan = session.scalars(select(Plan).where(Plan.name == "FY2027")).one()
    assert (plan.status, plan.version, plan.start_date, plan.end_date) == ("draft", 1, date(2027, 1, 1), date(2027, 2, 28))
    # 目标(万元): 10 → 100,000 yuan → 10,000,000 fen; '-' is no target.
    assert plan_cells(session, "FY2027") == {
        ("2027-01", "R001"): 10_000_000,
        ("2027-02", "R001"): 12_500_000,
        ("2027-01", "R002"): 8_000_000,
    }


def test_import_wide_targets_with_period_columns(session: Session, reps: None) -> None:
    result = import_good(session, "targets", "targets_wide.csv", plan="FY2027")

    assert result.inserted == 4
    assert plan_cells(session, "FY2027") == {
        ("2027-01", "R001"): 10_000_000,
        ("2027-02", "R001"): 12_000_000,
        ("2027-01", "R002"): 8_000_000,
        ("2027Q2", "R002"): 30_000_050,
    }
    plan = session.scalars(select(Plan).where(Plan.name == "FY2027")).one()
    assert (plan.start_date, plan.end_date) == (date(2027, 1, 1), date(2027, 6, 30))


def test_import_wide_targets_with_month_columns_and_year_column(session: Session, reps: None) -> None:
    result = import_good(session, "targets", "targets_wide_months.csv", plan="FY2027")

    assert result.inserted == 5
    assert plan_cells(session, "FY2027") == {
        ("2027-01", "R001"): 10_000,
        ("2027-02", "R001"): 20_000,
        ("2027-03", "R001"): 30_000,
        ("2027-01", "R002"): 15_000,
        ("2027-03", "R002"): 25_000,
    }


def test_import_wide_month_targets_without_year_column_is_rejected(session: Session, reps: None, tmp_path: Path) -> None:
    path = tmp_path / "targets.csv"
    path.write_text("销售员,M01,M02\nR001,100,200\n", encoding="utf-8")

    with pytest.raises(ImportRejected) as caught:
        import_file(session=session, kind="targets", path=path, options=ImportOptions(plan="FY2027"))

    assert [(e.line, e.column) for e in caught.value.errors] == [(2, "M01"), (2, "M02")]
    assert caught.value.errors[0].message == "month columns need a year column (or name the columns 2027-01 …)"
    assert count(session, Plan) == 0


def test_reimport_of_targets_is_unchanged_and_a_changed_value_updates_one_cell(session: Session, reps: None, tmp_path: Path) -> None:
    import_good(session, "targets", "targets_long.csv", plan="FY2027")
    assert import_good(session, "targets", "targets_long.csv", plan="FY2027").unchanged == 3
    changed = tmp_path / "targets.csv"
    changed.write_text((GOOD / "targets_long.csv").read_text(encoding="utf-8").replace("R002,2027-01,8", "R002,2027-01,9"), encoding="utf-8")

    result = import_file(session=session, kind="targets", path=changed, options=ImportOptions(plan="FY2027"))

    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 2)
    assert plan_cells(session, "FY2027")[("2027-01", "R002")] == 9_000_000
    assert count(session, Plan) == 1


def test_import_targets_into_approved_plan_is_a_conflict(session: Session, reps: None, tmp_path: Path) -> None:
    import_good(session, "targets", "targets_long.csv", plan="FY2027")
    plan = session.scalars(select(Plan).where(Plan.name == "FY2027")).one()
    plan.status = "approved"
    session.commit()
    changed = tmp_path / "targets.csv"
    changed.write_text((GOOD / "targets_long.csv").read_text(encoding="utf-8").replace("R002,2027-01,8", "R002,2027-01,9"), encoding="utf-8")

    with pytest.raises(Conflict, match="^plan FY2027 v1 is approved; edit a new draft version instead$"):
        import_file(session=session, kind="targets", path=changed, options=ImportOptions(plan="FY2027"))

    assert plan_cells(session, "FY2027")[("2027-01", "R002")] == 8_000_000
    assert count(session, PlanCell) == 3


def test_import_targets_by_customer_type_and_for_a_region(session: Session, reps: None, tmp_path: Path) -> None:
    path = tmp_path / "targets.csv"
    path.write_text("组织,期间,客户类型,目标\nR001,2027-01,新客户,100\nR001,2027-01,老客户,200\n华东,2027-01,,300\n", encoding="utf-8")

    result = import_file(session=session, kind="targets", path=path, options=ImportOptions(plan="FY2027"))

    assert result.inserted == 3
    org = codes_by_id(session, OrgNode)
    cells = session.execute(select(PlanCell.org_node_id, PlanCell.customer_type, PlanCell.value)).all()
    assert sorted((org[node], kind, value) for node, kind, value in cells) == [
        ("R001", "existing", 20_000),
        ("R001", "new", 10_000),
        ("华东", "all", 30_000),
    ]


# --- other order file shapes ------------------------------------------------------------------


def test_import_orders_without_header_row_by_column_number(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("SO1,2026-01-05,C001,100\nSO1,2026-01-05,C001,50\nSO2,2026-01-06,C002,200\n", encoding="utf-8")
    mapping = ("order_id=column1", "order_date=column2", "customer=column3", "amount=column4")

    result = import_file(session=session, kind="orders", path=path, options=ImportOptions(mapping=mapping, has_header=False))

    assert (result.rows, result.inserted) == (3, 3)
    assert "no line id or product column: lines are identified by order id + position in the order" in result.warnings
    assert amounts_by_line(session) == {"SO1#1": 10000, "SO1#2": 5000, "SO2#1": 20000}


def test_import_orders_reads_excel_serial_dates_in_csv(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("订单号,下单日期,金额\nSO1,46027,100\nSO2,46053,200\n", encoding="utf-8")

    import_file(session=session, kind="orders", path=path)

    dates = session.scalars(select(OrderLine.order_date).order_by(OrderLine.order_id)).all()
    assert dates == [date(2026, 1, 5), date(2026, 1, 31)]


def test_import_orders_keeps_returns_negative_and_out_of_first_order_date(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("订单号,下单日期,客户,金额\nRT1,2026-01-05,C001,(100.00)\nSO2,2026-01-06,C001,-0\nSO3,2026-01-09,C001,200\n", encoding="utf-8")

    import_file(session=session, kind="orders", path=path)

    assert amounts_by_line(session) == {"RT1#1": -10000, "SO2#1": 0, "SO3#1": 20000}
    assert session.scalar(select(Customer.first_order_date).where(Customer.code == "C001")) == date(2026, 1, 9)


def test_import_records_an_import_run_per_successful_import(session: Session, fixtures: Path) -> None:
    import_file(session=session, kind="orders", path=fixtures / "orders_zh.csv")
    import_file(session=session, kind="orders", path=fixtures / "orders_zh.csv")

    runs = session.scalars(select(ImportRun).order_by(ImportRun.id)).all()
    assert [(r.kind, r.rows, r.inserted, r.updated, r.unchanged, r.encoding) for r in runs] == [
        ("orders", 3, 3, 0, 0, "utf-8"),
        ("orders", 3, 0, 0, 3, "utf-8"),
    ]
    assert runs[0].source.endswith("orders_zh.csv")


def test_import_reports_progress_steps(session: Session, fixtures: Path) -> None:
    steps: list[str] = []

    import_file(session=session, kind="orders", path=fixtures / "orders_zh.csv", progress=steps.append)

    assert steps[0] == "reading orders_zh.csv"
    assert "validating 3 rows" in steps
    assert "writing 3 order lines" in steps


# --- the command line -------------------------------------------------------------------------


def test_cli_import_good_file_as_json_reports_counts(tmp_path: Path, fixtures: Path) -> None:
    attain = str(Path(sys.executable).parent / "attain")
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert subprocess.run([attain, "init", "--db", url], capture_output=True, check=False).returncode == 0

    done = subprocess.run(
        [attain, "import", "orders", str(fixtures / "orders_zh.csv"), "--db", url, "--json"],
        capture_output=True, text=True, check=False, timeout=60,
    )

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["inserted"], report["updated"], report["unchanged"], report["errors"]) == (3, 0, 0, [])
    assert report["created"] == {"regions": 2, "reps": 2, "customers": 2, "product_lines": 1, "products": 2}


def test_import_orders_with_semicolon_lists_inside_quoted_values(session: Session) -> None:
    result = import_good(session, "orders", "orders_semicolon_lists.csv")

    assert result.inserted == 2


@pytest.mark.parametrize("month_headers", [("1月", "2月"), ("M01", "M02"), ("m1", "m2"), ("Month 1", "Month 2"), ("01月", "02月")])
def test_import_wide_targets_reads_month_header_styles(session: Session, reps: None, tmp_path: Path, month_headers: tuple[str, str]) -> None:
    path = tmp_path / "targets.csv"
    path.write_text(f"年份,销售员,{month_headers[0]},{month_headers[1]}\n2027,R001,100,200\n", encoding="utf-8")

    import_file(session=session, kind="targets", path=path, options=ImportOptions(plan="FY2027"))

    assert plan_cells(session, "FY2027") == {("2027-01", "R001"): 10_000, ("2027-02", "R001"): 20_000}


def test_import_targets_for_a_whole_unit_metric(session: Session, reps: None, tmp_path: Path) -> None:
    path = tmp_path / "targets.csv"
    path.write_text("销售员,期间,目标\nR001,2027-01,120\nR002,2027-01,1.5万\n", encoding="utf-8")

    import_file(session=session, kind="targets", path=path, options=ImportOptions(plan="FY2027-qty", metric="quantity"))

    assert plan_cells(session, "FY2027-qty") == {("2027-01", "R001"): 120, ("2027-01", "R002"): 15_000}


def test_import_orders_stores_awkward_characters_exactly(session: Session, tmp_path: Path) -> None:
    # Tabs, backslashes and '\N' mean something to COPY; quotes and line breaks to CSV.
    path = tmp_path / "orders.csv"
    path.write_text(
        '行号,订单号,下单日期,客户,客户名称,金额\n'
        'L\\1,SO\t1,2026-01-05,C\\N,"甲""乙""\n公司\\N",100\n'
        'L2,SO2,2026-01-06,C2,"tab\there, comma",200\n',
        encoding="utf-8",
    )

    first = import_file(session=session, kind="orders", path=path)
    again = import_file(session=session, kind="orders", path=path)

    assert (first.inserted, again.unchanged) == (2, 2)
    assert session.execute(select(OrderLine.line_id, OrderLine.order_id).order_by(OrderLine.line_id)).all() == [
        ("L2", "SO2"),
        ("L\\1", "SO\t1"),
    ]
    names = dict(session.execute(select(Customer.code, Customer.name)).all())
    assert names == {"C\\N": '甲"乙"\n公司\\N', "C2": "tab\there, comma"}


def _owner_codes(session: Session) -> dict[tuple[str, str], str | None]:
    """(period, rep code) → owner code of each plan cell."""
    org = codes_by_id(session, OrgNode)
    rows = session.execute(select(PlanCell.period, PlanCell.org_node_id, PlanCell.owner_id)).all()
    return {(period, org[node]): org.get(owner) for period, node, owner in rows}


def test_import_targets_records_owner_and_strategy_note(session: Session, reps: None, tmp_path: Path) -> None:
    path = tmp_path / "targets.csv"
    path.write_text("销售员,期间,目标,负责人,策略\nR001,2027-01,50,R003,新品推广\n", encoding="utf-8")

    import_file(session=session, kind="targets", path=path, options=ImportOptions(plan="FY2027"))

    assert _owner_codes(session) == {("2027-01", "R001"): "R003"}
    assert session.scalar(select(PlanCell.strategy_note)) == "新品推广"


def test_reimport_of_targets_with_a_new_owner_updates_the_owner(session: Session, reps: None, tmp_path: Path) -> None:
    path = tmp_path / "targets.csv"
    path.write_text("销售员,期间,目标,负责人\nR001,2027-01,50,R003\n", encoding="utf-8")
    import_file(session=session, kind="targets", path=path, options=ImportOptions(plan="FY2027"))
    path.write_text("销售员,期间,目标,负责人\nR001,2027-01,50,R002\n", encoding="utf-8")

    result = import_file(session=session, kind="targets", path=path, options=ImportOptions(plan="FY2027"))

    assert (result.updated, result.unchanged) == (1, 0)
    assert _owner_codes(session) == {("2027-01", "R001"): "R002"}


def test_reimport_of_targets_leaves_locked_cells_alone_when_unchanged(session: Session, reps: None) -> None:
    import_good(session, "targets", "targets_long.csv", plan="FY2027")
    for cell in session.scalars(select(PlanCell)):
        cell.locked = True
    session.commit()

    result = import_good(session, "targets", "targets_long.csv", plan="FY2027")

    assert (result.updated, result.unchanged) == (0, 3)


def test_import_targets_refuses_to_change_a_locked_cell(session: Session, reps: None, tmp_path: Path) -> None:
    import_good(session, "targets", "targets_long.csv", plan="FY2027")
    r001 = session.scalar(select(OrgNode.id).where(OrgNode.code == "R001"))
    locked = session.scalars(select(PlanCell).where(PlanCell.org_node_id == r001, PlanCell.period == "2027-01")).one()
    locked.locked = True
    session.commit()
    changed = tmp_path / "targets.csv"
    changed.write_text((GOOD / "targets_long.csv").read_text(encoding="utf-8").replace("R001,2027-01,10", "R001,2027-01,11"), encoding="utf-8")

    with pytest.raises((InvalidInput, Conflict), match="locked"):
        import_file(session=session, kind="targets", path=changed, options=ImportOptions(plan="FY2027"))

    assert plan_cells(session, "FY2027")[("2027-01", "R001")] == 10_000_000


def test_import_targets_names_rep_and_amount_of_a_locked_cell(session: Session, reps: None, tmp_path: Path) -> None:
    import_good(session, "targets", "targets_long.csv", plan="FY2027")
    r001 = session.scalar(select(OrgNode.id).where(OrgNode.code == "R001"))
    session.scalars(select(PlanCell).where(PlanCell.org_node_id == r001, PlanCell.period == "2027-01")).one().locked = True
    session.commit()
    changed = tmp_path / "targets.csv"
    changed.write_text((GOOD / "targets_long.csv").read_text(encoding="utf-8").replace("R001,2027-01,10", "R001,2027-01,11"), encoding="utf-8")

    with pytest.raises(Conflict) as caught:
        import_file(session=session, kind="targets", path=changed, options=ImportOptions(plan="FY2027"))

    assert "R001" in str(caught.value) or "张三" in str(caught.value)
    assert "100,000.00" in str(caught.value)
    assert f"node {r001}" not in str(caught.value)
