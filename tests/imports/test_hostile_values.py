"""Issue 20 finding 11: values that used to crash an import or be stored wrong.

Tracebacks: an order dated 9999-12-31 (the rollups' month arithmetic), a NUL byte in text on
PostgreSQL, a 300-level region chain (a path over 512 characters), a segment or source longer than
its column. Wrong values stored: `--5`, `-¥-5`, `(-5)` as +5.00; codes cut to 64 characters; a
Shift-JIS file as mojibake; an opportunity closed before it was created; a return dated before its
sale. Each is now a row error (or one file-level error) and the database checksum is unchanged.
SQLite and PostgreSQL, one seeded company per database (tests/imports/seeded.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from attain.db import get_engine, make_session_factory
from attain.errors import ImportRejected, InvalidInput, RowError
from attain.imports.parsing import parse_decimal
from attain.imports.service import ImportOptions, import_file
from tests.imports.seeded import checksum, seeded_database


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def company(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with seeded_database(request.param, tmp_path_factory.mktemp("hostile")) as url:
        yield url


def attempt(url: str, path: Path, kind: str, options: ImportOptions | None = None) -> InvalidInput:
    """Import `path`; it must be refused (InvalidInput, or ImportRejected with row errors) and change nothing."""
    before = checksum(url)
    session = make_session_factory(get_engine(url))()
    try:
        with pytest.raises(InvalidInput) as caught:
            import_file(session=session, kind=kind, path=path, options=options)
    finally:
        session.close()
    assert checksum(url) == before
    return caught.value


def rejected(url: str, tmp_path: Path, kind: str, text: str, options: ImportOptions | None = None) -> list[RowError]:
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    error = attempt(url, path, kind, options)
    assert isinstance(error, ImportRejected), str(error)
    return error.errors


ORDERS = "订单号,下单日期,销售员,客户,产品,金额\n"


# --- tracebacks ---------------------------------------------------------------------------------


def test_order_dated_9999_is_a_row_error_not_a_rollup_crash(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "orders", ORDERS + "SO9,9999-12-31,R001,C001,P1,100\nSO10,1899-12-31,R001,C001,P1,100\n")

    assert errors == [
        RowError(2, "下单日期", "'9999-12-31' is outside the years 1900–2100"),
        RowError(3, "下单日期", "'1899-12-31' is outside the years 1900–2100"),
    ]


def test_event_dates_outside_the_sane_range_are_row_errors(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "orders", "订单号,下单日期,发货日期,金额\nSO9,2026-03-01,2999-01-01,100\n")

    assert errors == [RowError(2, "发货日期", "'2999-01-01' is outside the years 1900–2100")]


def test_nul_byte_in_text_is_a_row_error_on_both_databases(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "orders", "订单号,下单日期,客户,客户名称,金额\nSO9,2026-03-01,C9,甲\x00乙,100\n")

    assert errors == [RowError(2, "客户名称", "contains a NUL character (byte 0); is the file binary or damaged?")]


def test_nul_byte_in_an_amount_is_a_row_error(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "orders", ORDERS + "SO9,2026-03-01,R001,C001,P1,1\x002\n")

    assert errors[0] == RowError(2, "金额", "contains a NUL character (byte 0); is the file binary or damaged?")
    assert {e.line for e in errors} == {2}


def test_300_level_region_chain_is_a_row_error_not_a_path_overflow(company: str, tmp_path: Path) -> None:
    rows = "".join(f"G{i},组{i},{f'G{i - 1}' if i else ''}\n" for i in range(300))

    errors = rejected(company, tmp_path, "regions", "区域编号,区域名称,上级区域\n" + rows)

    first = errors[0]
    assert first.column == "上级区域"
    assert "levels deep, its path of ids" in first.message and "(the limit is 512)" in first.message
    assert 50 < first.line < 300


def test_customer_segment_longer_than_its_column_is_a_row_error(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "customers", f"客户编号,客户名称,细分\nC009,某公司,{'零' * 101}\n")

    assert errors == [RowError(2, "细分", "longer than 100 characters (101)")]


def test_opportunity_source_longer_than_its_column_is_a_row_error(company: str, tmp_path: Path) -> None:
    text = f"商机编号,销售员,预计金额,阶段,创建日期,来源\nOP9,R001,100,线索,2026-03-01,{'x' * 65}\n"

    assert rejected(company, tmp_path, "opportunities", text) == [RowError(2, "来源", "longer than 64 characters (65)")]


def test_quota_sheet_with_a_year_column_of_9999_is_a_row_error(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "targets", "销售员,年份,M01\nR001,9999,10\n", ImportOptions(plan="FY2027"))

    assert errors == [RowError(2, "年份", "9999 is outside the years 1900–2100")]


def test_credit_percentage_infinity_is_a_row_error(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "credits", "订单号,销售员,比例\nSO1,R001,Infinity\n")

    assert errors == [RowError(2, "比例", "order SO1: 'Infinity' is not a percentage")]


# --- wrong values stored ------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["--5", "-¥-5", "(-5)", "+-5", "(+5)", "¥--5"])
def test_parse_decimal_refuses_two_signs(amount: str) -> None:
    with pytest.raises(ValueError, match="has more than one sign"):
        parse_decimal(amount)


@pytest.mark.parametrize(("amount", "value"), [("-5", -5), ("(5)", -5), ("¥-5", -5), ("-¥5", -5), ("(¥5)", -5), ("+5", 5),
                                               ("−5", -5), ("－5", -5), ("(1,200.00)", -1200)])
def test_parse_decimal_keeps_one_sign(amount: str, value: int) -> None:
    assert parse_decimal(amount) == value


def test_amounts_with_two_signs_are_row_errors_not_plus_five(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "orders", ORDERS + "".join(
        f"SO{i},2026-03-01,R001,C001,P1,{amount}\n" for i, amount in enumerate(["--5", "-¥-5", "(-5)"], start=9)))

    assert errors == [
        RowError(2, "金额", "'--5' has more than one sign"),
        RowError(3, "金额", "'-¥-5' has more than one sign"),
        RowError(4, "金额", "'(-5)' has more than one sign"),
    ]


def test_region_names_too_long_to_be_codes_are_refused_not_cut(company: str, tmp_path: Path) -> None:
    # Without a code column a region's name is its code: two names that share their first 64
    # characters used to become one region.
    long_name = "华" * 70
    errors = rejected(company, tmp_path, "regions", f"区域名称\n{long_name}甲\n{long_name}乙\n")

    assert [(e.line, e.column) for e in errors] == [(2, "区域名称"), (3, "区域名称")]
    assert errors[0].message == f"'{'华' * 40}…' is 71 characters long, too long for a region code (at most 64); add a code column"


def test_codes_that_grow_past_64_characters_when_normalised_are_refused(company: str, tmp_path: Path) -> None:
    # '㍿' (one character) is '株式会社' after NFKC: 20 of them are 80 characters.
    errors = rejected(company, tmp_path, "orders", ORDERS + f"SO9,2026-03-01,R001,{'㍿' * 20},P1,100\n")

    assert errors == [RowError(2, "客户", f"longer than 64 characters once normalised (80: '{'株式会社' * 5}…')")]


def test_team_codes_too_long_are_refused_not_cut(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "reps", f"工号,姓名,团队,区域\nR010,新人,{'队' * 40},{'区' * 40}\n")

    assert errors == [RowError(2, "团队", f"the team's code '{('区' * 40 + '/' + '队' * 40)[:40]}…' (region/team) is 81 "
                                         "characters long (at most 64)")]


def test_line_ids_made_of_long_order_and_product_codes_are_refused_not_cut(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "orders", ORDERS + f"{'O' * 64},2026-03-01,R001,C001,{'P' * 64},100\n")

    assert errors == [RowError(2, "订单号", "order id + product make a line id of 129 characters (at most 128); "
                                           "add a line id column (--map line_id=Column)")]


def test_shift_jis_file_is_refused_not_stored_as_mojibake(company: str, tmp_path: Path) -> None:
    path = tmp_path / "orders_sjis.csv"
    path.write_bytes("受注番号,受注日,顧客名,金額\nSO9,2026-03-01,株式会社サンプル,1000\nSO10,2026-03-02,東京商事,2000\n".encode("cp932"))

    message = str(attempt(company, path, "orders"))

    assert message.startswith("orders_sjis.csv: the file does not read cleanly as GBK/GB18030 (")
    assert message.endswith("it looks like Shift-JIS (Japanese). Save it as UTF-8 CSV")


def test_gbk_file_with_a_few_rare_characters_still_imports(company: str, tmp_path: Path) -> None:
    path = tmp_path / "customers_gbk.csv"
    path.write_bytes("客户编号,客户名称,城市\nC101,王喆的公司,上海\nC102,深圳堃鹏贸易有限公司,深圳\n".encode("gbk"))
    session = make_session_factory(get_engine(company))()
    try:
        result = import_file(session=session, kind="customers", path=path)
    finally:
        session.close()

    assert (result.encoding, result.inserted) == ("gb18030", 2)


def test_opportunity_closed_before_it_was_created_is_a_row_error(company: str, tmp_path: Path) -> None:
    text = "商机编号,销售员,预计金额,阶段,创建日期,成交日期\nOP9,R001,100,赢单,2026-03-01,2026-02-01\n"

    assert rejected(company, tmp_path, "opportunities", text) == [
        RowError(2, "成交日期", "closed on 2026-02-01 before it was created on 2026-03-01")
    ]


def test_return_dated_before_its_sale_is_a_row_error(company: str, tmp_path: Path) -> None:
    errors = rejected(company, tmp_path, "returns", "订单号,退货日期\nSO2,2026-01-15\n")

    assert errors == [RowError(2, "退货日期", "returned on 2026-01-15, before order SO2 was sold on 2026-02-01")]
