"""Trees stored with a materialised path ("/1/4/17/"): the org tree and the product tree."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session


def insert_node(*, session: Session, model: Any, parent_id: int | None, **values: object) -> int:
    """Insert one node of `model` under `parent_id`, set its path and depth; return its id."""
    parent_path, depth = "/", 0
    if parent_id is not None:
        row = session.execute(select(model.path, model.depth).where(model.id == parent_id)).one()
        parent_path, depth = row.path, row.depth + 1
    node_id = session.execute(
        insert(model).values(parent_id=parent_id, path="/", depth=depth, **values).returning(model.id)
    ).scalar_one()
    session.execute(update(model).where(model.id == node_id).values(path=f"{parent_path}{node_id}/"))
    return node_id
