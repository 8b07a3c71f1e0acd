"""Importer features that real exports need (issue 8), on small files, on SQLite and PostgreSQL:
external ids, headerless files, dated quota tables, territories and their managers, many-to-many
territory coverage, computed revenue, negative and customer-less lines, product categories."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased
from typer.testing import CliRunner

from attain.catalog.models import ProductNode
from attain.cli.main import app
from attain.errors import ImportRejected, InvalidInput, RowError
from attain.facts.models import OrderLine
from attain.imports.reading import cell_text
from attain.imports.service import ImportOptions, ImportResult, import_file
from attain.org.models import OrgNode, RepTerritory
from attain.plans.models import PlanCell

REPS = "EmployeeKey,EmployeeID,Salesperson,Title\n281,841560125,Michael Blythe,Sales Representative\n272,502097814,Stephen Jiang,Sales Manager\n"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def load(session: Session, kind: str, path: Path, **options: object) -> ImportResult:
    return import_file(session=session, kind=kind, path=path, options=ImportOptions(**options))  # type: ignore[arg-type]


def rejected(session: Session, kind: str, path: Path, **options: object) -> list[tuple[int, str, str]]:
    with pytest.raises(ImportRejected) as caught:
        load(session, kind, path, **options)
    return [(e.line, e.column, e.message) for e in caught.value.errors]


def cells(session: Session) -> dict[tuple[str, str], int]:
    return {(code, period): value for code, period, value in session.execute(
        select(OrgNode.code, PlanCell.period, PlanCell.value).join(OrgNode, OrgNode.id == PlanCell.org_node_id))}


# --- external ids -----------------------------------------------------------------------------


def test_reps_take_the_warehouse_key_as_code_and_the_hr_number_as_external_id(session: Session, tmp_path: Path) -> None:
    result = load(session, "reps", write(tmp_path, "reps.csv", REPS))

    assert result.inserted == 2
    assert dict(session.execute(select(OrgNode.code, OrgNode.external_id).where(OrgNode.kind == "rep")).all()) == {
        "281": "841560125", "272": "502097814"}


def test_wide_quota_sheet_keyed_by_external_id_in_thousands(session: Session, tmp_path: Path) -> None:
    load(session, "reps", write(tmp_path, "reps.csv", REPS))
    sheet = write(tmp_path, "targets.csv", "Year,EmployeeID,M01,M02,M03\n2019,841560125,100,-,2.5\n2019,502097814,-,-,1000\n",
                  encoding="utf-16")

    auto = load(session, "targets", sheet, plan="FY2019", multiplier=1000)
    strict = load(session, "targets", sheet, plan="FY2019 strict", multiplier=1000, key="external_id")

    assert (auto.inserted, strict.inserted) == (3, 3)
    assert cells(session) == {("281", "2019-01"): 10_000_000, ("281", "2019-03"): 250_000, ("272", "2019-03"): 100_000_000}


def test_key_code_refuses_external_ids(session: Session, tmp_path: Path) -> None:
    load(session, "reps", write(tmp_path, "reps.csv", REPS))
    sheet = write(tmp_path, "targets.csv", "Year,EmployeeID,M01\n2019,841560125,100\n")

    assert rejected(session, "targets", sheet, plan="FY2019", key="code") == [
        (2, "EmployeeID", "no rep or org node with code or name '841560125'; import reps first")]


def test_orders_by_external_id_do_not_create_unknown_reps(session: Session, tmp_path: Path) -> None:
    load(session, "reps", write(tmp_path, "reps.csv", REPS))
    orders = write(tmp_path, "orders.csv", "Order ID,Date,Rep,Amount\nSO1,2019-01-02,841560125,10\nSO2,2019-01-03,999,20\n")

    assert rejected(session, "orders", orders, key="external_id") == [
        (3, "Rep", "no rep with external id '999' (--key external_id does not create reps; import them first)")]
    assert session.scalar(select(func.count()).select_from(OrderLine)) == 0


def test_an_external_id_cannot_move_to_another_rep(session: Session, tmp_path: Path) -> None:
    load(session, "reps", write(tmp_path, "reps.csv", REPS))
    clash = write(tmp_path, "clash.csv", "EmployeeKey,EmployeeID,Salesperson\n290,841560125,Amy Alberts\n")

    assert rejected(session, "reps", clash) == [(2, "EmployeeID", "external id '841560125' already belongs to rep '281'")]


def test_unknown_key_mode_is_refused(session: Session, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="--key 'employee' is not one of auto, code, external_id, name"):
        load(session, "reps", write(tmp_path, "reps.csv", REPS), key="employee")


# --- headerless files and dated quotas ---------------------------------------------------------


def test_headerless_tab_separated_quotas_by_quarter(session: Session, tmp_path: Path) -> None:
    load(session, "reps", write(tmp_path, "reps.tsv", "274\t\n275\t2\n"), columns=("code", "region"))
    quotas = write(tmp_path, "quota.tsv", "274\t2011-05-31 00:00:00\t28000\t{99}\n275\t2011-08-31 00:00:00\t367000\t{98}\n"
                                          "275\t2011-12-01 00:00:00\t556000\t{97}\n")

    first = load(session, "targets", quotas, plan="Quotas", columns=("org", "period", "value"), period_grain="quarter")
    again = load(session, "targets", quotas, plan="Quotas", columns=("org", "period", "value"), period_grain="quarter")

    assert (first.inserted, again.unchanged) == (3, 3)
    assert cells(session) == {("274", "2011Q2"): 2_800_000, ("275", "2011Q3"): 36_700_000, ("275", "2011Q4"): 55_600_000}


def test_two_dates_in_one_quarter_are_a_second_target(session: Session, tmp_path: Path) -> None:
    load(session, "reps", write(tmp_path, "reps.tsv", "274\n"), columns=("code",))
    quotas = write(tmp_path, "quota.tsv", "274\t2011-05-31\t1\n274\t2011-06-30\t2\n")

    errors = rejected(session, "targets", quotas, plan="Q", columns=("org", "period", "value"), period_grain="quarter")

    assert errors == [(2, "value", "a second target for 274 in 2011Q2 (first on line 1)")]  # no header: data from line 1


def test_period_grain_must_be_a_grain(session: Session, tmp_path: Path) -> None:
    load(session, "reps", write(tmp_path, "reps.tsv", "274\n"), columns=("code",))
    with pytest.raises(InvalidInput, match="--period-grain 'fortnight' is not one of year, half, quarter, month, week"):
        load(session, "targets", write(tmp_path, "q.tsv", "274\t2011-05-31\t1\n"), plan="Q",
             columns=("org", "period", "value"), period_grain="fortnight")


@pytest.mark.parametrize(("names", "message"), [
    (("org", "period", "value", "extra"), "--columns names 4 columns (org, period, value, extra) but the widest row has 3"),
    (("org", "", "value"), "--columns has an empty name"),
    (("org", "org", "value"), "--columns names org more than once"),
])
def test_bad_column_names_are_refused(session: Session, tmp_path: Path, names: tuple[str, ...], message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        load(session, "targets", write(tmp_path, "q.tsv", "274\t2011-05-31\t1\n"), plan="Q", columns=names)


# --- orders: computed revenue, returns, missing customers, repeated keys -----------------------


def test_computed_revenue_rounds_each_line_half_up_to_the_cent(session: Session, tmp_path: Path) -> None:
    orders = write(tmp_path, "orders.csv", "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n"
                                          "1,A,1,2011-01-02 10:00:00,0.125,12923.0\n"
                                          "C2,A,-1,2011-01-03 11:00:00,0.125,12923.0\n"
                                          "3,B,3,2011-01-04 12:00:00,0.335,\n")

    result = load(session, "orders", orders)

    assert dict(session.execute(select(OrderLine.line_id, OrderLine.amount)).all()) == {"1|A": 13, "C2|A": -13, "3|B": 101}
    assert result.flagged == {"negative": 1, "without_customer": 1}
    assert any("1 negative lines" in w for w in result.warnings)


def test_customer_ids_written_as_decimals_are_codes(session: Session, tmp_path: Path) -> None:
    orders = write(tmp_path, "orders.csv", "Invoice,Date,Customer,Amount\n1,2011-01-02,12923.0,5\n2,2011-01-03,12923,6\n")

    result = load(session, "orders", orders)

    assert result.created == {"customers": 1}


# --- regions, managers and coverage ------------------------------------------------------------


def test_regions_with_their_group_and_manager(session: Session, tmp_path: Path) -> None:
    regions = write(tmp_path, "Region.csv", '"SalesTerritoryKey","Region","Group"\n"1","Northwest","North America"\n'
                                            '"7","France","Europe"\n')
    people = write(tmp_path, "People.csv", "Regional Manager,Region\nSadie Pawthorne,Northwest\n")

    first = load(session, "regions", regions)
    again = load(session, "regions", regions)
    heads = load(session, "regions", people)

    assert (first.inserted, first.created, again.unchanged) == (2, {"region groups": 2}, 2)
    assert (heads.unchanged, heads.created) == (1, {"reps": 1})  # Northwest found by its name; its manager created
    region, parent, manager = aliased(OrgNode), aliased(OrgNode), aliased(OrgNode)
    rows = session.execute(select(region.code, region.name, parent.code, manager.name)
                           .join(parent, parent.id == region.parent_id).outerjoin(manager, manager.id == region.manager_id)
                           .where(region.code.in_(["1", "7"]))).all()
    assert sorted(rows) == [("1", "Northwest", "North America", "Sadie Pawthorne"), ("7", "France", "Europe", None)]
    assert session.scalar(select(parent.code).join(OrgNode, OrgNode.parent_id == parent.id).where(OrgNode.name == "Sadie Pawthorne")) == "1"


def test_a_rep_is_not_a_region(session: Session, tmp_path: Path) -> None:
    load(session, "reps", write(tmp_path, "reps.csv", REPS))
    with pytest.raises(ImportRejected) as caught:
        load(session, "regions", write(tmp_path, "regions.csv", "Code,Name\n281,Somewhere\n"))
    assert caught.value.errors == [RowError(2, "Code", "'281' is a rep, not a region")]


def test_orders_without_reps_go_to_the_region_manager(session: Session, tmp_path: Path) -> None:
    load(session, "regions", write(tmp_path, "People.csv", "Person,Region\nChuck Magee,East\n"))
    orders = write(tmp_path, "orders.csv", "Order ID,Order Date,Region,Sales\nA,2014-01-03,East,16.448\nB,2014-01-04,West,1\n")

    result = load(session, "orders", orders, rep_from_region=True)

    reps = dict(session.execute(select(OrderLine.order_id, OrgNode.name).outerjoin(OrgNode, OrgNode.id == OrderLine.rep_id)).all())
    assert reps == {"A": "Chuck Magee", "B": None}
    assert result.flagged["without_rep"] == 1


def test_rep_from_region_needs_region_managers(session: Session, tmp_path: Path) -> None:
    orders = write(tmp_path, "orders.csv", "Order ID,Order Date,Region,Sales\nA,2014-01-03,East,1\n")
    with pytest.raises(InvalidInput, match="--rep-from-region: no region has a manager"):
        load(session, "orders", orders, rep_from_region=True)


def test_territory_coverage_many_to_many_and_replaced_per_rep(session: Session, tmp_path: Path) -> None:
    load(session, "reps", write(tmp_path, "reps.csv", REPS))
    load(session, "regions", write(tmp_path, "regions.csv", "Code,Name\n1,Northwest\n2,Northeast\n3,Central\n"))
    coverage = write(tmp_path, "cover.csv", '"EmployeeKey","SalesTerritoryKey"\n"272","1"\n"272","2"\n"281","2"\n')
    moved = write(tmp_path, "moved.csv", "EmployeeKey,SalesTerritoryKey\n281,3\n")

    first, again, changed = load(session, "territories", coverage), load(session, "territories", coverage), load(session, "territories", moved)

    assert (first.inserted, again.unchanged, changed.inserted) == (3, 3, 1)
    assert changed.warnings == ["1 earlier territory rows of these reps are no longer in the file and were removed"]
    rep, region = aliased(OrgNode), aliased(OrgNode)
    pairs = set(session.execute(select(rep.code, region.code).select_from(RepTerritory)
                                .join(rep, rep.id == RepTerritory.rep_id).join(region, region.id == RepTerritory.region_id)).all())
    assert pairs == {("272", "1"), ("272", "2"), ("281", "3")}


def test_dated_coverage_rejects_unknown_reps_and_backwards_dates(session: Session, tmp_path: Path) -> None:
    load(session, "reps", write(tmp_path, "reps.csv", REPS))
    history = write(tmp_path, "history.tsv", "281\t2\t2011-05-31\t2012-11-29\n999\t2\t2011-05-31\t\n281\t3\t2012-11-30\t2012-01-01\n")

    errors = rejected(session, "territories", history, columns=("rep", "region", "start_date", "end_date"))

    assert errors == [(2, "rep", "no rep with code, external id or name '999'; import reps first"),
                      (3, "end_date", "ends on 2012-01-01 before it starts on 2012-11-30")]
    assert session.scalar(select(func.count()).select_from(RepTerritory)) == 0
    assert date(2011, 5, 31)  # the first row alone would have been fine


# --- products ------------------------------------------------------------------------------------


def test_products_under_subcategory_under_category(session: Session, tmp_path: Path) -> None:
    orders = write(tmp_path, "orders.csv", "Order ID,Date,Product,Product Line,Amount\nSO1,2019-01-01,210,Road Frames,10\n")
    load(session, "orders", orders)  # creates the line 'Road Frames' without a category
    products = write(tmp_path, "Product.csv", 'ProductKey,Product,Subcategory,EnglishProductCategoryName\n'
                                              '210,"HL Road Frame - Black, 58",Road Frames,Components\n')

    result = load(session, "products", products)
    again = load(session, "products", products)

    assert (result.updated, again.unchanged) == (1, 1)
    paths = dict(session.execute(select(ProductNode.code, ProductNode.path)).all())
    ids = dict(session.execute(select(ProductNode.code, ProductNode.id)).all())
    assert paths["210"] == f"/{ids['Components']}/{ids['Road Frames']}/{ids['210']}/"
    assert session.scalar(select(ProductNode.depth).where(ProductNode.code == "210")) == 2


# --- reading and the command line -----------------------------------------------------------------


def test_excel_numbers_read_at_excels_fifteen_digits() -> None:
    assert cell_text(213.11499999999998) == "213.115"
    assert (cell_text(2.0), cell_text(0.1 + 0.2), cell_text(1e-07)) == ("2", "0.3", "1e-07")


def test_cli_scale_and_multiplier_are_one_option(database_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    path = write(tmp_path, "t.csv", "Rep,Period,Target\nA,2027-01,1\n")
    both = runner.invoke(app, ["import", "targets", str(path), "--plan", "P", "--scale", "1000", "--multiplier", "10", "--db", database_url])
    zero = runner.invoke(app, ["import", "targets", str(path), "--plan", "P", "--scale", "0", "--db", database_url])

    assert str(both.exception) == "--scale and --multiplier are the same option; give one"
    assert str(zero.exception) == "--scale must be a positive number, not '0'"


def test_timestamps_parse_by_day_and_a_bad_one_is_named_as_written(session: Session, tmp_path: Path) -> None:
    good = write(tmp_path, "good.csv", "InvoiceNo,InvoiceDate,Amount\n1,2011-10-06 16:20:00,1\n2,2011-10-06 08:05:00,2\n3,2011-10-07 09:00,3\n")
    bad = write(tmp_path, "bad.csv", "InvoiceNo,InvoiceDate,Amount\n1,2011-10-06 16:20:00,1\n2,2011-13-45 10:00:00,2\n")

    load(session, "orders", good)

    assert dict(session.execute(select(OrderLine.order_id, OrderLine.order_date)).all()) == {
        "1": date(2011, 10, 6), "2": date(2011, 10, 6), "3": date(2011, 10, 7)}
    assert rejected(session, "orders", bad) == [(3, "InvoiceDate", "'2011-13-45 10:00:00' is not a date")]
