"""The pure core of incentive pay: rate tables, payout curves, blends, proration, pools, what-if.

No database, no I/O. Money is integer fen; attainment, rates and curve points are exact `Fraction`s
(0.8 = 80 %), so a band boundary is exact (80.00 % is in the 80–100 % band, never 79.999…). Each
amount is rounded once, half away from zero, by `round_fen`; a component's amount is the sum of its
visible lines, so a statement's lines always add up to its total to the fen.

Lines are plain dicts (JSON-ready, stored as they are in a frozen statement):
    component  the component code
    step       what the line is: credited, attainment, band, curve, cap, slice, milestone, spif, pool, …
    label      words for people (zh/en mixed, as the CLI prints them)
    basis      the amount the line works on, in fen (or a count), or None
    attainment attainment in percent as a string with two decimals ("80.00"), or None
    rate       the rate or payout percent applied, as a string ("4" = 4 %), or None
    amount     fen paid by this line (None: an information line, not part of the total)
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

MARGINAL = "marginal"
RETROACTIVE = "retroactive"
HUNDRED = Fraction(100)

Line = dict[str, object]


def round_fen(value: Fraction) -> int:
    """The integer fen nearest to `value`, halves away from zero (the one rounding of this module)."""
    # Integer arithmetic only (statements round tens of thousands of amounts): floor((2|n| + d) / 2d).
    numerator, denominator = value.numerator, value.denominator
    rounded = (2 * abs(numerator) + denominator) // (2 * denominator)
    return rounded if numerator >= 0 else -rounded


def ceil_fen(value: Fraction) -> int:
    """The smallest whole fen at or above `value` (what a rep must still sell)."""
    return math.ceil(value)


def percent_text(value: Fraction | None) -> str | None:
    """Attainment (a fraction) as percent with two decimals, e.g. Fraction(4, 5) → '80.00'."""
    if value is None:
        return None
    hundredths = round_fen(value * 10_000)
    sign = "-" if hundredths < 0 else ""
    return f"{sign}{abs(hundredths) // 100}.{abs(hundredths) % 100:02d}"


def rate_text(rate: Fraction) -> str:
    """A rate as percent, at most four decimals, without trailing zeros: Fraction(1, 25) → '4'."""
    exact = Decimal(rate.numerator) * 100 / Decimal(rate.denominator)
    text = format(exact.quantize(Decimal("0.0001"), ROUND_HALF_UP), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def attainment(actual: int | Fraction, target: int | Fraction | None) -> Fraction | None:
    """actual / target, or None when there is no positive target."""
    if target is None or target <= 0:
        return None
    whole, part = Fraction(actual), Fraction(target)
    return Fraction(whole.numerator * part.denominator, whole.denominator * part.numerator)


@dataclass(frozen=True)
class Band:
    """Attainment in [lower, upper) pays `rate` (fractions: 0.8, 1.0, 0.04); upper None: no end."""

    lower: Fraction
    upper: Fraction | None
    rate: Fraction

    @property
    def label(self) -> str:
        upper = "∞" if self.upper is None else f"{rate_text(self.upper)}%"
        return f"{rate_text(self.lower)}%–{upper}"


@dataclass(frozen=True)
class RateTable:
    bands: tuple[Band, ...]  # ascending, contiguous (validated by the importer)
    mode: str  # MARGINAL: each band pays its own slice; RETROACTIVE: the reached band pays everything
    cap: int | None = None  # most a period pays, fen

    def band_index(self, attained: Fraction) -> int | None:
        """The band holding `attained` (lower bound inclusive), or None below the first band."""
        for i, band in enumerate(self.bands):
            if attained >= band.lower and (band.upper is None or attained < band.upper):
                return i
        return None


@dataclass(frozen=True)
class Curve:
    """Payout (share of the target incentive) as a piecewise-linear function of attainment.

    points ascend in attainment; below `threshold` nothing is paid; between the threshold and the
    first point the first point's payout; above the last point the last point's payout; `cap` (a
    payout share) bounds the result."""

    points: tuple[tuple[Fraction, Fraction], ...]
    threshold: Fraction
    cap: Fraction | None = None

    def payout(self, attained: Fraction) -> Fraction:
        return self.evaluate(attained)[0]

    def evaluate(self, attained: Fraction) -> tuple[Fraction, bool]:
        """(payout share, whether the cap cut it)."""
        if attained < self.threshold:
            return Fraction(0), False
        points = self.points
        if attained <= points[0][0]:
            share = points[0][1]
        elif attained >= points[-1][0]:
            share = points[-1][1]
        else:
            share = points[-1][1]
            for (x0, y0), (x1, y1) in itertools.pairwise(points):
                if x0 <= attained <= x1:
                    share = y0 if x1 == x0 else y0 + (y1 - y0) * (attained - x0) / (x1 - x0)
                    break
        if self.cap is not None and share > self.cap:
            return self.cap, True
        return share, False

    def kinks(self) -> list[Fraction]:
        """Attainments where the payout changes slope or steps: the threshold and the points."""
        return sorted({self.threshold, *(x for x, _y in self.points)})


def rate_table_lines(code: str, table: RateTable, actual: int, target: int | Fraction | None) -> list[Line]:
    """Commission on credited sales by attainment band. Nothing is paid on a negative period
    (returns above sales): earlier periods are corrected by adjustments, not by a negative table."""
    attained = attainment(actual, target)
    if attained is None:
        return [_line(code, "band", "no target: no band can be reached / 无目标", basis=actual, amount=0)]
    lines: list[Line] = []
    reached = table.band_index(attained)
    if table.mode == RETROACTIVE:
        band = table.bands[reached] if reached is not None else None
        rate = band.rate if band is not None else Fraction(0)
        amount = round_fen(max(Fraction(actual), Fraction(0)) * rate)
        label = f"retroactive: band {band.label} rate applies to all sales / 达档全额" if band else "below the first band / 未达档"
        lines.append(_line(code, "band", label, basis=actual, attained=attained, rate=rate, amount=amount))
    else:
        target_f = Fraction(target)  # type: ignore[arg-type]
        for band in table.bands:
            low = band.lower * target_f
            high = Fraction(actual) if band.upper is None else min(Fraction(actual), band.upper * target_f)
            base = high - low
            if base <= 0:
                continue
            lines.append(_line(code, "band", f"marginal: sales in band {band.label} / 分段", basis=round_fen(base),
                               attained=attained, rate=band.rate, amount=round_fen(base * band.rate)))
        if not lines:
            lines.append(_line(code, "band", "below the first band / 未达档", basis=actual, attained=attained, amount=0))
    return _capped(code, lines, table.cap)


def _capped(code: str, lines: list[Line], cap: int | None) -> list[Line]:
    earned = sum(int(line["amount"]) for line in lines if line["amount"] is not None)  # type: ignore[call-overload]
    if cap is not None and earned > cap:
        lines.append(_line(code, "cap", f"cap {cap / 100:,.2f} per period / 封顶", basis=earned, amount=cap - earned))
    return lines


def curve_lines(
    code: str, curve: Curve, attained: Fraction | None, period_incentive: Fraction, weight: Fraction,
) -> list[Line]:
    """Bonus on the target incentive: period incentive × weight × curve(attainment)."""
    on_target = period_incentive * weight
    if attained is None:
        return [_line(code, "curve", "no target: no attainment / 无目标", basis=round_fen(on_target), amount=0)]
    share, capped = curve.evaluate(attained)
    if attained < curve.threshold:
        label = f"below the threshold {rate_text(curve.threshold)}% / 未达门槛"
    else:
        label = f"curve at {percent_text(attained)}% pays {rate_text(share)}% of target incentive / 曲线"
    lines = [_line(code, "curve", label, basis=round_fen(on_target), attained=attained, rate=share,
                   amount=round_fen(on_target * share))]
    if capped:
        lines.append(_line(code, "cap", f"payout capped at {rate_text(curve.cap)}% / 封顶", amount=None))  # type: ignore[arg-type]
    return lines


def blend(parts: Sequence[tuple[Fraction, Fraction | None]]) -> Fraction | None:
    """Weighted attainment Σ weight × attainment (weights sum to 1); None when a part has no target."""
    if any(attained is None for _w, attained in parts):
        return None
    return sum((w * a for w, a in parts), Fraction(0))  # type: ignore[operator]


@functools.lru_cache(maxsize=4096)  # a statement run asks for the same few values thousands of times
def prorated_incentive(annual: int, periods_per_year: int, covered_days: int, period_days: int) -> Fraction:
    """The target incentive of one settlement period: the year's / periods, times the share of the
    period's days the person was in the plan (a mid-quarter joiner gets the days they were there)."""
    if period_days <= 0 or covered_days <= 0:
        return Fraction(0)
    return Fraction(annual, periods_per_year) * Fraction(min(covered_days, period_days), period_days)


