"""Tables of attain.tracking: alert rules, the alert inbox, webhooks and their delivery log."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from attain.db import Base
from attain.types import BigId

ALERT_KINDS = ("pace_gap_below", "no_new_lead_days", "forecast_below_pct", "ytd_below_pct", "market_shift")
ALERT_LEVELS = ("rep", "team", "region")
ALERT_GRAINS = ("week", "month", "quarter", "year")
WEBHOOK_FORMATS = ("wecom", "dingtalk", "slack")
DELIVERY_STATUSES = ("pending", "sent", "failed")


class AlertRule(Base):
    """One rule: `kind` with its parameters, checked for every node of `level` (under `node_id`)."""

    __tablename__ = "alert_rules"
    __table_args__ = (
        CheckConstraint(f"kind IN {ALERT_KINDS}", name="kind"),
        CheckConstraint(f"level IN {ALERT_LEVELS}", name="level"),
        CheckConstraint(f"grain IN {ALERT_GRAINS}", name="grain"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    # pace_gap_below: attainment − time progress, e.g. -0.1000; forecast_below_pct: share of target, e.g. 0.9000.
    threshold: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    # pace_gap_below: stay quiet before this working day of the period (early days are noisy).
    min_working_day: Mapped[int | None] = mapped_column(Integer)
    # no_new_lead_days: working days without a new opportunity.
    days: Mapped[int | None] = mapped_column(Integer)
    grain: Mapped[str] = mapped_column(String(16), default="month")
    level: Mapped[str] = mapped_column(String(16), default="rep")
    node_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())


class AlertEvent(Base):
    """An inbox entry. `dedup_key` (rule + node + period + condition) is unique: a condition alerts once."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"), index=True)
    org_node_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    condition: Mapped[str] = mapped_column(String(200))
    dedup_key: Mapped[str] = mapped_column(String(400), unique=True)
    as_of: Mapped[date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())
    read_at: Mapped[datetime | None] = mapped_column(DateTime)


class AlertWebhook(Base):
    """A group-robot or incoming-webhook URL; `format` picks the JSON body."""

    __tablename__ = "alert_webhooks"
    __table_args__ = (CheckConstraint(f"format IN {WEBHOOK_FORMATS}", name="format"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    url: Mapped[str] = mapped_column(String(1000), unique=True)
    format: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())


class AlertDelivery(Base):
    """Delivery log of one event to one webhook: pending until sent; failures stay to be retried."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        CheckConstraint(f"status IN {DELIVERY_STATUSES}", name="status"),
        UniqueConstraint("event_id", "webhook_id", name="uq_alert_deliveries_event_webhook"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("alert_events.id", ondelete="CASCADE"))
    webhook_id: Mapped[int] = mapped_column(ForeignKey("alert_webhooks.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
