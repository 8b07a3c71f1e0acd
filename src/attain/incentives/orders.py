"""The order lines behind a statement: what a frozen statement keeps so that a later correction
names the order lines that caused it — for a rep their own credited lines, for a manager (whose
attainment is their team's or region's) the credited lines of every rep under that node.

A snapshot maps "ORDER␟LINE" (order id, the unit separator U+001F, the line's id as imported) to
the credited fen. Snapshots frozen before line detail was kept map the order id alone; a
correction against such a snapshot is named by order only.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy.orm import Session

from attain.credit.sql import credit_features, credited_lines
from attain.facts.models import OrderLine
from attain.incentives import calc
from attain.org.models import OrgNode

if TYPE_CHECKING:
    from attain.incentives.service import _Person
    from attain.periods import Period
    from attain.plans.models import Plan

SEP = "\x1f"


def key(order: str, line: str) -> str:
    return f"{order}{SEP}{line}"


def split(name: str) -> tuple[str, str | None]:
    order, sep, line = name.partition(SEP)
    return order, (line if sep else None)


def line_amounts(session: Session, plan: Plan, period: Period, as_of: date, rep_ids: list[int]) -> dict[int, dict[str, int]]:
    """Credited fen per order line of each rep in the period up to `as_of`: one SQL aggregate."""
    end = min(period.end, as_of)
    if not rep_ids or end < period.start:
        return {}
    credited = credited_lines(plan_id=plan.id, features=credit_features(session, plan_id=plan.id), start=period.start, end=end).subquery()
    statement = (
        select(credited.c.rep_id, credited.c.order_id, OrderLine.line_id, cast(func.sum(credited.c.amount), BigInteger))
        .join(OrderLine, OrderLine.id == credited.c.line_id)
        .where(credited.c.credit_date >= period.start, credited.c.credit_date <= end, credited.c.rep_id.in_(rep_ids))
        .group_by(credited.c.rep_id, credited.c.order_id, OrderLine.line_id)
    )
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for rep, order, line, amount in session.execute(statement):
        found[int(rep)][key(str(order), str(line))] = int(amount)
    return found


def person_lines(session: Session, plan: Plan, period: Period, as_of: date, people: list[_Person]) -> dict[int, dict[str, int]]:
    """Credited fen per order line of each person: a rep's own; a manager's (figure: a team or
    region) those of every rep under the node. The company's figure keeps none (every order)."""
    under: dict[int, list[int]] = {}
    wanted: set[int] = set()
    for person in people:
        if person.figure_kind == "rep":
            under[person.node.id] = [person.node.id]
        elif person.figure_kind in ("team", "region") and person.figure_id is not None:
            top = session.get(OrgNode, person.figure_id)
            if top is None:
                continue
            under[person.node.id] = list(session.scalars(select(OrgNode.id).where(OrgNode.kind == "rep", OrgNode.path.startswith(top.path))))
        wanted.update(under.get(person.node.id, ()))
    by_rep = line_amounts(session, plan, period, as_of, sorted(wanted))
    found: dict[int, dict[str, int]] = {}
    for node_id, reps in under.items():
        total: dict[str, int] = defaultdict(int)
        for rep in reps:
            for name, amount in by_rep.get(rep, {}).items():
                total[name] += amount
        found[node_id] = dict(total)
    return found


def moved(before: dict[str, int], current: dict[str, int]) -> dict[str, int]:
    """Lines (or orders, against an order-level snapshot) whose credited fen changed: now − before."""
    if before and not any(SEP in name for name in before):
        orders: dict[str, int] = defaultdict(int)
        for name, amount in current.items():
            orders[split(name)[0]] += amount
        current = dict(orders)
    return {name: current.get(name, 0) - before.get(name, 0) for name in sorted(set(before) | set(current))
            if current.get(name, 0) != before.get(name, 0)}


def describe(changes: dict[str, int]) -> str:
    """'order SO-B returned/reduced -100,000 (line SO-B-1 -100,000), order SO-C added/increased 5,000 (…)'."""
    by_order: dict[str, list[tuple[str | None, int]]] = defaultdict(list)
    for name, delta in changes.items():
        order, line = split(name)
        by_order[order].append((line, delta))
    parts = []
    for order, lines in by_order.items():
        total = sum(delta for _line, delta in lines)
        words = "returned/reduced" if total < 0 else "added/increased"
        named = [f"{line} {calc.money_text(delta)}" for line, delta in lines if line is not None]
        detail = f" ({'line' if len(named) == 1 else 'lines'} {', '.join(named)})" if named else ""
        parts.append(f"order {order} {words} {calc.money_text(total)}{detail}")
    return ", ".join(parts)
