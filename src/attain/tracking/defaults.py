"""Which period a report page opens on when the user has not chosen one.

Early in a month (its first EARLY_WORKING_DAYS working days on the company calendar) the month so
far holds a few days of sales: the 战报墙 and 诊断 then open on the previous, complete month and
offer the current one beside it; later they open on the current month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from attain.periods import Period, month

EARLY_WORKING_DAYS = 5


@dataclass(frozen=True)
class DefaultPeriod:
    period: Period  # what the page shows
    other: Period | None  # early in a month: the current month, offered beside the previous one
    working_days: int  # working days of the current month up to and including today


def default_month(*, session: Session, today: date, early_days: int = EARLY_WORKING_DAYS) -> DefaultPeriod:
    """The month a report page opens on as of `today` (see the module docstring)."""
    from attain.calendars.service import company_calendar

    worked = company_calendar(session=session).count_working_days(today.replace(day=1), today)
    current = month(today.year, today.month)
    if worked > early_days:
        return DefaultPeriod(current, None, worked)
    last = today.replace(day=1) - timedelta(days=1)
    return DefaultPeriod(month(last.year, last.month), current, worked)
