"""Reverse funnel: from a money target back to the deals, proposals and leads it takes. Pure, no I/O.

Every count is rounded UP and computed exactly: money in integer minor units (or Fractions), rates
as integers in parts per million, so `ceil(3 / 0.2)` is 15 and never 16 from a float that came out
as 15.000000000000002. Counts are then spread over the working days of a period by largest
remainder with ties to the earlier day (equal weights: the first `count % days` days get one more),
so the days always add up to each stage's count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike, NDArray

from attain.errors import InvalidInput

# Conversion rates are exact integers in millionths (0.2 → 200000).
RATE_SCALE = 1_000_000
# Above this a count times RATE_SCALE could overflow int64; no sales funnel gets near it.
_MAX_COUNT = 10**12


@dataclass(frozen=True)
class Funnel:
    """Counts needed per stage (deals first) and per day (`per_day[d][s]` for day d, stage s)."""

    stages: tuple[str, ...]
    counts: tuple[int, ...]
    per_day: tuple[tuple[int, ...], ...]


def rate_to_ppm(rate: Decimal | str | float, label: str = "rate") -> int:
    """A conversion rate in (0, 1] as an exact integer in millionths; InvalidInput otherwise."""
    try:
        exact = Decimal(str(rate))
    except ArithmeticError as exc:
        raise InvalidInput.coded("funnel.number", label=label, rate=rate) from exc
    if not exact.is_finite() or not 0 < exact <= 1:
        raise InvalidInput.coded("funnel.above_most", label=label, rate=rate)
    scaled = exact * RATE_SCALE
    if scaled != scaled.to_integral_value():
        raise InvalidInput.coded("funnel.more_decimal_places", label=label, rate=rate)
    return int(scaled)


def deals_needed(targets: ArrayLike, deal_sizes: ArrayLike) -> NDArray[np.int64]:
    """ceil(target / deal size) per rep; both in the same integer minor units, targets >= 0, sizes > 0."""
    target_minor = np.asarray(targets, dtype=np.int64)
    size_minor = np.asarray(deal_sizes, dtype=np.int64)
    if np.any(target_minor < 0):
        raise InvalidInput.coded("funnel.targets_negative_got", min=target_minor.min())
    if np.any(size_minor <= 0):
        raise InvalidInput.coded("funnel.deal_sizes_positive_got", min=size_minor.min())
    return -(-target_minor // size_minor)


def stage_counts(deals: ArrayLike, rates_ppm: ArrayLike) -> NDArray[np.int64]:
    """Counts per rep and stage, shape (reps, stages): stage 0 is the deals, stage k+1 is
    ceil(stage k / rate k). `rates_ppm` has shape (reps, stages - 1), each rate in (0, RATE_SCALE]."""
    deal_counts = np.asarray(deals, dtype=np.int64)
    rates = np.asarray(rates_ppm, dtype=np.int64)
    if deal_counts.ndim != 1:
        raise InvalidInput.coded("funnel.deals_one_number_per")
    if rates.ndim != 2 or rates.shape[0] != deal_counts.shape[0]:
        raise InvalidInput.coded("funnel.rates_one_row_per", shape=deal_counts.shape[0], shape2=rates.shape)
    if np.any(deal_counts < 0):
        raise InvalidInput.coded("funnel.deal_counts_negative")
    if np.any(rates <= 0) or np.any(rates > RATE_SCALE):
        raise InvalidInput.coded("funnel.conversion_rates_above_most")
    counts = np.empty((deal_counts.shape[0], rates.shape[1] + 1), dtype=np.int64)
    counts[:, 0] = deal_counts
    for stage in range(rates.shape[1]):
        if np.any(counts[:, stage] > _MAX_COUNT):
            raise InvalidInput.coded("funnel.funnel_needs_more_one", max_count=_MAX_COUNT)
        # ceil(n / (r / SCALE)) = ceil(n * SCALE / r), in integers.
        counts[:, stage + 1] = -(-counts[:, stage] * RATE_SCALE // rates[:, stage])
    return counts


def spread_over_days(counts: ArrayLike, worked: ArrayLike) -> NDArray[np.int64]:
    """Spread each rep's stage counts (reps, stages) over the days of a period, shape (reps, days, stages).

    Only days with `worked` True get a share; equal shares by largest remainder, earlier days first,
    so every stage's days add up to its count exactly.
    """
    stage_totals = np.asarray(counts, dtype=np.int64)
    worked_days = np.asarray(worked, dtype=bool)
    if stage_totals.ndim != 2:
        raise InvalidInput.coded("funnel.counts_shape_reps_stages")
    if worked_days.ndim != 1 or worked_days.size == 0:
        raise InvalidInput.coded("funnel.period_needs_least_one")
    n_worked = int(worked_days.sum())
    if n_worked == 0:
        if np.any(stage_totals):
            raise InvalidInput.coded("funnel.period_working_day_spread")
        return np.zeros((stage_totals.shape[0], worked_days.size, stage_totals.shape[1]), dtype=np.int64)
    base = stage_totals // n_worked
    extra = stage_totals % n_worked
    # rank of each worked day among the worked days: 0, 1, 2 … (non-worked days get -1)
    rank = np.where(worked_days, np.cumsum(worked_days) - 1, -1)
    share = base[:, None, :] + (rank[None, :, None] < extra[:, None, :])
    return np.where(worked_days[None, :, None], share, 0).astype(np.int64)


def reverse_funnel(
    *,
    stages: Sequence[str],
    rates: Sequence[Decimal | str],
    target: Decimal | str | None = None,
    deal_size: Decimal | str | None = None,
    deals: int | None = None,
    days: int = 1,
) -> Funnel:
    """The counts a money target (or a number of deals) needs at each stage, and per day over `days` days.

    `stages` run from the deal back to the first touch (deal, prospect, lead); `rates[k]` converts
    stage k+1 into stage k (0.2: one prospect in five becomes a deal).
    """
    names = tuple(s.strip() for s in stages)
    if not names or any(not s for s in names):
        raise InvalidInput.coded("funnel.give_stage_names_deal")
    if len(set(names)) != len(names):
        raise InvalidInput.coded("funnel.stage_names_repeat", items=', '.join(names))
    if len(rates) != len(names) - 1:
        raise InvalidInput.coded("funnel.stages_need_conversion_rates", count=len(names), value=len(names) - 1, count2=len(rates))
    rates_ppm = [rate_to_ppm(r, f"rate {names[k + 1]}→{names[k]}") for k, r in enumerate(rates)]
    if days < 1:
        raise InvalidInput.coded("funnel.days_least_got", days=days)
    deal_count = _deal_count(target, deal_size, deals)
    counts = stage_counts([deal_count], [rates_ppm])
    per_day = spread_over_days(counts, np.ones(days, dtype=bool))[0]
    return Funnel(names, tuple(int(c) for c in counts[0]), tuple(tuple(int(c) for c in day) for day in per_day))


def _deal_count(target: Decimal | str | None, deal_size: Decimal | str | None, deals: int | None) -> int:
    if deals is not None:
        if target is not None and deal_size is not None:
            raise InvalidInput.coded("funnel.give_either_deal_size")
        if deals < 0:
            raise InvalidInput.coded("funnel.number_deals_negative_got", deals=deals)
        return deals
    if target is None or deal_size is None:
        raise InvalidInput.coded("funnel.give_target_deal_size")
    target_exact = _positive(target, "target")
    size_exact = _positive(deal_size, "deal size")
    quotient = target_exact / size_exact
    return -(-quotient.numerator // quotient.denominator)


def _positive(value: Decimal | str, label: str) -> Fraction:
    try:
        exact = Decimal(str(value).replace(",", ""))
    except ArithmeticError as exc:
        raise InvalidInput.coded("funnel.number_2", label=label, value=value) from exc
    if not exact.is_finite() or exact <= 0:
        raise InvalidInput.coded("funnel.positive_got", label=label, value=value)
    return Fraction(exact)


def ceil_fraction(value: Fraction) -> int:
    """The smallest integer >= value."""
    return -(-value.numerator // value.denominator)
