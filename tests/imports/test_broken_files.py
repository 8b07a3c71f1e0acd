"""Broken files are refused with a message naming the problem, and nothing is written.

The corpus lives in tests/fixtures/broken/ (binary members made by make_corpus.py there). Each test
checks the error class, the message, the row errors (1-based file line, header text) and that the
database is still empty afterwards: imports are all or nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from attain.catalog.models import Customer, ProductNode
from attain.errors import ImportRejected, InvalidInput, NotFound, RowError
from attain.facts.models import Activity, Opportunity, OpportunityStageChange, OrderLine
from attain.imports.fields import KINDS, all_kinds
from attain.imports.models import ImportRun
from attain.imports.service import ImportOptions, import_file
from attain.org.models import OrgNode
from attain.plans.models import Plan, PlanCell

BROKEN = Path(__file__).parents[1] / "fixtures" / "broken"
GOOD = Path(__file__).parents[1] / "fixtures" / "good"
ATTAIN = Path(sys.executable).parent / "attain"

WRITTEN_TABLES = (OrderLine, Customer, OrgNode, ProductNode, Opportunity, OpportunityStageChange, Activity, Plan, PlanCell, ImportRun)


def row_counts(session: Session) -> dict[str, int]:
    return {model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0 for model in WRITTEN_TABLES}


def assert_nothing_written(session: Session) -> None:
    counts = row_counts(session)
    assert counts == dict.fromkeys(counts, 0)


def rejected_rows(session: Session, kind: str, name: str, options: ImportOptions | None = None) -> list[RowError]:
    """Import a corpus file that must be rejected row by row; return its row errors."""
    with pytest.raises(ImportRejected, match=f"^{name}: (\\d+ problems in )?\\d+ bad rows?; nothing was imported$") as caught:
        import_file(session=session, kind=kind, path=BROKEN / name, options=options)
    assert caught.value.errors, "ImportRejected must list the bad rows"
    return caught.value.errors


def refused(session: Session, kind: str, path: Path, options: ImportOptions | None = None) -> str:
    """Import a file that must be refused as a whole (InvalidInput, not a row-level rejection)."""
    with pytest.raises(InvalidInput) as caught:
        import_file(session=session, kind=kind, path=path, options=options)
    assert not isinstance(caught.value, ImportRejected)
    return str(caught.value)


# --- files that cannot be read at all ---------------------------------------------------------


def test_import_rejects_cp1252_file_as_unknown_encoding(session: Session) -> None:
    message = refused(session, "orders", BROKEN / "orders_cp1252.csv")

    assert message == (
        "orders_cp1252.csv: unknown text encoding (expected UTF-8, UTF-16 or GBK/GB18030); save it as UTF-8 CSV"
    )
    assert_nothing_written(session)


def test_import_rejects_utf8_bom_file_with_invalid_byte_at_its_file_offset(session: Session) -> None:
    offset = (BROKEN / "orders_utf8_bom_bad_byte.csv").read_bytes().index(b"\xe9")

    message = refused(session, "orders", BROKEN / "orders_utf8_bom_bad_byte.csv")

    # The offset counts the 3 BOM bytes, so a hex editor shows the bad byte there.
    assert (offset, message) == (36, "orders_utf8_bom_bad_byte.csv: the file says it is utf-8 but byte 36 is not valid utf-8")
    assert_nothing_written(session)


def test_import_rejects_truncated_utf16_file(session: Session) -> None:
    message = refused(session, "orders", BROKEN / "orders_utf16_truncated.csv")

    assert message.startswith("orders_utf16_truncated.csv: the file says it is utf-16 but byte ")
    assert message.endswith(" is not valid utf-16")
    assert_nothing_written(session)


@pytest.mark.parametrize("name", ["empty.csv", "blank_lines.csv"])
def test_import_rejects_empty_file(session: Session, name: str) -> None:
    assert refused(session, "orders", BROKEN / name) == f"{name}: the file is empty"
    assert_nothing_written(session)


def test_import_rejects_header_without_data_rows(session: Session) -> None:
    message = refused(session, "orders", BROKEN / "orders_header_only.csv")

    assert message == "orders_header_only.csv: no data rows under the header"
    assert_nothing_written(session)


def test_import_rejects_field_longer_than_100k_characters(session: Session, tmp_path: Path) -> None:
    # An unclosed quote swallows the rest of the file into one field.
    path = tmp_path / "orders_open_quote.csv"
    path.write_text('订单号,下单日期,客户,金额\nSO1,2026-01-05,"C001,100\n' + "SO2,2026-01-06,C002,200\n" * 5000, encoding="utf-8")

    message = refused(session, "orders", path)

    assert message.startswith("orders_open_quote.csv: line ")
    assert message.endswith("unreadable CSV (a field longer than 100,000 characters; is a quote left open?)")
    assert_nothing_written(session)


def test_import_rejects_missing_file(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"

    assert refused(session, "orders", path) == f"{path}: no such file"


def test_import_rejects_folder(session: Session, tmp_path: Path) -> None:
    assert refused(session, "orders", tmp_path) == f"{tmp_path}: is a folder, not a file"


def test_import_rejects_random_bytes_named_xlsx(session: Session) -> None:
    message = refused(session, "orders", BROKEN / "corrupt.xlsx")

    assert message.startswith("corrupt.xlsx: not a readable Excel workbook (")
    assert_nothing_written(session)


def test_import_rejects_truncated_xlsx(session: Session) -> None:
    message = refused(session, "orders", BROKEN / "truncated.xlsx")

    assert message.startswith("truncated.xlsx: not a readable Excel workbook (")
    assert_nothing_written(session)


def test_import_rejects_missing_excel_sheet_naming_the_sheets(session: Session) -> None:
    options = ImportOptions(sheet="Orders2026")

    message = refused(session, "orders", BROKEN / "orders_two_sheets.xlsx", options)

    assert message == "orders_two_sheets.xlsx: no sheet named 'Orders2026'; sheets are 说明, 订单"
    assert_nothing_written(session)


def test_import_rejects_sheet_option_for_csv(session: Session, fixtures: Path) -> None:
    message = refused(session, "orders", fixtures / "orders_zh.csv", ImportOptions(sheet="订单"))

    assert message == "orders_zh.csv: --sheet applies to Excel files only"
    assert_nothing_written(session)


# --- columns and options ----------------------------------------------------------------------


def test_import_rejects_missing_required_column_naming_it(session: Session) -> None:
    message = refused(session, "orders", BROKEN / "orders_missing_date_column.csv")

    assert message.startswith("missing column for order_date (e.g. orderdate, date, invoicedate); ")
    assert "columns found: 订单号, 销售员, 客户, 产品, 数量, 金额" in message
    assert message.endswith("Use --map field=Column")
    assert_nothing_written(session)


def test_import_rejects_map_to_a_column_the_file_lacks(session: Session, fixtures: Path) -> None:
    message = refused(session, "orders", fixtures / "orders_zh.csv", ImportOptions(mapping=("amount=Revenue",)))

    assert message.startswith("--map amount=Revenue: the file has no column 'Revenue'; columns are 订单号, 下单日期")
    assert_nothing_written(session)


def test_import_rejects_map_to_an_unknown_field(session: Session, fixtures: Path) -> None:
    message = refused(session, "orders", fixtures / "orders_zh.csv", ImportOptions(mapping=("discount=金额",)))

    assert message.startswith("--map: 'discount' is not a field of orders; fields are ")


def test_import_rejects_malformed_map(session: Session, fixtures: Path) -> None:
    message = refused(session, "orders", fixtures / "orders_zh.csv", ImportOptions(mapping=("amount",)))

    assert message == "--map 'amount' should look like field=Column"


def test_import_rejects_unknown_kind(session: Session, fixtures: Path) -> None:
    message = refused(session, "invoices", fixtures / "orders_zh.csv")

    assert message == f"unknown import kind 'invoices'; choose one of {', '.join(all_kinds())}"
    assert {"orders", "customers", "reps", "products", "regions", "targets"} <= set(KINDS)
    assert {"market-size", "competitor-events"} <= set(all_kinds())  # registered by attain.market


# --- orders: row errors -----------------------------------------------------------------------


def test_import_orders_reports_every_bad_number_with_line_and_column(session: Session) -> None:
    errors = rejected_rows(session, "orders", "orders_bad_numbers.csv")

    assert errors == [
        RowError(3, "金额", "'abc' is not a number"),
        RowError(4, "数量", "'two' is not a number"),
        RowError(5, "金额", "'1.2.3' is not a number"),
        RowError(6, "金额", "'1.234,50' has misplaced thousands separators"),
    ]
    assert_nothing_written(session)


def test_import_rejection_message_counts_rows_and_problems(session: Session) -> None:
    with pytest.raises(ImportRejected) as caught:
        import_file(session=session, kind="orders", path=BROKEN / "orders_two_errors_in_one_row.csv")

    assert str(caught.value) == "orders_two_errors_in_one_row.csv: 2 problems in 1 bad row; nothing was imported"


def test_import_orders_reports_two_errors_in_one_row(session: Session) -> None:
    with pytest.raises(ImportRejected) as caught:
        import_file(session=session, kind="orders", path=BROKEN / "orders_two_errors_in_one_row.csv")

    assert caught.value.errors == [RowError(3, "下单日期", "'soon' is not a date"), RowError(3, "金额", "'abc' is not a number")]
    assert_nothing_written(session)


def test_import_orders_reports_values_that_are_not_dates(session: Session) -> None:
    errors = rejected_rows(session, "orders", "orders_bad_dates.csv")

    assert errors == [
        RowError(3, "下单日期", "'2026-13-45' is not a date"),
        RowError(5, "下单日期", "'yesterday' is not a date"),
    ]
    assert_nothing_written(session)


def test_import_orders_rejects_ambiguous_day_month_dates(session: Session) -> None:
    errors = rejected_rows(session, "orders", "orders_ambiguous_dates.csv")

    assert len(errors) == 1
    assert (errors[0].line, errors[0].column) == (2, "下单日期")
    assert "fit both day-first (%d/%m/%Y) and month-first (%m/%d/%Y); pass --date-format" in errors[0].message
    assert_nothing_written(session)


def test_import_orders_with_date_format_reads_ambiguous_dates(session: Session) -> None:
    options = ImportOptions(date_format="%d/%m/%Y")

    result = import_file(session=session, kind="orders", path=BROKEN / "orders_ambiguous_dates.csv", options=options)

    assert result.inserted == 3
    dates = session.scalars(select(OrderLine.order_date).order_by(OrderLine.order_id)).all()
    assert [d.isoformat() for d in dates] == ["2026-02-01", "2026-04-03", "2026-06-05"]


def test_import_orders_with_wrong_date_format_names_the_expected_format(session: Session) -> None:
    options = ImportOptions(date_format="%Y-%m-%d")

    errors = rejected_rows(session, "orders", "orders_ambiguous_dates.csv", options)

    assert errors[0] == RowError(2, "下单日期", "'01/02/2026' is not a date (expected %Y-%m-%d)")
    assert [e.line for e in errors] == [2, 3, 4]
    assert_nothing_written(session)


def test_import_orders_rejects_duplicate_line_ids_naming_the_first_line(session: Session) -> None:
    errors = rejected_rows(session, "orders", "orders_duplicate_line_ids.csv")

    assert errors == [
        RowError(4, "行号", "duplicate line id 'L1' (first on line 2)"),
        RowError(5, "行号", "duplicate line id 'L2' (first on line 3)"),
    ]
    assert_nothing_written(session)


def test_import_orders_numbers_repeated_order_and_product_without_line_id(session: Session) -> None:
    # Exports such as the UCI Online Retail file repeat an order + product: both lines are kept
    # (numbered by position, so that importing the same file again changes nothing) and counted.
    path = BROKEN / "orders_duplicate_order_product.csv"
    first = import_file(session=session, kind="orders", path=path)
    again = import_file(session=session, kind="orders", path=path)

    assert (first.inserted, again.unchanged, again.inserted) == (3, 3, 0)
    assert any("1 lines repeat an order id + product" in w for w in first.warnings)
    assert dict(session.execute(select(OrderLine.line_id, OrderLine.amount)).all()) == {
        "SO1|P1": 10_000, "SO1|P2": 20_000, "SO1|P1#2": 30_000,
    }


def test_import_orders_still_rejects_repeated_explicit_line_ids(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "orders_repeated_line_id.csv"
    path.write_text("行号,订单号,下单日期,产品,金额\nL1,SO1,2026-01-05,P1,100\nL1,SO1,2026-01-05,P2,200\n", encoding="utf-8")

    with pytest.raises(ImportRejected) as caught:
        import_file(session=session, kind="orders", path=path)

    assert caught.value.errors == [RowError(3, "行号", "duplicate line id 'L1' (first on line 2)")]
    assert_nothing_written(session)


def test_import_orders_rejects_row_with_more_fields_than_header(session: Session) -> None:
    errors = rejected_rows(session, "orders", "orders_extra_fields.csv")

    assert errors == [RowError(3, "(row)", "6 fields but the header has 5; is a comma inside a value unquoted?")]
    assert_nothing_written(session)


def test_import_orders_rejects_blank_and_null_amounts(session: Session) -> None:
    errors = rejected_rows(session, "orders", "orders_blank_amount.csv")

    assert errors == [RowError(3, "金额", "amount is empty"), RowError(4, "金额", "amount is empty")]
    assert_nothing_written(session)


@pytest.mark.parametrize(
    "name",
    [
        "orders_unclosed_quote.csv",  # the open quote swallows the later rows into 客户名称
        "orders_unclosed_quote_last_column.csv",  # …into 备注, an unmapped column: nothing else would notice
    ],
)
def test_import_orders_rejects_unclosed_quote_naming_its_line(session: Session, name: str) -> None:
    message = refused(session, "orders", BROKEN / name)

    assert message == f"{name}: line 2: unreadable CSV (a quote opened in this row is never closed)"
    assert_nothing_written(session)


def test_import_orders_counts_lines_from_top_of_file_below_title_rows(session: Session) -> None:
    errors = rejected_rows(session, "orders", "orders_title_rows.csv")

    assert errors == [RowError(5, "金额", "'x' is not a number")]
    assert_nothing_written(session)


def test_import_orders_rejects_long_codes_bad_currency_and_short_rows(session: Session) -> None:
    errors = rejected_rows(session, "orders", "orders_bad_codes.csv")

    assert RowError(3, "客户", "longer than 64 characters (66)") in errors
    assert RowError(4, "币种", "'RMBX' is not a 3-letter currency code") in errors
    assert RowError(5, "金额", "amount is empty") in errors
    assert {e.line for e in errors} == {3, 4, 5}
    assert_nothing_written(session)


def test_import_orders_rejects_amount_too_large_to_store(session: Session) -> None:
    errors = rejected_rows(session, "orders", "orders_huge_amount.csv")

    assert errors == [RowError(3, "金额", "99999999999999999999 is too large an amount (more than 1,000,000,000,000,000)")]
    assert_nothing_written(session)


def test_import_orders_rejects_amount_with_huge_exponent(session: Session) -> None:
    errors = rejected_rows(session, "orders", "orders_exponent_amount.csv")

    assert errors == [RowError(3, "金额", "1E+30 is too large an amount")]
    assert_nothing_written(session)


def test_import_orders_rejects_quantity_too_large_to_store(session: Session) -> None:
    errors = rejected_rows(session, "orders", "orders_huge_quantity.csv")

    assert errors == [RowError(3, "数量", "100000000000000000000 is too large (the limit is 100,000,000,000,000)")]
    assert_nothing_written(session)


def test_import_orders_rejects_plain_amount_too_large_to_store(session: Session) -> None:
    errors = rejected_rows(session, "orders", "orders_huge_plain_amount.csv")

    assert errors == [RowError(3, "金额", "99999999999999999999 is too large an amount (more than 1,000,000,000,000,000)")]
    assert_nothing_written(session)


def test_import_orders_reads_circled_and_superscript_digits_as_parse_decimal_does(session: Session) -> None:
    import_file(session=session, kind="orders", path=BROKEN / "orders_circled_digits.csv")

    # NFKC: ① is 1 and 2² is 22, as parse_decimal reads them; never a crash on int('①').
    assert dict(session.execute(select(OrderLine.order_id, OrderLine.amount)).all()) == {"SO1": 10000, "SO2": 100, "SO3": 2200}


def test_import_orders_rejects_bad_excel_rows_with_sheet_line_numbers(session: Session) -> None:
    errors = rejected_rows(session, "orders", "orders_bad_rows.xlsx")

    # Row 1 is a title, row 2 blank, row 3 the header: lines are the spreadsheet's row numbers.
    assert errors == [
        RowError(5, "金额", "'一百' is not a number"),
        RowError(6, "下单日期", "'not a date' is not a date"),
    ]
    assert_nothing_written(session)


def test_import_orders_row_lines_count_quoted_line_breaks(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "orders_multiline.csv"
    path.write_text(
        "订单号,下单日期,客户,客户名称,金额\n"
        'SO1,2026-01-05,C001,"上海甲公司\n(浦东分部)",100\n'
        "SO2,2026-01-06,C002,广州乙公司,abc\n",
        encoding="utf-8",
    )

    with pytest.raises(ImportRejected) as caught:
        import_file(session=session, kind="orders", path=path)

    assert caught.value.errors == [RowError(4, "金额", "'abc' is not a number")]
    assert_nothing_written(session)


def test_import_orders_rejects_whole_file_when_one_row_is_bad(session: Session, fixtures: Path, tmp_path: Path) -> None:
    good_lines = (fixtures / "orders_zh.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "orders_one_bad.csv"
    path.write_text("\n".join([*good_lines, "SO3,2026-02-02,李四,C002,广州乙公司,P9,工业,华南,1,n/a?,1"]) + "\n", encoding="utf-8")

    with pytest.raises(ImportRejected) as caught:
        import_file(session=session, kind="orders", path=path)

    assert caught.value.errors == [RowError(5, "金额", "'n/a?' is not a number")]
    assert_nothing_written(session)


# --- customers, reps, opportunities ------------------------------------------------------------


def test_import_customers_rejects_bad_type_grade_and_unknown_owner(session: Session) -> None:
    errors = rejected_rows(session, "customers", "customers_bad_values.csv")

    assert errors == [
        RowError(3, "客户类型", "'VIP' is not a customer type (new/新客户 or existing/老客户)"),
        RowError(4, "客户等级", "grade 'D' is not one of A, B, C"),
        RowError(5, "负责人", "no rep with code or name 'R404'; import reps first"),
    ]
    assert_nothing_written(session)


def test_import_reps_rejects_unknown_manager_reversed_dates_and_duplicate_code(session: Session) -> None:
    errors = rejected_rows(session, "reps", "reps_bad_values.csv")

    assert errors == [
        RowError(3, "经理", "manager 'R404' is neither in this file nor in Attain"),
        RowError(4, "离职日期", "leaves on 2024-12-31 before starting on 2025-01-01"),
        RowError(5, "工号", "duplicate rep code 'R001' (first on line 2)"),
    ]
    assert_nothing_written(session)


def test_import_opportunities_rejects_unknown_stage(session: Session) -> None:
    errors = rejected_rows(session, "opportunities", "opportunities_unknown_stage.csv")

    assert errors == [RowError(3, "阶段", "'maybe' is not a stage (lead, qualified, proposal, negotiation, won, lost)")]
    assert_nothing_written(session)


def test_import_opportunities_rejects_unknown_rep(session: Session) -> None:
    errors = rejected_rows(session, "opportunities", "opportunities_unknown_rep.csv")

    assert errors == [RowError(2, "销售员", "no rep with code or name 'R404'")]
    assert_nothing_written(session)


def test_import_opportunities_rejects_negative_amount(session: Session) -> None:
    errors = rejected_rows(session, "opportunities", "opportunities_negative_amount.csv")

    assert errors == [RowError(2, "预计金额", "an opportunity cannot be worth a negative amount (-50,000.00)")]
    assert_nothing_written(session)


# --- targets ----------------------------------------------------------------------------------


# tests/fixtures/good/reps.csv: the company, regions 华东 and 华南, two teams, reps R001 张三 … R004.
ORG_NODES_OF_REPS_CSV = 1 + 2 + 2 + 4


@pytest.fixture
def reps(session: Session) -> None:
    import_file(session=session, kind="reps", path=GOOD / "reps.csv")


def assert_no_plan_written(session: Session) -> None:
    counts = row_counts(session)
    assert (counts["plans"], counts["plan_cells"], counts["org_nodes"]) == (0, 0, ORG_NODES_OF_REPS_CSV)


def test_import_targets_rejects_unknown_rep(session: Session, reps: None) -> None:
    errors = rejected_rows(session, "targets", "targets_unknown_rep.csv", ImportOptions(plan="FY2027"))

    assert errors == [RowError(3, "销售员", "no rep or org node with code or name 'R999'; import reps first")]
    assert_no_plan_written(session)


def test_import_targets_rejects_second_target_for_same_rep_and_period(session: Session, reps: None) -> None:
    errors = rejected_rows(session, "targets", "targets_duplicate.csv", ImportOptions(plan="FY2027"))

    assert errors == [RowError(4, "目标", "a second target for R001 in 2027-01 (first on line 2)")]
    assert_no_plan_written(session)


def test_import_targets_rejects_same_rep_named_by_code_and_by_name(session: Session, reps: None) -> None:
    errors = rejected_rows(session, "targets", "targets_duplicate_by_name.csv", ImportOptions(plan="FY2027"))

    assert errors == [RowError(3, "目标", "a second target for 张三 in 2027-01 (first on line 2)")]
    assert_no_plan_written(session)


def test_import_targets_rejects_negative_target(session: Session, reps: None) -> None:
    errors = rejected_rows(session, "targets", "targets_negative.csv", ImportOptions(plan="FY2027"))

    assert errors == [RowError(3, "目标", "target -5000 is negative")]
    assert_no_plan_written(session)


def test_import_targets_rejects_values_that_are_not_periods_in_period_column(session: Session, reps: None) -> None:
    errors = rejected_rows(session, "targets", "targets_bad_period.csv", ImportOptions(plan="FY2027"))

    assert errors == [
        RowError(3, "期间", "'2027-13' is not a valid period: month must be in 1..12"),
        RowError(4, "期间", "'soon' is not a period; use 2027, 2027H1, 2027Q1, 2027-01, 2027-W10, 2027-01-15, FY2027 or FY2027Q1"),
    ]
    assert_no_plan_written(session)


def test_import_targets_without_plan_is_refused(session: Session, reps: None) -> None:
    message = refused(session, "targets", GOOD / "targets_long.csv")

    assert message == "importing targets needs --plan NAME (the plan is created when it does not exist)"
    assert_no_plan_written(session)


def test_import_targets_with_unknown_metric_is_not_found(session: Session, reps: None) -> None:
    with pytest.raises(NotFound, match="^no metric 'bananas'; metrics are revenue, "):
        import_file(session=session, kind="targets", path=GOOD / "targets_long.csv", options=ImportOptions(plan="FY2027", metric="bananas"))

    assert_no_plan_written(session)


def test_import_wide_targets_treats_empty_markers_as_no_target(session: Session, reps: None) -> None:
    result = import_file(
        session=session, kind="targets", path=BROKEN / "targets_wide_not_available.csv", options=ImportOptions(plan="FY2027")
    )

    assert result.inserted == 2
    org = dict(session.execute(select(OrgNode.id, OrgNode.code)).all())
    cells = session.execute(select(PlanCell.period, PlanCell.org_node_id, PlanCell.value)).all()
    assert sorted((period, org[node], value) for period, node, value in cells) == [("2027-01", "R001", 10_000_000), ("2027-02", "R002", 8_000_000)]


# --- the command line -------------------------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    done = run_attain("init", "--db", url)
    assert done.returncode == 0, done.stderr
    return url


def run_attain(*args: str) -> subprocess.CompletedProcess[str]:
    # A wide terminal, so that rich does not wrap the messages checked below.
    env = {**os.environ, "COLUMNS": "300", "NO_COLOR": "1"}
    return subprocess.run([str(ATTAIN), *args], capture_output=True, text=True, env=env, timeout=60, check=False)


def test_cli_import_rejected_file_exits_1_listing_row_errors(cli_db: str) -> None:
    done = run_attain("import", "orders", str(BROKEN / "orders_bad_numbers.csv"), "--db", cli_db)

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "orders_bad_numbers.csv: 4 bad rows; nothing was imported" in done.stderr
    assert "line 3, 金额: 'abc' is not a number" in done.stderr
    assert "line 4, 数量: 'two' is not a number" in done.stderr


def test_cli_import_rejected_file_as_json_lists_errors(cli_db: str) -> None:
    done = run_attain("import", "orders", str(BROKEN / "orders_bad_numbers.csv"), "--db", cli_db, "--json")

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    assert (report["inserted"], report["updated"], report["unchanged"]) == (0, 0, 0)
    assert report["errors"] == [
        {"line": 3, "column": "金额", "message": "'abc' is not a number"},
        {"line": 4, "column": "数量", "message": "'two' is not a number"},
        {"line": 5, "column": "金额", "message": "'1.2.3' is not a number"},
        {"line": 6, "column": "金额", "message": "'1.234,50' has misplaced thousands separators"},
    ]
    assert report["error_count"] == 4
    engine = create_engine(cli_db)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(OrderLine)) == 0
    engine.dispose()


def test_cli_import_unreadable_file_as_json_reports_error(cli_db: str) -> None:
    done = run_attain("import", "orders", str(BROKEN / "orders_cp1252.csv"), "--db", cli_db, "--json")

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    assert report["errors"] == []
    assert report["error"].startswith("orders_cp1252.csv: unknown text encoding")


def test_cli_import_missing_sheet_exits_1_without_traceback(cli_db: str) -> None:
    done = run_attain("import", "orders", str(BROKEN / "orders_two_sheets.xlsx"), "--sheet", "Orders2026", "--db", cli_db)

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "no sheet named 'Orders2026'; sheets are 说明, 订单" in done.stderr


# --- spreadsheet bombs ------------------------------------------------------------------------
# Small files that declare (or hold) far more than they are; tests/fixtures/broken/make_corpus.py
# writes them. Each is refused with one line before python-calamine reads it, whether it comes
# through the import service, the command line, a background job or `attain plan import-edits`.

SPAN = ("reaches cell XFD1048576: A1:XFD1048576 is 1,048,576 rows × 16,384 columns = 17,179,869,184 cells, more than "
        "the limit of 20,000,000; delete what lies beyond the data, or save the sheet as CSV")
ENTITIES = "declares XML entities (a DOCTYPE); spreadsheets never do, so it was not read"
BOMBS = {
    # The file: openpyxl's ws["XFD1048576"] = "x" made python-calamine ask for 512 GiB.
    "orders_cell_at_xfd1048576.xlsx": f"sheet 'Sheet' {SPAN}",
    "orders_sparse_corners.xlsx": f"sheet '订单' {SPAN}",
    "orders_billion_laughs.xlsx": f"sheet '订单' {ENTITIES}",
    "orders_external_entity.xlsx": f"sheet '订单' {ENTITIES}",
    "orders_zip_bomb.xlsx": "part xl/worksheets/sheet1.xml expands 999 times when unzipped (8,400 to 8,388,917 bytes; "
                            "spreadsheets expand at most 100 times): a zip bomb, not read",
    "orders_hidden_data.xlsx": "part xl/worksheets/sheet1.xml holds more data than its zip header declares (1,024 bytes): "
                               "a damaged or crafted file, not read",
    "orders_shared_strings_bomb.xlsx": "the shared-string table (xl/sharedStrings.xml) declares 4,294,967,295 strings "
                                       "(uniqueCount), more than the limit of 20,000,000",
    "orders_repeated_cells.ods": f"sheet '订单' {SPAN}",
    "orders_dimensions_bomb.xls": "sheet '订单' declares the range A1:CRXO4294967295 (281,470,681,677,825 cells), more "
                                  "than Excel's A1:XFD1048576 or the limit of 20,000,000 cells",
}


def bomb_message(name: str) -> str:
    return f"{name}: {BOMBS[name]}"


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_import_refuses_spreadsheet_bomb_before_reading_it(session: Session, name: str) -> None:
    assert refused(session, "orders", BROKEN / name) == bomb_message(name)
    assert_nothing_written(session)


def test_spreadsheet_bombs_stay_small() -> None:
    assert {name: (BROKEN / name).stat().st_size < 12_000 for name in BOMBS} == dict.fromkeys(BOMBS, True)


@pytest.fixture(scope="module")
def initialised_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `attain init` for the module; each test gets a copy (cli_db runs init per test)."""
    path = tmp_path_factory.mktemp("cli") / "initialised.db"
    done = run_attain("init", "--db", f"sqlite:///{path}")
    assert done.returncode == 0, done.stderr
    return path


