"""Organisation tree: finding and creating nodes, keeping materialised paths right."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from attain.errors import InvalidInput, NotFound
from attain.org.models import OrgNode
from attain.tree import (
    check_path_length,
    child_path,
    insert_node,
    insert_nodes,
    subtree_path_length,
)

ROOT_CODE = "COMPANY"


def get_node(*, session: Session, code: str) -> OrgNode | None:
    """Return the node with this code, or None."""
    return session.scalars(select(OrgNode).where(OrgNode.code == code)).first()


def require_node(*, session: Session, key: str) -> OrgNode:
    """The node whose code (or, failing that, unique name) is `key`; NotFound otherwise."""
    node = get_node(session=session, code=key)
    if node is not None:
        return node
    by_name = session.scalars(select(OrgNode).where(OrgNode.name == key)).all()
    if len(by_name) == 1:
        return by_name[0]
    if len(by_name) > 1:
        raise InvalidInput.coded("org.names_org_nodes_code", key=key, count=len(by_name))
    raise NotFound.coded("org.rep_team_region_company", key=key)


def ensure_root(*, session: Session, name: str = "公司") -> int:
    """The id of the company node at the top of the tree, created on first use."""
    root_id = session.scalar(select(OrgNode.id).where(OrgNode.parent_id.is_(None), OrgNode.kind == "company").order_by(OrgNode.id))
    if root_id is not None:
        return root_id
    # Race-safe: two imports into an empty database both create the company; one row results.
    return insert_nodes(session=session, model=OrgNode, rows=[{"code": ROOT_CODE, "name": name, "kind": "company", "parent_id": None}])[0]


def create_node(
    *, session: Session, code: str, name: str, kind: str, parent_id: int | None, **attributes: object
) -> int:
    """Insert one node under `parent_id` and set its materialised path; return its id."""
    return insert_node(session=session, model=OrgNode, parent_id=parent_id, code=code, name=name, kind=kind, **attributes)


def move_node(*, session: Session, node_id: int, parent_id: int) -> None:
    """Re-parent a node and rewrite the paths of its whole subtree in one statement."""
    node = session.get(OrgNode, node_id)
    parent = session.get(OrgNode, parent_id)
    if node is None or parent is None:
        raise NotFound.coded("org.org_node_move_new")
    if parent.path.startswith(node.path):
        raise InvalidInput.coded("org.cannot_move_under_own", code=node.code, code2=parent.code)
    old_path, new_path = node.path, child_path(parent.path, node.id, node.code)
    deepest = subtree_path_length(session=session, model=OrgNode, path=old_path)
    check_path_length(deepest - len(old_path) + len(new_path), parent.depth + 1, f"{node.code} (or a node below it)")
    depth_shift = parent.depth + 1 - node.depth
    session.execute(update(OrgNode).where(OrgNode.id == node_id).values(parent_id=parent_id))
    session.execute(
        update(OrgNode)
        .where(OrgNode.path.startswith(old_path, autoescape=True))
        .values(
            path=new_path + func.substr(OrgNode.path, len(old_path) + 1),
            depth=OrgNode.depth + depth_shift,
        )
    )


def node_ids_by_key(*, session: Session) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Maps code → id and name → ids over the whole tree, for resolving names in imported files."""
    by_code: dict[str, int] = {}
    by_name: dict[str, list[int]] = {}
    for node_id, code, name in session.execute(select(OrgNode.id, OrgNode.code, OrgNode.name)):
        by_code[code] = node_id
        by_name.setdefault(name, []).append(node_id)
    return by_code, by_name
