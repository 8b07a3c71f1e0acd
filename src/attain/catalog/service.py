"""Products and customers: lookup maps and creation for imports and the demo."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from attain.catalog.models import Customer, ProductNode


def create_product_node(*, session: Session, code: str, name: str, kind: str, parent_id: int | None, **attributes: object) -> int:
    """Insert one product node (line or product) with its materialised path; return its id."""
    parent_path, depth = "/", 0
    if parent_id is not None:
        row = session.execute(select(ProductNode.path, ProductNode.depth).where(ProductNode.id == parent_id)).one()
        parent_path, depth = row.path, row.depth + 1
    node_id = session.execute(
        insert(ProductNode)
        .values(code=code, name=name, kind=kind, parent_id=parent_id, path="/", depth=depth, **attributes)
        .returning(ProductNode.id)
    ).scalar_one()
    session.execute(update(ProductNode).where(ProductNode.id == node_id).values(path=f"{parent_path}{node_id}/"))
    return node_id


def key_maps(session: Session, model: type[Customer] | type[ProductNode]) -> tuple[dict[str, int], dict[str, list[int]]]:
    """code → id and name → ids for customers or products."""
    by_code: dict[str, int] = {}
    by_name: dict[str, list[int]] = {}
    for row_id, code, name in session.execute(select(model.id, model.code, model.name)):
        by_code[code] = row_id
        by_name.setdefault(name, []).append(row_id)
    return by_code, by_name


def refresh_first_order_dates(*, session: Session, customer_ids: set[int] | None = None) -> None:
    """Set each customer's first-order date from its order lines (one SQL statement)."""
    from attain.facts.models import OrderLine

    first = (
        select(OrderLine.order_date)
        .where(OrderLine.customer_id == Customer.id, OrderLine.amount > 0)
        .order_by(OrderLine.order_date)
        .limit(1)
        .scalar_subquery()
    )
    statement = update(Customer).values(first_order_date=first)
    if customer_ids is not None:
        statement = statement.where(Customer.id.in_(customer_ids))
    session.execute(statement, execution_options={"synchronize_session": False})