def covered_days(start: date, end: date, valid_from: date, valid_to: date | None) -> int:
    """Days of [start, end] within [valid_from, valid_to] (inclusive; valid_to None: open)."""
    first = max(start, valid_from)
    last = end if valid_to is None else min(end, valid_to)
    return max((last - first).days + 1, 0)


def first_day_reaching(days: NDArray[np.datetime64], amounts: NDArray[np.int64], goal: Fraction) -> date | None:
    """The first day on which the running total of daily `amounts` (ascending `days`) reaches `goal`."""
    if len(days) == 0:
        return None
    running = np.cumsum(amounts.astype(object))  # exact integers, whatever their size
    for day, total in zip(days, running):
        if Fraction(int(total)) >= goal:
            return date.fromisoformat(str(day)[:10])
    return None


def pool_shares(pool: int, weights: Sequence[int]) -> list[int]:
    """Split `pool` fen over `weights` (non-negative) by largest remainder: the shares add up to the
    pool exactly. All weights zero: equal shares."""
    if not weights:
        return []
    if pool == 0:
        return [0] * len(weights)
    counted = list(weights) if any(weights) else [1] * len(weights)
    total = sum(counted)
    exact = [Fraction(pool * w, total) for w in counted]
    shares = [math.floor(x) for x in exact]
    left = pool - sum(shares)
    # Largest remainder first; ties go to the earlier person (a stable, reproducible order).
    for i in sorted(range(len(exact)), key=lambda i: (-(exact[i] - shares[i]), i))[:left]:
        shares[i] += 1
    return shares


