"""The orders import's fast paths (issue 21), on SQLite and PostgreSQL: rollups and first-order dates
computed from the imported columns instead of re-reading the table, and COPY's text format built a block
of rows at a time. Each is checked against the table-reading rule it replaces."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.catalog.models import Customer
from attain.catalog.service import first_order_dates, refresh_first_order_dates
from attain.facts import rollups
from attain.facts.line_sums import line_sums
from attain.facts.models import OrderLine
from attain.imports.bulk import _copy_columns, upsert
from tests.tracking.test_rollups import (
    Line,
    _import,
    _org,
    _random_lines,
    _stored,
    assert_exact,
)

pytestmark = pytest.mark.db

LINES = OrderLine.__table__


@pytest.fixture
def rebuilds(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every call of `rollups.rebuild` (the SQL sums over order_lines), recorded and run."""
    calls: list[object] = []
    real = rollups.rebuild

    def counted(connection, months=None):  # type: ignore[no-untyped-def]
        calls.append(months)
        return real(connection, months)

    monkeypatch.setattr(rollups, "rebuild", counted)
    return calls


def test_new_lines_take_their_rollups_from_the_columns(session: Session, tmp_path: Path, rebuilds: list[object]) -> None:
    _org(session)
    lines = _random_lines(random.Random(7), 300, date(2025, 10, 25), date(2026, 3, 5))
    assert {ln.rep for ln in lines} >= {None, "A"} and any(ln.cost is None for ln in lines)
    assert any(ln.quantity != ln.quantity.to_integral_value() for ln in lines)
    _import(session, tmp_path, lines)
    assert rebuilds == []  # an empty table: the file is every line there is
    assert_exact(session)
    first = _stored(session)
    # New lines only, in months already there and in new ones: added to the rows of their months.
    more = _random_lines(random.Random(8), 120, date(2026, 2, 20), date(2026, 5, 2), prefix="N")
    result = _import(session, tmp_path, more, "more.csv")
    assert (result.inserted, result.updated) == (120, 0)
    assert rebuilds == []
    assert_exact(session)
    assert _stored(session) != first
    # The same as the SQL rebuild writes, row for row.
    added = _stored(session)
    rollups.rebuild(session.connection())
    assert _stored(session) == added


def test_changed_lines_and_stale_rollups_are_summed_by_sql(session: Session, tmp_path: Path, rebuilds: list[object]) -> None:
    _org(session)
    lines = _random_lines(random.Random(9), 60, date(2026, 1, 1), date(2026, 2, 28))
    _import(session, tmp_path, lines)
    moved = [Line(ln.line_id, ln.order_id, date(2026, 4, 1), ln.rep, ln.amount, ln.cost, ln.quantity) for ln in lines[:3]]
    _import(session, tmp_path, moved + [Line("NEW1", "SO-NEW", date(2026, 4, 2), "B", 10_00, 1_00, Decimal(1))], "moved.csv")
    assert len(rebuilds) == 1 and rebuilds[0] is not None  # the months concerned, read from the lines
    assert_exact(session)
    # Rollups not current (a line added outside the imports): every month from the lines.
    session.add(OrderLine(line_id="ORM1", order_id="SO-ORM", order_date=date(2025, 6, 15), amount=123_45, quantity=Decimal(1)))
    session.commit()
    _import(session, tmp_path, [Line("Y1", "SOY", date(2026, 6, 3), "A", 5_00, 1_00, Decimal(1))], "june.csv")
    assert rebuilds[-1] is None
    assert_exact(session)


