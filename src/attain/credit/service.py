"""Crediting: edit the rules, splits, overlays, positions, assignments and rates; explain a figure.

The figures themselves come from `attain.credit.sql` (one SQL query); this module only writes the
small rule tables and reads credited rows back for explanations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from attain.catalog.models import Customer
from attain.credit.calc import FULL_BP, check_direct, cumulative
from attain.credit.models import (
    BASES,
    EVENTS,
    RETURN_TIMINGS,
    Assignment,
    CreditRule,
    CreditSplit,
    CurrencyRate,
    RepPosition,
    ReturnedOrder,
    TeamOverlay,
)
from attain.credit.sql import credited_lines, node_credit
from attain.errors import Conflict, InvalidInput, NotFound
from attain.facts.models import OrderLine
from attain.org.models import OrgNode
from attain.org.service import move_node, require_node
from attain.periods import Period
from attain.plans.models import Plan
from attain.plans.service import resolve_plan
from attain.settings.service import get_setting

FIRST_DAY = date(1900, 1, 1)  # a position recorded for the time before the first move


# --- rules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleView:
    plan: str | None  # None: the company default
    event: str
    basis: str
    returns_in: str
    reassign: bool
    base_currency: str
    inherited: bool  # True when the plan has no rule of its own

    def as_dict(self) -> dict[str, object]:
        return {"plan": self.plan, "event": self.event, "basis": self.basis, "returns_in": self.returns_in,
                "reassign": self.reassign, "base_currency": self.base_currency, "inherited": self.inherited}


def _rule_row(session: Session, plan_id: int | None) -> CreditRule | None:
    condition = CreditRule.plan_id.is_(None) if plan_id is None else CreditRule.plan_id == plan_id
    return session.scalars(select(CreditRule).where(condition)).first()


def get_rule(*, session: Session, plan: Plan | None = None) -> RuleView:
    """The rule in force for a plan (its own, else the company default, else the built-in default)."""
    own = _rule_row(session, plan.id) if plan is not None else None
    row = own or _rule_row(session, None)
    label = f"{plan.name} v{plan.version}" if plan is not None else None
    if row is None:
        return RuleView(label, "booked", "net", "return", False, "CNY", inherited=plan is not None)
    return RuleView(label, row.event, row.basis, row.returns_in, bool(row.reassign), row.base_currency,
                    inherited=plan is not None and own is None)


def set_rule(
    *, session: Session, plan: Plan | None = None, event: str | None = None, basis: str | None = None,
    returns_in: str | None = None, reassign: bool | None = None, base_currency: str | None = None,
) -> RuleView:
    """Change the rule of a plan (or the company default); unspecified parts keep their value."""
    for value, allowed, name in ((event, EVENTS, "event"), (basis, BASES, "basis"), (returns_in, RETURN_TIMINGS, "returns-in")):
        if value is not None and value not in allowed:
            raise InvalidInput.coded("credit.one", name=name, value=value, items=', '.join(allowed))
    if base_currency is not None and not (len(base_currency) == 3 and base_currency.isalpha()):
        raise InvalidInput.coded("credit.letter_currency_code", base_currency=base_currency)
    current = get_rule(session=session, plan=plan)
    row = _rule_row(session, plan.id if plan is not None else None)
    if row is None:
        row = CreditRule(plan_id=plan.id if plan is not None else None, event=current.event, basis=current.basis,
                         returns_in=current.returns_in, reassign=current.reassign, base_currency=current.base_currency)
        session.add(row)
    row.event = event or row.event
    row.basis = basis or row.basis
    row.returns_in = returns_in or row.returns_in
    row.reassign = row.reassign if reassign is None else reassign
    row.base_currency = (base_currency or row.base_currency).upper()
    session.commit()
    return get_rule(session=session, plan=plan)


def plan_id_for(*, session: Session, name: str | None) -> int | None:
    return resolve_plan(session=session, name=name).id if name else None


# --- reps, orders -----------------------------------------------------------------------------


def require_rep(*, session: Session, key: str) -> OrgNode:
    node = require_node(session=session, key=key)
    if node.kind != "rep":
        raise InvalidInput.coded("credit.rep", key=key, kind=node.kind)
    return node


def _require_order(session: Session, order_id: str, line_id: str | None) -> None:
    condition = OrderLine.order_id == order_id
    if line_id is not None:
        condition = and_(condition, OrderLine.line_id == line_id)
    if session.scalar(select(OrderLine.id).where(condition).limit(1)) is None:
        what = f"line '{line_id}' of order '{order_id}'" if line_id else f"order '{order_id}'"
        raise NotFound.coded("credit.order_lines_import_orders", what=what)


# --- split and overlay credit -----------------------------------------------------------------


def _scope(order_id: str, line_id: str | None) -> str:
    return f"order {order_id}" + (f" line {line_id}" if line_id else "")


def _scope_condition(order_id: str, line_id: str | None, kind: str):  # type: ignore[no-untyped-def]
    line_condition = CreditSplit.line_id.is_(None) if line_id is None else CreditSplit.line_id == line_id
    return and_(CreditSplit.order_id == order_id, line_condition, CreditSplit.kind == kind)


def write_direct_split(
    *, session: Session, order_id: str, line_id: str | None, shares: list[tuple[int, int]], source: str
) -> None:
    """Replace the direct shares (rep id, basis points) of an order or a line, without committing.

    An order is split either as a whole or line by line, never both, so that every line has one
    set of direct shares.
    """
    check_direct([(str(rep), bp) for rep, bp in shares], scope=_scope(order_id, line_id))
    other_level = CreditSplit.line_id.is_not(None) if line_id is None else CreditSplit.line_id.is_(None)
    clash = session.scalar(select(CreditSplit.id).where(
        CreditSplit.order_id == order_id, CreditSplit.kind == "direct", other_level).limit(1))
    if clash is not None and line_id is not None:
        raise Conflict.coded("credit.order_split_whole_clear", order_id=order_id, line_id=line_id)
    if clash is not None:  # the whole order replaces its line splits
        session.execute(delete(CreditSplit).where(CreditSplit.order_id == order_id, CreditSplit.kind == "direct"))
    session.execute(delete(CreditSplit).where(_scope_condition(order_id, line_id, "direct")))
    bounds = cumulative([bp for _rep, bp in shares])
    session.add_all([
        CreditSplit(order_id=order_id, line_id=line_id, rep_id=rep, kind="direct", share_bp=bp, cum_from_bp=low,
                    cum_to_bp=high, source=source[:200])
        for (rep, bp), (low, high) in zip(shares, bounds)
    ])
    session.flush()


def write_overlay(*, session: Session, order_id: str, line_id: str | None, rep_id: int, share_bp: int, source: str) -> None:
    """Add (or change) one overlay credit on an order or a line, without committing."""
    if not 0 < share_bp <= FULL_BP:
        raise InvalidInput.coded("credit.overlay_share_above_most", scope=_scope(order_id, line_id), value=Decimal(share_bp) / 100)
    session.execute(delete(CreditSplit).where(_scope_condition(order_id, line_id, "overlay"), CreditSplit.rep_id == rep_id))
    session.add(CreditSplit(order_id=order_id, line_id=line_id, rep_id=rep_id, kind="overlay", share_bp=share_bp,
                            cum_from_bp=0, cum_to_bp=share_bp, source=source[:200]))
    session.flush()


def set_split(*, session: Session, order_id: str, shares: list[tuple[str, int]], line_id: str | None = None) -> list[dict[str, object]]:
    """`attain credit set`: the direct shares of an order (or line), by rep code or name."""
    _require_order(session, order_id, line_id)
    check_direct(shares, scope=_scope(order_id, line_id))
    reps = [(require_rep(session=session, key=key).id, bp) for key, bp in shares]
    write_direct_split(session=session, order_id=order_id, line_id=line_id, shares=reps, source="cli")
    session.commit()
    return list_splits(session=session, order_id=order_id)


def clear_split(*, session: Session, order_id: str, line_id: str | None = None, kind: str = "direct") -> int:
    """Remove the shares of an order or line; its lines go back to their owner (100 %)."""
    removed = session.execute(delete(CreditSplit).where(_scope_condition(order_id, line_id, kind))).rowcount
    session.commit()
    return int(removed or 0)


def add_overlay(
    *, session: Session, rep: str, order_id: str | None = None, line_id: str | None = None, team: str | None = None,
    share_bp: int = FULL_BP, valid_from: date | None = None, valid_to: date | None = None,
) -> dict[str, object]:
    """`attain credit overlay`: a rep credited on top of an order/line, or of every sale of a team or region."""
    person = require_rep(session=session, key=rep)
    if (order_id is None) == (team is None):
        raise InvalidInput.coded("credit.give_either_order_line")
    if order_id is not None:
        _require_order(session, order_id, line_id)
        write_overlay(session=session, order_id=order_id, line_id=line_id, rep_id=person.id, share_bp=share_bp, source="cli")
        session.commit()
        return {"rep": person.code, "order": order_id, "line": line_id, "share_percent": Decimal(share_bp) / 100}
    unit = require_node(session=session, key=team)  # type: ignore[arg-type]
    if unit.kind not in ("team", "region"):
        raise InvalidInput.coded("credit.team_overlay_needs_team", team=team, kind=unit.kind)
    if not 0 < share_bp <= FULL_BP:
        raise InvalidInput.coded("credit.overlay_share_above_most_2", value=Decimal(share_bp) / 100)
    if valid_from and valid_to and valid_to <= valid_from:
        raise InvalidInput.coded("credit.overlay_ends_after_starts", valid_to=valid_to, valid_from=valid_from)
    session.add(TeamOverlay(node_id=unit.id, rep_id=person.id, share_bp=share_bp, valid_from=valid_from, valid_to=valid_to))
    session.commit()
    return {"rep": person.code, "team": unit.code, "share_percent": Decimal(share_bp) / 100,
            "valid_from": valid_from, "valid_to": valid_to}


def list_splits(*, session: Session, order_id: str) -> list[dict[str, object]]:
    rows = session.execute(
        select(CreditSplit.line_id, CreditSplit.kind, OrgNode.code, CreditSplit.share_bp, CreditSplit.source)
        .join(OrgNode, OrgNode.id == CreditSplit.rep_id)
        .where(CreditSplit.order_id == order_id)
        .order_by(CreditSplit.kind, CreditSplit.line_id, CreditSplit.cum_from_bp, CreditSplit.id)
    )
    return [{"order": order_id, "line": line, "kind": kind, "rep": code, "percent": Decimal(bp) / 100, "source": source}
            for line, kind, code, bp, source in rows]


# --- positions, assignments -------------------------------------------------------------------


def _team_of(session: Session, rep: OrgNode) -> OrgNode | None:
    return session.get(OrgNode, rep.parent_id) if rep.parent_id is not None else None


def move_rep(*, session: Session, rep: str, team: str, from_date: date) -> list[dict[str, object]]:
    """`attain credit move-rep`: the rep sits under `team` from `from_date` on. Sales before that date
    stay with the old team (history reproducible); the org tree shows the rep under the new team."""
    person = require_rep(session=session, key=rep)
    unit = require_node(session=session, key=team)
    if unit.kind not in ("team", "region", "company"):
        raise InvalidInput.coded("credit.rep_moves_team_region", team=team, kind=unit.kind)
    history = list(session.scalars(select(RepPosition).where(RepPosition.rep_id == person.id).order_by(RepPosition.valid_from)))
    if not history:
        old = _team_of(session, person)
        if old is not None:
            start = person.start_date or FIRST_DAY
            if from_date <= start:
                raise InvalidInput.coded("credit.starts_move_come_after", code=person.code, start=start)
            session.add(RepPosition(rep_id=person.id, node_id=old.id, valid_from=start, valid_to=from_date))
    else:
        last = history[-1]
        if from_date <= last.valid_from:
            raise InvalidInput.coded("credit.already_moved_new_move", code=person.code, valid_from=last.valid_from)
        if last.node_id == unit.id:
            raise InvalidInput.coded("credit.already_under_since", code=person.code, code2=unit.code, valid_from=last.valid_from)
        last.valid_to = from_date
    session.add(RepPosition(rep_id=person.id, node_id=unit.id, valid_from=from_date, valid_to=None))
    session.flush()
    if person.parent_id != unit.id:
        move_node(session=session, node_id=person.id, parent_id=unit.id)
    session.commit()
    return positions(session=session, rep=person.code)


def positions(*, session: Session, rep: str) -> list[dict[str, object]]:
    person = require_rep(session=session, key=rep)
    rows = session.execute(
        select(OrgNode.code, RepPosition.valid_from, RepPosition.valid_to)
        .join(OrgNode, OrgNode.id == RepPosition.node_id)
        .where(RepPosition.rep_id == person.id)
        .order_by(RepPosition.valid_from)
    )
    return [{"rep": person.code, "node": code, "valid_from": start, "valid_to": end} for code, start, end in rows]


def assign(
    *, session: Session, rep: str, from_date: date, customer: str | None = None, region: str | None = None
) -> dict[str, object]:
    """Give a customer (or territory) to a rep from `from_date`; the previous owner keeps the earlier sales."""
    person = require_rep(session=session, key=rep)
    if (customer is None) == (region is None):
        raise InvalidInput.coded("credit.give_either_customer_region")
    if customer is not None:
        found = session.scalars(select(Customer).where(or_(Customer.code == customer, Customer.name == customer))).first()
        if found is None:
            raise NotFound.coded("credit.customer_code_name", customer=customer)
        key_column, key_id, label = Assignment.customer_id, found.id, found.code
    else:
        node = require_node(session=session, key=region)  # type: ignore[arg-type]
        if node.kind != "region":
            raise InvalidInput.coded("credit.region", region=region, kind=node.kind)
        key_column, key_id, label = Assignment.region_id, node.id, node.code
    later = session.scalar(select(func.max(Assignment.valid_from)).where(key_column == key_id))
    if later is not None and from_date <= later:
        raise InvalidInput.coded("credit.was_already_reassigned_new", label=label, later=later)
    session.execute(update(Assignment).where(key_column == key_id, Assignment.valid_to.is_(None)).values(valid_to=from_date))
    values: dict[str, Any] = {"rep_id": person.id, "valid_from": from_date, "valid_to": None, key_column.key: key_id}
    session.add(Assignment(**values))
    session.commit()
    return {"rep": person.code, "customer" if customer else "region": label, "valid_from": from_date}


def hand_over_customers(
    *, session: Session, leaver: OrgNode, to: list[OrgNode], weights: list[int], from_date: date,
) -> list[tuple[str, str]]:
    """A leaver's customers go to `to` from `from_date` on (effective-dated ownership; the leaver
    keeps the sales before it). Biggest customers first (sales of the 12 months before), each to
    the teammate with the least handed-over sales per unit of `weights` (their open targets), so the
    book follows the targets. Returns (customer code, new owner code); the caller commits."""
    if not to:
        return []
    current = dict(session.execute(
        select(Assignment.customer_id, Assignment.valid_from)
        .where(Assignment.rep_id == leaver.id, Assignment.customer_id.is_not(None), Assignment.valid_to.is_(None))
    ).all())
    assigned_elsewhere = select(Assignment.customer_id).where(Assignment.customer_id.is_not(None))
    unrecorded = set(session.scalars(select(Customer.id).where(Customer.owner_id == leaver.id,
                                                               Customer.id.not_in(assigned_elsewhere))))
    ids = sorted(set(current) | unrecorded)
    if not ids:
        return []
    late = [i for i, start in current.items() if start >= from_date]
    if late:
        raise Conflict.coded("credit.took_over_customer_after", code=leaver.code, from_date=from_date)
    year_before = date(from_date.year - 1, from_date.month, min(from_date.day, 28))
    sales = dict(session.execute(
        select(OrderLine.customer_id, func.sum(OrderLine.amount))
        .where(OrderLine.customer_id.in_(ids), OrderLine.order_date >= year_before, OrderLine.order_date < from_date)
        .group_by(OrderLine.customer_id)
    ).all())
    codes = dict(session.execute(select(Customer.id, Customer.code).where(Customer.id.in_(ids))).all())
    share = [max(int(w), 0) or 1 for w in weights]
    load = [0] * len(to)
    handed: list[tuple[str, str]] = []
    for customer_id in sorted(ids, key=lambda i: (-int(sales.get(i) or 0), codes[i])):
        amount = max(int(sales.get(customer_id) or 0), 1)
        k = min(range(len(to)), key=lambda j: ((load[j] + amount) / share[j], to[j].code))
        load[k] += amount
        if customer_id in unrecorded:
            session.add(Assignment(customer_id=customer_id, rep_id=leaver.id, valid_from=leaver.start_date or FIRST_DAY,
                                   valid_to=from_date))
        session.add(Assignment(customer_id=customer_id, rep_id=to[k].id, valid_from=from_date, valid_to=None))
        handed.append((codes[customer_id], to[k].code))
    session.execute(update(Assignment).where(Assignment.customer_id.in_(list(current)), Assignment.rep_id == leaver.id,
                                             Assignment.valid_to.is_(None), Assignment.valid_from < from_date)
                    .values(valid_to=from_date))
    owners = {code: node.id for node in to for code in [node.code]}
    for customer_code, owner_code in handed:
        session.execute(update(Customer).where(Customer.code == customer_code).values(owner_id=owners[owner_code]))
    session.flush()
    return handed


# --- currency rates ---------------------------------------------------------------------------


def set_rate(*, session: Session, currency: str, valid_from: date, rate: Decimal) -> list[dict[str, object]]:
    """Record a rate (units of the base currency per unit) in force from `valid_from` to the next one."""
    code = currency.strip().upper()
    if not (len(code) == 3 and code.isalpha()):
        raise InvalidInput.coded("credit.letter_currency_code_2", currency=currency)
    if rate <= 0 or rate != rate.quantize(Decimal("0.000001")):
        raise InvalidInput.coded("credit.rate_positive_most_decimals", rate=rate, code=code)
    existing = session.scalars(select(CurrencyRate).where(CurrencyRate.currency == code, CurrencyRate.valid_from == valid_from)).first()
    if existing is None:
        session.add(CurrencyRate(currency=code, valid_from=valid_from, rate=rate))
    else:
        existing.rate = rate
    session.flush()
    rows = list(session.scalars(select(CurrencyRate).where(CurrencyRate.currency == code).order_by(CurrencyRate.valid_from)))
    for current, following in zip(rows, rows[1:] + [None]):
        current.valid_to = following.valid_from if following is not None else None
    session.commit()
    return [{"currency": r.currency, "valid_from": r.valid_from, "valid_to": r.valid_to, "rate": r.rate} for r in rows]


def missing_rates(*, session: Session, start: date, end: date, plan_id: int | None = None) -> list[dict[str, object]]:
    """Credited rows in a foreign currency with no rate in force: they are credited unconverted."""
    base = get_rule(session=session, plan=session.get(Plan, plan_id) if plan_id else None).base_currency
    credited = credited_lines(plan_id=plan_id).subquery()
    rows = session.execute(
        select(credited.c.currency, func.min(credited.c.sale_date), func.count())
        .where(credited.c.currency != base, credited.c.rate.is_(None),
               credited.c.credit_date >= start, credited.c.credit_date <= end)
        .group_by(credited.c.currency)
    )
    return [{"currency": c, "first_date": d, "rows": n} for c, d, n in rows]


# --- returns ----------------------------------------------------------------------------------


def record_returns(*, session: Session, returns: dict[str, tuple[date | None, str | None]]) -> tuple[int, int, int]:
    """Insert or update returned orders (order id → (returned_on, source)); (inserted, updated, unchanged)."""
    existing = {row.order_id: row for row in session.scalars(select(ReturnedOrder).where(ReturnedOrder.order_id.in_(list(returns))))}
    inserted = updated = 0
    for order_id, (returned_on, source) in returns.items():
        row = existing.get(order_id)
        if row is None:
            session.add(ReturnedOrder(order_id=order_id, returned_on=returned_on, source=source))
            inserted += 1
        elif (row.returned_on, row.source) != (returned_on, source):
            row.returned_on, row.source = returned_on, source
            updated += 1
    session.flush()
    return inserted, updated, len(returns) - inserted - updated


# --- explain and roll-up ----------------------------------------------------------------------


def explain(*, session: Session, rep: str, period: Period, plan: str | None = None, reassign: bool | None = None) -> dict[str, object]:
    """Every credited row behind a rep's actual in the period, with the rule that credited it, and
    the returns the company setting leaves out (listed, never dropped silently)."""
    person = require_rep(session=session, key=rep)
    plan_id = plan_id_for(session=session, name=plan)
    rule = get_rule(session=session, plan=session.get(Plan, plan_id) if plan_id else None)
    credited = credited_lines(plan_id=plan_id, reassign=reassign).subquery("explained")
    rows = session.execute(
        select(credited.c.line_id, OrderLine.line_id, credited.c.order_id, credited.c.credit_date, credited.c.sale_date,
               credited.c.kind, credited.c.rule, credited.c.share_bp, credited.c.currency, credited.c.rate,
               OrderLine.amount, credited.c.net_amount, credited.c.amount, OrderLine.rep_id)
        .join(OrderLine, OrderLine.id == credited.c.line_id)
        .where(credited.c.rep_id == person.id, credited.c.credit_date >= period.start, credited.c.credit_date <= period.end)
        .order_by(credited.c.credit_date, credited.c.order_id, OrderLine.line_id, credited.c.kind)
    ).all()
    lines = []
    for (_id, line_code, order_id, credit_date, sale_date, kind, rule_name, share, currency, rate, original, net, amount,
         order_rep) in rows:
        lines.append({
            "line": line_code, "order": order_id, "credit_date": credit_date, "sale_date": sale_date, "kind": kind,
            "rule": rule_name, "share_percent": Decimal(share) / 100, "currency": currency,
            "rate": Decimal(rate) if rate is not None else None, "line_amount": int(original),
            "net_amount": int(net), "amount": int(amount),
            "note": _note(rule_name, share, currency, rate, order_rep != person.id)
            + (f"; no {currency} rate in force: unconverted" if currency != rule.base_currency and rate is None else ""),
        })
    direct = sum(line["amount"] for line in lines if line["kind"] == "direct")
    overlay = sum(line["amount"] for line in lines if line["kind"] == "overlay")
    excluded = _excluded_returns(session, person.id, period) if get_setting(session, "exclude_returns") else []
    return {
        "rep": person.code, "name": person.name, "period": period.label, "rule": rule.as_dict(),
        "lines": lines, "direct": direct, "overlay": overlay, "total": direct + overlay,
        "net_direct": sum(line["net_amount"] for line in lines if line["kind"] == "direct"),
        "excluded_returns": excluded,
    }


def _note(rule: str, share: int, currency: str, rate: object, other_rep: bool) -> str:
    parts = {"split": f"split {Decimal(share) / 100}%", "overlay": f"overlay {Decimal(share) / 100}%",
             "team_overlay": f"team overlay {Decimal(share) / 100}%", "return": "return reverses the sale",
             "reassigned": "reassigned to the current owner", "customer_owner": "customer owner at the sale",
             "territory_owner": "territory owner at the sale", "order_rep": "rep on the order"}
    text = parts.get(rule, rule)
    if rule == "return" and share != FULL_BP:
        text += f" ({Decimal(share) / 100}% share)"
    if rate is not None:
        text += f"; {currency} at {Decimal(rate).normalize()}"
    if other_rep and rule in ("customer_owner", "territory_owner", "reassigned"):
        text += " (order names another rep)"
    return text


def _excluded_returns(session: Session, rep_id: int, period: Period) -> list[dict[str, object]]:
    """Lines the exclude_returns setting leaves out for this rep (returned orders, negative lines)."""
    rows = session.execute(
        select(OrderLine.line_id, OrderLine.order_id, OrderLine.order_date, OrderLine.amount, ReturnedOrder.returned_on)
        .outerjoin(ReturnedOrder, ReturnedOrder.order_id == OrderLine.order_id)
        .where(OrderLine.rep_id == rep_id, or_(ReturnedOrder.order_id.is_not(None), OrderLine.amount < 0),
               or_(and_(OrderLine.order_date >= period.start, OrderLine.order_date <= period.end),
                   and_(ReturnedOrder.returned_on >= period.start, ReturnedOrder.returned_on <= period.end)))
        .order_by(OrderLine.order_date, OrderLine.line_id)
    )
    return [{"line": line, "order": order, "order_date": day, "line_amount": int(amount), "returned_on": returned,
             "reason": "exclude_returns is on"} for line, order, day, amount, returned in rows]


def rollup(*, session: Session, node: str, period: Period, plan: str | None = None) -> dict[str, object]:
    """A manager's, team's, region's or director's credited sales over the period (see sql.node_credit)."""
    unit = require_node(session=session, key=node)
    plan_id = plan_id_for(session=session, name=plan)
    direct, net, overlay, lines = session.execute(node_credit(unit.id, period.start, period.end, plan_id=plan_id)).one()
    return {"node": unit.code, "name": unit.name, "kind": unit.kind, "period": period.label,
            "direct": int(direct), "direct_net": int(net), "own_overlay": int(overlay), "lines": int(lines)}
