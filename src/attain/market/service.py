"""attain.market's adapter: store and list market inputs, anchor a target on the market next to the
capacity and history views, and turn market signals into a draft revision plus an alert.

Every entry point (CLI, import, web) calls these; the arithmetic is `market.calc`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from attain.catalog.models import ProductNode
from attain.errors import Conflict, InvalidInput, NotFound
from attain.facts.models import Opportunity
from attain.market import calc
from attain.market.models import EVENT_KINDS, OWN, CompetitorEvent, MarketingSpend, MarketShare, MarketSize
from attain.metrics.service import evaluate, require_metric
from attain.org.models import OrgNode
from attain.periods import Grain, Period, parse_period, periods_between
from attain.plans import data
from attain.plans.baseline import LAST_FISCAL_YEAR, Baseline, baseline_window
from attain.plans.models import ALL_CUSTOMERS, IN_FORCE, Plan, PlanCell
from attain.plans.setting import Capacity, CreatedPlan, capacity_for, create_target, parse_money

# --- parsing user input --------------------------------------------------------------------------


def parse_share(text: str, what: str = "share") -> Decimal:
    """'30%', '0.3' or '30' (a plain number above 1 is a percentage) → Decimal('0.3'); in (0, 1]."""
    raw = str(text).strip()
    try:
        value = Decimal(raw.rstrip("%").strip())
    except InvalidOperation:
        raise InvalidInput.coded("market.share_text", what=what, value=raw) from None
    if raw.endswith("%") or (value.is_finite() and value > 1):
        value /= 100
    if not value.is_finite() or value < 0 or value > 1:
        raise InvalidInput.coded("market.share_range", what=what, value=raw)
    return value.quantize(Decimal("0.0001"))


def parse_rate(text: str, what: str) -> Decimal:
    """A growth or change rate: '8%' or '0.08' (more than -100 %, at most +1000 %)."""
    raw = str(text).strip()
    try:
        value = Decimal(raw.rstrip("%").strip())
    except InvalidOperation:
        raise InvalidInput.coded("market.rate_text", what=what, value=raw) from None
    if raw.endswith("%"):
        value /= 100
    if not value.is_finite() or value <= -1 or value > 10:
        raise InvalidInput.coded("market.rate_range", what=what, value=raw)
    return value.quantize(Decimal("0.0001"))


def require_region(*, session: Session, key: str) -> OrgNode:
    """The region (or the company) with this code or name."""
    node = session.scalars(select(OrgNode).where((OrgNode.code == key) | (OrgNode.name == key)).order_by(OrgNode.id)).first()
    if node is None or node.kind not in ("region", "company"):
        raise NotFound.coded("market.no_region", key=key)
    return node


def require_line(*, session: Session, key: str) -> ProductNode:
    node = session.scalars(select(ProductNode).where((ProductNode.code == key) | (ProductNode.name == key))).first()
    if node is None or node.kind != "line":
        raise NotFound.coded("market.no_line", key=key)
    return node


# --- storing -------------------------------------------------------------------------------------


def _same_market(model: type, region_id: int, product_node_id: int | None, period: str):  # type: ignore[no-untyped-def]
    line = model.product_node_id.is_(None) if product_node_id is None else model.product_node_id == product_node_id  # type: ignore[attr-defined]
    return (model.region_id == region_id, line, model.period == period)  # type: ignore[attr-defined]


def put_market_size(
    *, session: Session, region_id: int, product_node_id: int | None, period: Period, size: int,
    growth: Decimal | None = None, source: str | None = None, source_date: date | None = None, commit: bool = True,
) -> bool:
    """Insert or replace one market size; True when inserted. A changed size keeps the old one as previous_size."""
    if size < 0:
        raise InvalidInput.coded("market.size_negative", value=str(size))
    row = session.scalars(select(MarketSize).where(*_same_market(MarketSize, region_id, product_node_id, period.label))).first()
    inserted = row is None
    if row is None:
        row = MarketSize(region_id=region_id, product_node_id=product_node_id, period=period.label,
                         period_start=period.start, period_end=period.end, size=size)
        session.add(row)
    elif row.size != size:
        row.previous_size, row.size = row.size, size
    row.growth = growth if growth is not None else row.growth
    row.source = source if source is not None else row.source
    row.source_date = source_date if source_date is not None else row.source_date
    session.flush()
    if commit:
        session.commit()
    return inserted


def put_share(
    *, session: Session, region_id: int, product_node_id: int | None, period: Period, player: str, share: Decimal,
    source: str | None = None, source_date: date | None = None, commit: bool = True,
) -> bool:
    """Insert or replace one player's share estimate ('own' = the company); True when inserted."""
    if not Decimal(0) <= share <= 1:
        raise InvalidInput.coded("market.share_range", what="share", value=str(share))
    row = session.scalars(select(MarketShare).where(*_same_market(MarketShare, region_id, product_node_id, period.label),
                                                    MarketShare.player == player)).first()
    inserted = row is None
    if row is None:
        row = MarketShare(region_id=region_id, product_node_id=product_node_id, period=period.label,
                          period_start=period.start, period_end=period.end, player=player, share=share)
        session.add(row)
    row.share, row.source, row.source_date = share, source, source_date
    session.flush()
    if commit:
        session.commit()
    return inserted


