"""Fiscal periods (FY2027, FY2027H1, FY2027Q1) follow the fiscal year start month."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest

from attain.errors import InvalidInput
from attain.periods import Grain, parse_period


@pytest.mark.parametrize(("label", "start_month", "start", "end", "grain"), [
    ("FY2027", 1, date(2027, 1, 1), date(2027, 12, 31), Grain.YEAR),
    ("FY2027", 4, date(2026, 4, 1), date(2027, 3, 31), Grain.YEAR),
    ("fy2027", 7, date(2026, 7, 1), date(2027, 6, 30), Grain.YEAR),
    ("FY2027Q1", 4, date(2026, 4, 1), date(2026, 6, 30), Grain.QUARTER),
    ("FY2027Q4", 10, date(2027, 7, 1), date(2027, 9, 30), Grain.QUARTER),
    ("FY2027-Q3", 2, date(2026, 8, 1), date(2026, 10, 31), Grain.QUARTER),
    ("FY2027H2", 4, date(2026, 10, 1), date(2027, 3, 31), Grain.HALF),
    ("FY2028Q1", 1, date(2028, 1, 1), date(2028, 3, 31), Grain.QUARTER),
])
def test_fiscal_labels(label: str, start_month: int, start: date, end: date, grain: Grain) -> None:
    period = parse_period(label, start_month)
    assert (period.start, period.end, period.grain) == (start, end, grain)
    assert period.label == label.upper().replace("-", "")


@pytest.mark.parametrize("start_month", range(1, 13))
def test_fiscal_quarters_tile_the_fiscal_year(start_month: int) -> None:
    year = parse_period("FY2030", start_month)
    quarters = [parse_period(f"FY2030Q{q}", start_month) for q in range(1, 5)]
    assert quarters[0].start == year.start and quarters[-1].end == year.end
    assert all((b.start - a.end).days == 1 for a, b in pairwise(quarters))
    assert year.days in (365, 366)


def test_calendar_labels_ignore_the_fiscal_year() -> None:
    assert parse_period("2027Q1", 4).start == date(2027, 1, 1)


@pytest.mark.parametrize("label", ["FY2027Q5", "FY27", "FY2027H3"])
def test_bad_fiscal_labels(label: str) -> None:
    with pytest.raises(InvalidInput, match=label):
        parse_period(label, 4)
