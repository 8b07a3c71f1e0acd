"""Plans: find, create and summarise target plans."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from attain.errors import Conflict, InvalidInput, NotFound
from attain.metrics.models import Metric
from attain.plans.models import Plan, PlanCell


def get_plan(*, session: Session, name: str) -> Plan | None:
    """The newest version of the plan with this name, or None."""
    return session.scalars(select(Plan).where(Plan.name == name).order_by(Plan.version.desc())).first()


def require_plan(*, session: Session, name: str) -> Plan:
    plan = get_plan(session=session, name=name)
    if plan is None:
        names = session.scalars(select(Plan.name).distinct().order_by(Plan.name)).all()
        known = f"; plans are {', '.join(names)}" if names else "; there are no plans yet"
        raise NotFound(f"no plan named '{name}'{known}")
    return plan


def create_plan(
    *, session: Session, name: str, metric: Metric, start: date, end: date, unit: int | None = None, status: str = "draft"
) -> Plan:
    """A new draft plan (version 1). The rounding unit defaults to one whole unit of the metric."""
    if end < start:
        raise InvalidInput(f"plan {name}: end {end} is before start {start}")
    if get_plan(session=session, name=name) is not None:
        raise Conflict(f"a plan named '{name}' already exists")
    plan = Plan(
        name=name, version=1, metric_id=metric.id, start_date=start, end_date=end,
        year=start.year if start.year == end.year else None, status=status, unit=unit or 10**metric.scale,
    )
    session.add(plan)
    session.flush()
    return plan


def ensure_editable(plan: Plan) -> None:
    if plan.status != "draft":
        raise Conflict(f"plan {plan.name} v{plan.version} is {plan.status}; edit a new draft version instead")


def plan_summary(*, session: Session, plan: Plan) -> dict[str, object]:
    cells, total = session.execute(
        select(func.count(PlanCell.id), func.coalesce(func.sum(PlanCell.value), 0)).where(PlanCell.plan_id == plan.id)
    ).one()
    metric = session.get(Metric, plan.metric_id)
    return {
        "name": plan.name, "version": plan.version, "status": plan.status, "metric": metric.code if metric else None,
        "start": plan.start_date, "end": plan.end_date, "cells": cells, "cell_sum": total,
    }
