"""The pure core of attain.market: a target anchored on the market, the gap to capacity in words,
marketing budget as leads, and the early-warning re-weighting of open periods.

Standard library and NumPy only; no database, no I/O. Money is integer fen throughout; shares,
rates and growth are `Decimal`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

from attain.errors import InvalidInput

FEN_PER_10K_YUAN = 1_000_000  # lead yield is "leads per 10,000 元"

# --- anchoring on the market -----------------------------------------------------------------------


def check_share(share: Decimal, what: str = "--share") -> Decimal:
    """A share of a market: more than 0, at most 1."""
    if not share.is_finite() or share <= 0 or share > 1:
        raise InvalidInput.coded("market.share_range", what=what, value=str(share))
    return share


def market_target(market_size: int, share: Decimal, unit: int) -> int:
    """Market size × target share, rounded half-even to the plan's rounding unit (fen)."""
    check_share(share)
    exact = Decimal(market_size) * share / unit
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)) * unit


@dataclass(frozen=True)
class Marketing:
    """Marketing budget as an input of the capacity view.

    The reps' learnt productivity already holds the leads today's budget buys; a budget change adds
    (or removes) leads at `lead_yield` per 10,000 元, won at `win_rate`, each worth `deal_size`.
    """

    budget: int  # the year's budget before the change, fen
    change: Decimal  # 0.30 = +30 %
    lead_yield: Decimal  # leads per 10,000 元
    yield_basis: str  # where the yield comes from: "learned …" or "assumed"
    win_rate: Decimal
    deal_size: int  # fen per won deal

    @property
    def extra_budget(self) -> int:
        return int((Decimal(self.budget) * self.change).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))

    @property
    def extra_leads(self) -> Decimal:
        return Decimal(self.extra_budget) / FEN_PER_10K_YUAN * self.lead_yield

    @property
    def extra_revenue(self) -> int:
        """Revenue the extra leads bring: leads × win rate × deal size, in fen."""
        return int((self.extra_leads * self.win_rate * self.deal_size).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def learned_yield(spend: int, leads: int) -> Decimal | None:
    """Leads per 10,000 元 over a window with both spend and leads; None when there is no spend."""
    if spend <= 0 or leads < 0:
        return None
    return (Decimal(leads) * FEN_PER_10K_YUAN / spend).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Anchor:
    """The three views of a target side by side: market, capacity and history (fen)."""

    market_size: int
    share: Decimal
    market_target: int
    capacity: int  # reps × ramp × productivity, with planned hires and the marketing change
    rep_capacity: int  # reps × ramp × productivity of today's team alone
    hires_capacity: int  # what the planned hires add (ramped from their start dates)
    marketing_capacity: int  # what the budget change adds
    history: int | None  # last complete year's actual
    new_rep_output: int  # one rep hired on the plan's first day
    productivity_per_month: int

    @property
    def headroom(self) -> Decimal | None:
        """Market target over last year − 1 (0.45 = the market allows 45 % more)."""
        if not self.history:
            return None
        return Decimal(self.market_target) / Decimal(self.history) - 1

    @property
    def gap(self) -> int:
        """Market target − capacity (negative: capacity exceeds what the market allows)."""
        return self.market_target - self.capacity

    @property
    def extra_reps(self) -> int:
        """Reps hired on the first day that close the gap (0 when there is none)."""
        if self.gap <= 0:
            return 0
        if self.new_rep_output <= 0:
            raise InvalidInput.coded("market.no_new_rep_output")
        return math.ceil(self.gap / self.new_rep_output)

    @property
    def productivity_lift(self) -> Decimal:
        """How much more each rep must sell for capacity to reach the market target (0.22 = +22 %)."""
        if self.gap <= 0 or self.capacity <= 0:
            return Decimal(0)
        return (Decimal(self.market_target) / Decimal(self.capacity) - 1).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def wan(fen: int) -> str:
    """An amount in 万 for a sentence: 2,200,000 元 → '220万', 2,175,000 元 → '217.5万'."""
    value = (Decimal(fen) / 100 / 10_000).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text}万"


