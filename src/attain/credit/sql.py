"""The one place that says which sales count toward whose target.

`credited_lines()` returns a SQLAlchemy Core SELECT with one row per (order line, credited rep, kind).
Every figure of attainment, leaderboard, diagnosis and incentives reads sales through it, on every
engine (SQLite, PostgreSQL), so the crediting rule is applied once and the same way.

Columns (stable contract, extend but do not rename):
    line_id      order_lines.id
    order_id     order number
    credit_date  the date that puts the credit in a period (rule event; a return's date for reversals)
    rep_id       the credited rep (org_nodes.id)
    customer_id, product_id, region_id   as on the order line (region_id: the order's territory)
    amount       credited amount on the rule's basis (net sales or gross profit), base currency, minor units
    cost         credited cost in minor units (base currency)
    quantity     credited quantity
    team_id      the credited rep's team (org node of kind team) at credit_date
    org_region_id  the credited rep's region (org node of kind region) at credit_date
                 (a team-overlay row keeps the team and region of the sale it covers)
    kind         'direct' (sums to the line over all reps) or 'overlay' (extra, never summed into teams)
    rule         the rule that produced the row: order_rep | customer_owner | territory_owner |
                 reassigned | split | overlay | team_overlay | return
    net_amount   credited net sales (base currency), whatever the basis
    share_bp     the share of the line credited, in basis points (10000 = 100 %)
    currency     the line's own currency; rate: the rate used (NULL: none needed or none found)
    sale_date    the date of the sale event (credit_date differs for reversed returns)
    position_id  the org node (team, region) the credited rep sat under at credit_date

Rules come from the `credit_rules` row of the plan, else the company default (plan_id NULL), else
booked / net / returns in the return's period / owner at the time / CNY. They are read inside the
query (uncorrelated scalar subqueries, evaluated once), so the SELECT needs no session.

Money stays integer: a foreign-currency amount is converted with integer arithmetic (rate in
millionths, rounded half away from zero), and a share of a line is
amount*cum_to//10000 - amount*cum_from//10000, so the direct shares of a line telescope to the line
exactly, whatever the rounding of each share.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from functools import lru_cache

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.functions import GenericFunction

from attain.credit.models import (
    FULL_BP,
    Assignment,
    CreditRule,
    CreditSplit,
    CurrencyRate,
    RepPosition,
    ReturnedOrder,
    TeamOverlay,
)
from attain.facts.models import OrderLine
from attain.facts.rollups import current_condition as rollups_current
from attain.facts.rollups import rep_month_lines
from attain.org.models import OrgNode
from attain.settings.models import Setting

Expr = ColumnElement  # type: ignore[type-arg]
RATE_SCALE = 1_000_000  # rates are applied in millionths, as integers

COLUMNS = (
    "line_id", "order_id", "credit_date", "rep_id", "customer_id", "product_id", "region_id", "amount", "cost",
    "quantity", "kind", "rule", "net_amount", "share_bp", "currency", "rate", "sale_date",
)


def _rule_value(column: Expr, plan_id: int | None, default: object) -> Expr:
    company = select(column).where(CreditRule.plan_id.is_(None)).limit(1).scalar_subquery()
    if plan_id is None:
        return func.coalesce(company, default)
    plan = select(column).where(CreditRule.plan_id == plan_id).scalar_subquery()
    return func.coalesce(plan, company, default)


def _rule(plan_id: int | None, reassign: bool | None, exclude_returns: bool | None):  # type: ignore[no-untyped-def]
    """The rule in force as a one-row derived table (cross-joined where needed)."""
    exclude = _exclude_returns(exclude_returns)
    if reassign is None:
        reassigned: Expr = case((_rule_value(CreditRule.reassign, plan_id, false()) == true(), 1), else_=0)
    else:
        reassigned = literal(int(reassign))
    return select(
        _rule_value(CreditRule.event, plan_id, "booked").label("event"),
        _rule_value(CreditRule.basis, plan_id, "net").label("basis"),
        _rule_value(CreditRule.returns_in, plan_id, "return").label("returns_in"),
        reassigned.label("reassign"),
        _rule_value(CreditRule.base_currency, plan_id, "CNY").label("base_currency"),
        exclude.label("exclude_returns"),
    ).subquery("credit_rule")


def _any(condition: Expr) -> Expr:
    """EXISTS over a small crediting table: a constant both engines evaluate once before the scan
    (PostgreSQL as a one-time filter, SQLite ahead of its loops), so a branch for overlays or
    returns costs nothing while those tables are empty."""
    table = condition.left.table if hasattr(condition, "left") else None  # type: ignore[attr-defined]
    return exists(select(literal(1)).select_from(table).where(condition))


def _in_force(table, day: Expr) -> Expr:  # type: ignore[no-untyped-def]
    """The half-open [valid_from, valid_to) span of an effective-dated row contains `day`."""
    return and_(table.valid_from <= day, or_(table.valid_to.is_(None), day < table.valid_to))


def _quotient(numerator: Expr, divisor: int) -> Expr:
    """numerator / divisor truncated toward zero, the same on every engine: the remainder (which
    takes the sign of the numerator everywhere) is taken off first, so the division is exact even
    where `/` of two integers gives a float (DuckDB, used by tracking on files)."""
    return (numerator - _remainder(numerator, divisor)) // divisor


class _remainder(GenericFunction):  # type: ignore[type-arg]
    """Integer remainder with the sign of the dividend: mod() on PostgreSQL and DuckDB, `%` on
    SQLite (whose mod() returns a float). Not `%` everywhere: the PostgreSQL dialect writes it `%%`,
    which DuckDB does not read."""

    type = BigInteger()
    name = "mod"
    inherit_cache = True
    _register = False


@compiles(_remainder, "sqlite")
def _remainder_sqlite(element, compiler, **kw):  # type: ignore[no-untyped-def]
    dividend, divisor = list(element.clauses)
    return f"(({compiler.process(dividend, **kw)}) % ({compiler.process(divisor, **kw)}))"


def _share(amount: Expr, cum_from: Expr, cum_to: Expr) -> Expr:
    # Truncating division: the shares of a line telescope to the line whatever each share rounds to.
    return _quotient(amount * cum_to, FULL_BP) - _quotient(amount * cum_from, FULL_BP)


def _convert(amount: Expr, rate: Expr, rate_id: Expr) -> Expr:
    """Amount in the base currency, rounded half away from zero, with integer arithmetic only."""
    millionths = cast(func.round(rate * RATE_SCALE), BigInteger)
    half = RATE_SCALE // 2
    return case(
        (rate_id.is_(None), amount),
        (amount >= 0, _quotient(amount * millionths + half, RATE_SCALE)),
        else_=-_quotient((-amount) * millionths + half, RATE_SCALE),
    )


def _dated_lines(rule, window: tuple[date | None, date | None] = (None, None)):  # type: ignore[no-untyped-def]
    """Order lines with the rule in force and the date of the sale event under it; `window` limits
    order_date (only passed where the credit date is the order date)."""
    line = OrderLine.__table__
    event_date = case(
        (rule.c.event == "shipped", line.c.shipped_on),
        (rule.c.event == "invoiced", line.c.invoiced_on),
        (rule.c.event == "paid", line.c.paid_on),
        else_=line.c.order_date,
    )
    sale_date = case(
        (and_(rule.c.returns_in == "sale", line.c.amount < 0, line.c.original_sale_on.is_not(None)), line.c.original_sale_on),
        else_=event_date,
    )
    return (
        select(
            *(line.c[name] for name in ("id", "line_id", "order_id", "rep_id", "customer_id", "product_id", "region_id",
                                        "quantity", "amount", "cost", "currency")),
            sale_date.label("sale_date"),
            *rule.c,
        )
        .select_from(line)
        .join(rule, true())
        .where(sale_date.is_not(None), *_between(line.c.order_date, *window))
        .subquery("ol")
    )


def _between(column: Expr, start: date | None, end: date | None) -> list[Expr]:
    return ([column >= start] if start is not None else []) + ([column <= end] if end is not None else [])


def _line_rows(  # type: ignore[no-untyped-def]
    rule, *, kind: str, reversal: bool, features: CreditFeatures, window: tuple[date | None, date | None] = (None, None),
) -> Select:  # type: ignore[type-arg]
    """Credited rows of one kind from the order lines: the sales, or (reversal) their returns.
    Joins for features not in use (`features`) are left out; they would match nothing."""
    line = _dated_lines(rule, window).c
    customer_owner = aliased(Assignment, name="customer_owner")
    territory_owner = aliased(Assignment, name="territory_owner")
    split = aliased(CreditSplit, name="split")
    rate = aliased(CurrencyRate, name="rate")
    returned = aliased(ReturnedOrder, name="returned")

    def owner_join(table, key: Expr) -> Expr:  # type: ignore[no-untyped-def]
        # The owner at the sale's date, or (reassign) the owner now.
        return and_(key, or_(and_(line.reassign == 1, table.valid_to.is_(None)),
                             and_(line.reassign == 0, _in_force(table, line.sale_date))))

    owner = func.coalesce(customer_owner.rep_id, territory_owner.rep_id, line.rep_id) if features.assignments else line.rep_id
    split_on = and_(
        split.order_id == line.order_id,
        or_(split.line_id.is_(None), split.line_id == line.line_id),
        split.kind == kind,
    )
    if kind == "direct":
        rep_id = func.coalesce(split.rep_id, owner) if features.splits else owner
        if features.splits:
            cum_from, cum_to = func.coalesce(split.cum_from_bp, 0), func.coalesce(split.cum_to_bp, FULL_BP)
        else:
            cum_from, cum_to = literal(0), literal(FULL_BP)
        whens = [(split.id.is_not(None), "split")] if features.splits else []
        if features.assignments:
            whens += [
                (and_(line.reassign == 1, or_(customer_owner.id.is_not(None), territory_owner.id.is_not(None))), "reassigned"),
                (customer_owner.id.is_not(None), "customer_owner"),
                (territory_owner.id.is_not(None), "territory_owner"),
            ]
        rule_name: Expr = case(*whens, else_="order_rep") if whens else literal("order_rep")
    else:
        rep_id, cum_from, cum_to, rule_name = split.rep_id, literal(0), split.share_bp, literal("overlay")
    if reversal:
        rule_name = literal("return")

    if features.rates:
        net, cost, rate_used = _convert(line.amount, rate.rate, rate.id), _convert(line.cost, rate.rate, rate.id), rate.rate
    else:
        net, cost, rate_used = line.amount, line.cost, cast(null(), CurrencyRate.rate.type)
    credit_date = (
        case((or_(line.returns_in == "sale", returned.returned_on.is_(None)), line.sale_date), else_=returned.returned_on)
        if reversal else line.sale_date
    )
    query = (
        select(
            line.id.label("line_id"),
            line.order_id.label("order_id"),
            credit_date.label("credit_date"),
            rep_id.label("rep_id"),
            line.customer_id.label("customer_id"),
            line.product_id.label("product_id"),
            line.region_id.label("region_id"),
            line.quantity.label("quantity"),
            rule_name.label("rule"),
            line.currency.label("currency"),
            rate_used.label("rate"),
            line.sale_date.label("sale_date"),
            net.label("net"),
            cost.label("line_cost"),
            line.basis.label("basis"),
            cum_from.label("cum_from"),
            cum_to.label("cum_to"),
        )
        .select_from(line.id.table)
    )
    if features.assignments:
        query = (
            query.outerjoin(customer_owner, owner_join(customer_owner, customer_owner.customer_id == line.customer_id))
            .outerjoin(territory_owner, owner_join(territory_owner, territory_owner.region_id == line.region_id))
        )
    if kind != "direct":
        query = query.join(split, split_on).where(_any(CreditSplit.kind == "overlay"))
    elif features.splits:
        query = query.outerjoin(split, split_on)
    if features.rates:
        query = query.outerjoin(
            rate, and_(rate.currency == line.currency, line.currency != line.base_currency, _in_force(rate, line.sale_date))
        )
    if not features.returns and not reversal:
        query = query.where(or_(line.exclude_returns == 0, not_(line.amount < 0)))
    elif reversal:
        query = query.join(returned, returned.order_id == line.order_id).where(line.exclude_returns == 0, _any(ReturnedOrder.order_id.is_not(None)))
    else:
        is_return = or_(returned.order_id.is_not(None), line.amount < 0)
        query = query.outerjoin(returned, returned.order_id == line.order_id).where(
            or_(line.exclude_returns == 0, not_(is_return))
        )
    return _shares(query.subquery(f"{kind}_{'returns' if reversal else 'sales'}"), kind=kind, sign=-1 if reversal else 1)


def _shares(rows, *, kind: str, sign: int) -> Select:  # type: ignore[no-untyped-def, type-arg]
    """The credited money of each row: its share of the line on the rule's basis (negated for reversals)."""
    cum_from, cum_to = rows.c.cum_from, rows.c.cum_to
    basis = case((rows.c.basis == "gross_profit", rows.c.net - rows.c.line_cost), else_=rows.c.net)
    return select(
        rows.c.line_id, rows.c.order_id, rows.c.credit_date, rows.c.rep_id, rows.c.customer_id, rows.c.product_id,
        rows.c.region_id,
        (sign * _share(basis, cum_from, cum_to)).label("amount"),
        (sign * _share(rows.c.line_cost, cum_from, cum_to)).label("cost"),
        (sign * rows.c.quantity * (cum_to - cum_from) / FULL_BP).label("quantity"),
        literal(kind).label("kind"),
        rows.c.rule,
        (sign * _share(rows.c.net, cum_from, cum_to)).label("net_amount"),
        (cum_to - cum_from).label("share_bp"),
        rows.c.currency, rows.c.rate, rows.c.sale_date,
    )


