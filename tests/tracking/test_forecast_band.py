"""The dashboard's forecast band (`calc.forecast_band`): P50 is tracking's seasonal forecast, P10/P90
stretch what is still to come by the spread of the closed months' pace."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from attain.periods import month
from attain.tracking import calc


def month_progress(as_of: date) -> list[calc.TimeProgress]:
    return [calc.time_progress(p.start, p.end, as_of) for p in (month(2026, m) for m in range(1, 13))]


def year_figures(actual: int, target: int, as_of: date) -> calc.Figures:
    return calc.figures(actual, Fraction(target), calc.time_progress(date(2026, 1, 1), date(2026, 12, 31), as_of))


def test_p50_is_the_seasonal_forecast_and_p10_p90_stretch_the_rest_by_the_monthly_pace() -> None:
    as_of = date(2026, 4, 15)
    actuals = [80_00, 100_00, 120_00, 50_00] + [0] * 8
    targets = [Decimal(100_00)] * 12
    total = sum(actuals)
    forecast = year_figures(total, 1200_00, as_of).seasonal_forecast
    band = calc.forecast_band(total, forecast, actuals, targets, month_progress(as_of))
    assert band is not None and band.p50 == forecast
    # Closed months' pace 0.8, 1.0, 1.2: the 10th and 90th percentiles are 0.84 and 1.16 of the median.
    rest = Fraction(forecast) - total
    assert band.p10 == calc.to_decimal(total + rest * Fraction("0.84"))
    assert band.p90 == calc.to_decimal(total + rest * Fraction("1.16"))
    assert band.current == 3
    assert band.cumulative_actual == (80_00, 180_00, 300_00, 350_00)
    assert band.cumulative_target[-1] == 1200_00
    for path, end in ((band.path_p10, band.p10), (band.path_p50, band.p50), (band.path_p90, band.p90)):
        assert path[:3] == (None, None, None) and path[-1] == end
        known = [value for value in path if value is not None]
        assert known == sorted(known) and known[0] >= total


def test_without_a_closed_month_the_band_is_the_forecast() -> None:
    as_of = date(2026, 1, 20)
    actuals = [70_00] + [0] * 11
    forecast = year_figures(70_00, 1200_00, as_of).seasonal_forecast
    band = calc.forecast_band(70_00, forecast, actuals, [Decimal(100_00)] * 12, month_progress(as_of))
    assert band is not None and band.p10 == band.p50 == band.p90 == forecast


def test_before_the_period_there_is_no_band_and_after_it_the_band_is_the_actual() -> None:
    before = date(2025, 12, 31)
    assert calc.forecast_band(0, year_figures(0, 1200_00, before).seasonal_forecast, [0] * 12,
                              [Decimal(100_00)] * 12, month_progress(before)) is None
    after = date(2027, 1, 5)
    actuals = [90_00, 110_00] * 6
    band = calc.forecast_band(sum(actuals), year_figures(sum(actuals), 1200_00, after).seasonal_forecast, actuals,
                              [Decimal(100_00)] * 12, month_progress(after))
    assert band is not None and band.p10 == band.p50 == band.p90 == sum(actuals) and band.current == 11


@settings(max_examples=60, deadline=None)
@given(
    closed=st.lists(st.integers(0, 500_00), min_size=0, max_size=10),
    targets=st.lists(st.integers(1, 300_00), min_size=12, max_size=12),
    running=st.integers(0, 200_00),
)
def test_the_band_is_ordered_and_ends_on_its_figures(closed: list[int], targets: list[int], running: int) -> None:
    as_of = date(2026, len(closed) + 1, 10)
    actuals = [*closed, running] + [0] * (11 - len(closed))
    total = sum(actuals)
    forecast = year_figures(total, sum(targets), as_of).seasonal_forecast
    band = calc.forecast_band(total, forecast, actuals, [Decimal(t) for t in targets], month_progress(as_of))
    assert band is not None and band.p50 == forecast
    assert total <= band.p10 <= band.p50 <= band.p90
    assert (band.path_p10[-1], band.path_p50[-1], band.path_p90[-1]) == (band.p10, band.p50, band.p90)
    assert band.cumulative_actual[-1] == total and band.current == len(closed)
