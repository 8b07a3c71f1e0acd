"""Pure customer grading: ABC grades by cumulative revenue share, RFM quintile scores and segments,
lifecycle stages.

NumPy and the standard library only; no database, no I/O. Money is integer fen; shares are compared
exactly in integers (thresholds in basis points), never in floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import numpy as np
from numpy.typing import NDArray

from attain.errors import InvalidInput

# --- ABC -----------------------------------------------------------------------------------------

FULL_BP = 10_000  # 100 % in basis points
GRADES = ("A", "B", "C")


@dataclass(frozen=True)
class AbcThresholds:
    """Revenue shares of the A and B grades in basis points (8000 = 80 %); C is the rest."""

    a_bp: int = 8_000
    b_bp: int = 1_500

    def __post_init__(self) -> None:
        a, b = f"{self.a_bp / 100:g} %", f"{self.b_bp / 100:g} %"
        if self.a_bp <= 0:
            raise InvalidInput.coded("catalog.grading.abc_share_above_got", a=a)
        if self.b_bp < 0:
            raise InvalidInput.coded("catalog.grading.abc_share_more_got", f"ABC: the B share must be 0 % or more (got {b})", b=b)
        if self.a_bp + self.b_bp > FULL_BP:
            raise InvalidInput.coded("catalog.grading.abc_together_most_revenue",
                                     f"ABC: A and B together at most 100 % of revenue (got {a} + {b}); C is the rest", a=a, b=b)

    @classmethod
    def parse(cls, text: str) -> AbcThresholds:
        """'80,15' → A makes the first 80 % of revenue, B the next 15 %, C the rest (up to 2 decimals)."""
        parts = [part.strip().removesuffix("%").strip() for part in text.split(",")]
        if len(parts) != 2:
            raise InvalidInput.coded("catalog.grading.abc_needs_two_percentages", text=text)
        try:
            a, b = (Decimal(part) for part in parts)
        except InvalidOperation:
            raise InvalidInput.coded("catalog.grading.abc_needs_two_percentages", text=text) from None
        if not (a.is_finite() and b.is_finite()) or (a * 100) % 1 or (b * 100) % 1:
            raise InvalidInput.coded("catalog.grading.abc_most_two_decimals", text=text)
        return cls(int(a * 100), int(b * 100))

    def label(self) -> str:
        """'80,15' (the --abc spelling)."""
        return f"{Decimal(self.a_bp) / 100:g},{Decimal(self.b_bp) / 100:g}"


def abc_grades(revenue_fen: NDArray[np.int64], thresholds: AbcThresholds = AbcThresholds()) -> list[str]:
    """'A', 'B' or 'C' per customer from its revenue, by cumulative share of the positive revenue.

    Customers ranked by revenue, highest first: A are the smallest group from the top whose revenue
    reaches `a_bp` of the total, B the next ones until `a_bp + b_bp` is reached, C the rest. A customer's
    grade is decided by the revenue of the customers strictly above it (A when that is below the A share
    of the total, B when below A + B), so equal revenues always get the same grade (the better one)
    whatever their order, and grades never get worse as revenue grows. Revenue of zero or less (no sales,
    or returns only) is C and counts for nothing in the total; with no positive revenue everyone is C.
    """
    revenue = np.asarray(revenue_fen, dtype=np.int64)
    if revenue.size == 0:
        return []
    levels, inverse = np.unique(revenue, return_inverse=True)  # ascending distinct revenues
    positive = [max(int(level), 0) for level in levels.tolist()]
    counts = np.bincount(inverse.ravel(), minlength=len(levels)).tolist()
    per_level = [level * count for level, count in zip(positive, counts)]
    total = sum(per_level)
    # Python ints: revenue × 10,000 bp can pass the int64 range for a large company.
    above, running = [0] * len(levels), 0
    for index in range(len(levels) - 1, -1, -1):
        above[index] = running
        running += per_level[index]
    grade_of_level = []
    for level, strictly_above in zip(positive, above):
        if level <= 0:
            grade_of_level.append("C")
        elif strictly_above * FULL_BP < thresholds.a_bp * total:
            grade_of_level.append("A")
        elif strictly_above * FULL_BP < (thresholds.a_bp + thresholds.b_bp) * total:
            grade_of_level.append("B")
        else:
            grade_of_level.append("C")
    return [grade_of_level[i] for i in inverse.ravel().tolist()]


# --- RFM -----------------------------------------------------------------------------------------

RFM_SEGMENTS = {
    "champions": ("核心客户", "champions"),
    "loyal": ("忠诚客户", "loyal"),
    "new": ("新客户", "new"),
    "promising": ("潜力客户", "promising"),
    "at_risk": ("流失风险", "at risk"),
    "hibernating": ("沉睡客户", "hibernating"),
    "lost": ("已流失", "lost"),
}


def quintile_scores(values: NDArray[np.float64], higher_is_better: bool = True) -> NDArray[np.int64]:
    """Score 1–5 by quintile of rank; 5 is best. Tied customers share the BETTER score (rank by
    "method=max"): when everyone bought on the same day, everyone's recency is 5, not 1."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    keyed = np.asarray(values, dtype=np.float64) if higher_is_better else -np.asarray(values, dtype=np.float64)
    # The rank of a value is the position of the last equal value in ascending order (0-based):
    # ties take the highest rank among them, so they never straddle two scores and get the better one.
    ranks = np.searchsorted(np.sort(keyed, kind="stable"), keyed, side="right") - 1
    return (ranks * 5 // n + 1).astype(np.int64)


def rfm_segments(r: NDArray[np.int64], f: NDArray[np.int64], m: NDArray[np.int64]) -> list[str]:
    """Name a segment from R, F, M scores (1–5), first rule that matches wins."""
    segments = []
    for rs, fs, ms in zip(r.tolist(), f.tolist(), m.tolist()):
        if rs >= 4 and fs >= 4 and ms >= 4:
            segments.append("champions")
        elif fs >= 4 and rs >= 3:
            segments.append("loyal")
        elif rs >= 4 and fs <= 2:
            segments.append("new")
        elif rs >= 3:
            segments.append("promising")
        elif fs >= 3 or ms >= 4:
            segments.append("at_risk")
        elif rs == 2:
            segments.append("hibernating")
        else:
            segments.append("lost")
    return segments


# --- lifecycle -----------------------------------------------------------------------------------

LIFECYCLE = {
    "new": ("新客户", "new"),
    "active": ("活跃", "active"),
    "sleeping": ("沉睡", "sleeping"),
    "lost": ("流失", "lost"),
    "prospect": ("潜在", "prospect"),
}


def lifecycle_stage(days_since_first: int | None, days_since_last: int | None) -> str:
    """prospect (never bought), new (first order within 90 days), active (an order within 90 days),
    sleeping (last order 90–365 days ago), lost (over a year)."""
    if days_since_last is None or days_since_first is None:
        return "prospect"
    if days_since_first <= 90:
        return "new"
    if days_since_last <= 90:
        return "active"
    if days_since_last <= 365:
        return "sleeping"
    return "lost"
