"""Which period the 战报墙 and 诊断 open on (tracking.defaults), on the company calendar, and the
weekly review pack of the week under way counted to today, never to a day not yet come."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from attain.calendars.service import add_day
from attain.errors import InvalidInput
from attain.tracking.defaults import default_month
from attain.tracking.review import build_review


@pytest.mark.parametrize(("today", "shown", "other"), [
    (date(2026, 11, 1), "2026-10", "2026-11"),  # a Sunday: no working day yet
    (date(2026, 11, 6), "2026-10", "2026-11"),  # the 5th working day (2–6 Nov)
    (date(2026, 11, 9), "2026-11", None),  # the 6th
    (date(2027, 1, 4), "2026-12", "2027-01"),  # across the year
])
def test_early_in_a_month_the_previous_month_opens(session: Session, today: date, shown: str, other: str | None) -> None:
    opened = default_month(session=session, today=today)
    assert opened.period.label == shown
    assert (opened.other.label if opened.other else None) == other


def test_the_company_calendar_decides_what_early_means(session: Session) -> None:
    add_day(session=session, day=date(2026, 11, 3), kind="holiday", name="company day")
    session.commit()
    opened = default_month(session=session, today=date(2026, 11, 9))
    assert (opened.working_days, opened.period.label) == (5, "2026-10")


def test_the_review_of_the_week_under_way_is_counted_to_today(demo: Session) -> None:
    pack = build_review(session=demo, week="2026-W48", by="team", today=date(2026, 11, 25))  # Mon 23 – Sun 29 Nov
    assert pack.as_of == date(2026, 11, 25)
    assert pack.attainment.as_of <= date(2026, 11, 25)
    past = build_review(session=demo, week="2026-W46", by="team", today=date(2026, 11, 25))
    assert past.as_of == date(2026, 11, 15)  # a past week: to its Sunday
    with pytest.raises(InvalidInput) as raised:
        build_review(session=demo, week="2026-W49", by="team", today=date(2026, 11, 25))
    assert raised.value.code == "review.future_week"
