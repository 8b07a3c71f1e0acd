"""Trees stored with a materialised path ("/1/4/17/"): the org tree and the product tree."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select, update
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


def insert_nodes(*, session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert many nodes at once (each row names its `parent_id`, which must already exist); set
    their paths and depths with one more statement; return their ids in the order of `rows`."""
    if not rows:
        return []
    parent_ids = {row["parent_id"] for row in rows if row["parent_id"] is not None}
    parents = {
        node_id: (path, depth)
        for node_id, path, depth in session.execute(select(model.id, model.path, model.depth).where(model.id.in_(parent_ids)))
    }
    prepared = [
        {**row, "path": "/", "depth": parents[row["parent_id"]][1] + 1 if row["parent_id"] is not None else 0}
        for row in rows
    ]
    ids = list(session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), prepared))
    table = model.__table__
    session.execute(
        update(table).where(table.c.id == bindparam("_id")).values(path=bindparam("_path")),
        [
            {"_id": node_id, "_path": f"{parents[row['parent_id']][0] if row['parent_id'] is not None else '/'}{node_id}/"}
            for node_id, row in zip(ids, rows)
        ],
    )
    return ids
