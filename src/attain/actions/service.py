"""A rep's daily action list: the week's funnel spread over working days, checked off against the
activities in the database (imported or entered with `attain actions done`), shortfalls rolled forward."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, aliased

from attain.actions.calc import ACTIONS, RollForward, current_streak, roll_forward
from attain.calendars.service import company_calendar
from attain.catalog.models import Customer
from attain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from attain.facts.models import ACTIVITY_KINDS, Activity, OrderLine
from attain.funnel.service import (
    FUNNEL_STAGES,
    WeekFunnel,
    funnel_for,
    require_rep,
    week_of,
)
from attain.org.models import OrgNode
from attain.plans.models import IN_FORCE, Plan, PlanCell
from attain.plans.service import resolve_plan
from attain.split.calendar import WorkCalendar

STREAK_WEEKS = 26  # how far back a streak is followed
MANUAL_PREFIX = "MAN-"
KEY_PATTERN = re.compile(r"[0-9A-Za-z]{8,40}")  # a check-off key (MAN-<key> fits the 64-character code)


@dataclass(frozen=True)
class ActionLine:
    key: str
    label: str
    activity_kind: str
    planned: int
    carried: int
    due: int
    done: int
    remaining: int


@dataclass(frozen=True)
class SuggestedCustomer:
    code: str
    name: str
    grade: str | None
    last_visit: date | None


@dataclass(frozen=True)
class DailyActions:
    rep_code: str
    rep_name: str
    day: date
    plan: str | None
    week: str
    working: bool
    reason: str | None
    lines: tuple[ActionLine, ...]
    visit_customers: tuple[SuggestedCustomer, ...]
    complete: bool
    streak: int
    warnings: tuple[str, ...]


def choose_plan(*, session: Session, rep: OrgNode, day: date, name: str | None) -> Plan:
    """The named plan, or the newest approved/locked plan (else any) with a cell for the rep on `day`."""
    if name is not None:
        return resolve_plan(session=session, name=name)
    status_rank = case((Plan.status.in_(IN_FORCE), 0), else_=1)
    plan = session.scalars(
        select(Plan)
        .join(PlanCell, PlanCell.plan_id == Plan.id)
        .where(PlanCell.org_node_id == rep.id, PlanCell.period_start <= day, PlanCell.period_end >= day,
               # never a superseded version, nor a revision still waiting for approval
               Plan.status != "superseded", or_(Plan.revision_of.is_(None), Plan.status.in_(IN_FORCE)))
        .order_by(status_rank, Plan.start_date.desc(), Plan.version.desc(), Plan.id.desc())
        .limit(1)
    ).first()
    if plan is None:
        raise NotFound.coded("actions.plan_target_rep_pass", code=rep.code, name=rep.name, day=day)
    return plan


def done_counts(*, session: Session, rep: OrgNode, start: date, end: date) -> np.ndarray:
    """Activities of the rep per day of [start, end] and action, shape (days, actions), by one GROUP BY."""
    kinds = [a.activity_kind for a in ACTIONS]
    rows = session.execute(
        select(Activity.activity_date, Activity.kind, func.count())
        .where(Activity.rep_id == rep.id, Activity.activity_date.between(start, end), Activity.kind.in_(kinds))
        .group_by(Activity.activity_date, Activity.kind)
    ).all()
    counts = np.zeros(((end - start).days + 1, len(ACTIONS)), dtype=np.int64)
    for day, kind, count in rows:
        counts[(day - start).days, kinds.index(kind)] = count
    return counts


def _planned(funnel: WeekFunnel) -> np.ndarray:
    columns = [FUNNEL_STAGES.index(a.stage) for a in ACTIONS]
    return np.asarray(funnel.per_day, dtype=np.int64)[:, columns]


def _week_status(
    *, session: Session, plan: Plan, rep: OrgNode, day: date, calendar: WorkCalendar
) -> tuple[WeekFunnel, np.ndarray, np.ndarray, RollForward]:
    """The week of `day` up to and including `day`: funnel, planned, done and the roll-forward."""
    week = week_of(day)
    funnel = funnel_for(session=session, plan=plan, rep=rep, start=week.start, end=week.end, label=week, calendar=calendar)
    upto = (day - week.start).days + 1
    planned = _planned(funnel)[:upto]
    done = done_counts(session=session, rep=rep, start=week.start, end=day)
    worked = np.asarray(funnel.worked[:upto], dtype=bool)
    return funnel, planned, done, roll_forward(planned, done, worked)


def streak(
    *, session: Session, plan: Plan, rep: OrgNode, day: date, first: tuple[WeekFunnel, RollForward], calendar: WorkCalendar
) -> int:
    """Consecutive working days with the whole list done, back from `day` (today counts once it is
    done; an unfinished today does not break the streak). Earlier weeks use their own funnels."""
    funnel, status = first
    upto = (day - funnel.week.start).days + 1
    complete = [status.complete]
    worked = [np.asarray(funnel.worked[:upto], dtype=bool)]
    unfinished_today = bool(worked[0][-1] and not status.complete[-1])
    # Stop as soon as a week has a miss before today: nothing earlier can extend the streak.
    missed = np.any(worked[0][:-1] & ~status.complete[:-1]) if unfinished_today else np.any(worked[0] & ~status.complete)
    week_start = funnel.week.start
    for _ in range(STREAK_WEEKS):
        if missed:
            break
        week_start -= timedelta(days=7)
        week_end = week_start + timedelta(days=6)
        if week_end < plan.start_date:
            break
        try:
            earlier_funnel, _, _, earlier = _week_status(session=session, plan=plan, rep=rep, day=week_end, calendar=calendar)
        except (NotFound, InvalidInput):
            break
        earlier_worked = np.asarray(earlier_funnel.worked, dtype=bool)
        complete.insert(0, earlier.complete)
        worked.insert(0, earlier_worked)
        missed = bool(np.any(earlier_worked & ~earlier.complete))
    return current_streak(np.concatenate(complete), np.concatenate(worked), include_last=not unfinished_today)


def suggested_visits(*, session: Session, rep: OrgNode, day: date, limit: int) -> list[SuggestedCustomer]:
    """Existing customers the rep owns, A grade first, then the longest without a visit (never first)."""
    if limit <= 0:
        return []
    last_visit = (
        select(Activity.customer_id.label("customer_id"), func.max(Activity.activity_date).label("last_visit"),
               func.max(case((Activity.activity_date == day, 1), else_=0)).label("visited_today"))
        .where(Activity.kind == "visit", Activity.activity_date <= day, Activity.customer_id.isnot(None))
        .group_by(Activity.customer_id)
        .subquery()
    )
    rows = session.execute(
        select(Customer.code, Customer.name, Customer.grade, last_visit.c.last_visit)
        .outerjoin(last_visit, last_visit.c.customer_id == Customer.id)
        .where(Customer.owner_id == rep.id, Customer.first_order_date < day,
               or_(last_visit.c.visited_today.is_(None), last_visit.c.visited_today == 0))
        .order_by(case((Customer.grade == "A", 0), else_=1), last_visit.c.last_visit.is_not(None),
                  last_visit.c.last_visit, Customer.code)
        .limit(limit)
    ).all()
    return [SuggestedCustomer(code, name, grade, last) for code, name, grade, last in rows]


def daily_actions(
    *, session: Session, rep_code: str, day: date, plan_name: str | None = None, calendar: WorkCalendar | None = None
) -> DailyActions:
    """The rep's actions for `day`; working days from `calendar`, by default the company calendar."""
    calendar = calendar or company_calendar(session=session)
    rep = require_rep(session=session, code=rep_code)
    week = week_of(day)
    empty = {"lines": (), "visit_customers": (), "complete": False, "streak": 0}
    if (rep.start_date and day < rep.start_date) or (rep.end_date and day > rep.end_date):
        return DailyActions(rep.code, rep.name, day, plan_name, week.label, False,
                            f"{rep.code} is not employed on {day}", warnings=(), **empty)  # type: ignore[arg-type]
    plan = choose_plan(session=session, rep=rep, day=day, name=plan_name)
    funnel, planned, done, status = _week_status(session=session, plan=plan, rep=rep, day=day, calendar=calendar)
    index = (day - week.start).days
    if not funnel.worked[index]:
        return DailyActions(rep.code, rep.name, day, plan.name, week.label, False,
                            "非工作日 / not a working day: nothing planned", warnings=funnel.warnings, **empty)  # type: ignore[arg-type]
    lines = tuple(
        ActionLine(a.key, a.label, a.activity_kind, int(planned[index, k]), int(status.carried[index, k]),
                   int(status.due[index, k]), int(done[index, k]), int(status.remaining[index, k]))
        for k, a in enumerate(ACTIONS)
    )
    visit_line = next(line for line in lines if line.key == "visit")
    customers = suggested_visits(session=session, rep=rep, day=day, limit=visit_line.remaining)
    days_streak = streak(session=session, plan=plan, rep=rep, day=day, first=(funnel, status), calendar=calendar)
    return DailyActions(rep.code, rep.name, day, plan.name, week.label, True, None, lines, tuple(customers),
                        bool(status.complete[index]), days_streak, funnel.warnings)


