"""Customer attributes as dimensions: the one place that says what a customer's segment, grade,
industry … was on a given day, as a SQL expression any figure can group or filter by.

A dimension is a built-in column of `customers` (segment, grade, industry, city), the customer's
region (`customer_region`, its name), or any attribute held in `customer_attributes` (channel, rfm,
an imported column): written `channel` for the usual ones, `attr:NAME` for any other.

Effective dating: where `customer_attributes` holds rows of the attribute for a customer, the value
on a day is the row in force that day (NULL before the first one: the customer had no grade yet);
a customer without any such row has the current column value on every day. So last year's revenue
by grade uses last year's grades once grades are written with history (`attain customers grade
--apply`), and the stored column for everything older.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import ColumnElement, and_, case, exists, extract, or_, select
from sqlalchemy.orm import Session, aliased

from attain.catalog.models import Customer, CustomerAttribute
from attain.errors import InvalidInput
from attain.org.models import OrgNode

Expr = ColumnElement  # type: ignore[type-arg]

# Built-in customer columns (current value; history in customer_attributes under the same name).
COLUMNS = {"segment": Customer.segment, "grade": Customer.grade, "industry": Customer.industry, "city": Customer.city}
# Names usable without the attr: prefix: the columns, the customer's region and the usual attributes.
NAMED = (*COLUMNS, "customer_region", "channel", "rfm")
PREFIX = "attr:"
# A member value that would clash with the 'all' cell of a plan.
RESERVED_MEMBERS = ("all",)


def is_customer_dimension(name: str) -> bool:
    """A name that `value_at` understands (whether or not any customer has the attribute)."""
    return name in NAMED or (name.startswith(PREFIX) and len(name) > len(PREFIX))


def attribute_name(name: str) -> str:
    """The name rows of `customer_attributes` carry for the dimension ('attr:渠道' → '渠道')."""
    return name.removeprefix(PREFIX)


def value_at(name: str, customer_id: Expr, day: Expr) -> Expr:
    """The dimension's value for the customer on the day, as one SQL expression (correlated to the
    statement that gives `customer_id` and `day`; NULL where the customer has no value)."""
    if not is_customer_dimension(name):
        raise InvalidInput.coded("catalog.dimensions.customer_dimension_choose_attr", name=name, items=', '.join(NAMED))
    if name == "customer_region":
        region = aliased(OrgNode, name="customer_region_node")
        owner = aliased(Customer, name="customer_of_region")
        return (
            select(region.name).select_from(owner).join(region, region.id == owner.region_id)
            .where(owner.id == customer_id).scalar_subquery()
        )
    stored = attribute_name(name)
    row = aliased(CustomerAttribute, name=f"attr_{len(stored)}")
    in_force = (
        select(row.value)
        .where(row.customer_id == customer_id, row.name == stored,
               or_(row.valid_from.is_(None), row.valid_from <= day), or_(row.valid_to.is_(None), day < row.valid_to))
        .order_by(row.valid_from.desc())
        .limit(1)
        .scalar_subquery()
    )
    if name not in COLUMNS:
        return in_force
    any_row = aliased(CustomerAttribute, name=f"attr_any_{len(stored)}")
    has_history = exists(select(any_row.id).where(any_row.customer_id == customer_id, any_row.name == stored))
    # An alias of its own: the outer statement may join customers itself (it must not correlate).
    customer = aliased(Customer, name=f"customer_{name}")
    current = select(getattr(customer, name)).where(customer.id == customer_id).scalar_subquery()
    return case((has_history, in_force), else_=current)


def first_order_date(customer_id: Expr) -> Expr:
    """The customer's first order date (`customers.first_order_date`, kept by the imports)."""
    customer = aliased(Customer, name="customer_first_order")
    return select(customer.first_order_date).where(customer.id == customer_id).scalar_subquery()


def new_customer(customer_id: Expr, start: Expr | date, end: Expr | date) -> Expr:
    """The customer id where the customer's FIRST order falls in [start, end], else NULL: count it
    distinct to count new customers (not everyone who bought in the period)."""
    first = first_order_date(customer_id)
    return case((and_(first >= start, first <= end), customer_id), else_=None)


def new_customer_in_month(customer_id: Expr, day: Expr) -> Expr:
    """The customer id where the customer's first order is in the month of `day` (a monthly GROUP BY
    of new customers: summed over the months of a year, each new customer counts once)."""
    first = first_order_date(customer_id)
    same = and_(extract("year", first) == extract("year", day), extract("month", first) == extract("month", day))
    return case((same, customer_id), else_=None)


def attribute_names(session: Session) -> list[str]:
    """Names of the attributes held in customer_attributes."""
    return list(session.scalars(select(CustomerAttribute.name).distinct().order_by(CustomerAttribute.name)))


def check_dimensions(session: Session, names: Iterable[str]) -> None:
    """InvalidInput for an `attr:NAME` no customer carries (a typo would give one '—' row)."""
    wanted = [attribute_name(n) for n in names if n.startswith(PREFIX)]
    if not wanted:
        return
    known = set(attribute_names(session))
    for name in wanted:
        if name not in known:
            choices = ", ".join(sorted(known)) or "none imported yet"
            raise InvalidInput.coded("catalog.dimensions.customer_attribute_known_attributes", name=name, choices=choices)


def members(session: Session, name: str) -> list[str]:
    """Every value the dimension has among customers (current columns and any history), sorted."""
    if not is_customer_dimension(name):
        raise InvalidInput.coded("catalog.dimensions.customer_dimension_choose_attr", name=name, items=', '.join(NAMED))
    found: set[str] = set()
    if name == "customer_region":
        found.update(session.scalars(
            select(OrgNode.name).join(Customer, Customer.region_id == OrgNode.id).distinct()))
    if name in COLUMNS:
        found.update(v for v in session.scalars(select(COLUMNS[name]).distinct()) if v is not None)
    found.update(v for v in session.scalars(
        select(CustomerAttribute.value).where(CustomerAttribute.name == attribute_name(name)).distinct()) if v is not None)
    return sorted(found)
