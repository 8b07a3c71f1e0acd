"""Products and customers: lookup maps and creation for imports and the demo, and the effective-dated
history of customer attributes (grades written back with history)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    MetaData,
    Table,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from attain.catalog.dimensions import COLUMNS
from attain.catalog.models import Customer, CustomerAttribute, ProductNode
from attain.tree import insert_node


def create_product_node(*, session: Session, code: str, name: str, kind: str, parent_id: int | None, **attributes: object) -> int:
    """Insert one product node (line or product) with its materialised path; return its id."""
    return insert_node(session=session, model=ProductNode, parent_id=parent_id, code=code, name=name, kind=kind, **attributes)


LineColumns = tuple[Sequence[int | None], Sequence[date | None], Sequence[int | None]]
_FIRST_DATES = Table("staging_first_order_dates", MetaData(), Column("customer_id", BigInteger), Column("first_date", Date),
                     prefixes=["TEMPORARY"])


def first_order_dates(customer_ids: Sequence[int | None], order_dates: Sequence[date | None],
                      amounts: Sequence[int | None]) -> dict[int, date]:
    """customer id → earliest date of its lines with a positive amount (NumPy over the columns)."""
    import numpy as np

    from attain.columnar import converted, int_array

    customer = int_array(customer_ids)
    day = int_array(converted(order_dates, lambda d: -1 if d is None else d.toordinal()))
    positive = int_array(amounts, missing=0) > 0
    keep = positive & (customer >= 0) & (day >= 0)
    customer, day = customer[keep], day[keep]
    if customer.size == 0:
        return {}
    if int(customer.max()) <= 10 * customer.size + 1_000_000:  # ids in a small range: a table by id, no sort
        earliest = np.full(int(customer.max()) + 1, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(earliest, customer, day)
        found = np.flatnonzero(earliest != np.iinfo(np.int64).max)
        return {c: date.fromordinal(d) for c, d in zip(found.tolist(), earliest[found].tolist())}
    order = np.lexsort((day, customer))
    customer, day = customer[order], day[order]
    first = np.flatnonzero(np.diff(customer, prepend=-2) != 0)
    return {c: date.fromordinal(d) for c, d in zip(customer[first].tolist(), day[first].tolist())}


def _first_dates_table(session: Session, customer_ids: Sequence[int | None], order_dates: Sequence[date | None],
                       amounts: Sequence[int | None]) -> Table:
    """The first-order dates of these lines in a temporary table (customer_id, first_date); the caller
    drops it (a failed import's rollback does)."""
    connection = session.connection()
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_FIRST_DATES.name}")
    _FIRST_DATES.create(connection)
    dates = first_order_dates(customer_ids, order_dates, amounts)
    if dates:
        connection.execute(insert(_FIRST_DATES), [{"customer_id": c, "first_date": d} for c, d in dates.items()])
    return _FIRST_DATES


def key_maps(session: Session, model: type[Customer | ProductNode]) -> tuple[dict[str, int], dict[str, list[int]]]:
    """code → id and name → ids for customers or products."""
    by_code: dict[str, int] = {}
    by_name: dict[str, list[int]] = {}
    for row_id, code, name in session.execute(select(model.id, model.code, model.name)):
        by_code[code] = row_id
        by_name.setdefault(name, []).append(row_id)
    return by_code, by_name


def refresh_first_order_dates(*, session: Session, all_lines: LineColumns | None = None) -> None:
    """Set every customer's first-order date from its order lines: one aggregate, one UPDATE … FROM.

    `all_lines`: (customer ids, order dates, amounts) of every order line there is, as an import that
    loaded an empty table holds them: the dates are then computed from those columns (NumPy) instead
    of re-reading the table. The rule is the same: the earliest date of a line with a positive amount."""
    from attain.facts.models import OrderLine

    if all_lines is not None:
        first = _first_dates_table(session, *all_lines)
    else:
        first = (
            select(OrderLine.customer_id, func.min(OrderLine.order_date).label("first_date"))
            .where(OrderLine.amount > 0, OrderLine.customer_id.is_not(None))
            .group_by(OrderLine.customer_id)
            .subquery()
        )
    session.execute(
        update(Customer)
        .where(Customer.id == first.c.customer_id)
        .where(Customer.first_order_date.is_distinct_from(first.c.first_date))
        .values(first_order_date=first.c.first_date),
        execution_options={"synchronize_session": False},
    )
    if all_lines is not None:
        _FIRST_DATES.drop(session.connection())


# --- effective-dated attributes ---------------------------------------------------------------------


@dataclass(frozen=True)
class AttributeChange:
    customer_id: int
    before: str | None
    after: str | None


def set_attribute_history(
    *, session: Session, name: str, values: dict[int, str | None], on: date, source: str,
) -> list[AttributeChange]:
    """Give customers a new value of attribute `name` from day `on`, keeping the old one as history
    (`customer_attributes`: the row in force is closed the day before `on`, a new one opens on it).
    The built-in column of the same name (grade, segment …) gets the new value too. Customers whose
    value in force does not change are left alone. Returns what changed; does not commit.

    A customer without any history row for `name` gets one for its current column value first (from
    always to `on`), so figures before `on` keep the value they had."""
    rows = session.execute(
        select(CustomerAttribute.id, CustomerAttribute.customer_id, CustomerAttribute.value, CustomerAttribute.valid_from)
        # Every customer's rows of the attribute (no IN list: a company may have 100,000 customers).
        .where(CustomerAttribute.name == name,
               or_(CustomerAttribute.valid_from.is_(None), CustomerAttribute.valid_from <= on),
               or_(CustomerAttribute.valid_to.is_(None), CustomerAttribute.valid_to > on))
    ).all()
    open_rows = {customer: (row_id, value, start) for row_id, customer, value, start in rows}
    with_history = set(session.scalars(select(CustomerAttribute.customer_id).where(CustomerAttribute.name == name).distinct()))
    column = COLUMNS.get(name)
    current = dict(session.execute(select(Customer.id, column)).all()) if column is not None else {}  # type: ignore[arg-type]
    changes, closes, reopen, inserts = [], [], [], []
    for customer, after in values.items():
        if customer in open_rows:
            row_id, before, start = open_rows[customer]
        else:
            row_id, before, start = None, (None if customer in with_history else current.get(customer)), None
        if before == after:
            continue
        changes.append(AttributeChange(customer, before, after))
        if row_id is not None and start == on:  # already changed today: the new value replaces it
            reopen.append({"row_id": row_id, "new_value": after})
            continue
        if row_id is not None:
            closes.append({"row_id": row_id, "to_day": on})
        elif customer not in with_history and before is not None:
            inserts.append({"customer_id": customer, "name": name, "value": before, "valid_from": None, "valid_to": on,
                            "source": "column"})
        inserts.append({"customer_id": customer, "name": name, "value": after, "valid_from": on, "valid_to": None,
                        "source": source})
    table = CustomerAttribute.__table__
    if closes:
        session.execute(update(table).where(table.c.id == bindparam("row_id")).values(valid_to=bindparam("to_day")), closes)
    if reopen:
        session.execute(update(table).where(table.c.id == bindparam("row_id")).values(value=bindparam("new_value")), reopen)
    if inserts:
        session.execute(insert(table), inserts)
    if column is not None and changes:
        session.execute(
            update(Customer.__table__).where(Customer.__table__.c.id == bindparam("customer")).values({name: bindparam("after")}),
            [{"customer": c.customer_id, "after": c.after} for c in changes],
        )
    return changes
