"""The company's own calendar days: holidays on top of the official calendar and make-up workdays."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from attain.db import Base

HOLIDAY = "holiday"
WORKDAY = "workday"


class CompanyDay(Base):
    """One day the company treats differently from the official calendar: a `holiday` (not worked)
    or a `workday` (worked, e.g. a make-up Saturday). One row per day."""

    __tablename__ = "company_calendar_days"
    __table_args__ = (CheckConstraint("kind IN ('holiday', 'workday')", name="kind"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100), default="")
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())
