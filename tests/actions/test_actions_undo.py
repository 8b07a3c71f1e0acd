"""Taking back a mis-tapped check-off (undo_activity) and retrying one safely (record_activity key),
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from attain.actions.service import daily_actions, record_activity, undo_activity
from attain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from attain.facts.models import Activity
from attain.org.models import OrgNode
from attain.settings.service import set_setting
from attain.split.calendar import WorkCalendar

WEEKDAYS = WorkCalendar(official=False)
MONDAY = date(2027, 3, 1)


@pytest.fixture
def small(session: Session, world):  # type: ignore[no-untyped-def]
    set_setting(session, "funnel_prior_weight", 0)
    session.commit()
    return world


def _done(session: Session, key: str) -> int:
    board = daily_actions(session=session, rep_code="R100", day=MONDAY, plan_name="SMALL", calendar=WEEKDAYS)
    return next(line.done for line in board.lines if line.key == key)


def test_undo_takes_back_one_check_off_and_the_board_follows(session: Session, small) -> None:  # type: ignore[no-untyped-def]
    first = record_activity(session=session, rep_code="R100", day=MONDAY, kind="proposal")
    second = record_activity(session=session, rep_code="R100", day=MONDAY, kind="proposal")
    assert _done(session, "proposal") == 2
    undone = undo_activity(session=session, rep_code="R100", code=second.code)
    assert undone.code == second.code
    assert _done(session, "proposal") == 1
    assert session.scalars(select(Activity.code).where(Activity.kind == "proposal")).all() == [first.code]
    with pytest.raises(NotFound, match="no activity"):  # twice: the second undo finds nothing
        undo_activity(session=session, rep_code="R100", code=second.code)


def test_undo_refuses_another_reps_and_imported_activities(session: Session, small) -> None:  # type: ignore[no-untyped-def]
    mine = record_activity(session=session, rep_code="R100", day=MONDAY, kind="call")
    with pytest.raises(NotFound, match="R300 has no activity"):
        undo_activity(session=session, rep_code="R300", code=mine.code)
    rep_id = session.scalar(select(OrgNode.id).where(OrgNode.code == "R100"))
    session.add(Activity(code="CRM-77", kind="call", activity_date=MONDAY, rep_id=rep_id))
    session.commit()
    with pytest.raises(NotAllowed, match="imported"):
        undo_activity(session=session, rep_code="R100", code="CRM-77")
    assert session.scalar(select(func.count()).select_from(Activity).where(Activity.kind == "call")) == 2


def test_a_retried_check_off_with_its_key_counts_once(session: Session, small) -> None:  # type: ignore[no-untyped-def]
    key = "a1b2c3d4e5f60718"
    first = record_activity(session=session, rep_code="R100", day=MONDAY, kind="proposal", key=key)
    again = record_activity(session=session, rep_code="R100", day=MONDAY, kind="proposal", key=key)
    assert first.id == again.id and first.code == f"MAN-{key}"
    assert _done(session, "proposal") == 1
    with pytest.raises(Conflict, match="another activity"):
        record_activity(session=session, rep_code="R100", day=MONDAY, kind="call", key=key)
    with pytest.raises(InvalidInput, match="letters and digits"):
        record_activity(session=session, rep_code="R100", day=MONDAY, kind="call", key="bad key; --")
