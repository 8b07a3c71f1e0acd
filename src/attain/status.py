"""A summary of what the database holds, computed with SQL aggregates."""

from __future__ import annotations

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from attain.catalog.models import Customer, ProductNode
from attain.facts import rollups
from attain.facts.models import Activity, Opportunity, OrderLine
from attain.metrics.models import Metric
from attain.org.models import OrgNode
from attain.plans.models import Plan, PlanCell


def database_status(*, session: Session) -> dict[str, object]:
    counts = {
        "org_nodes": session.scalar(select(func.count()).select_from(OrgNode)),
        "reps": session.scalar(select(func.count()).where(OrgNode.kind == "rep")),
        "customers": session.scalar(select(func.count()).select_from(Customer)),
        "products": session.scalar(select(func.count()).where(ProductNode.kind == "product")),
        "order_lines": session.scalar(select(func.count()).select_from(OrderLine)),
        "opportunities": session.scalar(select(func.count()).select_from(Opportunity)),
        "activities": session.scalar(select(func.count()).select_from(Activity)),
        "plans": session.scalar(select(func.count()).select_from(Plan)),
    }
    first, last = session.execute(select(func.min(OrderLine.order_date), func.max(OrderLine.order_date))).one()
    year = extract("year", OrderLine.order_date)
    by_year = session.execute(
        select(year.label("year"), func.sum(OrderLine.amount), func.count()).group_by(year).order_by(year)
    ).all()
    plans = session.execute(
        select(Plan.name, Plan.version, Plan.status, Metric.code, func.count(PlanCell.id))
        .join(Metric, Metric.id == Plan.metric_id)
        .outerjoin(PlanCell, PlanCell.plan_id == Plan.id)
        .group_by(Plan.id, Plan.name, Plan.version, Plan.status, Metric.code)
        .order_by(Plan.name, Plan.version)
    ).all()
    return {
        "counts": counts,
        "orders": {"first_date": first, "last_date": last},
        "rollups": rollups.status(session.connection()),
        "revenue_by_year": [
            {"year": int(y), "revenue": _yuan(total), "lines": lines} for y, total, lines in by_year
        ],
        "plans": [
            {"name": n, "version": v, "status": s, "metric": m, "cells": c} for n, v, s, m, c in plans
        ],
    }


def _yuan(fen: int | None) -> str:
    from decimal import Decimal

    return str((Decimal(int(fen or 0)) / 100).quantize(Decimal("0.01")))