def add_event(
    *, session: Session, day: date, region_id: int, kind: str, severity: int, product_node_id: int | None = None,
    competitor: str | None = None, note: str | None = None, commit: bool = True,
) -> CompetitorEvent:
    if kind not in EVENT_KINDS:
        raise InvalidInput.coded("market.event_kind", kind=kind, kinds=", ".join(EVENT_KINDS))
    if severity not in (1, 2, 3):
        raise InvalidInput.coded("market.severity", value=str(severity))
    event = CompetitorEvent(event_date=day, region_id=region_id, product_node_id=product_node_id, kind=kind,
                            severity=severity, competitor=competitor, note=note)
    session.add(event)
    session.flush()
    if commit:
        session.commit()
    return event


def update_event(
    *, session: Session, event_id: int, kind: str | None = None, severity: int | None = None, note: str | None = None,
    day: date | None = None,
) -> CompetitorEvent:
    event = session.get(CompetitorEvent, event_id)
    if event is None:
        raise NotFound.coded("market.no_event", id=event_id)
    if kind is not None and kind not in EVENT_KINDS:
        raise InvalidInput.coded("market.event_kind", kind=kind, kinds=", ".join(EVENT_KINDS))
    if severity is not None and severity not in (1, 2, 3):
        raise InvalidInput.coded("market.severity", value=str(severity))
    event.kind = kind or event.kind
    event.severity = severity or event.severity
    event.note = note if note is not None else event.note
    event.event_date = day or event.event_date
    session.commit()
    return event


def delete_event(*, session: Session, event_id: int) -> None:
    event = session.get(CompetitorEvent, event_id)
    if event is None:
        raise NotFound.coded("market.no_event", id=event_id)
    session.delete(event)
    session.commit()


def put_spend(*, session: Session, period: Period, region_id: int | None, amount: int, commit: bool = True) -> bool:
    if amount < 0:
        raise InvalidInput.coded("market.size_negative", value=str(amount))
    region = MarketingSpend.region_id.is_(None) if region_id is None else MarketingSpend.region_id == region_id
    row = session.scalars(select(MarketingSpend).where(MarketingSpend.period == period.label, region)).first()
    inserted = row is None
    if row is None:
        session.add(MarketingSpend(period=period.label, period_start=period.start, period_end=period.end,
                                   region_id=region_id, amount=amount))
    else:
        row.amount = amount
    session.flush()
    if commit:
        session.commit()
    return inserted


# --- listing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarketRow:
    id: int
    region: str
    product_line: str | None
    period: str
    size: int
    previous_size: int | None
    growth: Decimal | None
    own_share: Decimal | None
    competitors: tuple[tuple[str, Decimal], ...]
    source: str | None
    source_date: date | None


