"""Products and customers: lookup maps and creation for imports and the demo."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from attain.catalog.models import Customer, ProductNode
from attain.tree import insert_node


def create_product_node(*, session: Session, code: str, name: str, kind: str, parent_id: int | None, **attributes: object) -> int:
    """Insert one product node (line or product) with its materialised path; return its id."""
    return insert_node(session=session, model=ProductNode, parent_id=parent_id, code=code, name=name, kind=kind, **attributes)


def key_maps(session: Session, model: type[Customer | ProductNode]) -> tuple[dict[str, int], dict[str, list[int]]]:
    """code → id and name → ids for customers or products."""
    by_code: dict[str, int] = {}
    by_name: dict[str, list[int]] = {}
    for row_id, code, name in session.execute(select(model.id, model.code, model.name)):
        by_code[code] = row_id
        by_name.setdefault(name, []).append(row_id)
    return by_code, by_name


def refresh_first_order_dates(*, session: Session) -> None:
    """Set every customer's first-order date from its order lines: one aggregate, one UPDATE … FROM."""
    from attain.facts.models import OrderLine

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
