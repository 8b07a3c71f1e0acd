"""Org lookups the plan wizard, the plan grid and the actions page read (children, reps, nodes of a kind)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.org.models import OrgNode


def children(*, session: Session, node: OrgNode) -> list[OrgNode]:
    return list(session.scalars(select(OrgNode).where(OrgNode.parent_id == node.id).order_by(OrgNode.code)))


def reps_under(*, session: Session, node: OrgNode) -> list[OrgNode]:
    return list(session.scalars(
        select(OrgNode).where(OrgNode.kind == "rep", OrgNode.path.startswith(node.path, autoescape=True))
        .order_by(OrgNode.code)
    ))


def nodes_of_kind(*, session: Session, kind: str, under: OrgNode | None = None) -> list[OrgNode]:
    query = select(OrgNode).where(OrgNode.kind == kind)
    if under is not None:
        query = query.where(OrgNode.path.startswith(under.path, autoescape=True))
    return list(session.scalars(query.order_by(OrgNode.code)))