def test_a_quantity_finer_than_the_column_is_left_to_sql(session: Session, tmp_path: Path, rebuilds: list[object]) -> None:
    assert line_sums([date(2026, 1, 1)], [1], [100], [50], [Decimal("0.12345")]) is None
    assert line_sums([date(2026, 1, 1)], [1], [2**63], [None], [Decimal(1)]) is None  # beyond 64 bits
    assert line_sums([date(2026, 1, 1)], [1], [100], [50], [Decimal("0.1234")]) is not None
    _org(session)
    _import(session, tmp_path, [Line("F1", "SO1", date(2026, 1, 5), "A", 10_00, None, Decimal("0.12345")),
                                Line("F2", "SO2", date(2026, 1, 6), "A", 20_00, 5_00, Decimal("1.5"))])
    assert len(rebuilds) == 1  # the SQL sums
    assert_exact(session)


def test_first_order_dates_from_the_columns_equal_those_from_the_table(session: Session, tmp_path: Path) -> None:
    _org(session)
    lines = _random_lines(random.Random(11), 200, date(2025, 1, 1), date(2026, 6, 30))
    # C9 has only returns: no first order; C8 first buys after a return.
    lines += [Line("R1", "SOR1", date(2024, 5, 1), "A", -5_00, None, Decimal(-1), customer="C9"),
              Line("R2", "SOR2", date(2024, 5, 2), "A", -6_00, None, Decimal(-1), customer="C8"),
              Line("R3", "SOR3", date(2024, 7, 9), "B", 7_00, None, Decimal(1), customer="C8")]
    _import(session, tmp_path, lines)
    stored = dict(session.execute(select(Customer.code, Customer.first_order_date)).all())
    expected: dict[str, date] = {}
    for ln in lines:
        if ln.amount > 0 and (ln.customer not in expected or ln.day < expected[ln.customer]):
            expected[ln.customer] = ln.day
    assert {code: day for code, day in stored.items() if day is not None} == expected
    assert stored["C9"] is None and stored["C8"] == date(2024, 7, 9)
    refresh_first_order_dates(session=session)  # the rule read from the table changes nothing
    assert dict(session.execute(select(Customer.code, Customer.first_order_date)).all()) == stored


def test_first_order_dates_skip_lines_without_customer_date_or_positive_amount() -> None:
    days = [date(2026, 3, 1), date(2026, 1, 1), date(2026, 2, 1), None, date(2025, 1, 1)]
    assert first_order_dates([1, 1, 2, 2, None], days, [5, 0, -1, 9, 9]) == {1: date(2026, 3, 1)}
    assert first_order_dates([], [], []) == {}


def test_copy_text_escapes_what_copy_would_read_as_markup(session: Session) -> None:
    odd = ["back\\slash", "tab\there", "new\nline", "\\N", "carriage\rreturn", "plain"]
    values = {
        "line_id": [f"X{i}" for i in range(len(odd))],
        "order_id": odd,
        "order_date": [date(2026, 1, 1 + i) for i in range(len(odd))],
        "rep_id": [None, 1, None, 2, 3, None],
        "quantity": [Decimal("1.5"), Decimal(0), Decimal(-2), Decimal("0.0001"), Decimal(3), Decimal(1)],
        "amount": [100, -200, 0, 2**40, 5, 6],
        "cost": [None] * len(odd),
        "currency": ["CNY"] * len(odd),
    }
    texts = _copy_columns(values)
    assert texts is not None and texts[1][:4] == ["back\\\\slash", "tab\\there", "new\\nline", "\\\\N"]
    assert texts[3][:2] == ["\\N", "1"] and texts[6] == ["\\N"] * len(odd)
    assert _copy_columns({"flag": [True, False]}) is None  # a type it does not write: row by row
    upsert(session=session, target=LINES, key="line_id", values=values)
    rows = session.execute(select(LINES.c.order_id, LINES.c.rep_id, LINES.c.quantity, LINES.c.amount, LINES.c.cost)
                           .order_by(LINES.c.line_id)).all()
    assert [r.order_id for r in rows] == odd
    assert [r.rep_id for r in rows] == values["rep_id"]
    assert [Decimal(r.quantity) for r in rows] == values["quantity"]
    assert [r.amount for r in rows] == values["amount"] and {r.cost for r in rows} == {None}
