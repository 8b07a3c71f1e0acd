"""Metrics: define them, and evaluate them over order lines with one SQL aggregate.

A metric's value is computed by the database (GROUP BY in SQL, never a Python loop over lines).
Sums and counts come back as integers in the metric's minor units; averages and ratios as
Decimals (exact: both parts are integers summed by the database).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, case, distinct, func, select
from sqlalchemy.orm import Session

from attain.catalog.models import Customer
from attain.credit.sql import credited_lines
from attain.errors import Conflict, InvalidInput, NotFound
from attain.facts.models import OrderLine
from attain.metrics.lifecycle import LIFECYCLE_SOURCES, evaluate_lifecycle
from attain.metrics.models import AGGREGATIONS, SOURCES, Metric
from attain.org.models import OrgNode

GROUPINGS = ("rep", "region", "product", "customer")


@dataclass(frozen=True)
class MetricValue:
    key: int | None  # id of the rep/region/product/customer, None for the total
    label: str | None
    value: int | Decimal | None


def list_metrics(*, session: Session) -> list[Metric]:
    return list(session.scalars(select(Metric).order_by(Metric.id)))


def require_metric(*, session: Session, code: str) -> Metric:
    metric = session.scalars(select(Metric).where(Metric.code == code)).first()
    if metric is None:
        codes = ", ".join(m.code for m in list_metrics(session=session))
        raise NotFound.coded("metrics.metric_metrics", code=code, codes=codes)
    return metric


def create_metric(
    *, session: Session, code: str, name: str, aggregation: str, unit: str, scale: int = 0,
    source: str | None = None, numerator: str | None = None, denominator: str | None = None, name_zh: str | None = None,
) -> Metric:
    """A user-defined metric: an aggregation of an order-line source, or the ratio of two metrics."""
    if aggregation not in AGGREGATIONS:
        raise InvalidInput.coded("metrics.aggregation_one", aggregation=aggregation, items=', '.join(AGGREGATIONS))
    if session.scalars(select(Metric).where(Metric.code == code)).first() is not None:
        raise Conflict.coded("metrics.metric_already_exists", code=code)
    if not 0 <= scale <= 6:
        raise InvalidInput.coded("metrics.scale_between_decimal_places", scale=scale)
    numerator_id = denominator_id = None
    if aggregation == "ratio":
        if not numerator or not denominator:
            raise InvalidInput.coded("metrics.ratio_metric_needs_numerator")
        numerator_id = require_metric(session=session, code=numerator).id
        denominator_id = require_metric(session=session, code=denominator).id
        source = None
    elif source not in SOURCES:
        raise InvalidInput.coded("metrics.source_one", source=source, items=', '.join(SOURCES))
    metric = Metric(code=code, name=name, name_zh=name_zh, aggregation=aggregation, source=source, unit=unit,
                    scale=scale, numerator_id=numerator_id, denominator_id=denominator_id, builtin=False)
    session.add(metric)
    session.commit()
    return metric


def _source_column(source: str, start: date, end: date, lines) -> ColumnElement:  # type: ignore[no-untyped-def,type-arg]
    """The order-line source as a column of the credited lines (attain.credit.sql)."""
    columns: dict[str, ColumnElement] = {  # type: ignore[type-arg]
        "amount": lines.c.net_amount,
        "cost": lines.c.cost,
        # Lines without a cost have no known profit: they are left out of gross profit, not counted as 100 %.
        "gross_profit": lines.c.net_amount - lines.c.cost,
        "quantity": lines.c.quantity,
        "line": lines.c.line_id,
        "order": lines.c.order_id,
        "customer": lines.c.customer_id,
        "new_customer": case(
            (Customer.first_order_date.between(start, end), lines.c.customer_id), else_=None
        ),
        # Bought in the period and had bought before it: a repeat buyer.
        "repeat_customer": case((Customer.first_order_date < start, lines.c.customer_id), else_=None),
        # Read over the previous period's lines (see `line_window`): its customers, and those of them
        # who bought again in [start, end] (the seed's repurchase: 6 of last year's 10 → 60 %).
        "prior_customer": lines.c.customer_id,
        "retained_customer": case((_bought_between(lines.c.customer_id, start, end), lines.c.customer_id), else_=None),
    }
    return columns[source]


# Sources counted over the previous period's lines (last year's customers), not the period's.
PRIOR_SOURCES = ("prior_customer", "retained_customer")


def _bought_between(customer_id: ColumnElement, start: date, end: date) -> ColumnElement[bool]:  # type: ignore[type-arg]
    """The customer has a sale (an order line of positive amount) dated in [start, end]."""
    line = OrderLine.__table__.c
    # Uncorrelated: the database reads the period's buyers once (an index on order_date), not per line.
    return customer_id.in_(select(line.customer_id).where(line.order_date.between(start, end), line.amount > 0))


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of the same length just before [start, end]: the same months a year (quarter,
    month …) earlier when the period is whole months, else the same number of days."""
    if start.day == 1 and (end + timedelta(days=1)).day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        index = start.year * 12 + start.month - 1 - months
        return date(index // 12, index % 12 + 1, 1), start - timedelta(days=1)
    return start - (end - start + timedelta(days=1)), start - timedelta(days=1)


def line_window(metric: Metric, start: date, end: date) -> tuple[date, date]:
    """The credit dates of the lines a metric over [start, end] reads."""
    return previous_period(start, end) if metric.source in PRIOR_SOURCES else (start, end)


def _aggregates(metric: Metric, start: date, end: date, lines) -> tuple[ColumnElement, ColumnElement | None]:  # type: ignore[no-untyped-def,type-arg]
    """(value expression, count expression for averages)."""
    column = _source_column(metric.source or "", start, end, lines)
    if metric.aggregation == "sum":
        return func.coalesce(func.sum(column), 0), None
    if metric.aggregation == "count":
        return func.count(column), None
    if metric.aggregation == "distinct_count":
        return func.count(distinct(column)), None
    return func.coalesce(func.sum(column), 0), func.count(column)  # average


def _grouping(group_by: str | None, lines) -> tuple[ColumnElement | None, ColumnElement | None]:  # type: ignore[no-untyped-def,type-arg]
    if group_by is None:
        return None, None
    if group_by not in GROUPINGS:
        raise InvalidInput.coded("metrics.cannot_group_choose_one", group_by=group_by, items=', '.join(GROUPINGS))
    return {
        "rep": (lines.c.rep_id, OrgNode.name),
        "region": (lines.c.region_id, OrgNode.name),
        "product": (lines.c.product_id, None),
        "customer": (lines.c.customer_id, Customer.name),
    }[group_by]


def evaluate(
    *, session: Session, metric: Metric, start: date, end: date, group_by: str | None = None
) -> list[MetricValue]:
    """The metric over orders dated in [start, end], in total or per rep/region/product/customer."""
    if end < start:
        raise InvalidInput.coded("metrics.end_before_start", end=end, start=start)
    if metric.aggregation == "ratio":
        return _ratio(session=session, metric=metric, start=start, end=end, group_by=group_by)
    if metric.source in LIFECYCLE_SOURCES:
        return [MetricValue(*row) for row in evaluate_lifecycle(
            session=session, source=metric.source, aggregation=metric.aggregation, start=start, end=end, group_by=group_by)]
    # Sales as credited (attain.credit): split shares, returns, event dates and currency applied.
    # A rep's figure includes their overlay credit; every other grouping and the total count each
    # sale once (direct credit only).
    lines = credited_lines().subquery("metric_lines")
    key, label = _grouping(group_by, lines)
    value, count = _aggregates(metric, start, end, lines)
    columns = [c for c in (key, label) if c is not None] + [value] + ([count] if count is not None else [])
    first, last = line_window(metric, start, end)
    conditions = [lines.c.credit_date >= first, lines.c.credit_date <= last]
    if group_by != "rep":
        conditions.append(lines.c.kind == "direct")
    query = (
        select(*columns)
        .select_from(lines)
        .outerjoin(Customer, Customer.id == lines.c.customer_id)
        .where(and_(*conditions))
    )
    if group_by in ("rep", "region"):
        query = query.outerjoin(OrgNode, OrgNode.id == key)
    if key is not None:
        query = query.group_by(*[c for c in (key, label) if c is not None]).order_by(key)
    results = []
    for row in session.execute(query):
        parts = list(row)
        row_key = parts.pop(0) if key is not None else None
        row_label = parts.pop(0) if label is not None else None
        results.append(MetricValue(row_key, row_label, _finish(metric, parts)))
    return results


def _finish(metric: Metric, parts: list[object]) -> int | Decimal | None:
    if metric.aggregation == "average":
        total, count = parts
        return (Decimal(str(total)) / int(count)) if count else None  # type: ignore[arg-type]
    value = parts[0]
    if isinstance(value, Decimal):
        return value if value != value.to_integral_value() else int(value)
    return int(value)  # type: ignore[arg-type]


def _ratio(*, session: Session, metric: Metric, start: date, end: date, group_by: str | None) -> list[MetricValue]:
    numerator = session.get(Metric, metric.numerator_id)
    denominator = session.get(Metric, metric.denominator_id)
    tops = {v.key: v for v in evaluate(session=session, metric=numerator, start=start, end=end, group_by=group_by)}  # type: ignore[arg-type]
    bottoms = {v.key: v for v in evaluate(session=session, metric=denominator, start=start, end=end, group_by=group_by)}  # type: ignore[arg-type]
    results = []
    for key in sorted(set(tops) | set(bottoms), key=lambda k: (k is None, k or 0)):
        top, bottom = tops.get(key), bottoms.get(key)
        if top is None and bottom is not None and numerator.aggregation in ("count", "distinct_count"):  # type: ignore[union-attr]
            top = MetricValue(key, bottom.label, 0)  # a group with nothing to count counts 0, not "unknown"
        ratio = None
        if top is not None and bottom is not None and bottom.value:
            # Both in their own minor units: bring them to whole units before dividing.
            ratio = (Decimal(top.value).scaleb(-numerator.scale) / Decimal(bottom.value).scaleb(-denominator.scale))  # type: ignore[arg-type,union-attr]
        results.append(MetricValue(key, (top or bottom).label, ratio))  # type: ignore[union-attr]
    return results


def display(metric: Metric, value: int | Decimal | None) -> str:
    """A value in whole units of the metric, as text ('1234.50' for 123450 fen)."""
    if value is None:
        return ""
    if metric.aggregation in ("ratio", "average"):
        scaled = Decimal(value) if metric.aggregation == "ratio" else Decimal(value).scaleb(-metric.scale)
        return str(scaled.quantize(Decimal("0.0001")))
    return str(Decimal(value).scaleb(-metric.scale).quantize(Decimal(1).scaleb(-metric.scale)))