def spif_amount(per_unit: int, share_bp_total: int) -> int:
    """A fixed amount per qualifying order or customer, times the rep's credited share of each."""
    return round_fen(Fraction(per_unit * share_bp_total, 10_000))


@dataclass(frozen=True)
class NextStep:
    """What reaching the next band or curve point takes: `needed` fen more credited sales pays `gain` fen more."""

    component: str
    goal: Fraction  # the attainment of the next step
    needed: int
    gain: int
    kind: str = "band"  # band (a band or curve point), milestone, or pool (the team pool's threshold)
    name: str = ""  # the component's name (a milestone's, shown in the message)


def next_step(
    code: str, payout: Callable[[int], int], steps: Sequence[Fraction], now: Fraction | None, slope: Fraction, actual: int,
) -> NextStep | None:
    """The first step above the attainment `now`, reached by extra own sales: attainment grows by
    `slope` per fen (Σ weight/target over the blended parts); `payout(extra)` is the component's pay
    with `extra` fen more."""
    if now is None or slope <= 0:
        return None
    for goal in sorted(steps):
        if goal > now:
            needed = ceil_fen((goal - now) / slope)
            return NextStep(code, goal, needed, payout(needed) - payout(0))
    return None


def money_text(fen: int) -> str:
    """Yuan with thousands separators, no decimals when whole: 430000 → '4,300'."""
    yuan = Decimal(fen) / 100
    return f"{yuan:,.0f}" if fen % 100 == 0 else f"{yuan:,.2f}"


def wan_text(fen: int) -> str:
    """An amount as people say it: 8,600,000 fen → '8.6万'; under 10,000 yuan in yuan."""
    yuan = Decimal(fen) / 100
    if abs(yuan) >= 10_000:
        return f"{(yuan / 10_000).quantize(Decimal('0.1'), ROUND_HALF_UP).normalize():f}万"
    return f"{money_text(fen)} 元"


def next_step_message(step: NextStep) -> str:
    """再完成 8.6万 进入下一档，多拿 4,300 元 (a milestone or the team pool is named as such)."""
    needed, gain = wan_text(step.needed), money_text(step.gain)
    if step.kind == "milestone":
        return f"再完成 {needed} 达成里程碑「{step.name or step.component}」，多拿 {gain} 元"
    if step.kind == "pool":
        return f"再完成 {needed} 团队奖池达标，多拿 {gain} 元"
    return f"再完成 {needed} 进入下一档，多拿 {gain} 元"


def next_step_message_en(step: NextStep) -> str:
    """Another 86,000 of sales reaches the next band, paying 4,300 more."""
    needed, gain = money_text(step.needed), money_text(step.gain)
    if step.kind == "milestone":
        return f"Another {needed} of sales reaches the milestone {step.name or step.component}, paying {gain} more"
    if step.kind == "pool":
        return f"Another {needed} of sales funds the team pool, paying {gain} more"
    return f"Another {needed} of sales reaches the next band, paying {gain} more"


def _line(
    code: str, step: str, label: str, *, basis: int | None = None, attained: Fraction | None = None,
    rate: Fraction | None = None, amount: int | None = None,
) -> Line:
    return {"component": code, "step": step, "label": label, "basis": basis, "attainment": percent_text(attained),
            "rate": None if rate is None else rate_text(rate), "amount": amount}


def info_line(code: str, step: str, label: str, *, basis: int | None = None, attained: Fraction | None = None) -> Line:
    """A line that shows a figure of the calculation without paying anything."""
    return _line(code, step, label, basis=basis, attained=attained)


def pay_line(code: str, step: str, label: str, *, amount: int, basis: int | None = None, rate: Fraction | None = None) -> Line:
    """A line that pays `amount` fen."""
    return _line(code, step, label, basis=basis, rate=rate, amount=amount)


def total_of(lines: Sequence[Line]) -> int:
    """The fen the lines pay (information lines count nothing)."""
    return sum(int(line["amount"]) for line in lines if line["amount"] is not None)  # type: ignore[call-overload]