def gap_words(anchor: Anchor) -> tuple[str, str]:
    """The gap between market and capacity in words, (zh-CN, en)."""
    market, capacity = wan(anchor.market_target), wan(anchor.capacity)
    if anchor.gap <= 0:
        spare = wan(-anchor.gap)
        return (f"市场允许 {market}，产能 {capacity}：产能足够（富余 {spare}），目标受市场限制",
                f"the market allows {market}, capacity is {capacity}: capacity suffices ({spare} to spare), "
                "the market limits the target")
    lift = f"{anchor.productivity_lift * 100:.0f} %"
    return (f"市场允许 {market}，产能只有 {capacity}：需增 {anchor.extra_reps} 名销售或提高人效 {lift}",
            f"the market allows {market}, capacity is only {capacity}: "
            f"add {anchor.extra_reps} rep{'s' if anchor.extra_reps != 1 else ''} or raise productivity by {lift}")


# --- early warning -------------------------------------------------------------------------------

# What a competitor's move is assumed to take from the affected region's open months, by kind and
# severity (1 low, 2 medium, 3 high), and for how many months from the event's month. Explicit
# assumptions, shown with every proposal; a company tunes its targets by editing the draft.
EVENT_IMPACT: dict[str, tuple[tuple[Decimal, Decimal, Decimal], int]] = {
    "price_cut": ((Decimal("0.03"), Decimal("0.06"), Decimal("0.10")), 3),
    "new_product": ((Decimal("0.02"), Decimal("0.05"), Decimal("0.08")), 6),
    "campaign": ((Decimal("0.02"), Decimal("0.04"), Decimal("0.06")), 2),
}
EVENT_TEXT = {"price_cut": ("降价", "price cut"), "new_product": ("新品", "new product"), "campaign": ("促销活动", "campaign")}
MAX_CUT = Decimal("0.5")  # no signal or combination takes more than half of a cell
MARKET_DROP_MIN = Decimal("0.02")  # a market re-estimate 2 % or more below the last one is a change


@dataclass(frozen=True)
class Signal:
    """Something that lowers what a region can sell: which cells (region, product line or None for
    all lines, months from `start` for `months` months, None = to the plan's end), by how much, why."""

    key: str  # names the signal for de-duplication ("event:12", "market:3:2027", "share:5")
    region_id: int
    product_node_id: int | None
    start: date
    months: int | None
    impact: Decimal  # share of each affected cell taken away, 0.06 = 6 %
    why_zh: str
    why_en: str


def event_signal(
    *, event_id: int, kind: str, severity: int, region_id: int, product_node_id: int | None, day: date,
    region: str, competitor: str | None,
) -> Signal:
    if kind not in EVENT_IMPACT:
        raise InvalidInput.coded("market.event_kind", kind=kind, kinds=", ".join(EVENT_IMPACT))
    if severity not in (1, 2, 3):
        raise InvalidInput.coded("market.severity", value=str(severity))
    impacts, months = EVENT_IMPACT[kind]
    impact = impacts[severity - 1]
    who = competitor or "竞争对手"
    zh_kind, en_kind = EVENT_TEXT[kind]
    return Signal(f"event:{event_id}", region_id, product_node_id, day.replace(day=1), months, impact,
                  f"{who} {day} 在{region}{zh_kind}（严重度 {severity}）：按假设 {impact * 100:.0f}%、{months} 个月",
                  f"{competitor or 'a competitor'} {en_kind} in {region} on {day} (severity {severity}): "
                  f"assumed {impact * 100:.0f} % for {months} months")


def market_change_signal(
    *, row_id: int, region_id: int, product_node_id: int | None, start: date, end: date, previous: int, current: int,
    region: str, period: str,
) -> Signal | None:
    """A market re-estimated lower than before: its months lose the same share (up to MAX_CUT)."""
    if previous <= 0 or current >= previous:
        return None
    drop = 1 - Decimal(current) / Decimal(previous)
    if drop < MARKET_DROP_MIN:
        return None
    impact = min(drop, MAX_CUT).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    return Signal(f"market:{row_id}:{current}", region_id, product_node_id, start.replace(day=1), months, impact,
                  f"{region} {period} 市场规模由 {wan(previous)} 下调为 {wan(current)}（-{drop * 100:.1f}%）",
                  f"{region} {period} market re-estimated from {wan(previous)} to {wan(current)} (-{drop * 100:.1f} %)")


