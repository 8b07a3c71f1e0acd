"""What people type for a period (attain.periods.parse_period_text), shared by the CLI and the web:
Chinese forms and words relative to an injected today; every label reads back with parse_period."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attain.errors import InvalidInput
from attain.periods import Grain, parse_period, parse_period_text

TODAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("text", "label", "start", "end"),
    [
        ("2026年", "2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026年3月", "2026-03", date(2026, 3, 1), date(2026, 3, 31)),
        ("2026 年 3 月", "2026-03", date(2026, 3, 1), date(2026, 3, 31)),
        ("2026年第1季度", "2026Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026年第四季度", "2026Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026年下半年", "2026H2", date(2026, 7, 1), date(2026, 12, 31)),
        ("2026年第10周", "2026-W10", date(2026, 3, 2), date(2026, 3, 8)),
        ("２０２６年", "2026", date(2026, 1, 1), date(2026, 12, 31)),  # full-width digits from a Chinese IME
        ("本月", "2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        ("上月", "2026-11", date(2026, 11, 1), date(2026, 11, 30)),
        ("本季度", "2026Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("上季度", "2026Q3", date(2026, 7, 1), date(2026, 9, 30)),
        ("今年", "2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("去年", "2025", date(2025, 1, 1), date(2025, 12, 31)),
        ("本周", "2026-W49", date(2026, 11, 30), date(2026, 12, 6)),
        ("近30天", "2026-11-03..2026-12-02", date(2026, 11, 3), date(2026, 12, 2)),
        ("最近7天", "2026-11-26..2026-12-02", date(2026, 11, 26), date(2026, 12, 2)),
        ("last 30 days", "2026-11-03..2026-12-02", date(2026, 11, 3), date(2026, 12, 2)),
        ("This Month", "2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        ("2026", "2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026Q1", "2026Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-03", "2026-03", date(2026, 3, 1), date(2026, 3, 31)),
        ("2026-W10", "2026-W10", date(2026, 3, 2), date(2026, 3, 8)),
    ],
)
def test_what_people_type_reads_as_the_period(text: str, label: str, start: date, end: date) -> None:
    period = parse_period_text(text, TODAY)
    assert (period.label, period.start, period.end) == (label, start, end)
    assert parse_period(period.label) == period  # the label in a link reads back to the same days


def test_relative_words_cross_year_boundaries() -> None:
    assert parse_period_text("上月", date(2027, 1, 4)).label == "2026-12"
    assert parse_period_text("上季度", date(2027, 2, 10)).label == "2026Q4"
    assert parse_period_text("上周", date(2027, 1, 3)).label == "2026-W52"
    assert parse_period_text("近1天", date(2027, 1, 3)).grain is Grain.DAY


def test_fiscal_labels_follow_the_company_year() -> None:
    assert parse_period_text("FY2027", TODAY, fiscal_year_start_month=7).start == date(2026, 7, 1)


@pytest.mark.parametrize(("text", "code"), [
    ("近0天", "period.unknown"), ("下个世纪", "period.unknown"), ("2026年13月", "period.invalid"),
    ("2026年第54周", "period.invalid"), ("x" * 40, "period.too_long"),
])
def test_nonsense_is_refused_with_a_code(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_period_text(text, TODAY)
    assert raised.value.code == code
    assert "'" in str(raised.value) or code == "period.too_long"  # the CLI's English names the text


@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2098, 12, 31)), st.integers(min_value=1, max_value=365))
def test_the_last_n_days_end_today_and_hold_n_days(today: date, days: int) -> None:
    period = parse_period_text(f"近{days}天", today)
    assert period.end == today and period.days == days
    assert parse_period(period.label) == period


@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2098, 12, 31)))
def test_this_and_last_month_contain_today_and_the_day_before_the_first(today: date) -> None:
    this = parse_period_text("本月", today)
    last = parse_period_text("上月", today)
    assert this.contains(today) and last.end == this.start - timedelta(days=1) and last.start.day == 1
