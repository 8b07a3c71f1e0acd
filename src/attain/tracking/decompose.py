"""Gap attribution: split revenue − reference exactly into leads, conversion and deal size (pure).

Revenue is written as a product of three factors, per row (rep, team, region …):

    revenue = leads × conversion × deal size
            = leads × (won deals / leads) × (revenue / won deals)

and the gap to a reference (the target, or the same period last year) is split with additive
LMDI-I (Ang 2004): with the logarithmic mean L(a, b) = (a − b) / (ln a − ln b), L(a, a) = a,

    part_k = L(V₁, V₀) · ln(x₁ₖ / x₀ₖ),      Σₖ part_k = L(V₁, V₀) · ln(V₁ / V₀) = V₁ − V₀

so the three parts add up to the gap exactly (up to float rounding; `round_parts` hands back integer
fen that add up to the integer gap exactly).

Zeros (documented exact rule). The log form needs every factor positive on both sides. When a
factor is zero on one side, we take the limit of LMDI-I when that factor tends to zero (the
"small value" strategy of Ang & Liu 2007): the factors that are positive on both sides get
L(V₁, V₀) · ln(x₁/x₀) → 0, and the whole gap goes to the factors that are zero, shared equally when
more than one is. Both sides zero: the gap is zero and so are all parts.

Raw counts → factors (`funnel_factors`): conversion and deal size are ratios, undefined when their
denominator is zero. Deals won in a period can come from leads created earlier, so a period may
have deals but no new lead: then its leads count as its deals (conversion 100 %). Revenue without a
won deal (small orders that never were opportunities) counts as one deal, so deal size is the
revenue. No deal at all: deal size is the reference's (so a row with leads but no deal shows low
conversion, not small deals); no lead and no deal: conversion is the reference's too (lead
shortage). Either way leads × conversion × deal size equals the revenue exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FACTORS = ("leads", "conversion", "deal_size")
CAUSES = {
    "leads": ("线索不足", "lead shortage"),
    "conversion": ("转化率低", "low conversion"),
    "deal_size": ("客单价低", "small deals"),
}
AHEAD = ("超出参照", "ahead of reference")


@dataclass(frozen=True)
class Factors:
    """Rows of (leads, conversion, deal size); shape (n, 3), all finite and ≥ 0."""

    values: NDArray[np.float64]

    @property
    def totals(self) -> NDArray[np.float64]:
        return np.prod(self.values, axis=1)


def log_mean(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    """Logarithmic mean L(a, b) = (a − b)/(ln a − ln b), elementwise; L(a, a) = a; L(a, 0) = 0."""
    a_values = np.asarray(a, dtype=np.float64)
    b_values = np.asarray(b, dtype=np.float64)
    positive = (a_values > 0) & (b_values > 0)
    safe_a = np.where(positive, a_values, 1.0)
    safe_b = np.where(positive, b_values, 1.0)
    log_ratio = np.log(safe_a) - np.log(safe_b)
    # Close values: (a − b)/ln(a/b) loses precision; the series a·(1 − r/2 + r²/12) with r = ln(a/b) does not.
    near = np.abs(log_ratio) < 1e-6
    denominator = np.where(near, 1.0, log_ratio)
    exact = (safe_a - safe_b) / denominator
    series = safe_a * (1.0 - log_ratio / 2.0 + log_ratio**2 / 12.0)
    return np.where(positive, np.where(near, series, exact), 0.0)


def funnel_factors(
    leads: ArrayLike, deals: ArrayLike, revenue: ArrayLike, fallback: Factors | None = None
) -> Factors:
    """Factors (leads, conversion, deal size) from counts and revenue; their product is the revenue.

    `leads` opportunities created, `deals` opportunities won, `revenue` in any unit (fen). A ratio
    with nothing above and below it (no deal: deal size; no lead and no deal: conversion) takes the
    `fallback` row's value (the reference), else zero, so that the gap lands on the factor that is
    really missing. Other empty denominators: see the module docstring.
    """
    leads_n = np.asarray(leads, dtype=np.float64)
    deals_n = np.asarray(deals, dtype=np.float64)
    revenue_v = np.asarray(revenue, dtype=np.float64)
    if np.any(leads_n < 0) or np.any(deals_n < 0) or np.any(revenue_v < 0):
        raise ValueError("leads, deals and revenue must not be negative")
    effective_deals = np.where((deals_n == 0) & (revenue_v > 0), 1.0, deals_n)
    effective_leads = np.where(leads_n == 0, effective_deals, leads_n)
    conversion = np.divide(effective_deals, effective_leads, out=np.zeros_like(effective_deals), where=effective_leads > 0)
    deal_size = np.divide(revenue_v, effective_deals, out=np.zeros_like(revenue_v), where=effective_deals > 0)
    if fallback is not None:
        conversion = np.where(effective_leads == 0, fallback.values[:, 1], conversion)
        deal_size = np.where(effective_deals == 0, fallback.values[:, 2], deal_size)
    return Factors(np.column_stack([effective_leads, conversion, deal_size]))


def target_factors(target: ArrayLike, conversion: ArrayLike, deal_size: ArrayLike) -> Factors:
    """The reference of a target: implied leads = target / (conversion × deal size), with the given
    (historical) conversion and deal size. Without a usable history (zero conversion or size) the
    target needs one lead at 100 % conversion of target-sized deals."""
    target_v = np.asarray(target, dtype=np.float64)
    conversion_v = np.asarray(conversion, dtype=np.float64)
    size_v = np.asarray(deal_size, dtype=np.float64)
    if np.any(target_v < 0):
        raise ValueError("targets must not be negative")
    usable = (conversion_v > 0) & (size_v > 0)
    conversion_v = np.where(usable, conversion_v, 1.0)
    size_v = np.where(usable, size_v, target_v)
    per_lead = conversion_v * size_v
    leads = np.divide(target_v, per_lead, out=np.zeros_like(target_v), where=per_lead > 0)
    leads = np.where(target_v > 0, leads, 0.0)
    return Factors(np.column_stack([leads, conversion_v, size_v]))


def lmdi(actual: Factors, reference: Factors) -> NDArray[np.float64]:
    """Additive LMDI-I parts, shape (n, 3); each row sums to actual total − reference total."""
    x1, x0 = actual.values, reference.values
    if x1.shape != x0.shape or x1.ndim != 2:
        raise ValueError(f"actual and reference factors must have the same (n, k) shape, got {x1.shape} and {x0.shape}")
    v1, v0 = np.prod(x1, axis=1), np.prod(x0, axis=1)
    weight = log_mean(v1, v0)[:, None]
    both_positive = (x1 > 0) & (x0 > 0)
    ratio = np.where(both_positive, x1, 1.0) / np.where(both_positive, x0, 1.0)
    parts = np.where(both_positive, weight * np.log(ratio), 0.0)
    # Zero factors: the limit of LMDI-I gives the whole gap to them, equally.
    zero_side = np.where((v1 == 0)[:, None], x1 == 0, False) | np.where((v0 == 0)[:, None], x0 == 0, False)
    zero_count = zero_side.sum(axis=1)
    has_zero = zero_count > 0
    share = np.divide((v1 - v0), zero_count, out=np.zeros_like(v1), where=has_zero)
    return np.where(has_zero[:, None], np.where(zero_side, share[:, None], 0.0), parts)


def round_parts(parts: NDArray[np.float64], gaps: ArrayLike) -> NDArray[np.int64]:
    """Integer parts (fen) that add up to each row's integer gap exactly (largest remainder)."""
    gaps_int = np.asarray(gaps, dtype=np.int64)
    count = parts.shape[1]
    # Spread the float drift evenly first, so the floors are at most one fen short per part.
    adjusted = parts + ((gaps_int - parts.sum(axis=1)) / count)[:, None]
    floors = np.floor(adjusted)
    missing = gaps_int - floors.sum(axis=1).astype(np.int64)
    whole, extra = np.divmod(missing, count)
    rank = np.argsort(np.argsort(-(adjusted - floors), axis=1, kind="stable"), axis=1, kind="stable")
    return floors.astype(np.int64) + whole[:, None] + (rank < extra[:, None]).astype(np.int64)


def main_cause(parts: NDArray[np.float64]) -> list[str | None]:
    """Per row, the factor that pulls the figure down most (the most negative part), or None when
    no part is negative (the row is at or above its reference)."""
    worst = np.argmin(parts, axis=1)
    negative = parts[np.arange(len(parts)), worst] < 0
    return [FACTORS[int(k)] if is_negative else None for k, is_negative in zip(worst, negative)]