def _positioned(rows, rule, features: CreditFeatures) -> Select:  # type: ignore[no-untyped-def, type-arg]
    """The rows with the team, region and org node the credited rep sat under at credit_date
    (from rep_positions; the current tree when there is no history, or when reassigning)."""
    position = aliased(RepPosition, name="position")
    rep = aliased(OrgNode, name="credit_rep")
    node = aliased(OrgNode, name="credit_node")
    above = aliased(OrgNode, name="credit_above")
    query = select(
        *(rows.c[name] for name in COLUMNS),
        case((node.kind == "team", node.id), else_=null()).label("team_id"),
        case((node.kind == "region", node.id), (above.kind == "region", above.id), else_=null()).label("org_region_id"),
        node.id.label("position_id"),
    ).select_from(rows)
    if features.positions:
        query = query.join(rule, true()).outerjoin(
            position,
            and_(position.rep_id == rows.c.rep_id, rule.c.reassign == 0, _in_force(position, rows.c.credit_date)),
        )
    seat = func.coalesce(position.node_id, rep.parent_id) if features.positions else rep.parent_id
    return (
        query.outerjoin(rep, rep.id == rows.c.rep_id)
        .outerjoin(node, node.id == seat)
        .outerjoin(above, above.id == node.parent_id)
    )


