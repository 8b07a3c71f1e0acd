"""Incentive plans (versioned and approved like target plans), their participants and components,
and the frozen statements and adjustments of closed settlement periods."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from attain.db import Base
from attain.types import BigId, Minor

INCENTIVE_STATUSES = ("draft", "submitted", "approved", "superseded")
SETTLEMENTS = ("month", "quarter")
PARTICIPANT_ROLES = ("rep", "manager")
COMPONENT_KINDS = ("rate_table", "payout_curve", "slice_rate", "milestone", "spif", "team_pool")


class IncentivePlan(Base):
    """One version of an incentive plan. A revision is a new row (version + 1, `revision_of` the
    approved row); approving it supersedes the version it revises. Statements read the approved one."""

    __tablename__ = "incentive_plans"
    __table_args__ = (
        CheckConstraint(f"status IN {INCENTIVE_STATUSES}", name="status"),
        CheckConstraint(f"settlement IN {SETTLEMENTS}", name="settlement"),
        CheckConstraint("end_date >= start_date", name="date_range"),
        UniqueConstraint("name", "version", name="uq_incentive_plans_name_version"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1)
    year: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    settlement: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    note: Mapped[str | None] = mapped_column(Text)
    revision_of: Mapped[int | None] = mapped_column(ForeignKey("incentive_plans.id"))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())
    submitted_by: Mapped[str | None] = mapped_column(String(100))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    approved_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)


class IncentiveParticipant(Base):
    """A rep or manager covered by a plan version from `valid_from` to `valid_to` (inclusive; NULL:
    open), with a target incentive per year in fen (prorated by the days covered)."""

    __tablename__ = "incentive_participants"
    __table_args__ = (
        CheckConstraint(f"role IN {PARTICIPANT_ROLES}", name="role"),
        CheckConstraint("target_incentive >= 0", name="target_incentive_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("incentive_plans.id", ondelete="CASCADE"), index=True)
    org_node_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"))
    role: Mapped[str] = mapped_column(String(16), default="rep")
    target_incentive: Mapped[int] = mapped_column(Minor, default=0)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class IncentiveComponent(Base):
    """One component of a plan version. `spec` holds the kind's validated parameters (bands, curve
    points, slice, milestone, window …) exactly as `incentives.importers.validate_definition` made them."""

    __tablename__ = "incentive_components"
    __table_args__ = (
        CheckConstraint(f"kind IN {COMPONENT_KINDS}", name="kind"),
        UniqueConstraint("plan_id", "code", name="uq_incentive_components_plan_code"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("incentive_plans.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    # Share of the target incentive in basis points (components paid on the target incentive only).
    weight_bp: Mapped[int | None] = mapped_column(Integer)
    metric: Mapped[str | None] = mapped_column(String(64))
    target_plan: Mapped[str | None] = mapped_column(String(100))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)


class IncentiveClose(Base):
    """A closed settlement period of a plan: its statements are frozen from then on."""

    __tablename__ = "incentive_closes"
    __table_args__ = (UniqueConstraint("plan_name", "period", name="uq_incentive_closes_plan_period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_name: Mapped[str] = mapped_column(String(100))
    plan_id: Mapped[int] = mapped_column(ForeignKey("incentive_plans.id"))
    period: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    as_of: Mapped[date] = mapped_column(Date)
    closed_by: Mapped[str] = mapped_column(String(100))
    closed_at: Mapped[datetime] = mapped_column(DateTime)


class IncentiveStatement(Base):
    """One person's frozen statement of a closed period: every line as shown, the total in fen, and
    the credited amount per order (so that a later correction can name the orders that changed)."""

    __tablename__ = "incentive_statements"
    __table_args__ = (UniqueConstraint("close_id", "org_node_id", name="uq_incentive_statements_close_node"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    close_id: Mapped[int] = mapped_column(ForeignKey("incentive_closes.id", ondelete="CASCADE"), index=True)
    org_node_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"))
    total: Mapped[int] = mapped_column(Minor)
    # Total before adjustments of earlier periods: what later corrections of this period compare to.
    earned: Mapped[int] = mapped_column(Minor)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    orders: Mapped[dict[str, int]] = mapped_column(JSON)


class IncentiveAdjustment(Base):
    """A correction of an earlier closed period, paid in the period whose close recorded it."""

    __tablename__ = "incentive_adjustments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    close_id: Mapped[int] = mapped_column(ForeignKey("incentive_closes.id", ondelete="CASCADE"), index=True)
    org_node_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"))
    for_period: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Minor)
    reason: Mapped[str] = mapped_column(Text)
    orders: Mapped[dict[str, int]] = mapped_column(JSON)