def list_market(*, session: Session, year: int | None = None, region: str | None = None) -> list[MarketRow]:
    """Market sizes with their share estimates, by period then region."""
    query = select(MarketSize, OrgNode.code, ProductNode.code).join(OrgNode, OrgNode.id == MarketSize.region_id).outerjoin(
        ProductNode, ProductNode.id == MarketSize.product_node_id)
    if year is not None:
        query = query.where(MarketSize.period_start >= date(year, 1, 1), MarketSize.period_end <= date(year, 12, 31))
    if region is not None:
        query = query.where(MarketSize.region_id == require_region(session=session, key=region).id)
    shares: dict[tuple[int, int | None, str], list[tuple[str, Decimal]]] = {}
    for share in session.scalars(select(MarketShare).order_by(MarketShare.share.desc())):
        shares.setdefault((share.region_id, share.product_node_id, share.period), []).append((share.player, share.share))
    rows = []
    for size, region_code, line_code in session.execute(query.order_by(MarketSize.period_start, OrgNode.code, MarketSize.id)):
        players = shares.get((size.region_id, size.product_node_id, size.period), [])
        own = next((s for p, s in players if p == OWN), None)
        rows.append(MarketRow(size.id, region_code, line_code, size.period, size.size, size.previous_size, size.growth, own,
                              tuple((p, s) for p, s in players if p != OWN), size.source, size.source_date))
    return rows


@dataclass(frozen=True)
class EventRow:
    id: int
    day: date
    region: str
    product_line: str | None
    competitor: str | None
    kind: str
    severity: int
    note: str | None


def list_events(*, session: Session, start: date | None = None, end: date | None = None, region: str | None = None) -> list[EventRow]:
    query = select(CompetitorEvent, OrgNode.code, ProductNode.code).join(OrgNode, OrgNode.id == CompetitorEvent.region_id).outerjoin(
        ProductNode, ProductNode.id == CompetitorEvent.product_node_id)
    if start is not None:
        query = query.where(CompetitorEvent.event_date >= start)
    if end is not None:
        query = query.where(CompetitorEvent.event_date <= end)
    if region is not None:
        query = query.where(CompetitorEvent.region_id == require_region(session=session, key=region).id)
    return [EventRow(e.id, e.event_date, r, line, e.competitor, e.kind, e.severity, e.note)
            for e, r, line in session.execute(query.order_by(CompetitorEvent.event_date, CompetitorEvent.id))]


# --- anchoring -----------------------------------------------------------------------------------


def market_size(*, session: Session, start: date, end: date, region_id: int | None = None) -> int:
    """The market of [start, end]: the company's own rows if it has some, else the sum of its regions.

    Within a region the all-lines rows win over product-line rows, and the coarsest grain recorded
    (year over quarters over months) is taken, so nothing is counted twice."""
    rows = session.execute(
        select(MarketSize.region_id, MarketSize.product_node_id, MarketSize.period_start, MarketSize.period_end,
               MarketSize.size, OrgNode.kind)
        .join(OrgNode, OrgNode.id == MarketSize.region_id)
        .where(MarketSize.period_start >= start, MarketSize.period_end <= end)
    ).all()
    if region_id is not None:
        rows = [r for r in rows if r.region_id == region_id]
    elif any(r.kind == "company" for r in rows):
        rows = [r for r in rows if r.kind == "company"]
    else:
        rows = [r for r in rows if r.kind == "region"]
    total = 0
    for region in {r.region_id for r in rows}:
        mine = [r for r in rows if r.region_id == region]
        whole = [r for r in mine if r.product_node_id is None]
        for line_rows in ([whole] if whole else [[r for r in mine if r.product_node_id == p] for p in {r.product_node_id for r in mine}]):
            longest = max((r.period_end - r.period_start).days for r in line_rows)
            total += sum(r.size for r in line_rows if (r.period_end - r.period_start).days == longest)
    return total


@dataclass(frozen=True)
class LeadRates:
    """What one more lead is worth, learnt over the baseline window (or given)."""

    lead_yield: Decimal | None
    yield_basis: str
    win_rate: Decimal
    deal_size: int
    budget: int  # last year's spend when recorded


