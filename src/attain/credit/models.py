"""Tables of attain.credit: crediting rules, split and overlay credit, effective-dated ownership and
positions, currency rates and returned orders.

Percentages are integer basis points (10000 = 100 %). Date ranges are half-open: a row is in force
from `valid_from` (inclusive) until `valid_to` (exclusive, NULL = still in force).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from attain.db import Base
from attain.types import BigId

EVENTS = ("booked", "shipped", "invoiced", "paid")
BASES = ("net", "gross_profit")
RETURN_TIMINGS = ("return", "sale")
CREDIT_KINDS = ("direct", "overlay")
FULL_BP = 10000  # 100 % in basis points


class CreditRule(Base):
    """How sales are credited for one plan (plan_id NULL: the company default)."""

    __tablename__ = "credit_rules"
    __table_args__ = (
        CheckConstraint(f"event IN {EVENTS}", name="event"),
        CheckConstraint(f"basis IN {BASES}", name="basis"),
        CheckConstraint(f"returns_in IN {RETURN_TIMINGS}", name="returns_in"),
        UniqueConstraint("plan_id", name="uq_credit_rules_plan_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(16), default="booked")
    basis: Mapped[str] = mapped_column(String(16), default="net")
    returns_in: Mapped[str] = mapped_column(String(16), default="return")
    reassign: Mapped[bool] = mapped_column(Boolean, default=False)
    base_currency: Mapped[str] = mapped_column(String(3), default="CNY")


class CreditSplit(Base):
    """One rep's share of an order (line_id NULL) or of one order line.

    Direct shares of one scope sum to 10000 bp; `cum_from_bp`/`cum_to_bp` are the running totals
    before and after this share, so that the credited amount of a share is
    amount*cum_to//10000 - amount*cum_from//10000 and the shares telescope to the line exactly.
    """

    __tablename__ = "credit_splits"
    __table_args__ = (
        CheckConstraint(f"kind IN {CREDIT_KINDS}", name="kind"),
        CheckConstraint("share_bp > 0 AND share_bp <= 10000", name="share"),
        Index("ix_credit_splits_order_id", "order_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64))
    line_id: Mapped[str | None] = mapped_column(String(128))  # order_lines.line_id; NULL = every line of the order
    rep_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"))
    kind: Mapped[str] = mapped_column(String(8), default="direct")
    share_bp: Mapped[int] = mapped_column(Integer)
    cum_from_bp: Mapped[int] = mapped_column(Integer)
    cum_to_bp: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(200), default="cli")


class TeamOverlay(Base):
    """A rep (manager, specialist) credited on top for every direct sale of a team or region."""

    __tablename__ = "credit_team_overlays"
    __table_args__ = (CheckConstraint("share_bp > 0 AND share_bp <= 10000", name="share"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"))
    rep_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"))
    share_bp: Mapped[int] = mapped_column(Integer, default=FULL_BP)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class RepPosition(Base):
    """Where a rep sat in the organisation (team or region) over a span of time."""

    __tablename__ = "rep_positions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"), index=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class Assignment(Base):
    """Who owns a customer or a territory (region) over a span of time."""

    __tablename__ = "credit_assignments"
    __table_args__ = (
        CheckConstraint("(customer_id IS NULL) <> (region_id IS NULL)", name="one_key"),
        Index("ix_credit_assignments_customer_id", "customer_id"),
        Index("ix_credit_assignments_region_id", "region_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"))
    rep_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class CurrencyRate(Base):
    """Units of the base currency per unit of `currency`, in force from valid_from until the next rate."""

    __tablename__ = "currency_rates"
    __table_args__ = (
        UniqueConstraint("currency", "valid_from", name="uq_currency_rates_currency"),
        CheckConstraint("rate > 0", name="rate_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    rate: Mapped[Decimal] = mapped_column(Numeric(18, 6))


class ReturnedOrder(Base):
    """An order returned as a whole: its credit is reversed on `returned_on` (NULL: in the sale's period)."""

    __tablename__ = "returned_orders"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    returned_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(200))
