"""Crediting rules on SQLite and PostgreSQL: splits, overlays, returns, moves, roll-ups, currency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from attain.credit.service import (
    add_overlay,
    assign,
    explain,
    move_rep,
    record_returns,
    rollup,
    set_rate,
    set_rule,
    set_split,
)
from attain.credit.sql import credited_lines
from attain.errors import Conflict, InvalidInput, NotFound
from attain.facts.models import OrderLine
from attain.metrics.service import evaluate, require_metric
from attain.org.models import OrgNode
from attain.org.service import create_node, ensure_root
from attain.periods import parse_period
from attain.settings.service import set_setting


@dataclass
class Org:
    east: int
    west: int
    t1: int
    t2: int
    a: int
    b: int
    c: int
    m: int


@pytest.fixture
def org(session: Session) -> Org:
    """company > 华东 (T1: A, B, manager M heads T1) and 华西 (T2: C)."""
    root = ensure_root(session=session)
    east = create_node(session=session, code="EAST", name="华东", kind="region", parent_id=root)
    west = create_node(session=session, code="WEST", name="华西", kind="region", parent_id=root)
    t1 = create_node(session=session, code="T1", name="一组", kind="team", parent_id=east)
    t2 = create_node(session=session, code="T2", name="二组", kind="team", parent_id=west)
    a = create_node(session=session, code="A", name="张三", kind="rep", parent_id=t1)
    b = create_node(session=session, code="B", name="李四", kind="rep", parent_id=t1)
    c = create_node(session=session, code="C", name="王五", kind="rep", parent_id=t2)
    m = create_node(session=session, code="M", name="经理", kind="rep", parent_id=east)
    session.get(OrgNode, t1).manager_id = m  # type: ignore[union-attr]
    session.commit()
    return Org(east, west, t1, t2, a, b, c, m)


_counter = iter(range(1, 10**9))


def line(session: Session, order: str, day: str, rep: int | None, amount: int, **extra: object) -> OrderLine:
    row = OrderLine(line_id=f"{order}-{next(_counter)}", order_id=order, order_date=date.fromisoformat(day), rep_id=rep,
                    amount=amount, quantity=Decimal(1), currency=extra.pop("currency", "CNY"), **extra)
    session.add(row)
    session.commit()
    return row


def credit(session: Session, period: str, by: str = "rep_id", kind: str | None = "direct", **options: object) -> dict[object, int]:
    span = parse_period(period)
    lines = credited_lines(**options).subquery()  # type: ignore[arg-type]
    query = select(lines.c[by], func.sum(lines.c.amount)).where(
        lines.c.credit_date >= span.start, lines.c.credit_date <= span.end).group_by(lines.c[by])
    if kind is not None:
        query = query.where(lines.c.kind == kind)
    return {key: int(total) for key, total in session.execute(query) if int(total) != 0}


def test_default_path_credits_each_line_to_its_rep_once(session: Session, org: Org) -> None:
    line(session, "O1", "2027-03-02", org.a, 12345)
    line(session, "O2", "2027-03-05", org.c, 500)
    assert credit(session, "2027-03") == {org.a: 12345, org.c: 500}
    assert credit(session, "2027-03", by="team_id") == {org.t1: 12345, org.t2: 500}
    assert credit(session, "2027-03", by="org_region_id") == {org.east: 12345, org.west: 500}


def test_fifty_fifty_split_halves_odd_fen_exactly_and_team_counts_once(session: Session, org: Org) -> None:
    line(session, "O1", "2027-03-02", org.a, 10001)
    line(session, "O1", "2027-03-02", org.a, 3)
    set_split(session=session, order_id="O1", shares=[("A", 5000), ("B", 5000)])
    by_rep = credit(session, "2027-03")
    assert sorted(by_rep.values()) == [5001, 5003]  # 10001 → 5000/5001, 3 → 1/2
    assert sum(by_rep.values()) == 10004
    assert credit(session, "2027-03", by="team_id") == {org.t1: 10004}


def test_split_across_teams_puts_each_half_in_its_team(session: Session, org: Org) -> None:
    line(session, "O1", "2027-03-02", org.a, 10000)
    set_split(session=session, order_id="O1", shares=[("A", 5000), ("C", 5000)])
    assert credit(session, "2027-03", by="team_id") == {org.t1: 5000, org.t2: 5000}


def test_split_not_summing_to_100_names_the_order(session: Session, org: Org) -> None:
    line(session, "O9", "2027-03-02", org.a, 100)
    with pytest.raises(InvalidInput, match="order O9: direct shares sum to 90 %"):
        set_split(session=session, order_id="O9", shares=[("A", 5000), ("B", 4000)])
    with pytest.raises(NotFound, match="order 'NOPE'"):
        set_split(session=session, order_id="NOPE", shares=[("A", 10000)])
    with pytest.raises(InvalidInput, match="team, not a rep"):
        set_split(session=session, order_id="O9", shares=[("T1", 10000)])


def test_line_split_on_an_order_split_as_a_whole_is_a_conflict(session: Session, org: Org) -> None:
    first = line(session, "O1", "2027-03-02", org.a, 100)
    set_split(session=session, order_id="O1", shares=[("A", 5000), ("B", 5000)])
    with pytest.raises(Conflict, match="split as a whole"):
        set_split(session=session, order_id="O1", line_id=first.line_id, shares=[("C", 10000)])


def test_overlay_credits_on_top_without_inflating_team_totals(session: Session, org: Org) -> None:
    line(session, "O1", "2027-03-02", org.a, 10000)
    line(session, "O2", "2027-03-03", org.b, 2000)
    add_overlay(session=session, rep="C", order_id="O1")  # a product specialist from another team
    add_overlay(session=session, rep="M", team="T1")  # the manager on everything T1 sells
    assert credit(session, "2027-03", by="team_id") == {org.t1: 12000}
    assert credit(session, "2027-03", kind="overlay") == {org.c: 10000, org.m: 12000}
    everything = credit(session, "2027-03", kind=None)
    assert everything == {org.a: 10000, org.b: 2000, org.c: 10000, org.m: 12000}
    revenue = require_metric(session=session, code="revenue")
    span = parse_period("2027-03")
    assert evaluate(session=session, metric=revenue, start=span.start, end=span.end)[0].value == 12000
    by_rep = {v.key: v.value for v in evaluate(session=session, metric=revenue, start=span.start, end=span.end, group_by="rep")}
    assert by_rep == {org.a: 10000, org.b: 2000, org.c: 10000, org.m: 12000}


@pytest.mark.parametrize(("returns_in", "expected"), [("return", {"2027Q1": 10000, "2027Q2": -10000}), ("sale", {"2027Q1": 0, "2027Q2": 0})])
def test_return_in_the_next_quarter(session: Session, org: Org, returns_in: str, expected: dict[str, int]) -> None:
    line(session, "O1", "2027-03-20", org.a, 10000)
    line(session, "O2", "2027-02-01", org.a, 500)
    record_returns(session=session, returns={"O1": (date(2027, 4, 10), "test")})
    session.commit()
    set_rule(session=session, returns_in=returns_in)
    assert credit(session, "2027Q1").get(org.a, 0) - 500 == expected["2027Q1"]
    assert credit(session, "2027Q2").get(org.a, 0) == expected["2027Q2"]
    assert credit(session, "2027Q2", by="team_id").get(org.t1, 0) == expected["2027Q2"]


def test_negative_line_reduces_the_return_period_or_the_original_sale(session: Session, org: Org) -> None:
    line(session, "O1", "2027-03-20", org.a, 10000)
    line(session, "R1", "2027-04-05", org.a, -3000, original_sale_on=date(2027, 3, 20))
    assert (credit(session, "2027Q1")[org.a], credit(session, "2027Q2")[org.a]) == (10000, -3000)
    set_rule(session=session, returns_in="sale")
    assert credit(session, "2027Q1")[org.a] == 7000
    assert credit(session, "2027Q2") == {}


def test_exclude_returns_leaves_returns_out_but_explain_lists_them(session: Session, org: Org) -> None:
    line(session, "O1", "2027-03-20", org.a, 10000)
    line(session, "O2", "2027-03-21", org.a, 700)
    line(session, "R1", "2027-03-25", org.a, -300)
    record_returns(session=session, returns={"O1": (date(2027, 4, 10), None)})
    session.commit()
    assert credit(session, "2027")[org.a] == 700 - 300  # O1 sold and returned within the year
    set_setting(session, "exclude_returns", True)
    session.commit()
    assert credit(session, "2027")[org.a] == 700
    report = explain(session=session, rep="A", period=parse_period("2027-03"))
    assert report["total"] == 700
    assert {r["order"] for r in report["excluded_returns"]} == {"O1", "R1"}  # type: ignore[attr-defined]


def test_rep_moving_team_mid_year_keeps_history(session: Session, org: Org) -> None:
    line(session, "O1", "2027-03-01", org.a, 1000)
    line(session, "O2", "2027-09-01", org.a, 2000)
    move_rep(session=session, rep="A", team="T2", from_date=date(2027, 7, 1))
    assert session.get(OrgNode, org.a).parent_id == org.t2  # type: ignore[union-attr]
    assert credit(session, "2027", by="team_id") == {org.t1: 1000, org.t2: 2000}
    assert credit(session, "2027", by="org_region_id") == {org.east: 1000, org.west: 2000}
    assert rollup(session=session, node="T1", period=parse_period("2027"))["direct"] == 1000
    assert rollup(session=session, node="WEST", period=parse_period("2027"))["direct"] == 2000
    # Re-crediting to the current organisation puts the whole year in the new team.
    assert credit(session, "2027", by="team_id", reassign=True) == {org.t2: 3000}
    with pytest.raises(InvalidInput, match="already moved on 2027-07-01"):
        move_rep(session=session, rep="A", team="T1", from_date=date(2027, 6, 1))


def test_customer_reassignment_follows_owner_at_sale_unless_asked(session: Session, org: Org) -> None:
    from attain.catalog.models import Customer

    customer = Customer(code="C1", name="客户一")
    session.add(customer)
    session.commit()
    line(session, "O1", "2027-03-01", org.a, 1000, customer_id=customer.id)
    line(session, "O2", "2027-08-01", org.a, 2000, customer_id=customer.id)
    assign(session=session, rep="A", customer="C1", from_date=date(2027, 1, 1))
    assign(session=session, rep="B", customer="C1", from_date=date(2027, 7, 1))
    assert credit(session, "2027") == {org.a: 1000, org.b: 2000}
    assert credit(session, "2027", reassign=True) == {org.b: 3000}
    set_rule(session=session, reassign=True)
    assert credit(session, "2027") == {org.b: 3000}
    rules = {r["rule"] for r in explain(session=session, rep="B", period=parse_period("2027"))["lines"]}  # type: ignore[attr-defined]
    assert rules == {"reassigned"}


def test_manager_rollup_is_the_teams_credit_plus_own_overlay_apart(session: Session, org: Org) -> None:
    line(session, "O1", "2027-03-01", org.a, 1000)
    line(session, "O2", "2027-03-02", org.b, 3000)
    line(session, "O3", "2027-03-03", org.c, 9000)
    line(session, "O4", "2027-03-04", org.m, 500)  # the manager's own sale
    add_overlay(session=session, rep="M", order_id="O3", share_bp=5000)
    result = rollup(session=session, node="M", period=parse_period("2027-03"))
    # M heads T1 (A + B) and sells himself; C's sale is only his overlay, reported apart.
    assert (result["direct"], result["own_overlay"]) == (1000 + 3000 + 500, 4500)
    assert rollup(session=session, node="T1", period=parse_period("2027-03"))["direct"] == 4000
    assert rollup(session=session, node="COMPANY", period=parse_period("2027-03"))["direct"] == 13500


def test_currency_converted_at_the_rate_in_force(session: Session, org: Org) -> None:
    line(session, "U1", "2027-03-01", org.a, 1001, currency="USD")  # 10.01 USD
    line(session, "U2", "2027-05-01", org.a, -1001, currency="USD")
    set_rate(session=session, currency="USD", valid_from=date(2027, 1, 1), rate=Decimal("7.123456"))
    set_rate(session=session, currency="USD", valid_from=date(2027, 4, 1), rate=Decimal("7.2"))
    assert credit(session, "2027-03")[org.a] == 7131  # 1001 × 7.123456 = 7130.58 → 7131
    assert credit(session, "2027-05")[org.a] == -7207  # −7207.2 → −7207 (half away from zero)
    set_split(session=session, order_id="U1", shares=[("A", 3333), ("B", 6667)])
    assert sum(credit(session, "2027-03").values()) == 7131
    notes = [r["note"] for r in explain(session=session, rep="B", period=parse_period("2027-03"))["lines"]]  # type: ignore[attr-defined]
    assert notes == ["split 66.67%; USD at 7.123456"]


def test_event_and_basis_follow_the_plan_rule(session: Session, org: Org) -> None:
    from attain.plans.service import create_plan

    line(session, "O1", "2027-03-30", org.a, 1000, cost=600, shipped_on=date(2027, 4, 2))
    line(session, "O2", "2027-03-30", org.a, 2000, cost=500)  # not shipped yet
    revenue = require_metric(session=session, code="revenue")
    plan = create_plan(session=session, name="FY2027", metric=revenue, start=date(2027, 1, 1), end=date(2027, 12, 31))
    set_rule(session=session, plan=plan, event="shipped", basis="gross_profit")
    assert credit(session, "2027-03") == {org.a: 3000}  # company default: booked, net
    assert credit(session, "2027-03", plan_id=plan.id) == {}
    assert credit(session, "2027-04", plan_id=plan.id) == {org.a: 400}


def test_explain_total_equals_the_metric(session: Session, org: Org) -> None:
    line(session, "O1", "2027-03-02", org.a, 10001)
    line(session, "O2", "2027-03-09", org.b, 777)
    set_split(session=session, order_id="O1", shares=[("A", 3000), ("B", 7000)])
    add_overlay(session=session, rep="A", order_id="O2")
    report = explain(session=session, rep="A", period=parse_period("2027-03"))
    revenue = require_metric(session=session, code="revenue")
    span = parse_period("2027-03")
    by_rep = {v.key: v.value for v in evaluate(session=session, metric=revenue, start=span.start, end=span.end, group_by="rep")}
    assert report["total"] == by_rep[org.a] == 3000 + 777
    assert [(r["rule"], r["amount"]) for r in report["lines"]] == [("split", 3000), ("overlay", 777)]  # type: ignore[attr-defined]


def test_foreign_currency_without_a_rate_is_flagged_not_dropped(session: Session, org: Org) -> None:
    line(session, "E1", "2027-03-01", org.a, 1000, currency="EUR")
    report = explain(session=session, rep="A", period=parse_period("2027-03"))
    assert report["total"] == 1000
    assert report["lines"][0]["note"] == "rep on the order; no EUR rate in force: unconverted"  # type: ignore[index]
