"""Pure parsing of values from ERP/CRM exports: numbers, amounts in minor units, dates, headers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attain.imports.parsing import (
    ANY_YEAR_FIRST,
    header_multiplier,
    infer_date_format,
    make_amount_parser,
    normalise_header,
    parse_amount_column,
    parse_date_with,
    parse_decimal,
    to_minor,
)

# --- parse_decimal -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234", Decimal(1234)),
        ("1,234.50", Decimal("1234.50")),
        ("¥1,234.5", Decimal("1234.5")),
        ("￥99.9", Decimal("99.9")),  # full-width yen sign, as in Chinese Excel exports
        ("RMB 1,000", Decimal(1000)),
        ("CNY1000", Decimal(1000)),
        ("1000元", Decimal(1000)),
        ("12.3万", Decimal(123000)),
        ("1.5万元", Decimal(15000)),
        ("1.2亿", Decimal(120000000)),
        ("3k", Decimal(3000)),
        ("(1,200.00)", Decimal(-1200)),
        ("-5", Decimal(-5)),
        ("+5", Decimal(5)),
        ("¥-12", Decimal(-12)),
        ("１２３４.５", Decimal("1234.5")),  # full-width digits
        ("5%", Decimal("0.05")),
        ("12.5%", Decimal("0.125")),
        ("  42  ", Decimal(42)),
        ("1e3", Decimal(1000)),
        (".5", Decimal("0.5")),
    ],
)
def test_parse_decimal_accepts_business_formats(text: str, expected: Decimal) -> None:
    assert parse_decimal(text) == expected


@pytest.mark.parametrize("text", ["abc", "1.2.3", "NaN", "inf", "Infinity", "-(5)", "12 apples", "¥", "万"])
def test_parse_decimal_rejects_text_that_is_not_a_number(text: str) -> None:
    with pytest.raises(ValueError, match="is not a number"):
        parse_decimal(text)


@pytest.mark.parametrize("text", ["", "   ", "\u3000"])
def test_parse_decimal_rejects_empty_text(text: str) -> None:
    with pytest.raises(ValueError, match="empty number"):
        parse_decimal(text)


@pytest.mark.parametrize("text", ["1.234,50", "1,5", "12,34,5", "1,2345.00", ",100", "100,"])
def test_parse_decimal_rejects_misplaced_thousands_separators(text: str) -> None:
    # A European '1.234,50' must not silently become 1.2345, nor '1,5' become 15.
    with pytest.raises(ValueError, match="has misplaced thousands separators"):
        parse_decimal(text)


# --- amounts in minor units --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected_fen"),
    [
        ("1234.5", 123450),  # fast path
        ("1234", 123400),
        ("0.01", 1),
        ("1,234.50", 123450),
        ("1.2万", 1200000),
        ("(10.00)", -1000),
        ("１２３", 12300),
        ("1.005", 101),  # half up below the fen
        ("1.0049", 100),
        ("0.005", 1),
        ("-0.005", -1),  # half away from zero, as accountants round
        ("12.345", 1235),
    ],
)
def test_amount_parser_returns_exact_fen(text: str, expected_fen: int) -> None:
    assert make_amount_parser(2)(text) == expected_fen


def test_amount_parser_applies_multiplier_before_rounding() -> None:
    in_wan = make_amount_parser(2, Decimal(10_000))

    assert in_wan("1.5") == 1_500_000
    assert in_wan("0.00001") == 10  # 0.1 yuan: exact, not lost to a float
    assert in_wan("0.000001") == 1  # 0.01 yuan


def test_amount_parser_with_scale_zero_rounds_half_up_to_whole_units() -> None:
    whole = make_amount_parser(0)

    assert whole("12") == 12
    assert whole("12.5") == 13
    assert whole("12.49") == 12


def test_amount_parser_rejects_text() -> None:
    with pytest.raises(ValueError, match="'abc' is not a number"):
        make_amount_parser(2)("abc")


@pytest.mark.parametrize("text", ["1e30", "1e400"])
def test_amount_parser_rejects_amounts_beyond_decimal_precision_with_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="is too large an amount"):
        make_amount_parser(2)(text)


def _reference_amounts(values: list[str], scale: int, multiplier: Decimal) -> tuple[list[int | None], set[int]]:
    """What parse_amount_column must return: parse_decimal then to_minor for each value, one by one."""
    out: list[int | None] = []
    bad: set[int] = set()
    for index, value in enumerate(values):
        try:
            out.append(to_minor(parse_decimal(value) * multiplier, scale) if value else None)
        except ValueError:
            out.append(None)
            bad.add(index)
    return out, bad


@given(
    values=st.lists(st.text(alphabet="0123456789.,-+¥万 ()１２．，e", max_size=10), max_size=8),
    scale=st.sampled_from([0, 2]),
    multiplier=st.sampled_from([Decimal(1), Decimal(10_000)]),
)
def test_amount_column_fast_path_agrees_with_parse_decimal(values: list[str], scale: int, multiplier: Decimal) -> None:
    amounts, errors = parse_amount_column(values, scale, multiplier)

    expected_amounts, expected_bad = _reference_amounts(values, scale, multiplier)
    assert amounts == expected_amounts
    assert set(errors) == expected_bad


def test_amount_column_reports_bad_values_by_row_index() -> None:
    amounts, errors = parse_amount_column(["100", "", "abc", "1,234.5", "99,999,999,999,999,999,999"], 2)

    assert amounts == [10000, None, None, 123450, None]
    assert errors == {2: "'abc' is not a number", 4: "99999999999999999999 is too large an amount (more than 1,000,000,000,000,000)"}


@pytest.mark.parametrize("text", ["99999999999999999999", "1000000000000000", "1000000000000000.00"])
def test_plain_amounts_beyond_the_limit_are_too_large(text: str) -> None:
    with pytest.raises(ValueError, match="is too large an amount"):
        make_amount_parser(2)(text)
    assert set(parse_amount_column(["1", text], 2)[1]) == {1}


def test_largest_storable_amount_is_accepted_on_every_path() -> None:
    largest = "999999999999999.99"  # MAX_MINOR - 1 fen

    assert make_amount_parser(2)(largest) == 10**17 - 1
    assert parse_amount_column([largest, "1"], 2) == ([10**17 - 1, 100], {})
    assert to_minor(Decimal(largest), 2) == 10**17 - 1


def test_amount_column_reads_circled_and_superscript_digits_like_parse_decimal() -> None:
    values = ["100", "①", "2²"]

    amounts, errors = parse_amount_column(values, 2)

    assert (amounts, errors) == ([10000, 100, 2200], {})
    assert [make_amount_parser(2)(v) for v in values] == [10000, 100, 2200]


amounts_in_fen = st.integers(min_value=-(10**15), max_value=10**15)


@given(fen=amounts_in_fen, decimals=st.sampled_from([0, 1, 2]))
def test_amount_with_thousands_separators_round_trips_to_the_same_fen(fen: int, decimals: int) -> None:
    amount = (Decimal(fen) / 100).quantize(Decimal(1).scaleb(-decimals))
    text = f"{amount:,.{decimals}f}"

    assert make_amount_parser(2)(text) == int(amount * 100)


@given(fen=amounts_in_fen)
def test_amount_with_yen_prefix_round_trips_to_the_same_fen(fen: int) -> None:
    amount = Decimal(fen) / 100
    sign = "-" if fen < 0 else ""

    assert make_amount_parser(2)(f"¥{sign}{abs(amount):,.2f}") == fen
    assert make_amount_parser(2)(f"{sign}￥{abs(amount):,.2f}") == fen


@given(fen=st.integers(min_value=0, max_value=10**15))
def test_amount_in_accounting_brackets_round_trips_to_negative_fen(fen: int) -> None:
    assert make_amount_parser(2)(f"({Decimal(fen) / 100:,.2f})") == -fen


@given(fen=st.integers(min_value=0, max_value=10**15))
def test_plain_amount_fast_path_agrees_with_full_parser(fen: int) -> None:
    text = f"{Decimal(fen) / 100:.2f}"

    assert make_amount_parser(2)(text) == make_amount_parser(2, Decimal(1))(f" {text} ") == fen


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected_format"),
    [
        (["2026-01-05", "2026-12-31"], "%Y-%m-%d"),
        (["2026/1/5", "2026/12/31"], "%Y/%m/%d"),
        (["2026.01.05"], "%Y.%m.%d"),
        (["20260105", "20261231"], "%Y%m%d"),
        (["2026年1月5日", "2026年12月31日"], "%Y年%m月%d日"),
        (["13/01/2026", "05/02/2026"], "%d/%m/%Y"),
        (["01/13/2026", "02/05/2026"], "%m/%d/%Y"),
        (["13/01/26", "05/02/26"], "%d/%m/%y"),
        (["01/31/26", "02/05/26"], "%m/%d/%y"),
        (["31.01.2026", "05.02.2026"], "%d.%m.%Y"),
        (["2026-01-05 13:45", "2026-01-06 08:00:00"], "%Y-%m-%d"),
        (["45658", "45659"], "excel"),
    ],
)
def test_infer_date_format_finds_the_format_of_a_column(values: list[str], expected_format: str) -> None:
    assert infer_date_format(values) == expected_format


def test_infer_date_format_accepts_a_mix_of_year_first_formats() -> None:
    fmt = infer_date_format(["2026-01-05", "2026/02/01", "2026年3月1日"])

    assert fmt == ANY_YEAR_FIRST
    assert parse_date_with("2026/02/01", fmt) == date(2026, 2, 1)
    assert parse_date_with("2026年3月1日", fmt) == date(2026, 3, 1)


def test_infer_date_format_ignores_blank_values() -> None:
    assert infer_date_format(["", "  ", "13/01/2026"]) == "%d/%m/%Y"


def test_infer_date_format_of_an_empty_column_defaults_to_iso() -> None:
    assert infer_date_format(["", ""]) == "%Y-%m-%d"


def test_infer_date_format_rejects_day_and_month_first_ambiguity() -> None:
    with pytest.raises(ValueError, match="fit both day-first .* and month-first .*; pass --date-format"):
        infer_date_format(["01/02/2026", "03/04/2026", "12/11/2026"])


def test_infer_date_format_rejects_two_digit_year_ambiguity() -> None:
    with pytest.raises(ValueError, match=r"day-first \(%d/%m/%y\) and month-first \(%m/%d/%y\)"):
        infer_date_format(["01/02/26", "03/04/26"])


@pytest.mark.parametrize("values", [["yesterday"], ["5 Jan"], ["2026-13-45", "2026-14-01"], ["13/13/2026"]])
def test_infer_date_format_rejects_values_no_format_fits(values: list[str]) -> None:
    with pytest.raises(ValueError, match="no known date format fits this column"):
        infer_date_format(values)


dates_2000s = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(days=st.lists(dates_2000s, min_size=1, max_size=20), fmt=st.sampled_from(["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d"]))
def test_year_first_dates_infer_and_parse_back_exactly(days: list[date], fmt: str) -> None:
    texts = [d.strftime(fmt) for d in days]

    inferred = infer_date_format(texts)

    assert [parse_date_with(t, inferred) for t in texts] == days


@given(
    days=st.lists(dates_2000s, min_size=1, max_size=20),
    late_day=dates_2000s.filter(lambda d: d.day > 12),
    day_first=st.booleans(),
)
def test_slashed_dates_with_a_day_above_12_infer_the_right_order(days: list[date], late_day: date, day_first: bool) -> None:
    fmt = "%d/%m/%Y" if day_first else "%m/%d/%Y"
    all_days = [*days, late_day]
    texts = [d.strftime(fmt) for d in all_days]

    inferred = infer_date_format(texts)

    assert inferred == fmt
    assert [parse_date_with(t, inferred) for t in texts] == all_days


@given(days=st.lists(dates_2000s.filter(lambda d: d.day <= 12), min_size=1, max_size=20))
def test_slashed_dates_with_no_day_above_12_are_ambiguous(days: list[date]) -> None:
    with pytest.raises(ValueError, match="pass --date-format"):
        infer_date_format([d.strftime("%d/%m/%Y") for d in days])


# Header text as exports write it: CJK, ASCII and full-width letters and digits, brackets, separators.
header_texts = st.text(alphabet="订单号金额客户日期万元千 ()（）【】[]_-./:#*AaBbZz09０９ＡＢ\u3000", max_size=20)


@given(header=header_texts)
def test_normalise_header_is_idempotent(header: str) -> None:
    assert normalise_header(normalise_header(header)) == normalise_header(header)


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("2026-01-05", "%Y-%m-%d", date(2026, 1, 5)),
        ("2026年1月5日", "%Y年%m月%d日", date(2026, 1, 5)),
        ("20260105", "%Y%m%d", date(2026, 1, 5)),
        ("05/01/26", "%d/%m/%y", date(2026, 1, 5)),
        ("2026-01-05 13:45:00", "%Y-%m-%d", date(2026, 1, 5)),
        ("2026-01-05T13:45:00Z", "%Y-%m-%d", date(2026, 1, 5)),
        ("2026-01-05T13:45:00+08:00", "%Y-%m-%d", date(2026, 1, 5)),
        ("2026/1/5 0:00", "%Y/%m/%d", date(2026, 1, 5)),
        ("1/5/2026 1:30 PM", "%m/%d/%Y", date(2026, 1, 5)),
        ("2026-01-05 13:45:00.123", "%Y-%m-%d", date(2026, 1, 5)),
        ("２０２６-０１-０５", "%Y-%m-%d", date(2026, 1, 5)),
    ],
)
def test_parse_date_with_reads_the_date_and_ignores_a_time_suffix(text: str, fmt: str, expected: date) -> None:
    assert parse_date_with(text, fmt) == expected


@pytest.mark.parametrize(
    ("serial", "expected"),
    [("1", date(1899, 12, 31)), ("45658", date(2025, 1, 1)), ("46027", date(2026, 1, 5)), ("46027.75", date(2026, 1, 5))],
)
def test_excel_serials_count_days_from_1899_12_30(serial: str, expected: date) -> None:
    assert parse_date_with(serial, "excel") == expected


@pytest.mark.parametrize("serial", ["0", "-5", "3000000"])
def test_excel_serials_out_of_range_are_rejected(serial: str) -> None:
    with pytest.raises(ValueError, match="is not an Excel date serial"):
        parse_date_with(serial, "excel")


def test_parse_date_with_rejects_a_value_not_in_the_format() -> None:
    with pytest.raises(ValueError):
        parse_date_with("2026-02-30", "%Y-%m-%d")


def test_parse_date_with_any_year_first_rejects_a_non_date() -> None:
    with pytest.raises(ValueError, match="'soon' is not a date"):
        parse_date_with("soon", ANY_YEAR_FIRST)


# --- headers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Order Date ", "orderdate"),
        ("sales_rep", "salesrep"),
        ("Sales-Rep.", "salesrep"),
        ("金额（元）", "金额"),
        ("金额(万元)", "金额"),
        ("【客户】编号", "编号"),
        ("ＡＭＯＵＮＴ", "amount"),
        ("Order #", "order"),
    ],
)
def test_normalise_header_ignores_case_spacing_punctuation_and_units(header: str, expected: str) -> None:
    assert normalise_header(header) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("金额(万元)", Decimal(10_000)),
        ("金额（万元）", Decimal(10_000)),
        ("目标【万】", Decimal(10_000)),
        ("金额(千元)", Decimal(1_000)),
        ("Sales (k)", Decimal(1_000)),
        ("金额(元)", Decimal(1)),
        ("金额", Decimal(1)),
        ("Amount", Decimal(1)),
    ],
)
def test_header_multiplier_reads_the_unit_in_brackets(header: str, expected: Decimal) -> None:
    assert header_multiplier(header) == expected


@pytest.mark.parametrize("header", ["Amount (KRW)", "Sales (KES)"])
def test_header_multiplier_ignores_currency_codes_starting_with_k(header: str) -> None:
    assert header_multiplier(header) == Decimal(1)
