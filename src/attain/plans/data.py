"""What the plan services read from the database: the org tree, sales history as SQL aggregates
over the credited lines (`credit.sql.credited_lines`, as tracking reads them), customer potential
and capacity. Each function returns arrays aligned with the nodes it is given."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import (
    ColumnElement,
    Subquery,
    and_,
    case,
    distinct,
    extract,
    func,
    select,
)
from sqlalchemy.orm import Session

from attain.catalog.dimensions import new_customer, new_customer_in_month, value_at
from attain.catalog.models import Customer, ProductNode
from attain.credit.sql import credit_features, credited_lines
from attain.errors import InvalidInput
from attain.metrics.models import Metric
from attain.org.models import OrgNode
from attain.periods import Period
from attain.split.capacity import Rep, capacity_matrix

GRADE_POINTS = {"A": 3.0, "B": 2.0, "C": 1.0}


def sellers(*, session: Session, start: date, end: date) -> list[OrgNode]:
    """Reps employed some time in [start, end], except the head of the company (who owns the
    company target rather than a share of it)."""
    heads = set(session.scalars(select(OrgNode.manager_id).where(OrgNode.parent_id.is_(None), OrgNode.manager_id.is_not(None))))
    reps = session.scalars(
        select(OrgNode).where(
            OrgNode.kind == "rep",
            (OrgNode.start_date.is_(None)) | (OrgNode.start_date <= end),
            (OrgNode.end_date.is_(None)) | (OrgNode.end_date >= start),
        )
    )
    return [rep for rep in reps if rep.id not in heads]


def with_ancestors(*, session: Session, leaves: Sequence[OrgNode]) -> list[OrgNode]:
    """The leaves and every node above them, top-down (parents first), one root."""
    wanted = {int(part) for node in leaves for part in node.path.strip("/").split("/") if part}
    nodes = list(session.scalars(select(OrgNode).where(OrgNode.id.in_(wanted))))
    nodes.sort(key=lambda n: (n.depth, n.code))
    roots = [n for n in nodes if n.parent_id is None or n.parent_id not in wanted]
    if len(roots) != 1:
        raise InvalidInput.coded("plans.data.reps_belong_separate_org", count=len(roots), items=', '.join(r.code for r in roots))
    return nodes


def month_matrix(leaf_periods: Sequence[Period], year: int) -> NDArray[np.float64]:
    """(leaf periods, 12): the share of each calendar month of `year` that falls in each leaf period."""
    from attain.periods import month

    matrix = np.zeros((len(leaf_periods), 12))
    for m in range(12):
        calendar_month = month(year, m + 1)
        for i, period in enumerate(leaf_periods):
            first, last = max(period.start, calendar_month.start), min(period.end, calendar_month.end)
            if last >= first:
                matrix[i, m] = ((last - first).days + 1) / calendar_month.days
    return matrix


def _credited(session: Session, start: date, end: date) -> Subquery:
    """The direct credit of [start, end] (`credit.sql.credited_lines`: split shares, moves, returns
    and the company's credit rule applied; plain order lines when no crediting feature is in use),
    the sales a history split or a SMART check should see."""
    return credited_lines(features=credit_features(session), start=start, end=end).subquery("history_lines")


def _direct_in(lines: Subquery, start: date, end: date, rep_ids: Sequence[int]) -> ColumnElement[bool]:
    return and_(lines.c.kind == "direct", lines.c.credit_date >= start, lines.c.credit_date <= end,
                lines.c.rep_id.in_(list(rep_ids)))


def _value_expression(metric: Metric, lines: Subquery, new_in: tuple[date, date] | None = None) -> ColumnElement:  # type: ignore[type-arg]
    """The metric summed over credited lines, as metrics.evaluate reads it. New customers are those
    whose first order falls in `new_in` (start, end), or (None) in the month of the line, for
    statements grouped by month."""
    source = metric.source
    if metric.aggregation == "sum" and source == "amount":
        return func.coalesce(func.sum(lines.c.amount), 0)
    if metric.aggregation == "sum" and source == "gross_profit":
        return func.coalesce(func.sum(lines.c.amount - lines.c.cost), 0)
    if metric.aggregation == "sum" and source == "cost":
        return func.coalesce(func.sum(lines.c.cost), 0)
    if metric.aggregation == "sum" and source == "quantity":
        return func.coalesce(func.sum(lines.c.quantity), 0)
    if metric.aggregation == "count" and source == "line":
        return func.count(lines.c.line_id)
    if metric.aggregation == "distinct_count" and source == "order":
        return func.count(distinct(lines.c.order_id))
    if metric.aggregation == "distinct_count" and source == "customer":
        return func.count(distinct(lines.c.customer_id))
    if metric.aggregation == "distinct_count" and source == "new_customer":
        if new_in is None:
            return func.count(distinct(new_customer_in_month(lines.c.customer_id, lines.c.credit_date)))
        return func.count(distinct(new_customer(lines.c.customer_id, *new_in)))
    raise InvalidInput.coded("plans.data.metric_cannot_split_history", code=metric.code, aggregation=metric.aggregation, value=source or 'a ratio')


def _customer_type(start: date) -> ColumnElement:  # type: ignore[type-arg]
    """'new' when the customer's first order is on or after `start` (or unknown), as catalog.calc says."""
    return case(
        (Customer.customer_type.is_not(None), Customer.customer_type),
        (Customer.first_order_date.is_(None) | (Customer.first_order_date >= start), "new"),
        else_="existing",
    )


def history_by_rep(
    *, session: Session, metric: Metric, start: date, end: date, rep_ids: Sequence[int],
    product_lines: Sequence[int | None], types: Sequence[str], customer_axis: str = "",
) -> NDArray[np.float64]:
    """Actuals of [start, end] (whole months: a `plans.baseline.Baseline` window) per (rep, month of
    the window, product line, customer type): one SQL GROUP BY. Month 0 is the month of `start`.
    With `customer_axis` (segment, grade …) the last axis is that attribute's members (`types`),
    each line taken with the value in force on its credit date (last year's grades for last year).

    Products are mapped to their lines with the (small) product table; lines of other reps, products
    or types are left out. Shape (reps, months, lines or 1, types or 1).
    """
    lines = _credited(session, start, end)
    value = _value_expression(metric, lines)
    ctype = value_at(customer_axis, lines.c.customer_id, lines.c.credit_date) if customer_axis else _customer_type(start)
    year, month = extract("year", lines.c.credit_date), extract("month", lines.c.credit_date)
    query = (
        select(lines.c.rep_id, year.label("y"), month.label("m"), lines.c.product_id, ctype.label("t"), value)
        .select_from(lines)
        .outerjoin(Customer, Customer.id == lines.c.customer_id)
        .where(_direct_in(lines, start, end, rep_ids))
        .group_by(lines.c.rep_id, year, month, lines.c.product_id, ctype)
    )
    rows = [(r[0], (int(r[1]) - start.year) * 12 + int(r[2]) - start.month, *r[3:]) for r in session.execute(query).all()]
    span = (end.year - start.year) * 12 + end.month - start.month + 1
    history = np.zeros((len(rep_ids), span, len(product_lines), len(types)))
    if not rows:
        return history
    rep_index = {rep_id: i for i, rep_id in enumerate(rep_ids)}
    by_line = product_lines[0] is not None
    line_of = _line_of_product(session) if by_line else {}
    line_index = {line: i for i, line in enumerate(product_lines)}
    type_index = {t: i for i, t in enumerate(types)}
    reps = np.array([rep_index[r[0]] for r in rows])
    months = np.array([r[1] for r in rows])
    lines = np.array([line_index.get(line_of.get(r[2]), -1) if by_line else 0 for r in rows])
    kinds = np.array([type_index.get(r[3], -1) if len(types) > 1 else 0 for r in rows])
    amounts = np.array([float(r[4] or 0) for r in rows])
    keep = (lines >= 0) & (kinds >= 0)
    np.add.at(history, (reps[keep], months[keep], lines[keep], kinds[keep]), amounts[keep])
    return history


def _line_of_product(session: Session) -> dict[int, int]:
    """Product id → the id of its top-level product line (from the materialised path)."""
    return {pid: int(path.strip("/").split("/")[0]) for pid, path in session.execute(select(ProductNode.id, ProductNode.path))}


def monthly_actuals(*, session: Session, metric: Metric, rep_ids: Sequence[int], start: date, end: date) -> tuple[list[str], NDArray[np.float64]]:
    """Actuals per (rep, calendar month) over [start, end]: (month labels 'YYYY-MM', array reps × months)."""
    lines = _credited(session, start, end)
    value = _value_expression(metric, lines)
    y, m = extract("year", lines.c.credit_date), extract("month", lines.c.credit_date)
    rows = session.execute(
        select(lines.c.rep_id, y, m, value).where(_direct_in(lines, start, end, rep_ids)).group_by(lines.c.rep_id, y, m)
    ).all()
    labels = []
    current = date(start.year, start.month, 1)
    while current <= end:
        labels.append(f"{current.year}-{current.month:02d}")
        current = date(current.year + (current.month == 12), current.month % 12 + 1, 1)
    position = {label: i for i, label in enumerate(labels)}
    rep_index = {rep_id: i for i, rep_id in enumerate(rep_ids)}
    actuals = np.zeros((len(rep_ids), len(labels)))
    for rep_id, year, month, amount in rows:
        actuals[rep_index[rep_id], position[f"{int(year)}-{int(month):02d}"]] += float(amount or 0)
    return labels, actuals


def actuals_by_rep(*, session: Session, metric: Metric, rep_ids: Sequence[int], start: date, end: date) -> NDArray[np.int64]:
    """Each rep's actual over [start, end] (integers in the metric's minor unit), one GROUP BY."""
    lines = _credited(session, start, end)
    value = _value_expression(metric, lines, (start, end))
    rows = dict(
        session.execute(
            select(lines.c.rep_id, value).where(_direct_in(lines, start, end, rep_ids)).group_by(lines.c.rep_id)
        ).all()
    )
    return np.array([int(rows.get(rep_id) or 0) for rep_id in rep_ids], dtype=np.int64)


def potential_by_rep(*, session: Session, rep_ids: Sequence[int]) -> NDArray[np.float64]:
    """Customer potential per rep: grade points of the customers they own (A 3, B 2, C or ungraded 1)."""
    points = case((Customer.grade == "A", 3), (Customer.grade == "B", 2), else_=1)
    rows = dict(
        session.execute(
            select(Customer.owner_id, func.sum(points)).where(Customer.owner_id.in_(list(rep_ids))).group_by(Customer.owner_id)
        ).all()
    )
    return np.array([float(rows.get(rep_id) or 0) for rep_id in rep_ids])


def ramped_capacity(reps: Sequence[OrgNode], months: Sequence[Period]) -> NDArray[np.float64]:
    """(reps, months) ramped headcount: 25/50/75/100 % from each start date, nothing after leaving."""
    return capacity_matrix([Rep(r.code, 1.0, r.start_date, r.end_date) for r in reps], months)
