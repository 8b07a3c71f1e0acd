"""The reverse funnel of one rep for one week, from the plan and the rep's own opportunity history.

Target: the rep's plan cells prorated to the week by CN working days (a cell contributes
value × working days of the week inside the cell / working days of the cell), exact as a Fraction.

Rates and deal size: learned from the rep's opportunities with stage history, shrunk toward the
team, and the team toward the company (see `learn_rates`). All counting is one SQL aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import numpy as np
from sqlalchemy import ColumnElement, Subquery, and_, case, func, or_, select
from sqlalchemy.orm import Session

from attain.calendars.service import company_calendar
from attain.errors import InvalidInput, NotFound
from attain.facts.models import Opportunity, OpportunityStageChange
from attain.funnel.calc import RATE_SCALE, ceil_fraction, spread_over_days, stage_counts
from attain.funnel.settings import PRIOR_WEIGHT, STALE_DAYS
from attain.metrics.models import Metric
from attain.org.models import OrgNode
from attain.org.service import require_node
from attain.periods import Grain, Period, parse_period
from attain.plans.models import ALL_CUSTOMERS, Plan, PlanCell
from attain.plans.service import resolve_plan
from attain.settings.service import get_setting
from attain.split.calendar import WorkCalendar, day_range, working_day_mask

# The pipeline, from first touch to the deal; the funnel is printed the other way round.
PIPELINE = ("lead", "qualified", "proposal", "negotiation", "won")
FUNNEL_STAGES = tuple(reversed(PIPELINE))  # won, negotiation, proposal, qualified, lead


CN_CALENDAR = WorkCalendar()


@dataclass(frozen=True)
class LevelHistory:
    """Counts of one level (rep, team or company): per pipeline step k (lead→qualified … negotiation→won)
    how many opportunities moved on and how many were decided (moved on or lost there); won deals and their value."""

    advanced: tuple[int, ...]
    decided: tuple[int, ...]
    opportunities: int
    won: int
    won_amount: int  # fen


@dataclass(frozen=True)
class LearnedRates:
    """Rates per step in FUNNEL order (won←negotiation, negotiation←proposal, …), as Decimals with 4 places."""

    rates: tuple[Decimal, ...]
    deal_size: int  # fen
    rep: LevelHistory
    team: LevelHistory
    company: LevelHistory
    prior_weight: int


@dataclass(frozen=True)
class WeekFunnel:
    rep_code: str
    rep_name: str
    plan: str
    week: Period
    target: Fraction  # fen, exact
    cells: tuple[dict[str, object], ...]
    learned: LearnedRates
    days: tuple[date, ...]
    worked: tuple[bool, ...]
    counts: tuple[int, ...]  # FUNNEL_STAGES order
    per_day: tuple[tuple[int, ...], ...]
    warnings: tuple[str, ...]


# ---- target -------------------------------------------------------------------------------------------


def working_days(start: date, end: date, calendar: WorkCalendar = CN_CALENDAR) -> tuple[int, list[str]]:
    mask, warnings = working_day_mask(day_range(start, end), calendar)
    return int(mask.sum()), warnings


def rep_plan_cells(*, session: Session, plan: Plan, rep: OrgNode, start: date, end: date) -> list[PlanCell]:
    """The rep's cells overlapping [start, end] at the finest grain the plan has for the rep, without
    double counting: all-product/all-customer cells when there are any, else the product-free cells,
    else every cell."""
    cells = list(session.scalars(
        select(PlanCell).where(PlanCell.plan_id == plan.id, PlanCell.org_node_id == rep.id,
                               PlanCell.period_start <= end, PlanCell.period_end >= start)
    ))
    if not cells:
        return []
    # Only the finest grain: a plan may hold a rep's quarters and the months they split into.
    finest = min(_grain_rank(c) for c in cells)
    cells = [c for c in cells if _grain_rank(c) == finest]
    whole = [c for c in cells if c.product_node_id is None and c.customer_type == ALL_CUSTOMERS and not c.customer_axis]
    if whole:
        return whole
    product_free = [c for c in cells if c.product_node_id is None]
    return product_free or cells


def _grain_rank(cell: PlanCell) -> int:
    """0 day, 1 week, 2 month, 3 quarter, 4 half, 5 year — from the cell's length, whatever its label."""
    length = (cell.period_end - cell.period_start).days + 1
    return next(rank for rank, longest in enumerate((1, 7, 31, 92, 184, 10**6)) if length <= longest)


def prorated_target(
    cells: list[PlanCell], start: date, end: date, calendar: WorkCalendar = CN_CALENDAR
) -> tuple[Fraction, list[dict[str, object]], list[str]]:
    """Σ cell value × working days of [start, end] inside the cell / working days of the cell (exact)."""
    total = Fraction(0)
    parts: list[dict[str, object]] = []
    warnings: list[str] = []
    for cell in sorted(cells, key=lambda c: (c.period_start, c.id)):
        overlap_start, overlap_end = max(start, cell.period_start), min(end, cell.period_end)
        in_week, w1 = working_days(overlap_start, overlap_end, calendar)
        in_cell, w2 = working_days(cell.period_start, cell.period_end, calendar)
        warnings.extend(w for w in w1 + w2 if w not in warnings)
        share = Fraction(cell.value * in_week, in_cell) if in_cell else Fraction(0)
        total += share
        parts.append({"period": cell.period, "value": cell.value, "working_days_in_week": in_week,
                      "working_days_in_period": in_cell, "share": share})
    return total, parts, warnings


