"""Organisation nodes. Reps are the leaves of the same tree as companies, regions and teams, so that
a plan cell can be keyed by any level with one foreign key."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from attain.db import Base
from attain.types import BigId

ORG_KINDS = ("company", "region", "team", "rep")


class OrgNode(Base):
    __tablename__ = "org_nodes"
    __table_args__ = (CheckConstraint(f"kind IN {ORG_KINDS}", name="kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    # The id another system knows this node by (an HR employee number, a CRM territory id), when
    # it differs from the code the sales files use; imports resolve either.
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"), index=True)
    # Materialised path of ids, "/1/4/17/": descendants of node 4 are the paths starting "/1/4/".
    path: Mapped[str] = mapped_column(String(512), index=True, default="/")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    # For a rep, their line manager; for a region or team, the person who heads it.
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"))
    title: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


class RepTerritory(Base):
    """A rep covering a territory (region), many-to-many, optionally over a span of dates: a manager
    covers every territory of the group, a rep one or several, and territories change hands.
    Coverage is who works where; who is credited with a sale is attain.credit's business."""

    __tablename__ = "rep_territories"
    __table_args__ = (Index("ix_rep_territories_rep_region", "rep_id", "region_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"), index=True)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
