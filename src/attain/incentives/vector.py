"""The incentive arithmetic of `incentives.calc`, vectorised: one NumPy array per figure, one entry per person.

Same inputs, same rounding, same fen as the scalar functions (`calc.rate_table_lines`, `calc.curve_lines`,
slices, SPIFs), which stay the reference (tests/incentives/test_vector.py checks that they agree on random
plans). Money comes in and goes out as int64 fen; in between, every ratio is kept as an exact pair of
integer arrays (numerator, denominator) of Python integers (NumPy object arrays: exact whatever the size,
a product of two targets included), and each amount is rounded once, half away from zero, as `calc.round_fen`.

An attainment is never a float: `a/b >= c/d` is compared as `a·d >= c·b` (denominators are positive).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from attain.incentives.calc import RETROACTIVE, Curve, RateTable

Ints = NDArray[np.object_]  # exact integers (Python ints in an object array)


def exact(values: object) -> Ints:
    """An array of exact integers (int64 input → Python ints)."""
    array = np.asarray(values)
    return array.astype(object) if array.dtype != object else array


def round_half_away(numerator: Ints, denominator: Ints | int) -> NDArray[np.int64]:
    """Each numerator/denominator (denominator > 0) rounded to the nearest integer, halves away from
    zero: `calc.round_fen` element-wise."""
    magnitude = (2 * np.abs(numerator) + denominator) // (2 * denominator)
    return np.where(numerator >= 0, magnitude, -magnitude).astype(np.int64)


def _zeros(n: int) -> NDArray[np.int64]:
    return np.zeros(n, dtype=np.int64)


def rate_table_amounts(table: RateTable, actual: NDArray[np.int64], target: NDArray[np.int64],
                       has_target: NDArray[np.bool_]) -> NDArray[np.int64]:
    """What `calc.rate_table_lines` pays per person (cap included): commission on `actual` fen by
    attainment band of actual/target; nothing where there is no positive target."""
    valid = has_target & (target > 0)
    a = exact(actual)
    t = exact(np.where(valid, target, 1))
    total = _zeros(len(a))
    if table.mode == RETROACTIVE:
        open_ = valid.copy()
        base = np.where(a > 0, a, 0)
        for band in table.bands:
            low = band.lower
            inside = open_ & (a * low.denominator >= low.numerator * t)
            if band.upper is not None:
                inside &= a * band.upper.denominator < band.upper.numerator * t
            amount = round_half_away(base * band.rate.numerator, band.rate.denominator)
            total = np.where(inside, amount, total)
            open_ &= ~inside
    else:
        for band in table.bands:
            low = band.lower
            if band.upper is None:
                den = low.denominator
                num = a * den - low.numerator * t
            else:
                up = band.upper
                den = low.denominator * up.denominator
                high = np.minimum(a * den, up.numerator * low.denominator * t)
                num = high - low.numerator * up.denominator * t
            paid = num > 0
            amount = round_half_away(num * band.rate.numerator, den * band.rate.denominator)
            total = total + np.where(paid, amount, 0)
    if table.cap is not None:
        total = np.where(total > table.cap, table.cap, total)
    return np.where(valid, total, 0).astype(np.int64)


def blended_attainment(parts: Sequence[tuple[Fraction, NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]]
                       ) -> tuple[Ints, Ints, NDArray[np.bool_]]:
    """Σ weight × actual/target over the parts as (numerator, denominator > 0, defined): `calc.blend`
    of `calc.attainment`, undefined where any part has no positive target."""
    n = len(parts[0][1])
    num: Ints = exact(np.zeros(n, dtype=np.int64))
    den: Ints = exact(np.ones(n, dtype=np.int64))
    defined = np.ones(n, dtype=bool)
    for weight, actual, target, has_target in parts:
        valid = has_target & (target > 0)
        defined &= valid
        t = exact(np.where(valid, target, 1))
        part_den = weight.denominator * t
        num = num * part_den + weight.numerator * exact(actual) * den
        den = den * part_den
    return num, den, defined


def curve_amounts(curve: Curve, attained: tuple[Ints, Ints, NDArray[np.bool_]], incentive: tuple[Ints, Ints],
                  weight: Fraction) -> NDArray[np.int64]:
    """What `calc.curve_lines` pays per person: round(incentive × weight × curve(attainment))."""
    an, ad, defined = attained
    n = len(an)

    def at_least(x: Fraction) -> NDArray[np.bool_]:
        return np.asarray(an * x.denominator >= x.numerator * ad, dtype=bool)

    def at_most(x: Fraction) -> NDArray[np.bool_]:
        return np.asarray(an * x.denominator <= x.numerator * ad, dtype=bool)

    points = curve.points
    sn: Ints = exact(np.zeros(n, dtype=np.int64))
    sd: Ints = exact(np.ones(n, dtype=np.int64))
    open_ = defined & at_least(curve.threshold)
    paying = open_.copy()

    def assign(mask: NDArray[np.bool_], num: Ints | int, den: Ints | int) -> None:
        nonlocal sn, sd, open_
        sn = np.where(mask, num, sn)
        sd = np.where(mask, den, sd)
        open_ = open_ & ~mask

    first_x, first_y = points[0]
    last_x, last_y = points[-1]
    assign(open_ & at_most(first_x), first_y.numerator, first_y.denominator)
    assign(open_ & at_least(last_x), last_y.numerator, last_y.denominator)
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        inside = open_ & at_least(x0) & at_most(x1)
        if x1 == x0:
            assign(inside, y0.numerator, y0.denominator)
            continue
        k = (y1 - y0) / (x1 - x0)
        # y0 + k·(an/ad − x0) over the common denominator y0.d · k.d · ad · x0.d
        offset = an * x0.denominator - x0.numerator * ad
        num = y0.numerator * k.denominator * ad * x0.denominator + y0.denominator * k.numerator * offset
        den = y0.denominator * k.denominator * ad * x0.denominator
        assign(inside, num, den)
    if open_.any():  # between points but in no segment: cannot happen with ascending points; as calc, the last payout
        assign(open_, last_y.numerator, last_y.denominator)
    if curve.cap is not None:
        over = np.asarray(sn * curve.cap.denominator > curve.cap.numerator * sd, dtype=bool)
        sn = np.where(over, curve.cap.numerator, sn)
        sd = np.where(over, curve.cap.denominator, sd)
    inum, iden = incentive
    amount = round_half_away(inum * weight.numerator * sn, iden * weight.denominator * sd)
    return np.where(paying, amount, 0).astype(np.int64)


def rated_amounts(basis: NDArray[np.int64], rate: Fraction) -> NDArray[np.int64]:
    """round(max(basis, 0) × rate): a slice rate on the credited amount of a slice."""
    b = exact(np.maximum(basis, 0))
    return round_half_away(b * rate.numerator, rate.denominator)


def spif_amounts(per_unit: int, share_bp_total: NDArray[np.int64]) -> NDArray[np.int64]:
    """`calc.spif_amount` element-wise: a fixed amount times the summed credited share (basis points)."""
    return round_half_away(exact(share_bp_total) * per_unit, 10_000)


def best_running_totals(nodes: NDArray[np.int64], amounts: NDArray[np.int64]) -> tuple[NDArray[np.int64], Ints]:
    """Rows sorted by node, then day: each node once and the highest its running total of `amounts`
    reaches (a milestone is reached when that is at or above the goal: `calc.first_day_reaching`)."""
    if len(nodes) == 0:
        return np.zeros(0, dtype=np.int64), exact(np.zeros(0, dtype=np.int64))
    starts = np.flatnonzero(np.r_[True, nodes[1:] != nodes[:-1]])
    running = np.cumsum(exact(amounts))
    before = np.empty(len(starts), dtype=object)
    before[0] = 0
    before[1:] = running[starts[1:] - 1]
    relative = running - np.repeat(before, np.diff(np.r_[starts, len(nodes)]))
    best = np.maximum.reduceat(relative, starts)
    return nodes[starts], best
