"""Calendar periods by label: year `2027`, half `2027H1`, quarter `2027Q1`, month `2027-01`,
ISO week `2027-W10` and day `2027-01-15`. Pure standard library."""

from __future__ import annotations

import re
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


_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(\d{4})$"), "year"),
    (re.compile(r"^(\d{4})[-\s]?H([12])$", re.I), "half"),
    (re.compile(r"^(\d{4})[-\s]?Q([1-4])$", re.I), "quarter"),
    (re.compile(r"^(\d{4})[-/.](\d{1,2})$"), "month"),
    (re.compile(r"^(\d{4})年(\d{1,2})月$"), "month"),
    (re.compile(r"^(\d{4})[-\s]?W(\d{1,2})$", re.I), "week"),
    (re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"), "day"),
    (re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"), "day"),
]


def parse_period(text: str) -> Period:
    """Parse a period label; raise InvalidInput naming the text when it is not one."""
    cleaned = text.strip()
    for pattern, kind in _PATTERNS:
        match = pattern.match(cleaned)
        if not match:
            continue
        parts = [int(g) for g in match.groups()]
        try:
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
            return day(date(parts[0], parts[1], parts[2]))
        except ValueError as exc:
            raise InvalidInput(f"'{text}' is not a valid period: {exc}") from exc
    raise InvalidInput(
        f"'{text}' is not a period; use 2027, 2027H1, 2027Q1, 2027-01, 2027-W10 or 2027-01-15"
    )


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
        raise InvalidInput(f"end {end} is before start {start}")
    result: list[Period] = []
    current = period_of(start, grain)
    while current.start <= end:
        result.append(current)
        current = period_of(current.end + timedelta(days=1), grain)
    return result


def clip(period: Period, start: date, end: date) -> Period:
    """The part of `period` inside [start, end], keeping its label."""
    return Period(max(period.start, start), min(period.end, end), period.grain, period.label)
