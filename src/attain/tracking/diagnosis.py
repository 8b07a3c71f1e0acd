"""Diagnosis: why a rep, team or region is behind — the service behind `attain report diagnosis`.

Per node and period the database counts the funnel (leads = opportunities created, deals =
opportunities won) with one GROUP BY each, and sums revenue from credited sales (attainment's
`actuals`). The pure `decompose` splits the gap to the reference exactly into a lead, a conversion
and a deal-size part and names the main cause.

References:
- `target`: expected-to-date of the plan target (the whole target once the period is over), with
  the node's conversion and revenue per won deal over the 12 months before the period (the
  company's when the node has no won deal there): implied leads = target / (conversion × size).
- `last-year`: the same period a year earlier, cut at the same day when the period is in progress.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session, aliased

from attain.errors import InvalidInput
from attain.facts.models import Opportunity, OpportunityStageChange
from attain.org.models import OrgNode
from attain.periods import Grain, Period, iso_week, period_of
from attain.tracking import decompose
from attain.tracking.attainment import actuals, attainment

LEVELS = ("rep", "team", "region")
REFERENCES = ("target", "last-year")
HISTORY_DAYS = 365


@dataclass(frozen=True)
class Funnel:
    """Leads, won deals and revenue (fen) per node id."""

    leads: dict[int, int]
    deals: dict[int, int]
    revenue: dict[int, int]


@dataclass(frozen=True)
class DiagnosisRow:
    node_id: int
    code: str
    name: str
    actual: int  # fen
    reference: int  # fen
    gap: int  # actual − reference, fen
    leads: int
    deals: int
    reference_leads: Decimal
    reference_conversion: Decimal
    reference_deal_size: int
    parts: dict[str, int]  # leads / conversion / deal_size, fen, adding up to the gap
    cause: str | None  # leads / conversion / deal_size: the most negative part of a row behind its reference
    status: str | None = None  # attainment's status of the node (vs target only): the one status rule

    @property
    def cause_text(self) -> str:
        zh, en = decompose.CAUSES[self.cause] if self.cause else decompose.AHEAD
        return f"{zh} / {en}"

    def as_dict(self) -> dict[str, object]:
        return {
            "node": self.code, "name": self.name, "actual": self.actual, "reference": self.reference, "gap": self.gap,
            "leads": self.leads, "deals": self.deals, "reference_leads": self.reference_leads,
            "reference_conversion": self.reference_conversion, "reference_deal_size": self.reference_deal_size,
            "parts": self.parts, "cause": self.cause, "cause_text": self.cause_text, "status": self.status,
        }


@dataclass(frozen=True)
class Diagnosis:
    period: Period
    level: str
    reference: str
    as_of: date
    end: date  # last day counted
    reference_start: date
    reference_end: date
    plan: str | None
    rows: tuple[DiagnosisRow, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "period": self.period.label, "by": self.level, "vs": self.reference, "as_of": self.as_of,
            "counted_to": self.end, "reference_from": self.reference_start, "reference_to": self.reference_end,
            "plan": self.plan, "unit": "fen", "rows": [r.as_dict() for r in self.rows],
        }


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise InvalidInput.coded("tracking.diagnosis.cannot_diagnose_choose_rep", level=level)
    return level


def node_column(level: str, rep_id: ColumnElement) -> tuple[ColumnElement, list[tuple[object, object]]]:  # type: ignore[type-arg]
    """The node of `level` for a rep id column, with the outer joins it needs (rep → team → region)."""
    check_level(level)
    if level == "rep":
        return rep_id, []
    rep = aliased(OrgNode, name="funnel_rep")
    team = aliased(OrgNode, name="funnel_team")
    joins: list[tuple[object, object]] = [
        (rep, rep.id == rep_id), (team, and_(team.id == rep.parent_id, team.kind == "team")),
    ]
    if level == "team":
        return team.id, joins
    region = aliased(OrgNode, name="funnel_region")
    joins.append((region, and_(region.id == team.parent_id, region.kind == "region")))
    return region.id, joins


def won_on_column() -> tuple[ColumnElement, object, object]:  # type: ignore[type-arg]
    """The day an opportunity was won: its close date, else the day of its 'won' stage change."""
    won_change = aliased(OpportunityStageChange, name="won_change")
    on = and_(won_change.opportunity_id == Opportunity.id, won_change.stage == "won")
    return func.coalesce(Opportunity.closed_on, won_change.changed_on), won_change, on


def funnel_counts(*, session: Session, level: str, start: date, end: date) -> tuple[dict[int, int], dict[int, int]]:
    """Leads created and deals won in [start, end] per node of `level` (two GROUP BYs)."""
    node, joins = node_column(level, Opportunity.rep_id)
    leads_query = select(node, func.count()).select_from(Opportunity)
    for target, on in joins:
        leads_query = leads_query.outerjoin(target, on)  # type: ignore[arg-type]
    leads_query = leads_query.where(Opportunity.created_on >= start, Opportunity.created_on <= end).group_by(node)
    won_on, won_change, won_join = won_on_column()
    deals_query = select(node, func.count()).select_from(Opportunity).outerjoin(won_change, won_join)  # type: ignore[arg-type]
    for target, on in joins:
        deals_query = deals_query.outerjoin(target, on)  # type: ignore[arg-type]
    deals_query = deals_query.where(Opportunity.stage == "won", won_on >= start, won_on <= end).group_by(node)
    leads = {int(k): int(v) for k, v in session.execute(leads_query) if k is not None}
    deals = {int(k): int(v) for k, v in session.execute(deals_query) if k is not None}
    return leads, deals


def revenue_by_node(*, session: Session, level: str, start: date, end: date) -> dict[int, int]:
    """Credited revenue (fen) in [start, end] per node of `level`, from attainment's actuals."""
    window = Period(start, end, Grain.DAY, f"{start}..{end}")
    rows = actuals(session=session, period=window, by=level, metric="revenue").rows
    return {int(r.key[0]): int(r.value) for r in rows if r.key[0] is not None}  # type: ignore[arg-type]


