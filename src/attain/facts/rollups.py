"""Rollups: order lines pre-summed per (month, rep) and per day, kept by the imports.

A rep × month attainment report over 10,000,000 lines reads about 60,000 rollup rows instead of
3,000,000 lines, and its seasonal history 1,100 day rows instead of three years of lines. The
rollups are derived data with one rule: **they are used only while they are known to be exact.**

- Every order-line import (`upsert_order_lines`, used by `attain import orders` and the demo)
  rebuilds, in its own transaction, the months its lines fall in (old and new months of a changed
  line) and records the newest line id covered in `rollup_state`.
- A report uses the rollups only while `rollup_state.line_max_id` equals max(order_lines.id): a
  line added any other way (a script, the ORM) makes the reports read the lines again until the
  next import or `attain rollups --rebuild`. An UPDATE or DELETE of lines through SQLAlchemy (an
  ORM flush, `update(OrderLine)`, a Core statement) sets the state to NULL (the listeners below),
  which does the same. Raw SQL text that edits lines in place is not seen: rebuild after it.
- Sums of integers are exact, so a report from the rollups equals the same report from the lines,
  to the fen (tested on SQLite and PostgreSQL, with Hypothesis).

Only what the rollups hold is served from them: revenue and gross profit, by region / team / rep /
month (or the company's days), with no crediting feature in use (`credit.sql.CreditFeatures`).
Anything else (products, customer types, distinct counts, split credit, returns tables) reads the
lines as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    and_,
    cast,
    delete,
    event,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement, Delete, FunctionElement, Update

from attain.facts.line_sums import LineSums, added, line_sums
from attain.facts.models import DaySales, OrderLine, RepMonthSales, RollupState

STATE_ID = 1
LINES = OrderLine.__table__
REP_MONTHS = RepMonthSales.__table__
DAYS = DaySales.__table__
STATE = RollupState.__table__


class month_start(FunctionElement):  # type: ignore[type-arg]
    """The first day of a date's month, as a date, in each dialect's own words."""

    type = Date()
    inherit_cache = True
    name = "month_start"


@compiles(month_start)
def _month_start_default(element, compiler, **kw):  # type: ignore[no-untyped-def]
    return f"CAST(date_trunc('month', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(month_start, "sqlite")
def _month_start_sqlite(element, compiler, **kw):  # type: ignore[no-untyped-def]
    return f"date({compiler.process(element.clauses, **kw)}, 'start of month')"


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def whole_months(start: date, end: date) -> tuple[date, date] | None:
    """(first day of the first whole month, first day of the last whole month) inside [start, end],
    or None when the window holds no whole month."""
    first = start if start.day == 1 else next_month(start)
    last_end = end if (end + timedelta(days=1)).day == 1 else first_of_month(end) - timedelta(days=1)
    if first > last_end:
        return None
    return first, first_of_month(last_end)


def month_ranges(months: Iterable[date]) -> list[tuple[date, date]]:
    """Contiguous runs of months as [first day, first day after] ranges (few conditions, not one per month)."""
    ranges: list[tuple[date, date]] = []
    for month in sorted(set(months)):
        if ranges and ranges[-1][1] == month:
            ranges[-1] = (ranges[-1][0], next_month(month))
        else:
            ranges.append((month, next_month(month)))
    return ranges


# ---- keeping them ---------------------------------------------------------------------------

def _line_max_id(connection: Connection) -> int:
    return int(connection.execute(select(func.coalesce(func.max(LINES.c.id), 0))).scalar_one())


def _lock_state(connection: Connection) -> int | None:
    """Take the state row's write lock (held to the end of the transaction: one rebuild at a time,
    and the next one sees this one's rows) and return the line id it covers (None: unknown)."""
    connection.execute(update(STATE).where(STATE.c.id == STATE_ID).values(line_max_id=STATE.c.line_max_id))
    row = connection.execute(select(STATE.c.line_max_id).where(STATE.c.id == STATE_ID)).first()
    if row is None:
        connection.execute(insert(STATE).values(id=STATE_ID, line_max_id=None))
        return None
    return row[0]


