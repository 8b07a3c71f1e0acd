"""Tables of attain.market: market size and shares by region × product line × period, competitor
events and marketing spend. Amounts are integers in fen; shares and growth are exact decimals."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from attain.db import Base
from attain.types import BigId, Minor

EVENT_KINDS = ("price_cut", "new_product", "campaign")
OWN = "own"  # the player name of the company's own share


class MarketSize(Base):
    """The size of one market (region × product line, NULL = all lines) in one period, with where the figure came from."""

    __tablename__ = "market_sizes"
    __table_args__ = (
        Index("uq_market_sizes_key", "region_id", text("coalesce(product_node_id, 0)"), "period", unique=True),
        CheckConstraint("size >= 0", name="size_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"), index=True)
    product_node_id: Mapped[int | None] = mapped_column(ForeignKey("product_nodes.id"))
    period: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    size: Mapped[int] = mapped_column(Minor)
    growth: Mapped[Decimal | None] = mapped_column(Numeric(9, 4))  # industry growth on the year before, 0.0800 = 8 %
    source: Mapped[str | None] = mapped_column(String(200))
    source_date: Mapped[date | None] = mapped_column(Date)
    # The size this row had before its last change (a market change is a drop against it).
    previous_size: Mapped[int | None] = mapped_column(Minor)
    updated_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())


class MarketShare(Base):
    """One player's share estimate of one market and period; player 'own' is the company itself."""

    __tablename__ = "market_shares"
    __table_args__ = (
        Index("uq_market_shares_key", "region_id", text("coalesce(product_node_id, 0)"), "period", "player", unique=True),
        CheckConstraint("share >= 0 AND share <= 1", name="share_range"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"), index=True)
    product_node_id: Mapped[int | None] = mapped_column(ForeignKey("product_nodes.id"))
    period: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    player: Mapped[str] = mapped_column(String(100))
    share: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    source: Mapped[str | None] = mapped_column(String(200))
    source_date: Mapped[date | None] = mapped_column(Date)


class CompetitorEvent(Base):
    """A competitor's move in a region (and product line): a price cut, a new product or a campaign."""

    __tablename__ = "competitor_events"
    __table_args__ = (
        CheckConstraint(f"kind IN {EVENT_KINDS}", name="kind"),
        CheckConstraint("severity BETWEEN 1 AND 3", name="severity_range"),
        Index("ix_competitor_events_date", "event_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_date: Mapped[date] = mapped_column(Date)
    region_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"), index=True)
    product_node_id: Mapped[int | None] = mapped_column(ForeignKey("product_nodes.id"))
    competitor: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    severity: Mapped[int] = mapped_column(Integer)  # 1 low, 2 medium, 3 high
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())


class MarketingSpend(Base):
    """Marketing money spent in a month (in a region, NULL = company-wide): with the leads of the
    same months it gives the lead yield (leads per 10,000 元)."""

    __tablename__ = "marketing_spend"
    __table_args__ = (
        Index("uq_marketing_spend_key", "period", text("coalesce(region_id, 0)"), unique=True),
        CheckConstraint("amount >= 0", name="amount_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    period: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"))
    amount: Mapped[int] = mapped_column(Minor)