def _with_team_overlays(rows) -> Select:  # type: ignore[no-untyped-def, type-arg]
    """Each positioned row, plus an overlay row for every team overlay (a manager or specialist
    credited on top of a team's or region's direct sales) in force on the row's credit date.

    One pass: the rows are joined to a small "fan" (one pass-through row plus the overlays), so the
    credited lines are computed once whatever the number of overlays. An overlay row keeps the team
    and region of the sale it covers (overlay rows are never summed into team totals)."""
    fan = union_all(
        select(cast(null(), BigInteger).label("overlay_id"), cast(null(), BigInteger).label("node_id"),
               cast(null(), BigInteger).label("rep_id"), literal(FULL_BP).label("share_bp"),
               cast(null(), Date).label("valid_from"), cast(null(), Date).label("valid_to")),
        select(TeamOverlay.id, TeamOverlay.node_id, TeamOverlay.rep_id, TeamOverlay.share_bp,
               TeamOverlay.valid_from, TeamOverlay.valid_to),
    ).subquery("credit_fan")
    overlaid = fan.c.overlay_id.is_not(None)
    covers = and_(
        rows.c.kind == "direct",
        or_(fan.c.node_id == rows.c.team_id, fan.c.node_id == rows.c.org_region_id),
        or_(fan.c.valid_from.is_(None), fan.c.valid_from <= rows.c.credit_date),
        or_(fan.c.valid_to.is_(None), rows.c.credit_date < fan.c.valid_to),
    )
    def either(own: Expr, on_top: Expr) -> Expr:
        return case((overlaid, on_top), else_=own)

    def part(column: Expr) -> Expr:
        return _quotient(column * fan.c.share_bp, FULL_BP)

    return (
        select(
            rows.c.line_id, rows.c.order_id, rows.c.credit_date,
            func.coalesce(fan.c.rep_id, rows.c.rep_id).label("rep_id"),
            rows.c.customer_id, rows.c.product_id, rows.c.region_id,
            either(rows.c.amount, part(rows.c.amount)).label("amount"),
            either(rows.c.cost, part(rows.c.cost)).label("cost"),
            either(rows.c.quantity, rows.c.quantity * fan.c.share_bp / FULL_BP).label("quantity"),
            either(rows.c.kind, literal("overlay")).label("kind"),
            either(rows.c.rule, literal("team_overlay")).label("rule"),
            either(rows.c.net_amount, part(rows.c.net_amount)).label("net_amount"),
            either(rows.c.share_bp, fan.c.share_bp).label("share_bp"),
            rows.c.currency, rows.c.rate, rows.c.sale_date,
            rows.c.team_id, rows.c.org_region_id, rows.c.position_id,
        )
        .select_from(rows)
        .join(fan, or_(fan.c.overlay_id.is_(None), covers))
    )


