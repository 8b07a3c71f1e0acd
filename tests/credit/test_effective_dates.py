"""Boundaries of every effective-dated crediting table, on SQLite and PostgreSQL.

A row is in force on [valid_from, valid_to): the change date belongs to the new row only. Each test
puts one sale on the day before, on and after a change date and checks who (or at what rate) each
is credited, so reading the span as closed (`day <= valid_to`) credits the change day twice and fails.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from attain.catalog.models import Customer
from attain.credit.service import add_overlay, assign, move_rep, set_rate
from attain.credit.sql import credited_lines
from tests.credit.test_crediting import Org, line, org  # noqa: F401 -- org is a fixture

CHANGE = date(2027, 7, 1)
DAYS = {"before": CHANGE - timedelta(days=1), "on": CHANGE, "after": CHANGE + timedelta(days=1)}


def credit_by_order(session: Session, kind: str = "direct") -> dict[tuple[str, int], int]:
    """{(order, credited rep): amount} over every credited row of `kind`."""
    lines = credited_lines().subquery()
    rows = session.execute(
        select(lines.c.order_id, lines.c.rep_id, func.sum(lines.c.amount))
        .where(lines.c.kind == kind).group_by(lines.c.order_id, lines.c.rep_id)
    )
    return {(order, rep): int(total) for order, rep, total in rows}


def three_sales(session: Session, rep: int, amount: int = 1000, **extra: object) -> None:
    for name, day in DAYS.items():
        line(session, name, day.isoformat(), rep, amount, **extra)


def test_customer_owner_changes_on_the_change_day_and_credits_it_once(session: Session, org: Org) -> None:
    customer = Customer(code="C1", name="客户一")
    session.add(customer)
    session.commit()
    three_sales(session, org.c, customer_id=customer.id)
    assign(session=session, rep="A", customer="C1", from_date=date(2027, 1, 1))
    assign(session=session, rep="B", customer="C1", from_date=CHANGE)
    assert credit_by_order(session) == {("before", org.a): 1000, ("on", org.b): 1000, ("after", org.b): 1000}


def test_territory_owner_changes_on_the_change_day_and_credits_it_once(session: Session, org: Org) -> None:
    three_sales(session, org.c, region_id=org.east)
    assign(session=session, rep="A", region="EAST", from_date=date(2027, 1, 1))
    assign(session=session, rep="B", region="EAST", from_date=CHANGE)
    assert credit_by_order(session) == {("before", org.a): 1000, ("on", org.b): 1000, ("after", org.b): 1000}


def test_rep_position_changes_team_on_the_move_day(session: Session, org: Org) -> None:
    three_sales(session, org.a)
    move_rep(session=session, rep="A", team="T2", from_date=CHANGE)
    lines = credited_lines().subquery()
    teams = dict(session.execute(select(lines.c.order_id, lines.c.team_id).where(lines.c.kind == "direct")).all())
    assert teams == {"before": org.t1, "on": org.t2, "after": org.t2}
    total = session.scalar(select(func.sum(lines.c.amount)).where(lines.c.kind == "direct"))
    assert total == 3000  # the move day is not credited under both teams


def test_currency_rate_changes_on_its_first_day(session: Session, org: Org) -> None:
    three_sales(session, org.a, amount=100, currency="USD")
    set_rate(session=session, currency="USD", valid_from=date(2027, 1, 1), rate=Decimal("7"))
    set_rate(session=session, currency="USD", valid_from=CHANGE, rate=Decimal("8"))
    assert credit_by_order(session) == {("before", org.a): 700, ("on", org.a): 800, ("after", org.a): 800}


@pytest.mark.parametrize("edge", ["starts", "ends"])
def test_team_overlay_starts_on_valid_from_and_is_gone_on_valid_to(session: Session, org: Org, edge: str) -> None:
    three_sales(session, org.a)
    span = {"valid_from": CHANGE} if edge == "starts" else {"valid_from": date(2027, 1, 1), "valid_to": CHANGE}
    add_overlay(session=session, rep="M", team="T1", **span)  # type: ignore[arg-type]
    overlaid = {order for order, rep in credit_by_order(session, kind="overlay") if rep == org.m}
    assert overlaid == ({"on", "after"} if edge == "starts" else {"before"})
