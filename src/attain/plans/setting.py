"""Setting the target: a total as given, last year's actual plus growth, or built bottom-up from capacity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import numpy as np
from sqlalchemy.orm import Session

from attain.errors import InvalidInput
from attain.imports.parsing import parse_decimal, to_minor
from attain.metrics.service import evaluate, require_metric
from attain.periods import Grain, periods_between
from attain.plans import calc, data
from attain.plans.baseline import LAST_FISCAL_YEAR, Baseline, baseline_window
from attain.plans.service import create_plan


@dataclass(frozen=True)
class Capacity:
    """What the reps can deliver, and what a given total implies (minor units of the metric)."""

    headcount: int
    capacity: int
    productivity_per_month: int  # a typical fully ramped rep
    new_rep_output: int  # what one rep hired on the plan's first day delivers in the plan period
    extra_reps: int
    gap: int
    budget: int | None  # (headcount + extra reps) × cost per rep, when a cost is given
    extra_budget: int | None


@dataclass(frozen=True)
class CreatedPlan:
    name: str
    version: int
    year: int
    metric: str
    total: int
    unit: int
    basis: str
    base: int | None  # last year's actual for --growth
    capacity: Capacity | None
    baseline: Baseline | None = None  # the window 'last year' was read from (--growth, --from-capacity)


def parse_money(text: str, scale: int, what: str) -> int:
    """A user-typed amount in display units ('12000000', '1,200万') → exact minor units."""
    try:
        return to_minor(parse_decimal(str(text)), scale)
    except ValueError as exc:
        raise InvalidInput.coded("plans.setting.amount", what=what, text=text, exc=exc) from exc


def _round_to_unit(value: int, unit: int) -> int:
    return (value + unit // 2) // unit * unit


@dataclass(frozen=True)
class ProposedTotal:
    """A plan total worked out one of three ways, before any plan exists (the web wizard's default)."""

    year: int
    metric: str
    total: int
    unit: int
    basis: str
    base: int | None  # last year's actual for growth
    capacity: Capacity | None
    baseline: Baseline | None


def create_target(
    *, session: Session, name: str, year: int, metric_code: str, by: str, total: str | None = None,
    growth: str | None = None, from_capacity: bool = False, productivity: str | None = None,
    cost_per_rep: str | None = None, unit: str | None = None, reason: str | None = None,
    baseline: str = LAST_FISCAL_YEAR, as_of: date | None = None,
) -> CreatedPlan:
    """Create plan `name` for calendar `year` with its total set one of three ways (`propose_total`)."""
    proposed = propose_total(session=session, year=year, metric_code=metric_code, total=total, growth=growth,
                             from_capacity=from_capacity, productivity=productivity, cost_per_rep=cost_per_rep,
                             unit=unit, baseline=baseline, as_of=as_of)
    metric = require_metric(session=session, code=metric_code)
    start, end = date(year, 1, 1), date(year, 12, 31)
    window, basis = proposed.baseline, proposed.basis
    plan = create_plan(session=session, name=name, metric=metric, start=start, end=end, unit=proposed.unit, by=by,
                       reason=reason or f"target set by {basis}")
    plan.total = proposed.total
    plan.note = f"{year} {metric.name_zh or metric.name}: {basis}" + (f", last year {window.label}" if window is not None else "")
    session.commit()
    return CreatedPlan(plan.name, plan.version, year, metric.code, proposed.total, proposed.unit, basis, proposed.base,
                       proposed.capacity, window)


def propose_total(
    *, session: Session, year: int, metric_code: str, total: str | None = None, growth: str | None = None,
    from_capacity: bool = False, productivity: str | None = None, cost_per_rep: str | None = None,
    unit: str | None = None, baseline: str = LAST_FISCAL_YEAR, as_of: date | None = None,
) -> ProposedTotal:
    """The total of a plan for calendar `year`, set one of three ways; writes nothing.

    'Last year' is the `plans.baseline` window (`baseline`: last-fiscal-year or trailing-12, as of
    `as_of`, default today): never a year still running. Growth on a window the sales history does
    not cover is refused.

    `total` alone: as given. `growth`: last year's actual × (1 + growth), rounded to the unit.
    `from_capacity`: reps × ramp × productivity (learned per rep from last year, or `productivity`
    per fully ramped month); with `total` as well, the total is kept and the capacity says how
    many reps are missing and what they cost.
    """
    if not 2000 <= year <= 2100:
        raise InvalidInput.coded("plans.setting.year_out_range", year=year)
    if growth is not None and (total is not None or from_capacity):
        raise InvalidInput.coded("plans.setting.give_growth_alone_total")
    if total is None and growth is None and not from_capacity:
        raise InvalidInput.coded("plans.setting.set_target_total_growth")
    metric = require_metric(session=session, code=metric_code)
    if metric.aggregation in ("ratio", "average"):
        raise InvalidInput.coded("plans.setting.metric_plan_total_needs", code=metric.code, aggregation=metric.aggregation)
    scale = metric.scale
    rounding = parse_money(unit, scale, "--unit") if unit is not None else 10**scale
    if rounding <= 0:
        raise InvalidInput.coded("plans.setting.unit_positive", unit=unit)
    start = date(year, 1, 1)
    base = None
    capacity = None
    basis = "total"
    window = None
    if growth is not None or from_capacity:
        window = baseline_window(session=session, target_start=start, basis=baseline, as_of=as_of)
    value: int
    if growth is not None:
        try:
            rate = Decimal(str(growth).strip().rstrip("%")) / (100 if str(growth).strip().endswith("%") else 1)
        except InvalidOperation as exc:
            raise InvalidInput.coded("plans.setting.growth_number", growth=growth) from exc
        if not rate.is_finite() or rate <= -1 or rate > 100:
            raise InvalidInput.coded("plans.setting.growth_out_range_more", growth=growth)
        assert window is not None
        actual = evaluate(session=session, metric=metric, start=window.start, end=window.end)
        base = int(actual[0].value or 0) if actual else 0
        if base <= 0:
            raise InvalidInput.coded("plans.setting.grow_give_total_instead", code=metric.code, label=window.label)
        if not window.complete:
            raise InvalidInput.coded("plans.setting.complete_year_grow_give", code=metric.code, note=window.note)
        value = _round_to_unit(int((Decimal(base) * (1 + rate)).to_integral_value()), rounding)
        basis = f"growth {rate}"
    if total is not None:
        value = parse_money(total, scale, "--total")
        if value <= 0:
            raise InvalidInput.coded("plans.setting.total_more_zero", total=total)
        if value % rounding:
            raise InvalidInput.coded("plans.setting.total_multiple_rounding_unit", total=total, unit=unit)
    if from_capacity:
        capacity = capacity_for(session=session, metric_code=metric.code, year=year, target=value if total is not None else None,
                                productivity=productivity, cost_per_rep=cost_per_rep, window=window)
        if total is None:
            value = _round_to_unit(capacity.capacity, rounding)
            basis = "capacity"
        else:
            basis = "total (capacity checked)"
    if value <= 0:
        raise InvalidInput.coded("plans.setting.target_comes_out_nothing", value=value)
    return ProposedTotal(year, metric.code, value, rounding, basis, base, capacity, window)


def capacity_for(
    *, session: Session, metric_code: str, year: int, target: int | None = None, productivity: str | None = None,
    cost_per_rep: str | None = None, window: Baseline | None = None, as_of: date | None = None,
) -> Capacity:
    """Bottom-up capacity for `year`: each rep's ramped months × their productivity (learnt over the
    baseline `window`, by default the last complete fiscal year as of `as_of`)."""
    metric = require_metric(session=session, code=metric_code)
    start, end = date(year, 1, 1), date(year, 12, 31)
    reps = data.sellers(session=session, start=start, end=end)
    if not reps:
        raise InvalidInput.coded("plans.setting.reps_employed_import_reps", year=year)
    months = periods_between(start, end, Grain.MONTH)
    planned = data.ramped_capacity(reps, months)  # (reps, 12) ramped headcount
    if productivity is not None:
        per_month = parse_money(productivity, metric.scale, "--productivity")
        if per_month <= 0:
            raise InvalidInput.coded("plans.setting.productivity_more_zero", productivity=productivity)
        output = np.full(len(reps), float(per_month))
    else:
        window = window or baseline_window(session=session, target_start=start, as_of=as_of)
        history = data.history_by_rep(session=session, metric=metric, start=window.start, end=window.end,
                                      rep_ids=[r.id for r in reps], product_lines=(None,), types=("all",)).sum(axis=(2, 3))
        output = calc.learn_productivity(history, data.ramped_capacity(reps, window.months))
        if not np.any(output > 0):
            raise InvalidInput.coded("plans.setting.learn_productivity_pass_productivity", code=metric.code, label=window.label)
    typical = float(np.median(output))
    total_capacity = round(float((planned.sum(axis=1) * output).sum()))
    new_hire = data.ramped_capacity([_NewRep(start)], months).sum() * typical
    gap = (target - total_capacity) if target is not None else 0
    extra = calc.extra_reps(gap, float(new_hire)) if target is not None else 0
    budget = extra_budget = None
    if cost_per_rep is not None:
        cost = parse_money(cost_per_rep, metric.scale, "--cost-per-rep")
        if cost < 0:
            raise InvalidInput.coded("plans.setting.cost_per_rep_negative", cost_per_rep=cost_per_rep)
        budget, extra_budget = (len(reps) + extra) * cost, extra * cost
    return Capacity(len(reps), total_capacity, round(typical), round(float(new_hire)), extra, max(gap, 0), budget, extra_budget)


@dataclass(frozen=True)
class _NewRep:
    """A rep hired on `start_date` (the shape `data.ramped_capacity` reads)."""

    start_date: date
    code: str = "new hire"
    end_date: date | None = None