@dataclass(frozen=True)
class CreditFeatures:
    """Which crediting features the database uses (see `credit_features`). With none in use the
    credited lines are the order lines themselves (100 % to the order's rep), and `credited_lines`
    can emit that trivial statement, which the order_date index serves directly."""

    rules: bool = True  # a credit_rules row (company or plan) other than booked / net / returns in return period
    splits: bool = True  # credit_splits rows (direct or overlay)
    returns: bool = True  # returned_orders rows
    positions: bool = True  # rep_positions rows (effective-dated team membership)
    assignments: bool = True  # credit_assignments rows (customer / territory owners)
    rates: bool = True  # currency_rates rows
    team_overlays: bool = True  # credit_team_overlays rows
    # Not a crediting feature: the rollups (`facts.rollups`) cover every order line, so that a
    # trivial statement of revenue or gross profit by rep / team / region / month may read them.
    rollups: bool = False

    @property
    def trivial(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self) if f.name != "rollups")


ALL_FEATURES = CreditFeatures()
DEFAULT_RULE = {"event": "booked", "basis": "net", "returns_in": "return"}


def credit_features(session: Session, *, plan_id: int | None = None) -> CreditFeatures:
    """Probe (one small query) which crediting features are in use for the plan's rule (company
    default when plan_id is None). Pass the result to `credited_lines(features=...)`; probe once per
    report, not per statement: the answer changes only when crediting data is imported."""

    def present(table) -> Expr:  # type: ignore[no-untyped-def]
        return exists(select(literal(1)).select_from(table))

    tables = (CreditSplit, ReturnedOrder, RepPosition, Assignment, CurrencyRate, TeamOverlay)
    flags = session.execute(select(*(present(t.__table__) for t in tables), rollups_current())).one()
    splits, returns, positions, assignments, rates, team_overlays, rollups = (bool(f) for f in flags)
    wanted = CreditRule.plan_id.is_(None) if plan_id is None else or_(CreditRule.plan_id.is_(None), CreditRule.plan_id == plan_id)
    rules = False
    for row in session.execute(select(CreditRule.event, CreditRule.basis, CreditRule.returns_in).where(wanted)):
        # A row repeating the defaults changes nothing (reassign and base currency only matter with
        # assignments, positions or rates, probed above).
        rules = rules or any(value is not None and value != DEFAULT_RULE[name] for name, value in row._mapping.items())
    return CreditFeatures(rules, splits, returns, positions, assignments, rates, team_overlays, rollups)