def sqlite_checksum(url: str) -> str:
    import hashlib

    return hashlib.sha256(Path(url.removeprefix("sqlite:///")).read_bytes()).hexdigest()


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_cli_import_refuses_spreadsheet_bomb_in_one_line(initialised_db: Path, tmp_path: Path, name: str) -> None:
    import shutil

    url = f"sqlite:///{shutil.copy(initialised_db, tmp_path / 'cli.db')}"
    before = sqlite_checksum(url)

    done = run_attain("import", "orders", str(BROKEN / name), "--db", url)

    assert done.returncode == 1
    assert [line for line in done.stderr.splitlines() if line.strip()] == [f"error: {bomb_message(name)}"]
    assert sqlite_checksum(url) == before


@pytest.mark.parametrize("name", ["orders_cell_at_xfd1048576.xlsx", "orders_billion_laughs.xlsx", "orders_zip_bomb.xlsx"])
def test_import_job_with_spreadsheet_bomb_fails_with_its_message(session: Session, database_url: str, tmp_path: Path,
                                                                 name: str) -> None:
    from attain.web import jobs

    job = jobs.submit(session=session, kind="import", params={"kind": "orders", "path": str(BROKEN / name)},
                      database_url=database_url, backend="thread")
    jobs.wait_idle()

    session.expire_all()
    done = jobs.get_job(session=session, job_id=job.id)
    assert done is not None and (done.status, done.error) == ("failed", bomb_message(name))
    assert_nothing_written(session)


