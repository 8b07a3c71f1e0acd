"""Probability of hitting the target: Monte Carlo over the open pipeline plus unpipelined run-rate.

Model, per node (rep, team or region) at `as_of`, for the rest of the period:

    final = actual to date
          + Σ over open opportunities expected to close by the period end: amount × Bernoulli(p_stage)
          + unpipelined business: Normal(n·μ, √n·σ) clipped at zero

- p_stage, the chance that an opportunity now at a stage is won, is learnt from history in SQL:
  among opportunities closed (won or lost) by `as_of`, those that reached the stage, the share won.
  Each draw takes p_stage from Beta(won + 1, lost + 1), so a stage seen a few times only is
  uncertain rather than certain.
- μ, σ: mean and standard deviation per working day of the node's revenue that the pipeline would
  not have shown (credited revenue − the pipelined share of won opportunities, see
  `unpipelined_rates`) over the `RUN_RATE_DAYS` before `as_of`; n = working days left; both
  scaled by the season (`season_factor`: last year's pace in the rest of the period over its pace
  in the RUN_RATE_DAYS before, so a March forecast is not dragged down by the Spring Festival).

`simulate` is pure NumPy (seeded, vectorised as draws × opportunities in chunks); `forecast` is the
database adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from attain.calendars.service import company_calendar
from attain.errors import InvalidInput
from attain.facts.models import Opportunity, OpportunityStageChange
from attain.org.models import OrgNode
from attain.periods import Period
from attain.split.calendar import WorkCalendar, day_range, working_day_mask
from attain.tracking.attainment import actuals, plan_metric, resolve_plan
from attain.tracking.diagnosis import check_level, node_column, won_on_column
from attain.tracking.query import Grouping, actuals_statement
from attain.tracking.targets import target_between

OPEN_STAGES = ("lead", "qualified", "proposal", "negotiation")
STAGE_RANK = {stage: rank for rank, stage in enumerate(OPEN_STAGES)}
DRAWS = 10_000
SEED = 2026
RUN_RATE_DAYS = 90
CELLS_PER_CHUNK = 2_000_000  # draws × opportunities held in memory at once


@dataclass(frozen=True)
class Simulation:
    """Per node: P(final ≥ target), percentiles and mean of the final figure (same unit as inputs)."""

    p_hit: NDArray[np.float64]
    p10: NDArray[np.float64]
    p50: NDArray[np.float64]
    p90: NDArray[np.float64]
    mean: NDArray[np.float64]


def simulate(
    *,
    actual: NDArray[np.float64],
    target: NDArray[np.float64],
    deal_node: NDArray[np.int64],
    deal_amount: NDArray[np.float64],
    deal_stage: NDArray[np.int64],
    stage_won: NDArray[np.float64],
    stage_lost: NDArray[np.float64],
    run_rate_mean: NDArray[np.float64],
    run_rate_sd: NDArray[np.float64],
    draws: int = DRAWS,
    seed: int = SEED,
) -> Simulation:
    """Monte Carlo of each node's final figure; arrays per node (n) and per open deal (m)."""
    nodes = actual.shape[0]
    if draws < 1:
        raise ValueError("draws must be at least 1")
    if deal_node.size and (deal_node.min() < 0 or deal_node.max() >= nodes):
        raise ValueError("deal_node must index the nodes")
    rng = np.random.default_rng(seed)
    # Parameter uncertainty: one win rate per stage per draw.
    win_rates = rng.beta(stage_won[None, :] + 1.0, stage_lost[None, :] + 1.0, size=(draws, stage_won.size))
    membership = np.zeros((deal_node.size, nodes))
    membership[np.arange(deal_node.size), deal_node] = deal_amount
    pipeline = np.zeros((draws, nodes))
    chunk = max(1, CELLS_PER_CHUNK // max(deal_node.size, 1))
    for first in range(0, draws, chunk):
        last = min(draws, first + chunk)
        won = rng.random((last - first, deal_node.size)) < win_rates[first:last][:, deal_stage]
        pipeline[first:last] = won.astype(np.float64) @ membership
    unpipelined = np.maximum(rng.normal(run_rate_mean, run_rate_sd, size=(draws, nodes)), 0.0)
    final = actual[None, :] + pipeline + unpipelined
    p10, p50, p90 = np.percentile(final, [10, 50, 90], axis=0)
    return Simulation((final >= target[None, :]).mean(axis=0), p10, p50, p90, final.mean(axis=0))


@dataclass(frozen=True)
class ForecastRow:
    node_id: int
    code: str
    name: str
    actual: int  # fen, to as-of
    target: int | None  # fen, whole period
    open_deals: int
    open_amount: int  # fen, expected to close by the period end
    weighted_pipeline: int  # Σ amount × learnt win rate
    run_rate_rest: int  # expected unpipelined business for the rest of the period
    p_hit: float | None
    p10: int
    p50: int
    p90: int

    def as_dict(self) -> dict[str, object]:
        return {
            "node": self.code, "name": self.name, "actual": self.actual, "target": self.target,
            "open_deals": self.open_deals, "open_amount": self.open_amount, "weighted_pipeline": self.weighted_pipeline,
            "run_rate_rest": self.run_rate_rest, "p_hit": self.p_hit, "p10": self.p10, "p50": self.p50, "p90": self.p90,
        }


@dataclass(frozen=True)
class Forecast:
    period: Period
    level: str
    as_of: date
    plan: str
    draws: int
    seed: int
    working_days_left: int
    season_factor: float
    stage_win_rates: dict[str, float]
    rows: tuple[ForecastRow, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "period": self.period.label, "by": self.level, "as_of": self.as_of, "plan": self.plan, "draws": self.draws,
            "seed": self.seed, "working_days_left": self.working_days_left,
            "season_factor": self.season_factor, "unit": "fen",
            "stage_win_rates": self.stage_win_rates, "rows": [r.as_dict() for r in self.rows],
        }


def _stage_rank_case(stage_column):  # type: ignore[no-untyped-def]
    return case(*[(stage_column == s, r) for s, r in STAGE_RANK.items()], else_=None)


def stage_history(*, session: Session, as_of: date) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Won and lost counts per open stage among opportunities closed by `as_of`: an opportunity
    counts for every stage up to the furthest it reached before closing."""
    won_on, won_change, won_join = won_on_column()
    closed_on = func.coalesce(Opportunity.closed_on, won_on)
    reached = (
        select(OpportunityStageChange.opportunity_id.label("opportunity_id"),
               func.max(_stage_rank_case(OpportunityStageChange.stage)).label("reached"))
        .group_by(OpportunityStageChange.opportunity_id).subquery("reached")
    )
    statement = (
        select(reached.c.reached, Opportunity.stage, func.count())
        .select_from(Opportunity).outerjoin(won_change, won_join)  # type: ignore[arg-type]
        .outerjoin(reached, reached.c.opportunity_id == Opportunity.id)
        .where(Opportunity.stage.in_(("won", "lost")), closed_on <= as_of)
        .group_by(reached.c.reached, Opportunity.stage)
    )
    won = np.zeros(len(OPEN_STAGES))
    lost = np.zeros(len(OPEN_STAGES))
    for furthest, outcome, count in session.execute(statement):
        target = won if outcome == "won" else lost
        # Without a recorded open stage the deal counts as having been a lead.
        target[: int(furthest or 0) + 1] += count
    return won, lost


def open_deals(*, session: Session, level: str, as_of: date, period_end: date) -> list[tuple[int, int, int]]:
    """(node id, amount, stage rank at as-of) of opportunities open at `as_of` and expected to close
    by `period_end` (or with no expected date)."""
    node, joins = node_column(level, Opportunity.rep_id)
    stage_at = (
        select(OpportunityStageChange.opportunity_id.label("opportunity_id"),
               func.max(_stage_rank_case(OpportunityStageChange.stage)).label("rank"))
        .where(OpportunityStageChange.changed_on <= as_of)
        .group_by(OpportunityStageChange.opportunity_id).subquery("stage_at")
    )
    won_on, won_change, won_join = won_on_column()
    closed_on = func.coalesce(Opportunity.closed_on, won_on)
    statement = select(node, Opportunity.amount, func.coalesce(stage_at.c.rank, _stage_rank_case(Opportunity.stage), 0))
    statement = statement.select_from(Opportunity).outerjoin(won_change, won_join)  # type: ignore[arg-type]
    statement = statement.outerjoin(stage_at, stage_at.c.opportunity_id == Opportunity.id)
    for target, on in joins:
        statement = statement.outerjoin(target, on)  # type: ignore[arg-type]
    statement = statement.where(
        Opportunity.created_on <= as_of,
        or_(Opportunity.stage.in_(OPEN_STAGES), and_(closed_on.is_not(None), closed_on > as_of)),
        or_(Opportunity.expected_close_on.is_(None), Opportunity.expected_close_on <= period_end),
        node.is_not(None),
    )
    return [(int(n), int(a), int(r)) for n, a, r in session.execute(statement)]


def unpipelined_rates(
    *, session: Session, level: str, as_of: date, horizon_days: int, calendar: WorkCalendar | None = None,
) -> tuple[dict[int, float], dict[int, float]]:
    """Mean and standard deviation per working day of revenue the open pipeline does not explain,
    per node, over the RUN_RATE_DAYS before `as_of` (daily sums by the database).

    A deal won on day d after `age` days open was in the pipeline at a forecast made h days earlier
    with probability min(age, h)/h; only that share of its amount counts as pipelined, the rest (and
    every sale without an opportunity) is run-rate business.
    """
    start = as_of - timedelta(days=RUN_RATE_DAYS - 1)
    days = day_range(start, as_of)
    workdays, _warnings = working_day_mask(days, calendar or company_calendar(session=session))
    work_index = np.cumsum(workdays) - 1
    worked = int(workdays.sum())
    if worked == 0:
        return {}, {}
    daily = session.execute(actuals_statement(
        metric="revenue", grouping=Grouping((level,)), start=start, end=as_of, by_day=True)).all()
    node, joins = node_column(level, Opportunity.rep_id)
    won_on, won_change, won_join = won_on_column()
    won_statement = select(node, won_on, Opportunity.created_on, Opportunity.amount).select_from(Opportunity).outerjoin(
        won_change, won_join)  # type: ignore[arg-type]
    for target, on in joins:
        won_statement = won_statement.outerjoin(target, on)  # type: ignore[arg-type]
    won_statement = won_statement.where(Opportunity.stage == "won", won_on >= start, won_on <= as_of, node.is_not(None))
    horizon = max(horizon_days, 1)
    won = session.execute(won_statement).all()
    daily = [r for r in daily if r[0] is not None and r[-1] is not None]
    nodes = sorted({int(r[0]) for r in daily} | {int(r[0]) for r in won})
    position = {n: i for i, n in enumerate(nodes)}
    amounts = np.zeros((len(nodes), worked))
    origin = np.datetime64(start, "D")

    def add(node_ids: list[int], days: list[object], values: NDArray[np.float64]) -> None:
        if not node_ids:
            return
        offsets = (np.array([_as_date(d) for d in days], dtype="datetime64[D]") - origin).astype(np.int64)
        # Sales on a day off count toward the working day before it.
        columns = np.maximum(work_index[offsets], 0)
        np.add.at(amounts, (np.array([position[int(n)] for n in node_ids]), columns), values)

    add([r[0] for r in daily], [r[1] for r in daily], np.array([float(r[2]) for r in daily]))
    if won:
        ages = (np.array([_as_date(r[1]) for r in won], dtype="datetime64[D]")
                - np.array([_as_date(r[2]) for r in won], dtype="datetime64[D]")).astype(np.int64)
        pipelined = np.array([float(r[3]) for r in won]) * np.clip(ages, 0, horizon) / horizon
        add([r[0] for r in won], [r[1] for r in won], -pipelined)
    return (
        {n: float(amounts[i].mean()) for n, i in position.items()},
        {n: float(amounts[i].std()) for n, i in position.items()},
    )


def season_factor(*, session: Session, as_of: date, period_end: date, calendar: WorkCalendar | None = None) -> float:
    """How much busier (per working day) the rest of the period was than the RUN_RATE_DAYS before
    it, one year earlier, company-wide; 1 without last year's sales."""
    calendar = calendar or company_calendar(session=session)

    def per_working_day(start: date, end: date) -> float | None:
        days = day_range(start, end)
        worked = int(working_day_mask(days, calendar)[0].sum())
        total = session.execute(actuals_statement(
            metric="revenue", grouping=Grouping(()), start=start, end=end, direct_only=True)).scalar()
        return float(total) / worked if total and worked else None

    year_ago = _year_earlier(as_of)
    before = per_working_day(year_ago - timedelta(days=RUN_RATE_DAYS - 1), year_ago)
    after = per_working_day(year_ago + timedelta(days=1), _year_earlier(period_end))
    if not before or not after:
        return 1.0
    return after / before


def _year_earlier(day: date) -> date:
    return day.replace(year=day.year - 1) if not (day.month == 2 and day.day == 29) else day.replace(year=day.year - 1, day=28)


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def forecast(
    *, session: Session, period: Period, level: str, as_of: date | None = None, plan: str | None = None,
    draws: int = DRAWS, seed: int = SEED,
) -> Forecast:
    """P(hit) and P10/P50/P90 of the period's final revenue per node of `level`."""
    check_level(level)
    if draws < 100 or draws > 1_000_000:
        raise InvalidInput.coded("tracking.pipeline.draws_between_draws", draws=draws)
    as_of = as_of or date.today()
    chosen = resolve_plan(session, period, plan)
    plan_metric(session, chosen, "revenue")
    targets = {t.node_id: t.value for t in target_between(session, chosen, period.start, period.end, level)}
    to_date = {int(r.key[0]): int(r.value) for r in actuals(  # type: ignore[arg-type]
        session=session, period=period, by=level, metric="revenue", as_of=as_of).rows if r.key[0] is not None} if (
        as_of >= period.start) else {}
    deals = open_deals(session=session, level=level, as_of=as_of, period_end=period.end) if as_of < period.end else []
    won, lost = stage_history(session=session, as_of=as_of)
    if as_of < period.end:
        rest = day_range(max(as_of + timedelta(days=1), period.start), period.end)
        calendar = company_calendar(session=session)
        left = int(working_day_mask(rest, calendar)[0].sum())
        mean_rate, sd_rate = unpipelined_rates(session=session, level=level, as_of=as_of, horizon_days=rest.size,
                                               calendar=calendar)
        season = season_factor(session=session, as_of=as_of, period_end=period.end, calendar=calendar)
    else:
        left, mean_rate, sd_rate, season = 0, {}, {}, 1.0
    nodes = sorted(set(targets) | set(to_date) | {d[0] for d in deals})
    position = {n: i for i, n in enumerate(nodes)}
    deal_node = np.array([position[d[0]] for d in deals], dtype=np.int64)
    deal_amount = np.array([d[1] for d in deals], dtype=np.float64)
    deal_stage = np.array([d[2] for d in deals], dtype=np.int64)
    actual = np.array([to_date.get(n, 0) for n in nodes], dtype=np.float64)
    target = np.array([float(targets[n]) if n in targets else np.inf for n in nodes])
    rest_mean = np.array([max(mean_rate.get(n, 0.0), 0.0) * left * season for n in nodes])
    rest_sd = np.array([sd_rate.get(n, 0.0) * np.sqrt(left) * season for n in nodes])
    result = simulate(actual=actual, target=target, deal_node=deal_node, deal_amount=deal_amount, deal_stage=deal_stage,
                      stage_won=won, stage_lost=lost, run_rate_mean=rest_mean, run_rate_sd=rest_sd, draws=draws, seed=seed)
    rates = (won + 1.0) / (won + lost + 2.0)
    weighted = np.zeros(len(nodes))
    np.add.at(weighted, deal_node, deal_amount * rates[deal_stage])
    open_count = np.bincount(deal_node, minlength=len(nodes))
    open_amount = np.bincount(deal_node, weights=deal_amount, minlength=len(nodes))
    names = {i: (c, n) for i, c, n in session.execute(
        select(OrgNode.id, OrgNode.code, OrgNode.name).where(OrgNode.id.in_(nodes)))}
    rows = []
    for i, node in enumerate(nodes):
        code, name = names.get(node, (str(node), str(node)))
        target_fen = _fen(targets[node]) if node in targets else None
        rows.append(ForecastRow(
            node, code, name, int(actual[i]), target_fen, int(open_count[i]), round(float(open_amount[i])),
            round(float(weighted[i])), round(float(rest_mean[i])),
            round(float(result.p_hit[i]), 4) if target_fen is not None else None,
            round(float(result.p10[i])), round(float(result.p50[i])), round(float(result.p90[i])),
        ))
    rows.sort(key=lambda r: (r.p_hit if r.p_hit is not None else 2.0, r.code))
    return Forecast(period, level, as_of, chosen.name, draws, seed, left, round(season, 4),
                    {s: round(float(r), 4) for s, r in zip(OPEN_STAGES, rates)}, tuple(rows))


def _fen(value: Fraction) -> int:
    return round(value)