def _exclude_returns(exclude_returns: bool | None) -> Expr:
    if exclude_returns is None:
        stored = select(cast(Setting.value, String)).where(Setting.key == "exclude_returns").scalar_subquery()
        return case((func.coalesce(stored, "false") == "true", 1), else_=0)
    return literal(int(exclude_returns))


def _plain_lines(exclude_returns: bool | None, start: date | None, end: date | None) -> Select:  # type: ignore[type-arg]
    """The credited lines when no crediting feature is in use: each order line, 100 % direct to its
    order rep, on its order date, team and region from the current tree. Row for row what the full
    statement gives on such a database, with the period as a plain order_date range (index, pruning)."""
    line = OrderLine.__table__.c
    conditions = [line.order_date.is_not(None)]
    if start is not None:
        conditions.append(line.order_date >= start)
    if end is not None:
        conditions.append(line.order_date <= end)
    if exclude_returns is None:
        conditions.append(or_(_exclude_returns(None) == 0, line.amount >= 0))
    elif exclude_returns:
        conditions.append(line.amount >= 0)
    full, none = literal(FULL_BP), literal(0)
    return _positioned_now(
        select(
            line.id.label("line_id"), line.order_id, line.order_date.label("credit_date"), line.rep_id,
            line.customer_id, line.product_id, line.region_id,
            line.amount.label("amount"), line.cost.label("cost"),
            (1 * line.quantity * (full - none) / FULL_BP).label("quantity"),
            literal("direct").label("kind"), literal("order_rep").label("rule"),
            line.amount.label("net_amount"), (full - none).label("share_bp"),
            line.currency, cast(null(), CurrencyRate.rate.type).label("rate"), line.order_date.label("sale_date"),
        )
        .select_from(OrderLine.__table__)
        .where(and_(*conditions)),
        line.rep_id,
    )