def test_import_job_whose_reader_dies_fails_with_a_message(session: Session, database_url: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Defence in depth: were a bomb to get past the limits, calamine dies in its child process (here
    it asks for 512 GiB under a 1 GiB limit) and the job fails saying so; the server lives on."""
    from attain.imports import workbook_limits
    from attain.web import jobs

    monkeypatch.setattr(workbook_limits, "check_workbook", lambda path, source=None: None)
    monkeypatch.setenv("ATTAIN_EXCEL_MEMORY_MB", "1024")
    job = jobs.submit(session=session, kind="import", database_url=database_url, backend="thread",
                      params={"kind": "orders", "path": str(BROKEN / "orders_sparse_corners.xlsx")})
    jobs.wait_idle()

    session.expire_all()
    done = jobs.get_job(session=session, job_id=job.id)
    assert done is not None and done.status == "failed"
    assert done.error == ("orders_sparse_corners.xlsx: the file could not be read: the reader ran out of memory "
                          "(1,024 MB; ATTAIN_EXCEL_MEMORY_MB sets the limit)")
    assert_nothing_written(session)


def test_import_job_still_reads_a_good_workbook(session: Session, database_url: str, tmp_path: Path) -> None:
    from openpyxl import Workbook

    from attain.web import jobs

    path = tmp_path / "orders.xlsx"
    book = Workbook()
    sheet = book.active
    sheet.title = "订单"
    sheet.append(["订单号", "下单日期", "客户", "产品", "金额"])
    sheet.append(["SO1", "2026-01-05", "C001", "P1", 100.5])
    sheet.append(["SO2", "2026-01-06", "C002", "P1", 7])
    book.save(path)

    job = jobs.submit(session=session, kind="import", params={"kind": "orders", "path": str(path)},
                      database_url=database_url, backend="thread")
    jobs.wait_idle()

    session.expire_all()
    done = jobs.get_job(session=session, job_id=job.id)
    assert done is not None and (done.status, done.result["inserted"]) == ("succeeded", 2), done.error
    assert sorted(session.scalars(select(OrderLine.amount))) == [700, 10050]


@pytest.mark.parametrize("name", ["orders_cell_at_xfd1048576.xlsx", "orders_billion_laughs.xlsx",
                                  "orders_shared_strings_bomb.xlsx"])
def test_plan_import_edits_refuses_spreadsheet_bomb(session: Session, name: str) -> None:
    from attain.plans.matrix import import_edits
    from attain.plans.setting import create_target
    from attain.plans.splitting import SplitOptions, split_plan
    from tests.plans.conftest import make_org

    make_org(session, regions=1, teams=1, reps=2)
    create_target(session=session, name="FY2027", year=2027, metric_code="revenue", by="a", total="1200000", unit="10000")
    split_plan(session=session, name="FY2027", options=SplitOptions(by=("org", "time")), by="a")

    with pytest.raises(InvalidInput) as caught:
        import_edits(session=session, name="FY2027", path=BROKEN / name, by="a")

    assert str(caught.value) == bomb_message(name)
