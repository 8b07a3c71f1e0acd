"""A target plan and its cells, keyed by (period, org node, product node, customer type)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from attain.db import Base
from attain.types import BigId, Minor

PLAN_STATUSES = ("draft", "submitted", "approved", "locked", "superseded")
# A plan version is in force while approved or locked; a draft or submitted row is pending.
IN_FORCE = ("approved", "locked")
PENDING = ("draft", "submitted")
ALL_CUSTOMERS = "all"


class Plan(Base):
    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint(f"status IN {PLAN_STATUSES}", name="status"),
        CheckConstraint("end_date >= start_date", name="date_range"),
        CheckConstraint("unit > 0", name="unit_positive"),
        UniqueConstraint("name", "version", name="uq_plans_name_version"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1)
    year: Mapped[int | None] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    metric_id: Mapped[int] = mapped_column(ForeignKey("metrics.id"))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # Rounding unit of the split, in the metric's minor units (10000 = 100 yuan for revenue).
    unit: Mapped[int] = mapped_column(Minor, default=100)
    total: Mapped[int | None] = mapped_column(Minor)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    # How the plan was last split ({"by": [...], "method": ..., "grain": ..., ...}); re-splits reuse it.
    split_spec: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A revision is its own row (copy-on-write): the approved row it revises stays in force until
    # the revision is approved, then becomes 'superseded'.
    revision_of: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    # First day a revision may change: cells of periods that ended before it are frozen.
    effective_from: Mapped[date | None] = mapped_column(Date)


class PlanCell(Base):
    __tablename__ = "plan_cells"
    __table_args__ = (
        # NULL product means "all products"; COALESCE makes the key unique on SQLite and PostgreSQL
        # alike (both treat NULLs as distinct in a plain unique constraint).
        Index(
            "uq_plan_cells_key",
            "plan_id",
            "period",
            "org_node_id",
            text("coalesce(product_node_id, 0)"),
            "customer_type",
            "customer_axis",
            "customer_value",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    org_node_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"), index=True)
    product_node_id: Mapped[int | None] = mapped_column(ForeignKey("product_nodes.id"))
    customer_type: Mapped[str] = mapped_column(String(16), default=ALL_CUSTOMERS)
    # A customer attribute the plan splits by instead of (not on top of) customer type: its name
    # ('segment', 'grade', 'industry', 'channel', 'city', 'customer_region' or an imported column,
    # see catalog.dimensions) and the member this cell holds; '' and 'all' on every other cell.
    customer_axis: Mapped[str] = mapped_column(String(64), default="", server_default="")
    customer_value: Mapped[str] = mapped_column(String(200), default=ALL_CUSTOMERS, server_default=ALL_CUSTOMERS)
    value: Mapped[int] = mapped_column(Minor)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"))
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    strategy_note: Mapped[str | None] = mapped_column(Text)
    # {"metric": "revenue", "achieved_at": "1.00", "review": "weekly"}
    assessment_rule: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class PlanVersion(Base):
    """One change of a plan: who, when, why. `Plan.version` is the number of the newest one."""

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "version", name="uq_plan_versions_plan_version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    changed_by: Mapped[str] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime)
    cells_changed: Mapped[int] = mapped_column(Integer, default=0)


class PlanCellChange(Base):
    """A cell's value and lock before and after one version (NULL value = the cell did not exist)."""

    __tablename__ = "plan_cell_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    org_node_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"))
    product_node_id: Mapped[int | None] = mapped_column(ForeignKey("product_nodes.id"))
    customer_type: Mapped[str] = mapped_column(String(16))
    customer_axis: Mapped[str] = mapped_column(String(64), default="", server_default="")
    customer_value: Mapped[str] = mapped_column(String(200), default=ALL_CUSTOMERS, server_default=ALL_CUSTOMERS)
    value_before: Mapped[int | None] = mapped_column(Minor)
    value_after: Mapped[int | None] = mapped_column(Minor)
    locked_before: Mapped[bool | None] = mapped_column(Boolean)
    locked_after: Mapped[bool | None] = mapped_column(Boolean)


class PlanCommitment(Base):
    """A bottom-up number a rep or manager commits to for one org node and period."""

    __tablename__ = "plan_commitments"
    __table_args__ = (
        UniqueConstraint("plan_id", "org_node_id", "period", name="uq_plan_commitments_plan_node_period"),
        CheckConstraint("value >= 0", name="value_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    org_node_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"))
    period: Mapped[str] = mapped_column(String(16))
    value: Mapped[int] = mapped_column(Minor)
    committed_by: Mapped[str] = mapped_column(String(100))
    committed_at: Mapped[datetime] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)