def _positioned_now(statement: Select, rep_id: Expr) -> Select:  # type: ignore[type-arg]
    """The statement with team_id, org_region_id and position_id of the rep in the current tree
    (the rep's parent; its region is the parent or the parent's parent)."""
    rep = aliased(OrgNode, name="credit_rep")
    node = aliased(OrgNode, name="credit_node")
    above = aliased(OrgNode, name="credit_above")
    return (
        statement.add_columns(
            case((node.kind == "team", node.id), else_=null()).label("team_id"),
            case((node.kind == "region", node.id), (above.kind == "region", above.id), else_=null()).label("org_region_id"),
            node.id.label("position_id"),
        )
        .outerjoin(rep, rep.id == rep_id)
        .outerjoin(node, node.id == rep.parent_id)
        .outerjoin(above, above.id == node.parent_id)
    )


def _plain_rollup(exclude_returns: bool | None, start: date, end: date, by_day: bool) -> Select | None:  # type: ignore[type-arg]
    """`_plain_lines` summed ahead (`facts.rollups`): whole months from the rep × month rollup (or,
    `by_day`, the company's day rollup), the days around them from the lines; the same columns, and
    the same sums for revenue and gross profit by rep, team, region and month. None: no whole month."""
    rule = None if exclude_returns is False else _exclude_returns(None) if exclude_returns is None else literal(1)
    parts = rep_month_lines(start, end, rule, by_day=by_day)
    if parts is None:
        return None
    lines = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("rollup_lines")
    line = OrderLine.__table__.c
    nothing = null()
    return _positioned_now(
        select(
            cast(nothing, line.id.type).label("line_id"), cast(nothing, line.order_id.type).label("order_id"),
            lines.c.credit_date, lines.c.rep_id, cast(nothing, line.customer_id.type).label("customer_id"),
            cast(nothing, line.product_id.type).label("product_id"), cast(nothing, line.region_id.type).label("region_id"),
            lines.c.amount, lines.c.cost, lines.c.quantity,
            literal("direct").label("kind"), literal("order_rep").label("rule"), lines.c.amount.label("net_amount"),
            literal(FULL_BP).label("share_bp"), literal("CNY").label("currency"),
            cast(nothing, CurrencyRate.rate.type).label("rate"), lines.c.credit_date.label("sale_date"),
        ).select_from(lines),
        lines.c.rep_id,
    )


