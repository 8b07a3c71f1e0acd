"""Calendar periods by label: year `2027`, half `2027H1`, quarter `2027Q1`, month `2027-01`,
ISO week `2027-W10`, day `2027-01-15` and a range of days `2027-01-01..2027-01-30`. Pure standard
library.

`parse_period_text` reads what people type (CLI options and web inputs alike): the labels, Chinese
forms (2026年, 2026年3月, 2026年第1季度, 2026年上半年, 2026年第10周) and words relative to an injected
`today` (本月, 上月, 本季度, 上季度, 今年, 去年, 本周, 上周, 今天, 昨天, 近30天, and in English "this
month", "last month", "this quarter", "this year", "last 30 days")."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

from attain.errors import InvalidInput


class Grain(str, Enum):
    YEAR = "year"
    HALF = "half"
    QUARTER = "quarter"
    MONTH = "month"
    WEEK = "week"
    DAY = "day"


@dataclass(frozen=True, order=True)
class Period:
    """A closed date range [start, end] with its grain and canonical label."""

    start: date
    end: date
    grain: Grain
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def _month_end(year: int, month: int) -> date:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return nxt - timedelta(days=1)


def year(y: int) -> Period:
    return Period(date(y, 1, 1), date(y, 12, 31), Grain.YEAR, f"{y}")


def half(y: int, h: int) -> Period:
    start = date(y, 1 if h == 1 else 7, 1)
    end = date(y, 6, 30) if h == 1 else date(y, 12, 31)
    return Period(start, end, Grain.HALF, f"{y}H{h}")


def quarter(y: int, q: int) -> Period:
    first_month = 3 * (q - 1) + 1
    return Period(date(y, first_month, 1), _month_end(y, first_month + 2), Grain.QUARTER, f"{y}Q{q}")


def month(y: int, m: int) -> Period:
    return Period(date(y, m, 1), _month_end(y, m), Grain.MONTH, f"{y}-{m:02d}")


def iso_week(y: int, w: int) -> Period:
    start = date.fromisocalendar(y, w, 1)
    return Period(start, start + timedelta(days=6), Grain.WEEK, f"{y}-W{w:02d}")


def day(d: date) -> Period:
    return Period(d, d, Grain.DAY, d.isoformat())


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def fiscal_year(y: int, start_month: int = 1) -> Period:
    """Fiscal year `FY<y>`, named by the calendar year it ends in: with a July start FY2027 runs
    2026-07-01 to 2027-06-30; with a January start it is the calendar year."""
    start = date(y if start_month == 1 else y - 1, start_month, 1)
    return Period(start, _add_months(start, 12) - timedelta(days=1), Grain.YEAR, f"FY{y}")


def fiscal_half(y: int, h: int, start_month: int = 1) -> Period:
    start = _add_months(fiscal_year(y, start_month).start, 6 * (h - 1))
    return Period(start, _add_months(start, 6) - timedelta(days=1), Grain.HALF, f"FY{y}H{h}")


def fiscal_quarter(y: int, q: int, start_month: int = 1) -> Period:
    start = _add_months(fiscal_year(y, start_month).start, 3 * (q - 1))
    return Period(start, _add_months(start, 3) - timedelta(days=1), Grain.QUARTER, f"FY{y}Q{q}")


_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(\d{4})$"), "year"),
    (re.compile(r"^(\d{4})[-\s]?H([12])$", re.IGNORECASE), "half"),
    (re.compile(r"^(\d{4})[-\s]?Q([1-4])$", re.IGNORECASE), "quarter"),
    (re.compile(r"^(\d{4})[-/.](\d{1,2})$"), "month"),
    (re.compile(r"^(\d{4})年(\d{1,2})月$"), "month"),
    (re.compile(r"^(\d{4})[-\s]?W(\d{1,2})$", re.IGNORECASE), "week"),
    (re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"), "day"),
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})\.\.(\d{4})-(\d{2})-(\d{2})$"), "range"),
    (re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"), "day"),
    (re.compile(r"^FY(\d{4})$", re.IGNORECASE), "fiscal_year"),
    (re.compile(r"^FY(\d{4})[-\s]?H([12])$", re.IGNORECASE), "fiscal_half"),
    (re.compile(r"^FY(\d{4})[-\s]?Q([1-4])$", re.IGNORECASE), "fiscal_quarter"),
]


# Reports look a year back (comparisons) and ahead (run rates, next periods), so datetime's own
# limits (years 1 and 9999) are out of reach; a label or date outside these years is refused.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def supported_day(d: date, what: str = "date") -> date:
    """`d` itself when its year is within FIRST_YEAR..LAST_YEAR; InvalidInput (422) otherwise."""
    if not FIRST_YEAR <= d.year <= LAST_YEAR:
        raise InvalidInput.coded("periods.outside_supported_years", what=what, isoformat=d.isoformat(), first_year=FIRST_YEAR, last_year=LAST_YEAR)
    return d


def _supported(period: Period) -> Period:
    if not (FIRST_YEAR <= period.start.year and period.end.year <= LAST_YEAR):
        raise InvalidInput.coded("periods.period_outside_supported_years", label=period.label, first_year=FIRST_YEAR, last_year=LAST_YEAR)
    return period


def parse_period(text: str, fiscal_year_start_month: int = 1) -> Period:
    """Parse a period label; raise InvalidInput naming the text when it is not one (or lies outside
    the supported years FIRST_YEAR..LAST_YEAR).

    Fiscal labels (FY2027, FY2027H1, FY2027Q1) follow `fiscal_year_start_month` (the company
    setting of that name; 1 = calendar year)."""
    return _supported(_parse_label(text, fiscal_year_start_month))


def _parse_label(text: str, fiscal_year_start_month: int) -> Period:
    cleaned = text.strip()
    for pattern, kind in _PATTERNS:
        match = pattern.match(cleaned)
        if not match:
            continue
        parts = [int(g) for g in match.groups()]
        try:
            if kind == "fiscal_year":
                return fiscal_year(parts[0], fiscal_year_start_month)
            if kind == "fiscal_half":
                return fiscal_half(parts[0], parts[1], fiscal_year_start_month)
            if kind == "fiscal_quarter":
                return fiscal_quarter(parts[0], parts[1], fiscal_year_start_month)
            if kind == "year":
                return year(parts[0])
            if kind == "half":
                return half(parts[0], parts[1])
            if kind == "quarter":
                return quarter(parts[0], parts[1])
            if kind == "month":
                return month(parts[0], parts[1])
            if kind == "week":
                return iso_week(parts[0], parts[1])
            if kind == "range":
                return days_between(date(*parts[:3]), date(*parts[3:]))
            return day(date(parts[0], parts[1], parts[2]))
        except (ValueError, OverflowError) as exc:
            raise InvalidInput(f"'{text}' is not a valid period: {exc}", code="period.invalid", params={"text": text}) from exc
    raise InvalidInput(
        f"'{text}' is not a period; use 2027, 2027H1, 2027Q1, 2027-01, 2027-W10, 2027-01-15, FY2027 or FY2027Q1",
        code="period.unknown", params={"text": text},
    )


def days_between(start: date, end: date) -> Period:
    """The days [start, end] as one period, labelled `start..end` (a single day is a day)."""
    if end < start:
        raise InvalidInput.coded("periods.end_before_start", end=end, start=start)
    if start == end:
        return day(start)
    return Period(start, end, Grain.DAY, f"{start.isoformat()}..{end.isoformat()}")


_CHINESE_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_TYPED: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(\d{4})年$"), "year"),
    (re.compile(r"^(\d{4})年?第?([1-4一二三四])季度?$"), "quarter"),
    (re.compile(r"^(\d{4})年?([上下])半年$"), "half"),
    (re.compile(r"^(\d{4})年?第(\d{1,2})周$"), "week"),
    (re.compile(r"^(?:近|最近|过去)(\d{1,3})天$"), "last_days"),
    (re.compile(r"^(?:the\s+)?(?:last|past)\s+(\d{1,3})\s+days?$", re.IGNORECASE), "last_days"),
]
_RELATIVE = {
    "今天": ("day", 0), "today": ("day", 0), "昨天": ("day", -1), "yesterday": ("day", -1),
    "本周": ("week", 0), "this week": ("week", 0), "上周": ("week", -1), "last week": ("week", -1),
    "本月": ("month", 0), "this month": ("month", 0), "上月": ("month", -1), "上个月": ("month", -1),
    "last month": ("month", -1),
    "本季度": ("quarter", 0), "本季": ("quarter", 0), "this quarter": ("quarter", 0),
    "上季度": ("quarter", -1), "上季": ("quarter", -1), "last quarter": ("quarter", -1),
    "今年": ("year", 0), "本年": ("year", 0), "this year": ("year", 0),
    "去年": ("year", -1), "last year": ("year", -1),
}
MAX_PERIOD_TEXT = 32


def parse_period_text(text: str, today: date, fiscal_year_start_month: int = 1) -> Period:
    """What people type for a period (see the module docstring), relative words counted from `today`.

    Every label this returns reads back with `parse_period` (近30天 → `2026-11-03..2026-12-02`)."""
    return _supported(_parse_typed(text, today, fiscal_year_start_month))


def _parse_typed(text: str, today: date, fiscal_year_start_month: int) -> Period:
    cleaned = unicodedata.normalize("NFKC", text or "").strip()
    if len(cleaned) > MAX_PERIOD_TEXT:
        raise InvalidInput("the period is too long; use e.g. 2027, 2027Q1, 2027-03 or 本月", code="period.too_long")
    relative = _RELATIVE.get(re.sub(r"\s+", " ", cleaned.lower()))
    if relative is not None:
        return _relative(today, *relative)
    compact = re.sub(r"\s+", "", cleaned)
    for pattern, kind in _TYPED:
        match = pattern.match(compact) or pattern.match(cleaned)
        if not match:
            continue
        first = int(match.group(1))
        if kind == "year":
            return year(first)
        if kind == "quarter":
            return quarter(first, _CHINESE_DIGITS[match.group(2)])
        if kind == "half":
            return half(first, 1 if match.group(2) == "上" else 2)
        if kind == "week":
            try:
                return iso_week(first, int(match.group(2)))
            except (ValueError, OverflowError) as exc:
                raise InvalidInput(f"'{text}' is not a valid period: {exc}", code="period.invalid",
                                   params={"text": text}) from exc
        if first < 1:
            break
        return days_between(today - timedelta(days=first - 1), today)
    try:
        return parse_period(compact, fiscal_year_start_month)
    except InvalidInput as exc:
        if exc.code == "period.invalid":  # keep the reason ("month must be in 1..12") for the CLI
            raise InvalidInput(str(exc).replace(f"'{compact}'", f"'{text}'", 1), code=exc.code, params={"text": text}) from None
        raise InvalidInput.coded("period.unknown", text=text) from None


def _relative(today: date, grain: str, step: int) -> Period:
    if grain == "day":
        return day(today + timedelta(days=step))
    if grain == "week":
        return period_of(today + timedelta(weeks=step), Grain.WEEK)
    if grain == "month":
        first = _add_months(today.replace(day=1), step)
        return month(first.year, first.month)
    if grain == "quarter":
        first = _add_months(today.replace(day=1, month=3 * ((today.month - 1) // 3) + 1), 3 * step)
        return quarter(first.year, (first.month - 1) // 3 + 1)
    return year(today.year + step)


def period_of(d: date, grain: Grain) -> Period:
    """The period of the given grain that contains day `d`."""
    if grain is Grain.YEAR:
        return year(d.year)
    if grain is Grain.HALF:
        return half(d.year, 1 if d.month <= 6 else 2)
    if grain is Grain.QUARTER:
        return quarter(d.year, (d.month - 1) // 3 + 1)
    if grain is Grain.MONTH:
        return month(d.year, d.month)
    if grain is Grain.WEEK:
        iso = d.isocalendar()
        return iso_week(iso.year, iso.week)
    return day(d)


def periods_between(start: date, end: date, grain: Grain) -> list[Period]:
    """Every period of `grain` that overlaps [start, end], in order.

    Periods at the edges are whole periods (a week starting before `start` is included whole);
    callers that need clipped ranges clip them with `clip`.
    """
    if end < start:
        raise InvalidInput.coded("periods.end_before_start", end=end, start=start)
    result: list[Period] = []
    current = period_of(start, grain)
    while current.start <= end:
        result.append(current)
        current = period_of(current.end + timedelta(days=1), grain)
    return result


def clip(period: Period, start: date, end: date) -> Period:
    """The part of `period` inside [start, end], keeping its label."""
    return Period(max(period.start, start), min(period.end, end), period.grain, period.label)