# ---- rates --------------------------------------------------------------------------------------------


def _furthest_in_history() -> Subquery:
    """Per opportunity: the furthest pipeline stage (0 lead … 4 won) in its stage history, and the
    day of its last stage change."""
    stage_index = case({s: i for i, s in enumerate(PIPELINE)}, value=OpportunityStageChange.stage, else_=-1)
    history = (
        select(OpportunityStageChange.opportunity_id.label("opportunity_id"), func.max(stage_index).label("reached"),
               func.max(OpportunityStageChange.changed_on).label("last_moved"))
        .group_by(OpportunityStageChange.opportunity_id)
        .subquery()
    )
    return history


def level_histories(
    *, session: Session, rep: OrgNode, team: OrgNode | None, before: date, stale_days: int = 0,
) -> tuple[LevelHistory, LevelHistory, LevelHistory]:
    """(rep, team, company) counts over opportunities created before `before`, in one aggregate query.

    An opportunity still open whose stage last moved (or which was created, without history) more
    than `stale_days` days before `before` counts as lost at its stage (0: never): twelve leads left
    to rot are twelve leads that did not convert, not twelve left out of the rates."""
    history = _furthest_in_history()
    current = case({s: i for i, s in enumerate(PIPELINE)}, value=Opportunity.stage, else_=0)
    reached = case(
        (history.c.reached.is_(None), current),
        (history.c.reached > current, history.c.reached),
        else_=current,
    )
    lost: ColumnElement[bool] = Opportunity.stage == "lost"
    if stale_days > 0:
        last_moved = func.coalesce(history.c.last_moved, Opportunity.created_on)
        idle = and_(Opportunity.stage.not_in(("won", "lost")), last_moved < before - timedelta(days=stale_days))
        lost = or_(lost, idle)
    team_path = (team.path if team is not None else rep.path)
    levels = {
        "rep": Opportunity.rep_id == rep.id,
        "team": OrgNode.path.like(f"{team_path}%"),
        "company": Opportunity.id.isnot(None),
    }
    columns = []
    for name, condition in levels.items():
        for k in range(len(PIPELINE) - 1):
            moved = and_(condition, reached >= k + 1)
            columns.append(func.sum(case((moved, 1), else_=0)).label(f"{name}_adv_{k}"))
            columns.append(func.sum(case((or_(moved, and_(condition, lost, reached == k)), 1), else_=0)).label(f"{name}_dec_{k}"))
        columns.append(func.sum(case((condition, 1), else_=0)).label(f"{name}_n"))
        won = and_(condition, Opportunity.stage == "won", Opportunity.amount > 0)
        columns.append(func.sum(case((won, 1), else_=0)).label(f"{name}_won"))
        columns.append(func.sum(case((won, Opportunity.amount), else_=0)).label(f"{name}_won_amount"))
    query = (
        select(*columns)
        .select_from(Opportunity)
        .outerjoin(history, history.c.opportunity_id == Opportunity.id)
        .outerjoin(OrgNode, OrgNode.id == Opportunity.rep_id)
        .where(Opportunity.created_on < before)
    )
    row = session.execute(query).mappings().one()

    def level(name: str) -> LevelHistory:
        steps = range(len(PIPELINE) - 1)
        return LevelHistory(
            advanced=tuple(int(row[f"{name}_adv_{k}"] or 0) for k in steps),
            decided=tuple(int(row[f"{name}_dec_{k}"] or 0) for k in steps),
            opportunities=int(row[f"{name}_n"] or 0), won=int(row[f"{name}_won"] or 0),
            won_amount=int(row[f"{name}_won_amount"] or 0),
        )

    return level("rep"), level("team"), level("company")


def shrink(successes: int, trials: int, prior: Fraction | None, weight: int) -> Fraction | None:
    """(successes + weight × prior) / (trials + weight): the own rate when there are many trials,
    the prior when there are few; None without either."""
    if prior is None or weight == 0:
        return Fraction(successes, trials) if trials else prior
    return (successes + weight * prior) / (trials + weight)