@lru_cache(maxsize=64)
def credited_lines(
    *, plan_id: int | None = None, reassign: bool | None = None, exclude_returns: bool | None = None,
    features: CreditFeatures | None = None, start: date | None = None, end: date | None = None,
    rollup: str | None = None,
) -> Select:  # type: ignore[type-arg]
    """Every credited (line, rep, kind) row under the plan's crediting rule (company default when
    plan_id is None). `reassign` and `exclude_returns` override the rule and the company setting.

    `features` (from `credit_features(session)`) lets the statement leave out what the database does
    not use: with no feature in use it is a plain read of order_lines. `start`/`end` keep only rows
    credited in [start, end] (pushed onto order_date where that is exact). `rollup` ("rep_months" or
    "days") lets that plain read come from the rollups when `features.rollups` says they are current:
    only for callers that sum amounts by rep / team / region / month (or by day over the company),
    as the rollup rows carry nothing else (see `tracking.query.rollup_source`).

    Pure in its arguments and cached: the same (immutable) Select comes back for the same arguments,
    so the large statement is built once per process."""
    if features is not None and features.trivial:
        if rollup is not None and features.rollups and start is not None and end is not None:
            rolled = _plain_rollup(exclude_returns, start, end, by_day=rollup == "days")
            if rolled is not None:
                return rolled
        return _plain_lines(exclude_returns, start, end)
    used = features or ALL_FEATURES
    rule = _rule(plan_id, reassign, exclude_returns)
    # Booked on the order date, no returns to move: every row's credit date is its order date, so the
    # window can be an order_date range (index, partitions) before any join.
    window = (start, end) if not used.rules and not used.returns else (None, None)
    branches = [
        _line_rows(rule, kind=kind, reversal=reversal, features=used, window=window)
        for kind in ("direct", "overlay") for reversal in (False, True)
        # Overlay rows come only from overlay splits; reversals only from returned orders.
        if (kind == "direct" or used.splits) and (not reversal or used.returns)
    ]
    lines = (branches[0] if len(branches) == 1 else union_all(*branches)).subquery("credit_line_rows")
    positioned = _positioned(lines, rule, used).subquery("credit_positioned")
    credited = (_with_team_overlays(positioned) if used.team_overlays else positioned.select()).subquery("credited")
    statement = credited.select()
    if start is not None:
        statement = statement.where(credited.c.credit_date >= start)
    if end is not None:
        statement = statement.where(credited.c.credit_date <= end)
    return statement


def covered_nodes(node_id: int) -> Select:  # type: ignore[type-arg]
    """Ids of the org nodes under `node_id` and under every team or region it heads (manager_id)."""
    node = aliased(OrgNode, name="covered")
    head = aliased(OrgNode, name="head")
    return (
        select(node.id)
        .join(head, node.path.startswith(head.path))
        .where(or_(head.id == node_id, head.manager_id == node_id))
    )


def node_credit(
    node_id: int, start: date, end: date, *, plan_id: int | None = None, reassign: bool | None = None
) -> Select:  # type: ignore[type-arg]
    """One row (direct_amount, direct_net_amount, overlay_amount, lines) for a manager, team, region
    or director over [start, end]: the direct credit of everyone under the node at the time of each
    sale (by position at credit_date, so overlays never count twice and movers count where they were),
    and separately the overlay credit of the node itself (when it is a person)."""
    credited = credited_lines(plan_id=plan_id, reassign=reassign).subquery("node_credited")
    under = and_(
        credited.c.kind == "direct",
        or_(credited.c.position_id.in_(covered_nodes(node_id)), credited.c.rep_id == node_id),
    )
    own_overlay = and_(credited.c.kind == "overlay", credited.c.rep_id == node_id)
    return select(
        func.coalesce(func.sum(case((under, credited.c.amount), else_=0)), 0).label("direct_amount"),
        func.coalesce(func.sum(case((under, credited.c.net_amount), else_=0)), 0).label("direct_net_amount"),
        func.coalesce(func.sum(case((own_overlay, credited.c.amount), else_=0)), 0).label("overlay_amount"),
        func.count(case((under, credited.c.line_id), else_=None)).label("lines"),
    ).where(credited.c.credit_date >= start, credited.c.credit_date <= end)