def share_trend_signal(
    *, region_id: int, product_node_id: int | None, periods: Sequence[tuple[str, date, Decimal]], threshold: Decimal,
    region: str,
) -> Signal | None:
    """A region whose own share fell: the latest estimate against the mean of the earlier ones.

    `periods` are (label, first day, own share) in date order. A drop of `threshold` points or more
    (0.02 = 2 points) takes the relative drop (latest / earlier mean − 1) from the months after
    the latest estimate's period start, to the plan's end."""
    if len(periods) < 2:
        return None
    earlier = np.array([float(s) for _, _, s in periods[:-1]])
    label, start, latest = periods[-1]
    before = Decimal(str(round(float(earlier.mean()), 6)))
    if before <= 0 or before - latest < threshold:
        return None
    impact = min(1 - latest / before, MAX_CUT).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)
    return Signal(f"share:{region_id}:{product_node_id or 0}:{label}:{latest}", region_id, product_node_id,
                  start.replace(day=1), None, impact,
                  f"{region} 本公司份额由 {before * 100:.1f}% 降至 {latest * 100:.1f}%（{label}）",
                  f"{region} own share fell from {before * 100:.1f} % to {latest * 100:.1f} % ({label})")


@dataclass(frozen=True)
class RegionCell:
    """A region's target for one month (and product line, None = all lines) in the plan, fen."""

    region_id: int
    product_node_id: int | None
    period: str
    start: date
    value: int


@dataclass(frozen=True)
class Move:
    """One cell the proposal lowers: before, after, and the signals behind it."""

    region_id: int
    product_node_id: int | None
    period: str
    before: int
    after: int
    why: tuple[str, ...]  # signal keys

    @property
    def delta(self) -> int:
        return self.after - self.before


def _months_between(first: date, later: date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


def propose(cells: Sequence[RegionCell], signals: Sequence[Signal], *, open_from: date, unit: int) -> tuple[Move, ...]:
    """Lower the open months of the regions the signals hit; the rest of the company's month (the
    other regions, by the plan's edit rule) takes up the difference, so no month's total changes.

    A cell is hit by a signal of its region whose product line is the cell's (a signal for all lines
    hits the all-lines cells; a line's signal hits that line's cells, or the all-lines cells when the
    plan has no cells for the line). Impacts of several signals multiply, capped at MAX_CUT. New values
    are rounded (half-even) to the plan's unit; a cell the rounding leaves as it was is not a move. Closed months (before `open_from`) are never touched."""
    if unit <= 0:
        raise InvalidInput.coded("market.unit")
    lines_in_plan = {(c.region_id, c.product_node_id) for c in cells}
    kept: dict[tuple[int, int | None, str], tuple[RegionCell, Decimal, list[str]]] = {}
    for signal in signals:
        line = signal.product_node_id if (signal.region_id, signal.product_node_id) in lines_in_plan else None
        for cell in cells:
            if cell.region_id != signal.region_id or cell.product_node_id != line or cell.start < open_from:
                continue
            offset = _months_between(signal.start, cell.start)
            if offset < 0 or (signal.months is not None and offset >= signal.months):
                continue
            key = (cell.region_id, cell.product_node_id, cell.period)
            _, factor, why = kept.get(key, (cell, Decimal(1), []))
            kept[key] = (cell, factor * (1 - signal.impact), [*why, signal.key])
    moves = []
    for cell, factor, why in kept.values():
        after = int((Decimal(cell.value) * max(factor, 1 - MAX_CUT) / unit).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)) * unit
        if after < cell.value:
            moves.append(Move(cell.region_id, cell.product_node_id, cell.period, cell.value, after, tuple(why)))
    return tuple(sorted(moves, key=lambda m: (m.period, m.region_id, m.product_node_id or 0)))
