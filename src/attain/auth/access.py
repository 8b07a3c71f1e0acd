"""Row-level access: the ONE place that decides which org nodes a user may see.

A rep sees their own rep node; a manager their team's subtree; a director their region's or the
company's subtree; an admin everything. Every page, API route and export filters through
`scope_filter` (SQL) or `require_visible_node` (one node) — nothing else decides.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, select, true
from sqlalchemy.orm import Session

from attain.auth.models import User
from attain.errors import NotFound
from attain.org.models import OrgNode

# Roles that may see every name and amount beneath their node; a rep only sees their own node.
ROLE_RANK = {"rep": 0, "manager": 1, "director": 2, "admin": 3}


def scope_root(*, session: Session, user: User) -> OrgNode | None:
    """The top node the user may see; None means everything (admin)."""
    if user.role == "admin":
        return None
    node = session.get(OrgNode, user.org_node_id) if user.org_node_id is not None else None
    if node is None:
        # A non-admin without a node sees nothing rather than everything.
        raise NotFound.coded("auth.access.user_attached_any_rep", username=user.username)
    return node


def visible_node_ids(*, session: Session, user: User) -> Select:  # type: ignore[type-arg]
    """SELECT of the ids of every org node the user may see (for IN clauses)."""
    root = scope_root(session=session, user=user)
    query = select(OrgNode.id)
    if root is None:
        return query
    if user.role == "rep":
        return query.where(OrgNode.id == root.id)
    return query.where(OrgNode.path.startswith(root.path, autoescape=True))


def visible_nodes(*, session: Session, user: User) -> list[OrgNode]:
    """Every org node the user may see, top-down."""
    ids = visible_node_ids(session=session, user=user)
    return list(session.scalars(select(OrgNode).where(OrgNode.id.in_(ids)).order_by(OrgNode.path)))


def scope_filter(*, session: Session, user: User, column: ColumnElement[int]) -> ColumnElement[bool]:
    """A WHERE clause limiting `column` (an org node id: rep, team, region) to what the user may see."""
    if user.role == "admin":
        return true()
    return column.in_(visible_node_ids(session=session, user=user))


def can_see(*, session: Session, user: User, node: OrgNode) -> bool:
    root = scope_root(session=session, user=user)
    if root is None:
        return True
    if user.role == "rep":
        return node.id == root.id
    return node.path.startswith(root.path)


def require_visible_node(*, session: Session, user: User, key: str | int) -> OrgNode:
    """The node with this code or id if the user may see it; NotFound otherwise — the same answer
    as for a node that does not exist, so that a rep cannot probe for other reps' codes."""
    node = session.get(OrgNode, key) if isinstance(key, int) else session.scalars(
        select(OrgNode).where(OrgNode.code == key)).first()
    if node is None or not can_see(session=session, user=user, node=node):
        raise NotFound.coded("auth.access.rep_team_region_you", key=key)
    return node


def default_node(*, session: Session, user: User) -> OrgNode:
    """The node a user's pages open on: their own node, or the company for an admin."""
    root = scope_root(session=session, user=user)
    if root is not None:
        return root
    top = session.scalar(select(OrgNode).where(OrgNode.parent_id.is_(None)).order_by(OrgNode.id))
    if top is None:
        raise NotFound.coded("auth.access.organisation_empty_import_reps")
    return top
