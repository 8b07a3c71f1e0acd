import itertools
from datetime import date

import pytest

from attain.errors import InvalidInput
from attain.periods import Grain, parse_period, period_of, periods_between


@pytest.mark.parametrize(
    ("label", "start", "end", "grain"),
    [
        ("2027", date(2027, 1, 1), date(2027, 12, 31), Grain.YEAR),
        ("2027H2", date(2027, 7, 1), date(2027, 12, 31), Grain.HALF),
        ("2027Q1", date(2027, 1, 1), date(2027, 3, 31), Grain.QUARTER),
        ("2027-q4", date(2027, 10, 1), date(2027, 12, 31), Grain.QUARTER),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29), Grain.MONTH),
        ("2027年3月", date(2027, 3, 1), date(2027, 3, 31), Grain.MONTH),
        ("2027-W10", date(2027, 3, 8), date(2027, 3, 14), Grain.WEEK),
        ("2027-01-15", date(2027, 1, 15), date(2027, 1, 15), Grain.DAY),
    ],
)
def test_parse_period_labels(label: str, start: date, end: date, grain: Grain) -> None:
    period = parse_period(label)
    assert (period.start, period.end, period.grain) == (start, end, grain)


@pytest.mark.parametrize("label", ["2027Q5", "2027-13", "2027-W60", "next year", "", "2027-02-30"])
def test_parse_period_rejects_nonsense(label: str) -> None:
    with pytest.raises(InvalidInput):
        parse_period(label)


def test_periods_between_months_cover_the_year_without_gaps() -> None:
    months = periods_between(date(2027, 1, 1), date(2027, 12, 31), Grain.MONTH)
    assert [m.label for m in months][:2] == ["2027-01", "2027-02"]
    assert sum(m.days for m in months) == 365
    assert all(a.end.toordinal() + 1 == b.start.toordinal() for a, b in itertools.pairwise(months))


def test_iso_week_of_new_year_belongs_to_previous_iso_year() -> None:
    assert period_of(date(2027, 1, 1), Grain.WEEK).label == "2026-W53"