def lead_rates(
    *, session: Session, window: Baseline, lead_yield: str | None = None, win_rate: str | None = None,
    deal_size: str | None = None,
) -> LeadRates:
    """Lead yield (leads per 10,000 元): learnt from last year's marketing spend and the opportunities
    created in the same months when both exist, else `lead_yield` as an explicit assumption. Win
    rate and deal size: won / closed and the average won amount of that year, unless given."""
    spend = int(session.scalar(select(func.coalesce(func.sum(MarketingSpend.amount), 0)).where(
        MarketingSpend.period_start >= window.start, MarketingSpend.period_end <= window.end)) or 0)
    leads = int(session.scalar(select(func.count(Opportunity.id)).where(
        Opportunity.created_on.between(window.start, window.end))) or 0)
    if lead_yield is not None:
        value, basis = parse_rate(lead_yield, "--lead-yield"), "assumed"
        if value <= 0:
            raise InvalidInput.coded("market.rate_range", what="--lead-yield", value=lead_yield)
    else:
        value = calc.learned_yield(spend, leads) if leads else None
        basis = f"learned {window.label}: {leads} leads / {calc.wan(spend)}" if value is not None else "none"
    won = session.execute(select(func.count(Opportunity.id), func.coalesce(func.sum(Opportunity.amount), 0)).where(
        Opportunity.stage == "won", Opportunity.closed_on.between(window.start, window.end))).one()
    lost = int(session.scalar(select(func.count(Opportunity.id)).where(
        Opportunity.stage == "lost", Opportunity.closed_on.between(window.start, window.end))) or 0)
    if win_rate is not None:
        rate = parse_share(win_rate, "--win-rate")
    elif won[0] + lost:
        rate = (Decimal(won[0]) / Decimal(won[0] + lost)).quantize(Decimal("0.0001"))
    else:
        raise InvalidInput.coded("market.no_win_rate", window=window.label)
    if deal_size is not None:
        size = parse_money(deal_size, 2, "--deal-size")
    elif won[0]:
        size = int(won[1]) // int(won[0])
    else:
        raise InvalidInput.coded("market.no_deal_size", window=window.label)
    return LeadRates(value, basis, rate, size, spend)


@dataclass(frozen=True)
class AnchorReport:
    year: int
    anchor: calc.Anchor
    words_zh: str
    words_en: str
    capacity: Capacity
    baseline: Baseline
    hires: tuple[date, ...]
    marketing: calc.Marketing | None


@dataclass(frozen=True)
class _Hire:
    """A planned hire (the shape `data.ramped_capacity` reads)."""

    start_date: date
    code: str = "hire"
    end_date: date | None = None


def anchor(
    *, session: Session, year: int, share: str, metric_code: str = "revenue", unit: str | None = None,
    hires: tuple[date, ...] = (), productivity: str | None = None, budget: str | None = None,
    budget_change: str | None = None, lead_yield: str | None = None, win_rate: str | None = None,
    deal_size: str | None = None, baseline: str = LAST_FISCAL_YEAR, as_of: date | None = None,
) -> AnchorReport:
    """Target = market size of `year` × `share`, next to the capacity (reps × ramp × productivity,
    plus planned `hires` from their start dates, plus what a marketing `budget_change` adds) and the
    history (last complete year), with the gap in words. Writes nothing."""
    if not 2000 <= year <= 2100:
        raise InvalidInput.coded("market.year_out_range", year=year)
    metric = require_metric(session=session, code=metric_code)
    target_share = calc.check_share(parse_share(share, "--share"))
    start, end = date(year, 1, 1), date(year, 12, 31)
    size = market_size(session=session, start=start, end=end)
    if size <= 0:
        raise InvalidInput.coded("market.no_market", year=year)
    rounding = parse_money(unit, metric.scale, "--unit") if unit is not None else 10**metric.scale
    if rounding <= 0:
        raise InvalidInput.coded("market.unit_positive", unit=unit)
    target = calc.market_target(size, target_share, rounding)
    window = baseline_window(session=session, target_start=start, basis=baseline, as_of=as_of)
    capacity = capacity_for(session=session, metric_code=metric.code, year=year, productivity=productivity, window=window)
    actual = evaluate(session=session, metric=metric, start=window.start, end=window.end)
    history = int(actual[0].value or 0) if actual and window.complete else None
    months = periods_between(start, end, Grain.MONTH)
    for day in hires:
        if not start <= day <= end:
            raise InvalidInput.coded("market.hire_outside", day=day, year=year)
    hires_capacity = round(float(data.ramped_capacity([_Hire(d) for d in hires], months).sum()) * capacity.productivity_per_month)
    marketing = None
    if budget_change is not None:
        change = parse_rate(budget_change, "--budget-change")
        rates = lead_rates(session=session, window=window, lead_yield=lead_yield, win_rate=win_rate, deal_size=deal_size)
        if rates.lead_yield is None:
            raise InvalidInput.coded("market.no_lead_yield", window=window.label)
        base_budget = parse_money(budget, metric.scale, "--budget") if budget is not None else rates.budget
        if base_budget <= 0:
            raise InvalidInput.coded("market.no_budget", window=window.label)
        marketing = calc.Marketing(base_budget, change, rates.lead_yield, rates.yield_basis, rates.win_rate, rates.deal_size)
    elif budget is not None:
        raise InvalidInput.coded("market.budget_without_change")
    marketing_capacity = marketing.extra_revenue if marketing is not None else 0
    result = calc.Anchor(size, target_share, target, capacity.capacity + hires_capacity + marketing_capacity,
                         capacity.capacity, hires_capacity, marketing_capacity, history, capacity.new_rep_output,
                         capacity.productivity_per_month)
    zh, en = calc.gap_words(result)
    return AnchorReport(year, result, zh, en, capacity, window, tuple(hires), marketing)


