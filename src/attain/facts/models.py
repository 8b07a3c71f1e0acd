"""Order lines, opportunities with stage history, and sales activities."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
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


class RepMonthSales(Base):
    """Order lines summed per (month, rep, sign): a derived table kept by every order-line import
    (`attain.facts.rollups`), so that reports by rep, team, region and month read tens of thousands
    of rows instead of millions. Never edited by hand; rebuilt from `order_lines` at will."""

    __tablename__ = "rollup_rep_months"
    __table_args__ = (Index("ix_rollup_rep_months_month_rep", "month", "rep_id"),
                      Index("ix_rollup_rep_months_rep_month", "rep_id", "month"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[date] = mapped_column(Date)  # the month's first day
    rep_id: Mapped[int | None] = mapped_column(BigId)
    returns: Mapped[bool] = mapped_column(Boolean)  # the lines with a negative amount
    amount: Mapped[int] = mapped_column(BigInteger)  # sum of amount, fen
    profit: Mapped[int | None] = mapped_column(BigInteger)  # sum of amount - cost over lines with a cost
    quantity: Mapped[Decimal] = mapped_column(Numeric(24, 4))
    lines: Mapped[int] = mapped_column(BigInteger)


class DaySales(Base):
    """Order lines summed per (day, sign) over the whole company: the seasonal history of a report
    (three years of days) without scanning three years of lines. Kept like `RepMonthSales`."""

    __tablename__ = "rollup_days"
    __table_args__ = (Index("ix_rollup_days_day", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    returns: Mapped[bool] = mapped_column(Boolean)
    amount: Mapped[int] = mapped_column(BigInteger)
    profit: Mapped[int | None] = mapped_column(BigInteger)
    quantity: Mapped[Decimal] = mapped_column(Numeric(24, 4))
    lines: Mapped[int] = mapped_column(BigInteger)


class RollupState(Base):
    """One row: the newest order line the rollups cover. Reports use the rollups only while it
    equals max(order_lines.id) (nothing added since) and it is not NULL (nothing edited in place)."""

    __tablename__ = "rollup_state"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    line_max_id: Mapped[int | None] = mapped_column(BigInteger)


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