def learn_rates(rep: LevelHistory, team: LevelHistory, company: LevelHistory, prior_weight: int) -> tuple[tuple[Decimal, ...], int]:
    """Rates in funnel order (4 decimals, half-even) and the average deal size in fen, each shrunk
    rep → team → company."""
    rates: list[Decimal] = []
    for k in reversed(range(len(PIPELINE) - 1)):
        company_rate = shrink(company.advanced[k], company.decided[k], None, 0)
        team_rate = shrink(team.advanced[k], team.decided[k], company_rate, prior_weight)
        rep_rate = shrink(rep.advanced[k], rep.decided[k], team_rate, prior_weight)
        step = f"{PIPELINE[k]}→{PIPELINE[k + 1]}"
        if rep_rate is None:
            raise InvalidInput.coded("funnel.opportunity_database_was_ever", pipeline=PIPELINE[k], step=step)
        if rep_rate == 0:
            raise InvalidInput.coded("funnel.opportunity_ever_moved_rep", step=step, decided=rep.decided[k], decided2=team.decided[k], decided3=company.decided[k])
        rounded = (Decimal(rep_rate.numerator) / Decimal(rep_rate.denominator)).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)
        rates.append(max(rounded, Decimal("0.0001")))
    company_size = Fraction(company.won_amount, company.won) if company.won else None
    team_size = shrink(team.won_amount, team.won, company_size, prior_weight)
    rep_size = shrink(rep.won_amount, rep.won, team_size, prior_weight)
    if rep_size is None or rep_size <= 0:
        raise InvalidInput.coded("funnel.won_opportunity_amount_database")
    return tuple(rates), ceil_fraction(rep_size)


def rep_rates(*, session: Session, rep: OrgNode, before: date) -> LearnedRates:
    team = session.get(OrgNode, rep.parent_id) if rep.parent_id else None
    stale_days = int(get_setting(session=session, key=STALE_DAYS))
    rep_h, team_h, company_h = level_histories(session=session, rep=rep, team=team, before=before, stale_days=stale_days)
    weight = int(get_setting(session=session, key=PRIOR_WEIGHT))
    rates, size = learn_rates(rep_h, team_h, company_h, weight)
    return LearnedRates(rates, size, rep_h, team_h, company_h, weight)


# ---- the week -----------------------------------------------------------------------------------------


def require_rep(*, session: Session, code: str) -> OrgNode:
    node = require_node(session=session, key=code)
    if node.kind != "rep":
        raise InvalidInput.coded("funnel.rep_funnel_per_rep", code=code, kind=node.kind)
    return node


def week_funnel(
    *, session: Session, plan_name: str, rep_code: str, week: str, calendar: WorkCalendar | None = None
) -> WeekFunnel:
    span = parse_period(week)
    if span.grain != Grain.WEEK:
        raise InvalidInput.coded("funnel.iso_week_give_one", week=week)
    plan = resolve_plan(session=session, name=plan_name)
    rep = require_rep(session=session, code=rep_code)
    return funnel_for(session=session, plan=plan, rep=rep, start=span.start, end=span.end, label=span, calendar=calendar)


def funnel_for(
    *, session: Session, plan: Plan, rep: OrgNode, start: date, end: date, label: Period,
    calendar: WorkCalendar | None = None,
) -> WeekFunnel:
    """The rep's funnel for [start, end]; working days from `calendar`, by default the company calendar."""
    calendar = calendar or company_calendar(session=session)
    metric = session.get(Metric, plan.metric_id)
    if metric is None or metric.unit != "CNY" or metric.scale != 2:
        raise InvalidInput.coded("funnel.plan_targets_money_cny", name=plan.name, value=metric.code if metric else '?')
    if end < plan.start_date or start > plan.end_date:
        raise InvalidInput.coded("funnel.outside_plan", label=label.label, name=plan.name, start_date=plan.start_date, end_date=plan.end_date)
    cells = rep_plan_cells(session=session, plan=plan, rep=rep, start=start, end=end)
    if not cells:
        raise NotFound.coded("funnel.plan_target_cell_rep", name=plan.name, code=rep.code, name2=rep.name, label=label.label)
    target, parts, warnings = prorated_target(cells, start, end, calendar)
    learned = rep_rates(session=session, rep=rep, before=start)
    days = day_range(start, end)
    mask, more = working_day_mask(days, calendar)
    warnings.extend(w for w in more if w not in warnings)
    # No target on days the rep is not employed.
    employed = np.ones(days.size, dtype=bool)
    if rep.start_date is not None:
        employed &= days >= np.datetime64(rep.start_date, "D")
    if rep.end_date is not None:
        employed &= days <= np.datetime64(rep.end_date, "D")
    worked = mask & employed
    deals = ceil_fraction(target / learned.deal_size)
    rates_ppm = [int(r * RATE_SCALE) for r in learned.rates]
    counts = stage_counts([deals], [rates_ppm])
    if not worked.any():
        counts = np.zeros_like(counts)
        warnings.append(f"{label.label} has no working day for {rep.code}; nothing to do")
    per_day = spread_over_days(counts, worked)[0]
    return WeekFunnel(
        rep_code=rep.code, rep_name=rep.name, plan=plan.name, week=label, target=target, cells=tuple(parts),
        learned=learned, days=tuple(d.item() for d in days), worked=tuple(bool(w) for w in worked),
        counts=tuple(int(c) for c in counts[0]), per_day=tuple(tuple(int(c) for c in d) for d in per_day),
        warnings=tuple(warnings),
    )


def week_of(day: date) -> Period:
    year, week, _ = day.isocalendar()
    start = date.fromisocalendar(year, week, 1)
    return Period(start, start + timedelta(days=6), Grain.WEEK, f"{year}-W{week:02d}")
