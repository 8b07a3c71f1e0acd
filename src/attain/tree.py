"""Trees stored with a materialised path ("/1/4/17/"): the org tree and the product tree."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from attain.errors import InvalidInput

# Both trees store the path in a String(512); PostgreSQL refuses a longer one, SQLite would keep it.
PATH_LIMIT = 512


class TreeTooDeep(InvalidInput):
    """A node whose path of ids would not fit: the chain of groups above it is too long."""


def child_path(parent_path: str, node_id: int, what: str) -> str:
    """The path of node `node_id` under a parent with `parent_path`; TreeTooDeep if it does not fit."""
    path = f"{parent_path}{node_id}/"
    check_path_length(len(path), path.count("/") - 1, what)
    return path


def check_path_length(length: int, depth: int, what: str) -> None:
    if length > PATH_LIMIT:
        raise TreeTooDeep.coded("tree.would_sit_levels_deep", what=what, depth=depth, length=length, path_limit=PATH_LIMIT)


def insert_node(*, session: Session, model: Any, parent_id: int | None, **values: object) -> int:
    """Insert one node of `model` under `parent_id`, set its path and depth; return its id."""
    parent_path, depth = "/", 0
    if parent_id is not None:
        row = session.execute(select(model.path, model.depth).where(model.id == parent_id)).one()
        parent_path, depth = row.path, row.depth + 1
    node_id = session.execute(
        insert(model).values(parent_id=parent_id, path="/", depth=depth, **values).returning(model.id)
    ).scalar_one()
    path = child_path(parent_path, node_id, f"'{values.get('code', node_id)}'")
    session.execute(update(model).where(model.id == node_id).values(path=path))
    return node_id


def insert_nodes(*, session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert many nodes at once (each row names its `parent_id`, which must already exist), set
    their paths and depths; return their ids in the order of `rows`.

    Race-safe: a code that another transaction has just created is not inserted again (INSERT … ON
    CONFLICT DO NOTHING), and its id is read back — two imports naming the same new rep both end up
    with the one row."""
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
    table = model.__table__
    session.execute(insert_new_codes(session, table), prepared)
    codes = [row["code"] for row in rows]
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        found.update((code, (node_id, path)) for node_id, code, path in session.execute(
            select(table.c.id, table.c.code, table.c.path).where(table.c.code.in_(chunk))))
    # Only this transaction's new rows still have the placeholder path "/" (a root's path is "/<id>/").
    paths = [
        {"_id": found[row["code"]][0],
         "_path": child_path(parents[row["parent_id"]][0] if row["parent_id"] is not None else "/", found[row["code"]][0],
                             f"'{row['code']}'")}
        for row in rows if found[row["code"]][1] == "/"
    ]
    if paths:
        session.execute(update(table).where(table.c.id == bindparam("_id")).values(path=bindparam("_path")), paths)
    return [found[code][0] for code in codes]


def insert_new_codes(session: Session, table: Any) -> Any:
    """INSERT that skips rows whose code exists (or is being inserted by a concurrent transaction)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=["code"])
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=["code"])
    return insert(table)


def subtree_path_length(*, session: Session, model: Any, path: str) -> int:
    """The length of the longest path in the subtree whose root has `path`."""
    return session.scalar(
        select(func.max(func.length(model.path))).where(model.path.startswith(path, autoescape=True))
    ) or len(path)