def _customer_in_scope(scope: OrgNode):  # type: ignore[no-untyped-def]
    """WHERE clause: the customer is owned by a rep under `scope`, or was sold to by one."""
    owner = aliased(OrgNode, name="owner")
    seller = aliased(OrgNode, name="seller")
    owned = select(Customer.id).join(owner, owner.id == Customer.owner_id).where(
        owner.path.startswith(scope.path, autoescape=True))
    sold = select(OrderLine.customer_id).join(seller, seller.id == OrderLine.rep_id).where(
        seller.path.startswith(scope.path, autoescape=True), OrderLine.customer_id.is_not(None))
    return or_(Customer.id.in_(owned), Customer.id.in_(sold))


def record_activity(
    *, session: Session, rep_code: str, day: date, kind: str, customer_code: str | None = None, note: str | None = None,
    key: str | None = None, visible_to: OrgNode | None = None,
) -> Activity:
    """Enter a done activity (kept in the activities table with a MAN- code, like an imported one).

    With `visible_to` (the web: the board's rep), only customers owned by or sold to by a rep under
    that node can be named; any other customer gets the very answer of an unknown code, so that
    logging an activity cannot tell which customer codes exist.

    `key` (letters and digits, from the page that sent the check-off) makes a retry safe: the
    activity is stored as MAN-<key>, and the same key again answers the activity already stored
    instead of counting it twice (a phone that lost its answer sends the form again)."""
    rep = require_rep(session=session, code=rep_code)
    if key is not None:
        if not KEY_PATTERN.fullmatch(key):
            raise InvalidInput.coded("actions.check_off_key_letters", key=key)
        stored = session.scalars(select(Activity).where(Activity.code == f"{MANUAL_PREFIX}{key}")).first()
        if stored is not None:
            if stored.rep_id != rep.id or stored.kind != kind or stored.activity_date != day:
                raise Conflict.coded("actions.check_off_key_was", key=key)
            return stored
    if kind not in ACTIVITY_KINDS:
        raise InvalidInput.coded("actions.activity_kind_one", kind=kind, items=', '.join(ACTIVITY_KINDS))
    customer_id = None
    if customer_code is not None:
        in_scope = _customer_in_scope(visible_to) if visible_to is not None else Customer.id.is_not(None)
        customer_id = session.scalar(select(Customer.id).where(Customer.code == customer_code, in_scope))
        if customer_id is None:
            named = session.scalars(select(Customer.id).where(Customer.name == customer_code, in_scope).limit(2)).all()
            if len(named) != 1:
                raise NotFound.coded("actions.customer_named_twice" if named else "actions.no_customer", code=customer_code)
            customer_id = named[0]
    elif kind == "visit":
        raise InvalidInput.coded("actions.visit_needs_customer_visited")
    if (rep.start_date and day < rep.start_date) or (rep.end_date and day > rep.end_date):
        raise InvalidInput.coded("actions.employed", code=rep.code, day=day)
    activity = Activity(code=f"{MANUAL_PREFIX}{key or uuid.uuid4().hex[:16]}", kind=kind, activity_date=day,
                        rep_id=rep.id, customer_id=customer_id, note=note)
    session.add(activity)
    session.commit()
    return activity


def undo_activity(*, session: Session, rep_code: str, code: str) -> Activity:
    """Take back an entered activity of the rep (a mis-tapped check-off); returns the deleted row.

    Only entered activities (MAN- codes) can be taken back: an imported one comes back with the
    next import of its file, so it is corrected there. Another rep's activity is NotFound."""
    rep = require_rep(session=session, code=rep_code)
    activity = session.scalars(select(Activity).where(Activity.code == code, Activity.rep_id == rep.id)).first()
    if activity is None:
        raise NotFound.coded("actions.activity_undo", code=rep.code, code2=code)
    if not activity.code.startswith(MANUAL_PREFIX):
        raise NotAllowed.coded("actions.activity_was_imported_correct", code=code)
    session.delete(activity)
    session.commit()
    return activity