def funnel(*, session: Session, level: str, start: date, end: date) -> Funnel:
    leads, deals = funnel_counts(session=session, level=level, start=start, end=end)
    return Funnel(leads, deals, revenue_by_node(session=session, level=level, start=start, end=end))


def same_period_last_year(period: Period) -> Period:
    """The period a year earlier (ISO week 53 maps to week 52 when last year has none)."""
    if period.grain is Grain.WEEK:
        year, week = period.start.isocalendar()[:2]
        last_weeks = date(year - 1, 12, 28).isocalendar()[1]
        return iso_week(year - 1, min(week, last_weeks))
    if period_of(period.start, period.grain) == period:  # a calendar period: last year's has its own label
        return period_of(_minus_year(period.start), period.grain)
    # A fiscal or custom range: the same dates a year earlier.
    return Period(_minus_year(period.start), _minus_year(period.end), period.grain, f"{period.label} −1y")


def _minus_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def diagnose(
    *, session: Session, period: Period, level: str, reference: str = "target", as_of: date | None = None,
    plan: str | None = None,
) -> Diagnosis:
    """Gap attribution per node of `level` for the period, counted up to `as_of` (default today)."""
    check_level(level)
    if reference not in REFERENCES:
        raise InvalidInput.coded("tracking.diagnosis.unknown_reference_vs_target", reference=reference)
    as_of = as_of or date.today()
    if as_of < period.start:
        raise InvalidInput.coded("tracking.diagnosis.starts_after_nothing_diagnose", label=period.label, start=period.start,
                                 as_of=as_of)
    end = min(period.end, as_of)
    actual = funnel(session=session, level=level, start=period.start, end=end)
    statuses: dict[int, str | None] = {}  # attainment's, by node (vs target only)
    if reference == "target":
        report = attainment(session=session, period=period, by=level, plan=plan, as_of=as_of, metric="revenue")
        reference_values = {
            r.node_id: int(r.figures.expected_to_date) for r in report.rows
            if r.node_id is not None and r.figures.expected_to_date is not None
        }
        statuses = {r.node_id: r.figures.status for r in report.rows if r.node_id is not None}
        history = funnel(session=session, level=level, start=period.start - timedelta(days=HISTORY_DAYS),
                         end=period.start - timedelta(days=1))
        nodes = sorted(set(reference_values) | set(actual.revenue))
        ref_factors = _target_reference(nodes, reference_values, history)
        reference_start, reference_end, plan_name = period.start, end, report.plan
    else:
        last = same_period_last_year(period)
        reference_end = min(last.end, last.start + (end - period.start))
        past = funnel(session=session, level=level, start=last.start, end=reference_end)
        nodes = sorted(set(past.revenue) | set(actual.revenue) | set(past.leads) | set(actual.leads))
        reference_values = {n: past.revenue.get(n, 0) for n in nodes}
        ref_factors = decompose.funnel_factors(*_columns(nodes, past))
        reference_start, plan_name = last.start, None
    actual_columns = _columns(nodes, actual)
    act_factors = decompose.funnel_factors(*actual_columns, fallback=ref_factors)
    if reference == "last-year":  # last year's empty ratios take this year's, so the gap lands on what was missing
        ref_factors = decompose.funnel_factors(*_columns(nodes, past), fallback=act_factors)
    actual_revenue = actual_columns[2].astype(np.int64)
    reference_revenue = np.array([reference_values.get(n, 0) for n in nodes], dtype=np.int64)
    parts = decompose.lmdi(act_factors, ref_factors)
    rounded = decompose.round_parts(parts, actual_revenue - reference_revenue)
    # A row at or above its reference has no cause to name, even when one factor pulled it down.
    causes = [cause if gap < 0 else None for cause, gap in zip(
        decompose.main_cause(rounded.astype(np.float64)), (actual_revenue - reference_revenue).tolist())]
    names = {i: (c, n) for i, c, n in session.execute(
        select(OrgNode.id, OrgNode.code, OrgNode.name).where(OrgNode.id.in_(nodes)))}
    rows = []
    for index, node in enumerate(nodes):
        code, name = names.get(node, (str(node), str(node)))
        rows.append(DiagnosisRow(
            node, code, name, int(actual_revenue[index]), int(reference_revenue[index]),
            int(actual_revenue[index] - reference_revenue[index]), actual.leads.get(node, 0), actual.deals.get(node, 0),
            _decimal(ref_factors.values[index, 0], "0.01"), _decimal(ref_factors.values[index, 1], "0.0001"),
            round(float(ref_factors.values[index, 2])),
            dict(zip(decompose.FACTORS, (int(v) for v in rounded[index]))), causes[index], statuses.get(node),
        ))
    rows.sort(key=lambda r: (r.gap, r.code))
    return Diagnosis(period, level, reference, as_of, end, reference_start, reference_end, plan_name, tuple(rows))


