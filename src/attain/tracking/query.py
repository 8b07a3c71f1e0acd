"""The one definition of tracking rollups: SQLAlchemy Core statements over `credited_lines()`.

Every engine runs these same statements: SQLite and PostgreSQL through a session, DuckDB (and any
warehouse with a SQLAlchemy dialect) by compiling them (see `engine.py`). Nothing here loops over
order lines; the database groups and sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    distinct,
    func,
    literal,
    select,
)
from sqlalchemy.orm import aliased

from attain.catalog import dimensions as customer_dimensions
from attain.catalog.models import Customer, ProductNode
from attain.credit.sql import CreditFeatures, credited_lines
from attain.errors import InvalidInput
from attain.org.models import OrgNode

ORG_DIMENSIONS = ("region", "team", "rep")
DIMENSIONS = ("region", "team", "rep", "product_line", "customer_type", "month")
# Any customer attribute is a dimension too (segment, grade, industry, channel, city, customer_region,
# rfm, attr:NAME): its value on each line's credit date, from `catalog.dimensions`.
CUSTOMER_DIMENSIONS = customer_dimensions.NAMED
METRICS = ("revenue", "gross_profit", "quantity", "orders", "new_customers")
# Metrics whose value over a set of rows is the sum of the rows' values (unlike distinct counts).
ADDITIVE = ("revenue", "gross_profit", "quantity")


@dataclass(frozen=True)
class Grouping:
    """Parsed `--by`: the dimensions in the order asked, without repeats."""

    dimensions: tuple[str, ...]

    @property
    def org(self) -> str | None:
        """The finest organisation dimension asked for (its node carries the target)."""
        for name in reversed(ORG_DIMENSIONS):
            if name in self.dimensions:
                return name
        return None

    @property
    def customer_attributes(self) -> tuple[str, ...]:
        """The customer-attribute dimensions asked for (segment, grade, attr:NAME …)."""
        return tuple(d for d in self.dimensions if customer_dimensions.is_customer_dimension(d))

    @property
    def includes_overlay(self) -> bool:
        """Overlay credit counts only for the rep who holds it: only rows keyed by rep see it."""
        return "rep" in self.dimensions


@dataclass(frozen=True)
class Scope:
    """One org node's part of the company: a rep's own credit (overlay included when the rows are
    by rep), or every line credited to someone positioned under a team or region at the credit date."""

    node_id: int
    kind: str
    path: str

    def conditions(self, credited, *, trivial: bool) -> list[ColumnElement[bool]]:  # type: ignore[no-untyped-def]
        if self.kind == "rep":
            return [credited.c.rep_id == self.node_id]
        if self.path in ("", "/") or self.kind == "company":
            return []
        under = OrgNode.path.startswith(self.path, autoescape=True)
        if trivial:
            # No crediting feature in use: lines stay with their order rep, positioned where the rep
            # is now, so the subtree's reps select them (and the (order_date, rep_id) index serves it).
            return [credited.c.rep_id.in_(select(OrgNode.id).where(under))]
        return [credited.c.position_id.in_(select(OrgNode.id).where(under))]


def parse_by(by: str | Sequence[str] | None) -> Grouping:
    """'region,team' → Grouping(('region', 'team')); InvalidInput naming an unknown dimension."""
    if by is None:
        return Grouping(())
    parts = [p.strip() for p in (by.split(",") if isinstance(by, str) else by)]
    parts = [p for p in parts if p]
    for part in parts:
        if part not in DIMENSIONS and not customer_dimensions.is_customer_dimension(part):
            choices = ", ".join((*DIMENSIONS, *CUSTOMER_DIMENSIONS))
            raise InvalidInput.coded("tracking.query.cannot_report_choose_attr", part=part, choices=choices)
    grouping = Grouping(tuple(dict.fromkeys(parts)))
    if len(grouping.customer_attributes) > 2:
        raise InvalidInput.coded("tracking.query.report_most_two_customer", items=', '.join(grouping.customer_attributes))
    return grouping


def check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise InvalidInput.coded("tracking.query.unknown_metric_tracking_reports", metric=metric, items=', '.join(METRICS))
    return metric


def actuals_statement(
    *, metric: str, grouping: Grouping, start: date, end: date, customer_type_start: date | None = None,
    by_day: bool = False, direct_only: bool | None = None, plan_id: int | None = None, with_direct: bool = False,
    features: CreditFeatures | None = None, scope: Scope | None = None,
) -> Select:  # type: ignore[type-arg]
    """SELECT <dimension keys…>, value FROM credited lines in [start, end] GROUP BY the keys.

    `customer_type_start` is the day that makes a customer new (first order on or after it);
    it defaults to `start`. `by_day` adds the credit date as the last key (for milestones and
    seasonal history). Direct credit only unless the grouping is by rep (`direct_only` overrides).
    `plan_id` applies that plan's crediting rule (the company default otherwise). `with_direct`
    (additive metrics) adds a last column `direct` with the direct credit only, so that rows by rep,
    which include overlay credit, also give the direct total in the same scan. `features`
    (`credit.sql.credit_features(session)`) lets the credited lines leave out unused crediting rules.
    `scope` keeps only the lines credited under one org node (see `Scope`).
    """
    check_metric(metric)
    # The window goes into credited_lines too: with no crediting feature in use it becomes an
    # order_date range that the (order_date, rep_id) index serves, or the rollups.
    rollup = rollup_source(metric, grouping, by_day=by_day, scope=scope, features=features)
    lines = credited_lines(plan_id=plan_id, features=features, start=start, end=end, rollup=rollup)
    credited = lines.subquery("credited")
    customer = aliased(Customer, name="tracking_customer")
    product = aliased(ProductNode, name="tracking_product")
    new_from = customer_type_start or start
    keys: list[ColumnElement] = []  # type: ignore[type-arg]
    needs_customer = metric == "new_customers" or "customer_type" in grouping.dimensions
    needs_product = "product_line" in grouping.dimensions
    for name in grouping.dimensions:
        if name == "rep":
            keys.append(credited.c.rep_id.label("rep"))
        elif name == "team":
            keys.append(credited.c.team_id.label("team"))
        elif name == "region":
            keys.append(credited.c.org_region_id.label("region"))
        elif name == "product_line":
            # Products hang under their line; a line credited directly is its own line.
            keys.append(func.coalesce(product.parent_id, credited.c.product_id).label("product_line"))
        elif name == "customer_type":
            keys.append(case(
                (customer.customer_type.is_not(None), customer.customer_type),
                (customer.first_order_date.is_(None), literal("new")),
                (customer.first_order_date >= new_from, literal("new")),
                else_=literal("existing"),
            ).label("customer_type"))
        elif customer_dimensions.is_customer_dimension(name):
            # The value in force on the line's credit date (a grade history gives last year's grades).
            keys.append(customer_dimensions.value_at(name, credited.c.customer_id, credited.c.credit_date).label(
                f"customer_{len(keys)}"))
        else:  # month, as yyyymm: EXTRACT is portable across SQLite, PostgreSQL and DuckDB.
            # Cast: PostgreSQL's EXTRACT gives numeric, which the driver hands back as Decimal.
            keys.append(cast(func.extract("year", credited.c.credit_date) * 100
                             + func.extract("month", credited.c.credit_date), Integer).label("month"))
    if by_day:
        keys.append(credited.c.credit_date.label("day"))
    values = [_value(metric, credited, customer, start, end).label("value")]
    if with_direct:
        if metric not in ADDITIVE:
            raise InvalidInput.coded("tracking.query.direct_only_column_needs", metric=metric)
        direct = func.coalesce(func.sum(case((credited.c.kind == "direct", _additive(metric, credited)), else_=None)), 0)
        values.append((direct if metric == "quantity" else cast(direct, BigInteger)).label("direct"))
    statement = select(*keys, *values).select_from(credited)
    if needs_customer:
        statement = statement.outerjoin(customer, customer.id == credited.c.customer_id)
    if needs_product:
        statement = statement.outerjoin(product, product.id == credited.c.product_id)
    conditions = [credited.c.credit_date >= start, credited.c.credit_date <= end]
    if direct_only if direct_only is not None else not grouping.includes_overlay:
        conditions.append(credited.c.kind == "direct")
    if scope is not None:
        conditions.extend(scope.conditions(credited, trivial=features is not None and features.trivial))
    statement = statement.where(and_(*conditions))
    if keys:
        statement = statement.group_by(*keys)
    return statement


# What the rollups (`facts.rollups`) can serve: money summed by these dimensions.
ROLLUP_METRICS = ("revenue", "gross_profit")
ROLLUP_DIMENSIONS = frozenset(("region", "team", "rep", "month"))


def rollup_source(
    metric: str, grouping: Grouping, *, by_day: bool, scope: Scope | None, features: CreditFeatures | None,
) -> str | None:
    """Which rollup a statement may read instead of the order lines ("rep_months", "days"), or None.
    Only with no crediting feature in use and the rollups current (`features.rollups`)."""
    if features is None or not features.rollups or not features.trivial or metric not in ROLLUP_METRICS:
        return None
    if by_day:  # days exist only for the whole company
        return "days" if not grouping.dimensions and scope is None else None
    return "rep_months" if set(grouping.dimensions) <= ROLLUP_DIMENSIONS else None


def _additive(metric: str, credited) -> ColumnElement:  # type: ignore[no-untyped-def,type-arg]
    """What an additive metric sums per credited line."""
    if metric == "revenue":
        return credited.c.amount
    if metric == "gross_profit":
        # Lines without a cost have no known profit: left out (NULL), not counted as 100 % margin.
        return credited.c.amount - credited.c.cost
    return credited.c.quantity


def _value(metric: str, credited, customer, start: date, end: date) -> ColumnElement:  # type: ignore[no-untyped-def,type-arg]
    if metric in ("revenue", "gross_profit"):
        # Money is integer fen; PostgreSQL sums bigints as numeric (a Decimal per row), cast back.
        return cast(func.coalesce(func.sum(_additive(metric, credited)), 0), BigInteger)
    if metric in ADDITIVE:
        return func.coalesce(func.sum(_additive(metric, credited)), 0)
    if metric == "orders":
        return func.count(distinct(credited.c.order_id))
    return func.count(distinct(case(
        (customer.first_order_date.between(start, end), credited.c.customer_id), else_=None
    )))