def create_from_market(
    *, session: Session, name: str, year: int, share: str, by: str, metric_code: str = "revenue", unit: str | None = None,
    reason: str | None = None, **options: object,
) -> tuple[CreatedPlan, AnchorReport]:
    """`attain plan create --from-market --share 0.3`: a plan whose total is the market target."""
    report = anchor(session=session, year=year, share=share, metric_code=metric_code, unit=unit, **options)  # type: ignore[arg-type]
    metric = require_metric(session=session, code=metric_code)
    total = str(Decimal(report.anchor.market_target).scaleb(-metric.scale))
    created = create_target(session=session, name=name, year=year, metric_code=metric_code, by=by, total=total, unit=unit,
                            reason=reason or f"market {calc.wan(report.anchor.market_size)} × share {report.anchor.share}")
    return created, report


# --- early warning -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """What the market signals propose for one plan: the cells to lower and why (nothing written)."""

    plan: str
    version: int  # the version the proposal was computed on
    open_from: date
    signals: tuple[calc.Signal, ...]
    moves: tuple[calc.Move, ...]
    region_codes: dict[int, str]
    line_codes: dict[int, str]

    @property
    def moved(self) -> int:
        return -sum(m.delta for m in self.moves)

    def condition(self, region_id: int) -> str:
        """The alert's condition for a region: a digest of the signals behind its moves."""
        keys = sorted({k for m in self.moves if m.region_id == region_id for k in m.why})
        return "market:" + hashlib.sha1("|".join(keys).encode()).hexdigest()[:16]

    def details(self, region_id: int) -> dict[str, object]:
        moves = [m for m in self.moves if m.region_id == region_id]
        used = {k for m in moves for k in m.why}
        return {
            "plan": self.plan, "based_on_version": self.version, "open_from": self.open_from.isoformat(),
            "moved": -sum(m.delta for m in moves),
            "cells": [{"region": self.region_codes[m.region_id], "period": m.period,
                       "product_line": self.line_codes.get(m.product_node_id) if m.product_node_id else None,
                       "before": m.before, "after": m.after, "delta": m.delta, "why": list(m.why)} for m in moves],
            "signals": [{"key": s.key, "impact": str(s.impact), "why_zh": s.why_zh, "why_en": s.why_en}
                        for s in self.signals if s.key in used],
            "rule": "the other regions' open cells of the same months take up the difference (company months unchanged)",
        }


def _open_from(as_of: date) -> date:
    """The first month a proposal may change: the month after as-of (the running month is under way)."""
    return date(as_of.year + (as_of.month == 12), as_of.month % 12 + 1, 1)