def rebuild(connection: Connection, months: Iterable[date] | None = None) -> int:
    """Recompute the rollups of `months` (first days; every month when None) from order_lines and
    mark them current. Returns the number of rep × month rows there are now."""
    ranges = None if months is None else month_ranges(months)
    _lock_state(connection)
    if ranges is None:
        connection.execute(delete(REP_MONTHS))
        connection.execute(delete(DAYS))
    elif ranges:
        connection.execute(delete(REP_MONTHS).where(or_(*(and_(REP_MONTHS.c.month >= lo, REP_MONTHS.c.month < hi)
                                                            for lo, hi in ranges))))
        connection.execute(delete(DAYS).where(or_(*(and_(DAYS.c.day >= lo, DAYS.c.day < hi) for lo, hi in ranges))))
    if ranges is None or ranges:
        sign = (LINES.c.amount < 0).label("returns")
        sums = (func.sum(LINES.c.amount).label("amount"), func.sum(LINES.c.amount - LINES.c.cost).label("profit"),
                func.sum(LINES.c.quantity).label("quantity"), func.count().label("lines"))
        conditions = [LINES.c.order_date.is_not(None)]
        if ranges is not None:
            conditions.append(or_(*(and_(LINES.c.order_date >= lo, LINES.c.order_date < hi) for lo, hi in ranges)))
        month = month_start(LINES.c.order_date)
        by_rep_month = (select(month.label("month"), LINES.c.rep_id, sign, *sums)
                        .where(*conditions).group_by(month, LINES.c.rep_id, sign))
        connection.execute(insert(REP_MONTHS).from_select(
            ["month", "rep_id", "returns", "amount", "profit", "quantity", "lines"], by_rep_month))
        by_day = (select(LINES.c.order_date.label("day"), sign, *sums)
                  .where(*conditions).group_by(LINES.c.order_date, sign))
        connection.execute(insert(DAYS).from_select(["day", "returns", "amount", "profit", "quantity", "lines"], by_day))
    connection.execute(update(STATE).where(STATE.c.id == STATE_ID).values(line_max_id=_line_max_id(connection)))
    return int(connection.execute(select(func.count()).select_from(REP_MONTHS)).scalar_one())


def current(connection: Connection) -> bool:
    """Whether the rollups cover exactly the order lines there are."""
    return bool(connection.execute(select(current_condition())).scalar())


def current_condition() -> ColumnElement[bool]:
    """SQL: the state row covers max(order_lines.id) (an empty table counts as id 0)."""
    covered = select(STATE.c.line_max_id).where(STATE.c.id == STATE_ID).scalar_subquery()
    newest = select(func.coalesce(func.max(LINES.c.id), 0)).scalar_subquery()
    return func.coalesce(covered == newest, false())


def months_of(days: Iterable[date | None]) -> set[date]:
    return {first_of_month(d) for d in set(days) if d is not None}


def upsert_order_lines(*, session: Session, values: dict[str, Sequence[object]]):  # type: ignore[no-untyped-def]
    """`imports.bulk.upsert` of order lines, keeping the rollups: the months of the new lines and
    the old months of every line the import matched are rebuilt in the same transaction (everything
    when the rollups were not current before the import)."""
    from attain.imports.bulk import upsert

    connection = session.connection()
    covered = _lock_state(connection)
    newest_before = _line_max_id(connection)
    was_current = covered is not None and covered == newest_before
    touched: set[date] = months_of(values.get("order_date", ()))  # type: ignore[arg-type]

    def old_months(staging: Any, changing: ColumnElement[bool]) -> None:
        # A changing line's new month is in `touched` already; its old one, when it moves, is not.
        moved = and_(changing, LINES.c.order_date.is_distinct_from(staging.c.order_date))
        days = connection.execute(select(LINES.c.order_date).distinct().select_from(LINES).join(staging, moved)).scalars()
        touched.update(months_of(days))

    counts = upsert(session=session, target=LINES, key="line_id", values=values, before_update=old_months)
    # Every line new, into an empty table or onto current rollups: their sums come from the columns
    # in hand and are added to the rollups (`line_sums`), instead of re-reading the lines.
    if counts.inserted == len(values["line_id"]) and (newest_before == 0 or was_current):
        sums = line_sums(values["order_date"], values["rep_id"], values["amount"], values["cost"],  # type: ignore[arg-type]
                         values["quantity"])  # type: ignore[arg-type]
        if sums is not None:
            _add_sums(connection, sums, replace=newest_before == 0)
            return counts
    if not was_current:
        rebuild(connection)
    elif counts.inserted or counts.updated:
        rebuild(connection, touched)
    return counts


def _add_sums(connection: Connection, sums: LineSums, *, replace: bool) -> None:
    """Add the sums of new lines to the rollups (`replace`: the lines are all there is) and mark them
    current. The rows of the months concerned are read, added to, deleted and written again."""
    rep_months, days = sums.rep_months, sums.days
    if replace:
        connection.execute(delete(REP_MONTHS))
        connection.execute(delete(DAYS))
    elif rep_months:
        ranges = month_ranges(sums.months)
        in_months = or_(*(and_(REP_MONTHS.c.month >= lo, REP_MONTHS.c.month < hi) for lo, hi in ranges))
        in_days = or_(*(and_(DAYS.c.day >= lo, DAYS.c.day < hi) for lo, hi in ranges))
        measures = (REP_MONTHS.c.amount, REP_MONTHS.c.profit, REP_MONTHS.c.quantity, REP_MONTHS.c.lines)
        for row in connection.execute(select(REP_MONTHS.c.month, REP_MONTHS.c.rep_id, REP_MONTHS.c.returns, *measures)
                                      .where(in_months)).mappings():
            key = (row["month"], row["rep_id"], bool(row["returns"]))
            rep_months[key] = added(dict(row), rep_months[key]) if key in rep_months else dict(row)
        for row in connection.execute(select(DAYS.c.day, DAYS.c.returns, DAYS.c.amount, DAYS.c.profit, DAYS.c.quantity,
                                             DAYS.c.lines).where(in_days)).mappings():
            key = (row["day"], bool(row["returns"]))
            days[key] = added(dict(row), days[key]) if key in days else dict(row)
        connection.execute(delete(REP_MONTHS).where(in_months))
        connection.execute(delete(DAYS).where(in_days))
    measures = ("amount", "profit", "quantity", "lines")
    if rep_months:
        connection.execute(insert(REP_MONTHS), [
            {"month": month, "rep_id": rep, "returns": returns, **{m: row[m] for m in measures}}
            for (month, rep, returns), row in rep_months.items()])
    if days:
        connection.execute(insert(DAYS), [
            {"day": day, "returns": returns, **{m: row[m] for m in measures}} for (day, returns), row in days.items()])
    connection.execute(update(STATE).where(STATE.c.id == STATE_ID).values(line_max_id=_line_max_id(connection)))


