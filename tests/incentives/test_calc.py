"""The pure incentive core, hand-computed: bands, curves, caps, proration, pools, what-if."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from attain.incentives import calc

P = Fraction(1, 100)  # one percent
TARGET = 100_000_000  # 1,000,000.00 yuan in fen
BANDS = (calc.Band(0 * P, 60 * P, 0 * P), calc.Band(60 * P, 80 * P, 2 * P), calc.Band(80 * P, 100 * P, 4 * P),
         calc.Band(100 * P, None, 6 * P))
MARGINAL = calc.RateTable(BANDS, calc.MARGINAL)
RETROACTIVE = calc.RateTable(BANDS, calc.RETROACTIVE)
CURVE = calc.Curve(((50 * P, 25 * P), (100 * P, 100 * P), (150 * P, 200 * P)), threshold=50 * P, cap=200 * P)


def pay(table: calc.RateTable, actual: int, target: int = TARGET) -> int:
    return calc.total_of(calc.rate_table_lines("c", table, actual, target))


def test_exactly_at_80_percent_is_in_the_80_to_100_band() -> None:
    assert MARGINAL.band_index(Fraction(80_000_000, TARGET)) == 2
    lines = calc.rate_table_lines("c", MARGINAL, 80_000_000, TARGET)
    # 0–60 % and 60–80 % are filled; the reached 80–100 % band has an empty slice yet
    assert [(line["basis"], line["rate"]) for line in lines] == [(60_000_000, "0"), (20_000_000, "2")]
    assert {line["attainment"] for line in lines} == {"80.00"}
    # 0 % on the first 60 %, 2 % on 60–80 %: 20,000,000 × 2 % = 400,000 fen
    assert pay(MARGINAL, 80_000_000) == 400_000
    assert pay(RETROACTIVE, 80_000_000) == 3_200_000  # 4 % of everything


def test_one_fen_below_80_percent_stays_in_the_lower_band() -> None:
    assert MARGINAL.band_index(Fraction(79_999_999, TARGET)) == 1
    assert pay(MARGINAL, 79_999_999) == 400_000  # 19,999,999 × 2 % = 399,999.98 → 400,000
    assert pay(RETROACTIVE, 79_999_999) == 1_600_000  # 79,999,999 × 2 % = 1,599,999.98


def test_marginal_and_retroactive_on_the_same_numbers() -> None:
    # 120 %: marginal 0 + 400,000 + 800,000 + 6 % × 20,000,000 = 2,400,000; retroactive 6 % × 120,000,000
    assert pay(MARGINAL, 120_000_000) == 2_400_000
    assert pay(RETROACTIVE, 120_000_000) == 7_200_000
    assert pay(MARGINAL, 90_000_000) == 800_000
    assert pay(RETROACTIVE, 90_000_000) == 3_600_000


def test_rate_table_cap_line_brings_the_total_to_the_cap() -> None:
    capped = calc.RateTable(BANDS, calc.RETROACTIVE, cap=5_000_000)
    lines = calc.rate_table_lines("c", capped, 120_000_000, TARGET)
    assert lines[-1]["step"] == "cap" and lines[-1]["amount"] == -2_200_000
    assert calc.total_of(lines) == 5_000_000
    assert pay(calc.RateTable(BANDS, calc.RETROACTIVE, cap=3_200_000), 80_000_000) == 3_200_000  # exactly at the cap: no cap line
    assert [line["step"] for line in calc.rate_table_lines("c", calc.RateTable(BANDS, calc.RETROACTIVE, cap=3_200_000), 80_000_000, TARGET)] == ["band"]


def test_no_target_pays_nothing_and_says_so() -> None:
    lines = calc.rate_table_lines("c", MARGINAL, 5_000, None)
    assert calc.total_of(lines) == 0 and "no target" in str(lines[0]["label"])


def test_negative_period_pays_nothing_from_a_table() -> None:
    assert pay(RETROACTIVE, -1_000) == 0 and pay(MARGINAL, -1_000) == 0


def test_curve_threshold_points_and_cap() -> None:
    incentive = Fraction(1_500_000)  # 15,000 yuan a quarter
    def bonus(attained: Fraction, shape: calc.Curve = CURVE) -> int:
        return calc.total_of(calc.curve_lines("b", shape, attained, incentive, Fraction(1)))

    assert bonus(Fraction(4999, 10_000)) == 0  # 49.99 %: below the threshold
    assert bonus(50 * P) == 375_000  # 25 %
    assert bonus(75 * P) == 937_500  # halfway between 25 % and 100 %: 62.5 %
    assert bonus(150 * P) == 3_000_000  # exactly at the cap of 200 %
    assert bonus(180 * P) == 3_000_000  # flat after the last point
    lower_cap = calc.Curve(CURVE.points, CURVE.threshold, cap=150 * P)
    lines = calc.curve_lines("b", lower_cap, 150 * P, incentive, Fraction(1))
    assert calc.total_of(lines) == 2_250_000 and lines[-1]["step"] == "cap"
    assert [line["step"] for line in calc.curve_lines("b", lower_cap, 125 * P, incentive, Fraction(1))] == ["curve"]  # 150 %: at the cap, not cut


def test_weighted_blend_of_own_and_team() -> None:
    attained = calc.blend([(70 * P, Fraction(8, 10)), (30 * P, Fraction(12, 10))])
    assert attained == Fraction(92, 100)


def test_mid_quarter_joiner_gets_the_days_they_were_there() -> None:
    days = calc.covered_days(date(2027, 1, 1), date(2027, 3, 31), date(2027, 2, 15), None)
    assert days == 45  # 14 days of February + 31 of March
    assert calc.prorated_incentive(6_000_000, 4, days, 90) == 750_000
    assert calc.covered_days(date(2027, 1, 1), date(2027, 3, 31), date(2027, 4, 1), None) == 0


def test_first_day_reaching_the_milestone() -> None:
    days = np.array(["2027-01-05", "2027-01-20", "2027-02-10"], dtype="datetime64[D]")
    amounts = np.array([30, 20, 50], dtype=np.int64)
    assert calc.first_day_reaching(days, amounts, Fraction(50)) == date(2027, 1, 20)
    assert calc.first_day_reaching(days, amounts, Fraction(101)) is None


def test_pool_shares_by_largest_remainder() -> None:
    assert calc.pool_shares(100, [1, 1, 1]) == [34, 33, 33]
    assert calc.pool_shares(3_000_000, [0, 0]) == [1_500_000, 1_500_000]


def test_what_if_next_band_message() -> None:
    def gain(extra: int) -> int:
        return pay(MARGINAL, 75_000_000 + extra)

    step = calc.next_step("c", gain, [b.lower for b in BANDS], Fraction(75, 100), Fraction(1, TARGET), 0)
    assert step is not None and (step.needed, step.gain) == (5_000_000, 100_000)
    assert calc.next_step_message(step) == "再完成 5万 进入下一档，多拿 1,000 元"
    assert calc.wan_text(8_600_000) == "8.6万" and calc.money_text(430_000) == "4,300"


@given(st.lists(st.tuples(st.integers(0, 300), st.integers(0, 400)), min_size=1, max_size=6, unique_by=lambda p: p[0]),
       st.integers(0, 400), st.integers(0, 400))
def test_payout_is_monotone_in_attainment_for_non_decreasing_curves(raw: list[tuple[int, int]], a: int, b: int) -> None:
    xs = sorted(x for x, _y in raw)
    ys = sorted(y for _x, y in raw)  # non-decreasing payout
    shape = calc.Curve(tuple((x * P, y * P) for x, y in zip(xs, ys)), threshold=xs[0] * P)
    low, high = sorted((a, b))
    assert shape.payout(low * P) <= shape.payout(high * P)


@given(st.integers(-10**9, 10**10), st.integers(0, 10**9))
def test_marginal_commission_is_monotone_in_sales(actual: int, more: int) -> None:
    assert pay(MARGINAL, actual) <= pay(MARGINAL, actual + more)


@given(st.integers(0, 10**12), st.lists(st.integers(0, 10**9), min_size=1, max_size=40))
def test_pool_shares_sum_to_the_pool_exactly(pool: int, weights: list[int]) -> None:
    shares = calc.pool_shares(pool, weights)
    assert sum(shares) == pool
    assert all(share >= 0 for share in shares)
    if any(weights):
        total = sum(weights)
        assert all(abs(Fraction(share) - Fraction(pool * w, total)) < 1 for share, w in zip(shares, weights))