def _columns(nodes: Sequence[int], data: Funnel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.array([data.leads.get(n, 0) for n in nodes], dtype=np.float64),
        np.array([data.deals.get(n, 0) for n in nodes], dtype=np.float64),
        np.array([data.revenue.get(n, 0) for n in nodes], dtype=np.float64),
    )


def _target_reference(nodes: Sequence[int], targets: dict[int, int], history: Funnel) -> decompose.Factors:
    """Target factors from each node's historical conversion and revenue per won deal; the
    company's history for nodes without a won deal in it."""
    total_leads = sum(history.leads.values())
    total_deals = sum(history.deals.values())
    total_revenue = sum(history.revenue.values())
    company_conversion = total_deals / total_leads if total_leads else 0.0
    company_size = total_revenue / total_deals if total_deals else 0.0
    conversions, sizes = [], []
    for node in nodes:
        leads, deals, revenue = history.leads.get(node, 0), history.deals.get(node, 0), history.revenue.get(node, 0)
        if leads and deals:
            conversions.append(deals / leads)
            sizes.append(revenue / deals)
        else:
            conversions.append(company_conversion)
            sizes.append(company_size)
    return decompose.target_factors(
        np.array([targets.get(n, 0) for n in nodes], dtype=np.float64), np.array(conversions), np.array(sizes)
    )


def _decimal(value: float, step: str) -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal(step))
