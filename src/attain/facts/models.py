"""Order lines, opportunities with stage history, and sales activities."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from attain.db import Base
from attain.types import BigId, Minor

OPPORTUNITY_STAGES = ("lead", "qualified", "proposal", "negotiation", "won", "lost")
ACTIVITY_KINDS = ("visit", "call", "proposal", "meeting", "email", "demo", "other")


class OrderLine(Base):
    """One order line. The fact table of every rollup.

    No foreign keys and few indexes, on purpose: a foreign key costs a trigger per inserted row
    (a 1,000,000-line import went from 7 s to 21 s on PostgreSQL with four of them). The ids are
    resolved by the import service in the same transaction, and nothing in Attain deletes reps,
    customers or products, so they cannot dangle.
    """

    __tablename__ = "order_lines"
    __table_args__ = (Index("ix_order_lines_date_rep", "order_date", "rep_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    line_id: Mapped[str] = mapped_column(String(128), unique=True)
    order_id: Mapped[str] = mapped_column(String(64))
    order_date: Mapped[date] = mapped_column(Date)
    rep_id: Mapped[int | None] = mapped_column(BigId)
    customer_id: Mapped[int | None] = mapped_column(BigId)
    product_id: Mapped[int | None] = mapped_column(BigId)
    region_id: Mapped[int | None] = mapped_column(BigId)
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    amount: Mapped[int] = mapped_column(Minor)  # minor units (fen)
    cost: Mapped[int | None] = mapped_column(Minor)  # minor units; NULL when the ERP has none
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    # Crediting events (attain.credit, migration 0005): the dates that put a line in a period when a
    # plan credits on shipment, invoice or payment; for a return line, the date of the original sale.
    shipped_on: Mapped[date | None] = mapped_column(Date)
    invoiced_on: Mapped[date | None] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date)
    original_sale_on: Mapped[date | None] = mapped_column(Date)


class Opportunity(Base):
    __tablename__ = "opportunities"
    __table_args__ = (CheckConstraint(f"stage IN {OPPORTUNITY_STAGES}", name="stage"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product_nodes.id"))
    amount: Mapped[int] = mapped_column(Minor)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    stage: Mapped[str] = mapped_column(String(16))
    created_on: Mapped[date] = mapped_column(Date)
    expected_close_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    # Where the opportunity came from (来源: 转介绍/referral, 展会, 官网 …); referral share reads it.
    source: Mapped[str | None] = mapped_column(String(64))


class OpportunityStageChange(Base):
    __tablename__ = "opportunity_stage_changes"
    __table_args__ = (UniqueConstraint("opportunity_id", "stage", name="uq_stage_change"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    changed_on: Mapped[date] = mapped_column(Date)


class Activity(Base):
    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint(f"kind IN {ACTIVITY_KINDS}", name="kind"),
        Index("ix_activities_date_rep", "activity_date", "rep_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    activity_date: Mapped[date] = mapped_column(Date)
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