def _signals(session: Session, plan: Plan, as_of: date, threshold: Decimal) -> list[calc.Signal]:
    names = dict(session.execute(select(OrgNode.id, OrgNode.name)).all())
    signals = []
    for e in session.scalars(select(CompetitorEvent).where(CompetitorEvent.event_date <= as_of,
                                                           CompetitorEvent.event_date <= plan.end_date)):
        signals.append(calc.event_signal(event_id=e.id, kind=e.kind, severity=e.severity, region_id=e.region_id,
                                         product_node_id=e.product_node_id, day=e.event_date, region=names.get(e.region_id, ""),
                                         competitor=e.competitor))
    for m in session.scalars(select(MarketSize).where(MarketSize.previous_size.is_not(None),
                                                      MarketSize.period_end >= plan.start_date,
                                                      MarketSize.period_start <= plan.end_date)):
        signal = calc.market_change_signal(row_id=m.id, region_id=m.region_id, product_node_id=m.product_node_id,
                                           start=m.period_start, end=m.period_end, previous=m.previous_size or 0,
                                           current=m.size, region=names.get(m.region_id, ""), period=m.period)
        if signal is not None:
            signals.append(signal)
    trends: dict[tuple[int, int | None], list[tuple[str, date, Decimal]]] = {}
    for s in session.scalars(select(MarketShare).where(MarketShare.player == OWN, MarketShare.period_start <= as_of)
                             .order_by(MarketShare.period_start)):
        trends.setdefault((s.region_id, s.product_node_id), []).append((s.period, s.period_start, s.share))
    for (region_id, line_id), series in trends.items():
        signal = calc.share_trend_signal(region_id=region_id, product_node_id=line_id, periods=series, threshold=threshold,
                                         region=names.get(region_id, ""))
        if signal is not None:
            signals.append(replace(signal, start=max(signal.start, plan.start_date.replace(day=1))))
    return signals


def _region_cells(session: Session, plan: Plan) -> list[calc.RegionCell]:
    """The plan's region × month cells (all customers; all lines and each line)."""
    rows = session.execute(
        select(PlanCell.org_node_id, PlanCell.product_node_id, PlanCell.period, PlanCell.period_start, PlanCell.value)
        .join(OrgNode, OrgNode.id == PlanCell.org_node_id)
        .where(PlanCell.plan_id == plan.id, OrgNode.kind == "region", PlanCell.customer_type == ALL_CUSTOMERS)
    ).all()
    return [calc.RegionCell(r.org_node_id, r.product_node_id, r.period, r.period_start, r.value)
            for r in rows if parse_period(r.period).grain == Grain.MONTH]


def propose(*, session: Session, plan: Plan, as_of: date, threshold: Decimal = Decimal("0.02")) -> Proposal:
    """The re-weighting the recorded market signals propose for `plan` (a version row); writes nothing."""
    open_from = max(_open_from(as_of), plan.effective_from or plan.start_date)
    signals = _signals(session, plan, as_of, threshold)
    moves = calc.propose(_region_cells(session, plan), signals, open_from=open_from, unit=plan.unit)
    regions = dict(session.execute(select(OrgNode.id, OrgNode.code).where(OrgNode.id.in_({m.region_id for m in moves}))).all())
    lines = dict(session.execute(select(ProductNode.id, ProductNode.code).where(
        ProductNode.id.in_({m.product_node_id for m in moves if m.product_node_id}))).all())
    return Proposal(plan.name, plan.version, open_from, tuple(signals), moves, regions, lines)


@dataclass(frozen=True)
class Warning:
    proposal: Proposal
    draft_version: int | None  # the draft revision holding the proposal (None: nothing to change)
    alerts: int  # new alert events
    repeated: bool  # these signals were proposed already


def in_force_plans(*, session: Session, day: date) -> list[Plan]:
    """The plan versions in force whose dates hold `day`."""
    return list(session.scalars(select(Plan).where(Plan.status.in_(IN_FORCE), Plan.start_date <= day, Plan.end_date >= day)))