def forget(connection: Connection) -> None:
    """Mark the rollups unknown (NULL): reports read the lines until the next rebuild."""
    connection.execute(update(STATE).where(STATE.c.id == STATE_ID).values(line_max_id=None))


@event.listens_for(Engine, "after_execute")
def _lines_changed_by_a_statement(
    connection: Connection, statement: Any, _multiparams: Any, _params: Any, _options: Any, _result: Any,
) -> None:
    """An UPDATE or DELETE statement on order_lines (Core, or ORM-enabled `update(OrderLine)`) ran
    on this connection: the rollups no longer match the lines. An import's own UPDATE is followed
    by its rebuild, which marks them current again; raw SQL text is not seen (`attain rollups --rebuild`)."""
    if isinstance(statement, (Update, Delete)) and getattr(statement.table, "name", None) == LINES.name:
        forget(connection)


@event.listens_for(Session, "before_flush")
def _lines_edited_in_place(session: Session, _context: Any, _instances: Any) -> None:
    """An order line changed or deleted through the ORM: the rollups no longer match it."""
    if any(isinstance(o, OrderLine) for o in session.deleted) or any(
            isinstance(o, OrderLine) and session.is_modified(o) for o in session.dirty):
        forget(session.connection())


# ---- reading them ---------------------------------------------------------------------------

def _returns_kept(exclude_returns: ColumnElement[Any] | None, negative: ColumnElement[bool]) -> list[ColumnElement[bool]]:
    """The same rule as the order lines' statement: with the company setting (`exclude_returns`,
    SQL giving 1 or 0) negative lines count unless it says to leave them out."""
    if exclude_returns is None:
        return []
    return [or_(exclude_returns == 0, negative == false())]


def rep_month_lines(start: date, end: date, exclude_returns: ColumnElement[Any] | None, *, by_day: bool = False):  # type: ignore[no-untyped-def]
    """Rows (rep_id, credit_date, amount, cost, quantity) over [start, end] that sum like the order
    lines there: whole months from the rollups (credit_date = the month's first day; `by_day`: the
    company's days, rep_id NULL), the days around them from order_lines. None: no whole month in
    the window (read the lines)."""
    whole = whole_months(start, end)
    if whole is None:
        return None
    first, last = whole
    table = DAYS if by_day else REP_MONTHS
    when = table.c.day if by_day else table.c.month
    rep = cast(literal(None), LINES.c.rep_id.type) if by_day else table.c.rep_id
    parts = [
        select(rep.label("rep_id"), when.label("credit_date"), table.c.amount.label("amount"),
               (table.c.amount - table.c.profit).label("cost"), table.c.quantity.label("quantity"))
        .where(when >= first, when < next_month(last), *_returns_kept(exclude_returns, table.c.returns))
    ]
    for lo, hi in ((start, first - timedelta(days=1)), (next_month(last), end)):
        if lo <= hi:
            parts.append(
                select(LINES.c.rep_id, LINES.c.order_date.label("credit_date"), LINES.c.amount, LINES.c.cost,
                       cast(LINES.c.quantity, REP_MONTHS.c.quantity.type).label("quantity"))
                .where(LINES.c.order_date >= lo, LINES.c.order_date <= hi,
                       *_returns_kept(exclude_returns, LINES.c.amount < 0))
            )
    return parts


def rollup_note(state: int | None, newest: int) -> str:
    if state is None:
        return "unknown (an order line was edited in place): reports read the lines; run `attain rollups --rebuild`"
    if state != newest:
        return (f"behind: they cover lines up to id {state:,}, the newest is {newest:,}; reports read the lines "
                f"until the next import or `attain rollups --rebuild`")
    return "current"


def status(connection: Connection) -> dict[str, Any]:
    """What `attain rollups status` prints."""
    state = connection.execute(select(STATE.c.line_max_id).where(STATE.c.id == STATE_ID)).scalar()
    newest = _line_max_id(connection)
    rows = connection.execute(select(func.count()).select_from(REP_MONTHS)).scalar_one()
    days = connection.execute(select(func.count()).select_from(DAYS)).scalar_one()
    return {"current": state is not None and state == newest, "covers_line_id": state, "newest_line_id": newest,
            "rep_month_rows": rows, "day_rows": days, "note": rollup_note(state, newest)}

