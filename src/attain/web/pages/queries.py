"""Org lookups the plan editor and the actions page read (children, reps, nodes of a kind).

No figures here: actuals, targets, statuses and forecasts are tracking's (`attain.tracking`), which
every page and the API call; the plan a page shows is `attain.tracking.attainment.resolve_plan`'s.
"""

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
