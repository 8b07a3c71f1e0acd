"""What customers bought: recency, frequency and revenue per customer from one GROUP BY, and the
grading built on them (ABC, RFM, lifecycle) for `attain report customers`.

Two readings of the credited lines:

- `customer_activity` (the web customers page): every credited row of the reps in scope, so a rep's
  overlay credit counts for the customers too; lines credited to no rep are left out.
- `customer_sales` (the CLI): each order line once (its direct credit rows, which add up to the line),
  lines without a rep included when the whole company is asked for; cancellations and returns lower
  the revenue but are not orders, and the last order is the last purchase (a line above zero).

Both are integer fen; the grading itself is pure (`attain.catalog.grading`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

import numpy as np
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from attain.catalog import grading
from attain.catalog.models import Customer
from attain.catalog.service import AttributeChange, set_attribute_history
from attain.credit.sql import credit_features, credited_lines
from attain.errors import InvalidInput
from attain.org.models import OrgNode

WINDOW_DAYS = 365  # revenue and orders over the 365 days ending on the as-of day ("last 12 months")


@dataclass(frozen=True)
class CustomerActivity:
    customer_id: int
    code: str
    name: str
    grade: str | None
    first_order: date | None
    last_order: date | None
    orders: int  # distinct orders in the window
    amount: int  # fen in the window


def customer_activity(*, session: Session, scope: OrgNode | None, since: date, as_of: date) -> list[CustomerActivity]:
    """Per customer credited to the reps in scope: last order date, orders and amount since `since`.

    One GROUP BY over credited lines (a plain read of the order lines when no crediting feature is in
    use), joined to the customers; customers owned by a rep in scope without any order are listed
    too (as prospects). Every customer in scope, however many: the page pages them."""
    lines = credited_lines(features=credit_features(session)).subquery("cl")
    rep = aliased(OrgNode, name="rep")
    in_window = and_(lines.c.credit_date >= since, lines.c.credit_date <= as_of)
    grouped = (
        select(
            lines.c.customer_id.label("customer_id"),
            func.max(lines.c.credit_date).label("last_order"),
            func.count(func.distinct(lines.c.order_id)).filter(in_window).label("orders"),
            func.coalesce(func.sum(lines.c.amount).filter(in_window), 0).label("amount"),
        )
        .select_from(lines)
        .join(rep, rep.id == lines.c.rep_id)
        .where(lines.c.credit_date <= as_of, lines.c.customer_id.is_not(None))
        .group_by(lines.c.customer_id)
    )
    if scope is not None:
        grouped = grouped.where(rep.path.startswith(scope.path, autoescape=True))
    sums = grouped.subquery("customer_sums")
    owner = aliased(OrgNode, name="owner")
    owned = select(Customer.id).join(owner, owner.id == Customer.owner_id)
    if scope is not None:
        owned = owned.where(owner.path.startswith(scope.path, autoescape=True))
    rows = session.execute(
        select(Customer.id, Customer.code, Customer.name, Customer.grade, Customer.first_order_date,
               sums.c.last_order, sums.c.orders, sums.c.amount)
        .outerjoin(sums, sums.c.customer_id == Customer.id)
        .where(or_(sums.c.customer_id.is_not(None), Customer.id.in_(owned)))
    ).all()
    return [
        CustomerActivity(cid, code, name, grade, first, last, int(orders or 0), int(amount or 0))
        for cid, code, name, grade, first, last, orders, amount in rows
    ]


def search_customers(*, session: Session, text: str) -> set[int]:
    """Ids of the customers whose code or name contains `text` (case-insensitive), by one SELECT."""
    needle = text.strip().lower()
    return set(session.scalars(select(Customer.id).where(or_(
        func.lower(Customer.code).contains(needle, autoescape=True),
        func.lower(Customer.name).contains(needle, autoescape=True)))))


def customer_sales(*, session: Session, scope: OrgNode | None, since: date, as_of: date) -> list[CustomerActivity]:
    """Per customer with a line up to `as_of` (sold by a rep under `scope`, or by anyone when it is
    None) or owned by a rep (in scope): last purchase, orders with a purchase and net revenue since `since`.

    One GROUP BY over the direct credit rows (each line once), joined to the customers; customers owned
    in scope without a line are listed with no figures (prospects)."""
    lines = credited_lines(features=credit_features(session)).subquery("cl")
    in_window = and_(lines.c.credit_date >= since, lines.c.credit_date <= as_of)
    bought = lines.c.amount > 0
    grouped = (
        select(
            lines.c.customer_id.label("customer_id"),
            func.max(lines.c.credit_date).filter(bought).label("last_order"),
            func.count(func.distinct(lines.c.order_id)).filter(in_window, bought).label("orders"),
            func.coalesce(func.sum(lines.c.amount).filter(in_window), 0).label("amount"),
        )
        .where(lines.c.kind == "direct", lines.c.credit_date <= as_of, lines.c.customer_id.is_not(None))
        .group_by(lines.c.customer_id)
    )
    owner = aliased(OrgNode, name="owner")
    if scope is not None:
        rep = aliased(OrgNode, name="rep")
        grouped = grouped.join(rep, rep.id == lines.c.rep_id).where(rep.path.startswith(scope.path, autoescape=True))
    sums = grouped.subquery("customer_sums")
    owned = select(Customer.id).join(owner, owner.id == Customer.owner_id)
    if scope is not None:
        owned = owned.where(owner.path.startswith(scope.path, autoescape=True))
    listed = or_(sums.c.customer_id.is_not(None), Customer.id.in_(owned))
    rows = session.execute(
        select(Customer.id, Customer.code, Customer.name, Customer.grade, Customer.first_order_date,
               sums.c.last_order, sums.c.orders, sums.c.amount)
        .outerjoin(sums, sums.c.customer_id == Customer.id)
        .where(listed)
    ).all()
    return [
        CustomerActivity(cid, code, name, grade, first, last, int(orders or 0), int(amount or 0))
        for cid, code, name, grade, first, last, orders, amount in rows
    ]


# --- grading (the CLI's `attain report customers`) -----------------------------------------------


@dataclass(frozen=True)
class CustomerGrade:
    activity: CustomerActivity
    recency_days: int | None  # days from the last purchase to the as-of day
    r: int  # RFM scores 1–5 (0: no purchase in the window)
    f: int
    m: int
    segment: str  # grading.RFM_SEGMENTS key, or 'prospect'
    abc: str  # A, B or C
    lifecycle: str  # grading.LIFECYCLE key


@dataclass(frozen=True)
class GradeSummary:
    customers: int
    revenue: int  # fen
    share: Fraction | None  # of the revenue of every listed customer (None when that is not above zero)


@dataclass(frozen=True)
class CustomerGrading:
    as_of: date
    since: date
    scope: OrgNode | None
    thresholds: grading.AbcThresholds
    rows: list[CustomerGrade]  # revenue high to low, then code
    grades: dict[str, GradeSummary]  # A, B, C
    segments: dict[str, int]
    lifecycle: dict[str, int]
    revenue: int  # fen, every listed customer


def grade_customers(
    *, session: Session, scope: OrgNode | None, as_of: date, thresholds: grading.AbcThresholds,
) -> CustomerGrading:
    """ABC grade, RFM scores and segment, and lifecycle stage of every customer in scope on `as_of`.

    RFM is scored among the customers with a purchase in the window (as on the web page); ABC ranks
    every listed customer by its net revenue in the window."""
    since = as_of - timedelta(days=WINDOW_DAYS - 1)
    found = customer_sales(session=session, scope=scope, since=since, as_of=as_of)
    found.sort(key=lambda a: (-a.amount, a.code))
    buyers = [i for i, a in enumerate(found) if a.last_order is not None and a.orders > 0]
    recency = np.array([(as_of - found[i].last_order).days for i in buyers], dtype=np.float64)  # type: ignore[operator]
    r = grading.quintile_scores(recency, higher_is_better=False)
    f = grading.quintile_scores(np.array([found[i].orders for i in buyers], dtype=np.float64))
    m = grading.quintile_scores(np.array([found[i].amount for i in buyers], dtype=np.float64))
    segments = grading.rfm_segments(r, f, m)
    scored = {i: (int(r[k]), int(f[k]), int(m[k]), segments[k]) for k, i in enumerate(buyers)}
    abc = grading.abc_grades(np.array([a.amount for a in found], dtype=np.int64), thresholds)
    rows = []
    for i, a in enumerate(found):
        first = (as_of - a.first_order).days if a.first_order else None
        last = (as_of - a.last_order).days if a.last_order else None
        rs, fs, ms, segment = scored.get(i, (0, 0, 0, "lost" if a.last_order else "prospect"))
        rows.append(CustomerGrade(a, last, rs, fs, ms, segment, abc[i], grading.lifecycle_stage(first, last)))
    return CustomerGrading(
        as_of=as_of, since=since, scope=scope, thresholds=thresholds, rows=rows,
        grades=_grade_summary(rows), segments=dict(Counter(row.segment for row in rows).most_common()),
        lifecycle=dict(Counter(row.lifecycle for row in rows).most_common()),
        revenue=sum(row.activity.amount for row in rows),
    )


def _grade_summary(rows: list[CustomerGrade]) -> dict[str, GradeSummary]:
    total = sum(row.activity.amount for row in rows)
    summary = {}
    for grade in grading.GRADES:
        revenue = sum(row.activity.amount for row in rows if row.abc == grade)
        summary[grade] = GradeSummary(
            customers=sum(1 for row in rows if row.abc == grade), revenue=revenue,
            share=Fraction(revenue, total) if total > 0 else None,
        )
    return summary


@dataclass(frozen=True)
class AppliedGrades:
    as_of: date
    grade_changes: list[AttributeChange]  # ABC grade (customers.grade and its history)
    rfm_changes: list[AttributeChange]  # RFM segment (history under the name 'rfm')


def apply_grades(*, session: Session, grading_result: CustomerGrading) -> AppliedGrades:
    """Write a company-wide grading back: each customer's ABC grade into `customers.grade` and both
    the ABC grade and the RFM segment into their history from the grading's as-of day, so that the
    potential split and the visit list read today's grades while last year's figures by grade keep
    last year's (`catalog.dimensions`). Only changed values are written; commits."""
    if grading_result.scope is not None:
        raise InvalidInput.coded("catalog.activity.grades_written_back_whole")
    rows = grading_result.rows
    on = grading_result.as_of
    grades = set_attribute_history(session=session, name="grade", values={r.activity.customer_id: r.abc for r in rows},
                                   on=on, source="grading")
    rfm = set_attribute_history(session=session, name="rfm", values={r.activity.customer_id: r.segment for r in rows},
                                on=on, source="grading")
    session.commit()
    return AppliedGrades(on, grades, rfm)
