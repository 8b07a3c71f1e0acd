"""Daily action lists on the database: check-off, roll-forward, streaks, visits, entered activities."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.actions.service import daily_actions, record_activity, suggested_visits
from attain.errors import InvalidInput, NotFound
from attain.facts.models import Activity
from attain.org.models import OrgNode
from attain.settings.service import set_setting
from attain.split.calendar import WorkCalendar

WEEKDAYS = WorkCalendar(official=False)  # 2027 has no official calendar data: Monday–Friday, stated

# Plan SMALL, week 2027-W09 (and W08), weight 0: 1 deal → negotiation 2, proposal 3, qualified 3, lead 4.
# Per working day: calls (lead) 1,1,1,1,0; visits (qualified) 1,1,1,0,0; proposals 1,1,1,0,0; meetings 1,1,0,0,0.
KINDS = ("call", "visit", "proposal", "meeting")


def _do(session: Session, day: date, calls: int = 0, visits: int = 0, proposals: int = 0, meetings: int = 0) -> None:
    for kind, count in zip(KINDS, (calls, visits, proposals, meetings)):
        for _ in range(count):
            record_activity(session=session, rep_code="R100", day=day, kind=kind, customer_code="C4" if kind == "visit" else None)


def _lines(result) -> dict[str, tuple[int, int, int, int, int]]:  # type: ignore[no-untyped-def]
    return {a.key: (a.planned, a.carried, a.due, a.done, a.remaining) for a in result.lines}


def _actions(session: Session, day: date):  # type: ignore[no-untyped-def]
    return daily_actions(session=session, rep_code="R100", day=day, plan_name="SMALL", calendar=WEEKDAYS)


@pytest.fixture
def small(session: Session, world):  # type: ignore[no-untyped-def]
    set_setting(session, "funnel_prior_weight", 0)
    session.commit()
    return world


def test_first_day_list_comes_from_the_week_funnel(session: Session, small) -> None:  # type: ignore[no-untyped-def]
    result = _actions(session, date(2027, 3, 1))
    assert result.working and result.plan == "SMALL" and result.week == "2027-W09"
    assert _lines(result) == {"prospect": (1, 0, 1, 0, 1), "visit": (1, 0, 1, 0, 1),
                              "proposal": (1, 0, 1, 0, 1), "follow_up": (1, 0, 1, 0, 1)}
    assert not result.complete


def test_done_activities_check_off_and_shortfalls_roll_forward(session: Session, small) -> None:  # type: ignore[no-untyped-def]
    _do(session, date(2027, 3, 1), visits=1, proposals=1)
    # An imported activity counts like an entered one.
    rep_id = session.scalar(select(OrgNode.id).where(OrgNode.code == "R100"))
    session.add(Activity(code="IMPORTED-1", kind="proposal", activity_date=date(2027, 3, 2), rep_id=rep_id))
    session.commit()
    monday = _actions(session, date(2027, 3, 1))
    assert _lines(monday) == {"prospect": (1, 0, 1, 0, 1), "visit": (1, 0, 1, 1, 0),
                              "proposal": (1, 0, 1, 1, 0), "follow_up": (1, 0, 1, 0, 1)}
    tuesday = _actions(session, date(2027, 3, 2))
    assert _lines(tuesday) == {"prospect": (1, 1, 2, 0, 2), "visit": (1, 0, 1, 0, 1),
                               "proposal": (1, 0, 1, 1, 0), "follow_up": (1, 1, 2, 0, 2)}


def test_non_working_day_gets_nothing(session: Session, small) -> None:  # type: ignore[no-untyped-def]
    result = _actions(session, date(2027, 3, 6))
    assert not result.working and result.lines == () and "not a working day" in (result.reason or "")


def test_streak_runs_back_into_the_previous_week(session: Session, small) -> None:  # type: ignore[no-untyped-def]
    _do(session, date(2027, 2, 23), calls=2, visits=2, proposals=2, meetings=2)  # Monday 22nd missed, caught up
    _do(session, date(2027, 2, 24), calls=1, visits=1, proposals=1)
    _do(session, date(2027, 2, 25), calls=1)
    # Friday 26th: nothing due, so complete
    _do(session, date(2027, 3, 1), calls=1, visits=1, proposals=1, meetings=1)
    today = _actions(session, date(2027, 3, 2))
    assert not today.complete
    assert today.streak == 5  # Tue–Fri of W08 and Monday; today is still running
    _do(session, date(2027, 3, 2), calls=1, visits=1, proposals=1, meetings=1)
    done = _actions(session, date(2027, 3, 2))
    assert done.complete and done.streak == 6
    assert _actions(session, date(2027, 2, 22)).streak == 0


def test_visits_suggest_a_grade_first_then_longest_unvisited(session: Session, small) -> None:  # type: ignore[no-untyped-def]
    rep = session.get(OrgNode, small.reps["R100"])
    record_activity(session=session, rep_code="R100", day=date(2027, 1, 10), kind="visit", customer_code="C3")
    record_activity(session=session, rep_code="R100", day=date(2027, 3, 1), kind="visit", customer_code="C1")
    order = [c.code for c in suggested_visits(session=session, rep=rep, day=date(2027, 3, 2), limit=10)]
    assert order == ["C2", "C3", "C4", "C1"]  # A never visited, A visited in January, C never, B yesterday
    record_activity(session=session, rep_code="R100", day=date(2027, 3, 2), kind="visit", customer_code="C2")
    assert [c.code for c in suggested_visits(session=session, rep=rep, day=date(2027, 3, 2), limit=10)] == ["C3", "C4", "C1"]
    assert suggested_visits(session=session, rep=rep, day=date(2027, 3, 2), limit=0) == []


def test_list_shows_only_as_many_customers_as_visits_left(session: Session, small) -> None:  # type: ignore[no-untyped-def]
    result = _actions(session, date(2027, 3, 1))
    assert [c.code for c in result.visit_customers] == ["C2"]


def test_rep_not_employed_or_without_plan(session: Session, small) -> None:  # type: ignore[no-untyped-def]
    leaver = session.get(OrgNode, small.reps["R300"])
    leaver.end_date = date(2027, 1, 31)
    session.commit()
    gone = daily_actions(session=session, rep_code="R300", day=date(2027, 3, 2), calendar=WEEKDAYS)
    assert not gone.working and "not employed" in (gone.reason or "")
    with pytest.raises(NotFound, match="no plan has a target for rep R200"):
        daily_actions(session=session, rep_code="R200", day=date(2027, 3, 2), calendar=WEEKDAYS)


def test_default_plan_is_one_with_a_cell_for_the_rep(session: Session, small) -> None:  # type: ignore[no-untyped-def]
    result = daily_actions(session=session, rep_code="R100", day=date(2027, 3, 1), calendar=WEEKDAYS)
    assert result.plan in ("P", "SMALL")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"kind": "lunch"}, InvalidInput, "not one of"),
        ({"kind": "visit"}, InvalidInput, "needs the customer"),
        ({"kind": "visit", "customer_code": "NOPE"}, NotFound, "no customer with code 'NOPE'"),
        ({"kind": "call", "rep_code": "T1"}, InvalidInput, "not a rep"),
    ],
)
def test_record_activity_rejects_bad_input(session: Session, small, kwargs: dict[str, str], error: type, message: str) -> None:  # type: ignore[no-untyped-def]
    arguments = {"rep_code": "R100", "day": date(2027, 3, 1), **kwargs}
    with pytest.raises(error, match=message):
        record_activity(session=session, **arguments)  # type: ignore[arg-type]


def test_recorded_activity_is_stored(session: Session, small) -> None:  # type: ignore[no-untyped-def]
    activity = record_activity(session=session, rep_code="R100", day=date(2027, 3, 1), kind="visit", customer_code="客户C2", note="首访")
    stored = session.scalars(select(Activity).where(Activity.id == activity.id)).one()
    assert stored.code.startswith("MAN-") and stored.customer_id == small.customers["C2"] and stored.note == "首访"