def early_warning(*, session: Session, plan: str, by: str, as_of: date) -> Warning:
    """Turn the recorded market signals into a DRAFT revision of `plan` and one alert per region.

    The approved version stays in force; the revision starts at the month after as-of (earlier
    periods are frozen) and lowers the hit regions' open months, the other regions taking up the
    difference by the plan's edit rule. Signals already proposed (an alert with the same condition
    exists) are not proposed again. Needs the `market_shift` alert rule enabled."""
    from attain.plans.edits import CellRef, set_cells
    from attain.plans.service import pending_revision, plan_in_force, require_plan, revise_plan
    from attain.tracking.alerts import Finding as AlertFinding
    from attain.tracking.alerts import has_event, require_rule, store_finding

    rule = require_rule(session=session, code="market_shift")
    if not rule.enabled:
        raise Conflict.coded("market.rule_disabled")
    base = plan_in_force(session=session, name=plan) or require_plan(session=session, name=plan)
    proposal = propose(session=session, plan=base, as_of=as_of, threshold=Decimal(rule.threshold or Decimal("0.02")))
    if not proposal.moves:
        return Warning(proposal, None, 0, False)
    period = parse_period(f"{as_of.year}-{as_of.month:02d}")
    regions = sorted({m.region_id for m in proposal.moves})
    if all(has_event(session=session, rule=rule, node_id=r, period=period, condition=proposal.condition(r)) for r in regions):
        return Warning(proposal, None, 0, True)
    if base.status in IN_FORCE:
        draft = pending_revision(session=session, plan=base)
        if draft is None:
            revise_plan(session=session, name=plan, by=by, reason="market early warning / 市场预警",
                        effective_from=proposal.open_from, today=as_of)
    values = {CellRef(proposal.region_codes[m.region_id], m.period,
                      proposal.line_codes.get(m.product_node_id) if m.product_node_id else None): m.after
              for m in proposal.moves}
    why = "; ".join(s.why_en for s in proposal.signals if any(s.key in m.why for m in proposal.moves))
    result = set_cells(session=session, name=plan, values=values, by=by, reason=f"market early warning: {why}"[:1000])
    created = 0
    for region_id in regions:
        moves = [m for m in proposal.moves if m.region_id == region_id]
        moved = -sum(m.delta for m in moves)
        used = [s for s in proposal.signals if any(s.key in m.why for m in moves)]
        code = proposal.region_codes[region_id]
        details = {**proposal.details(region_id), "draft_version": result.version}
        message = (f"{code} 市场预警：{'；'.join(s.why_zh for s in used)}。建议下调 {len(moves)} 个未结束月份共 "
                   f"{calc.wan(moved)}（草稿 v{result.version}，待审批）/ "
                   f"{code} market warning: {'; '.join(s.why_en for s in used)}. Proposed: lower {len(moves)} open "
                   f"months by {calc.wan(moved)} in total (draft v{result.version}, awaiting approval)")
        created += store_finding(session=session, rule=rule, period=period, as_of=as_of,
                                 finding=AlertFinding(region_id, proposal.condition(region_id), message, details))
    return Warning(proposal, result.version, created, False)


def market_findings(*, session: Session, threshold: Decimal, as_of: date, nodes: set[int]) -> list[tuple[int, str, str, dict[str, object]]]:
    """(region id, condition, message, details) of the proposals for every plan in force at as-of,
    for `attain alerts run`: the alert carries the proposal; `attain market warn` opens the draft."""
    out = []
    for plan in in_force_plans(session=session, day=as_of):
        proposal = propose(session=session, plan=plan, as_of=as_of, threshold=threshold)
        for region_id in sorted({m.region_id for m in proposal.moves} & nodes):
            details = proposal.details(region_id)
            moved = int(details["moved"])  # type: ignore[call-overload]
            code = proposal.region_codes[region_id]
            message = (f"{code} 市场预警（{plan.name}）：建议下调未结束月份 {calc.wan(moved)}；"
                       f"用 attain market warn --plan {plan.name} 生成草稿 / "
                       f"{code} market warning ({plan.name}): lower open months by {calc.wan(moved)}; "
                       f"run attain market warn --plan {plan.name} for the draft")
            out.append((region_id, proposal.condition(region_id), message, details))
    return out
