"""The plain statement credited_lines() emits when no crediting feature is in use gives exactly the
rows of the full statement, and the feature probe notices each feature."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from attain.credit.models import ReturnedOrder
from attain.credit.service import (
    add_overlay,
    assign,
    move_rep,
    record_returns,
    set_rate,
    set_rule,
    set_split,
)
from attain.credit.sql import ALL_FEATURES, credit_features, credited_lines
from attain.facts.models import OrderLine
from attain.org.service import create_node, ensure_root
from attain.settings.service import set_setting


def _org(session: Session) -> dict[str, int]:
    root = ensure_root(session=session)
    east = create_node(session=session, code="EAST", name="华东", kind="region", parent_id=root)
    team = create_node(session=session, code="T1", name="一组", kind="team", parent_id=east)
    reps = {
        "A": create_node(session=session, code="A", name="张三", kind="rep", parent_id=team),
        "B": create_node(session=session, code="B", name="李四", kind="rep", parent_id=team),
        "M": create_node(session=session, code="M", name="经理", kind="rep", parent_id=east),  # right under a region
        "T1": team,
        "EAST": east,
    }
    session.commit()
    return reps


def _rows(session: Session, **options: object) -> list[tuple[object, ...]]:
    statement = credited_lines(**options)  # type: ignore[arg-type]
    return sorted((tuple(r) for r in session.execute(statement)), key=repr)


LINES = st.lists(
    st.tuples(
        st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
        st.sampled_from(["A", "B", "M", None]),
        st.integers(min_value=-10**9, max_value=10**9),
        st.one_of(st.none(), st.integers(min_value=0, max_value=10**9)),
        st.sampled_from(["CNY", "USD"]),
        st.decimals(min_value=-100, max_value=100, places=2),
    ),
    max_size=12,
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=LINES, exclude=st.sampled_from([None, True, False]), window=st.booleans())
def test_plain_statement_equals_full_statement(session: Session, lines, exclude, window) -> None:  # type: ignore[no-untyped-def]
    session.execute(delete(OrderLine))
    reps = _reps(session) if _has_org(session) else _org(session)  # examples share the test's schema
    for number, (day, rep, amount, cost, currency, quantity) in enumerate(lines):
        session.add(OrderLine(line_id=f"L{number}", order_id=f"SO{number // 2}", order_date=day,
                              rep_id=reps[rep] if rep else None, amount=amount, cost=cost, currency=currency,
                              quantity=quantity))
    session.commit()
    features = credit_features(session)
    assert features.trivial
    span = {"start": date(2026, 3, 1), "end": date(2026, 6, 30)} if window else {}
    assert _rows(session, exclude_returns=exclude, features=features, **span) == _rows(
        session, exclude_returns=exclude, **span)


def _has_org(session: Session) -> bool:
    from attain.org.models import OrgNode

    return session.scalar(select(OrgNode.id).where(OrgNode.code == "A")) is not None


def _reps(session: Session) -> dict[str, int]:
    from attain.org.models import OrgNode

    return dict(session.execute(select(OrgNode.code, OrgNode.id)).all())  # type: ignore[arg-type]


def test_exclude_returns_setting_is_read_by_the_plain_statement(session: Session) -> None:
    reps = _org(session)
    for number, amount in enumerate([500, -200]):
        session.add(OrderLine(line_id=f"X{number}", order_id="SO1", order_date=date(2026, 2, 1), rep_id=reps["A"],
                              amount=amount, quantity=Decimal(1)))
    session.commit()
    features = credit_features(session)
    assert sorted(r.amount for r in session.execute(credited_lines(features=features))) == [-200, 500]
    set_setting(session, "exclude_returns", True)
    session.commit()
    assert [r.amount for r in session.execute(credited_lines(features=features))] == [500]
    assert _rows(session, features=features) == _rows(session)


def _use(session: Session, feature: str) -> None:
    if feature == "rules":
        set_rule(session=session, basis="gross_profit")
    elif feature == "splits":
        set_split(session=session, order_id="SO9", shares=[("A", 3000), ("B", 7000)])
    elif feature == "returns":
        record_returns(session=session, returns={"SO9": (date(2026, 3, 1), None)})
    elif feature == "positions":
        move_rep(session=session, rep="A", team="T1", from_date=date(2026, 1, 1))
    elif feature == "assignments":
        assign(session=session, rep="B", from_date=date(2026, 1, 1), region="EAST")
    elif feature == "rates":
        set_rate(session=session, currency="USD", valid_from=date(2026, 1, 1), rate=Decimal("7.1"))
    else:
        add_overlay(session=session, rep="M", team="T1")
    session.commit()


@pytest.mark.parametrize("used", [
    ("rules",), ("splits",), ("returns",), ("positions",), ("assignments",), ("rates",), ("team_overlays",),
    ("splits", "returns", "team_overlays"), ("assignments", "positions", "rates"),
])
def test_probe_notices_each_feature(session: Session, used: tuple[str, ...]) -> None:
    reps = _org(session)
    for number, (amount, currency, cost) in enumerate([(1000, "CNY", 600), (-300, "CNY", None), (2500, "USD", 1000)]):
        session.add(OrderLine(line_id=f"Y{number}", order_id="SO9" if number < 2 else "SO10", order_date=date(2026, 2, 1),
                              rep_id=reps["A"], region_id=reps["EAST"], amount=amount, cost=cost, currency=currency,
                              quantity=Decimal(1)))
    session.commit()
    assert credit_features(session).trivial
    set_rule(session=session, event="booked", basis="net")  # the defaults: still nothing in use
    session.commit()
    assert credit_features(session).trivial
    for feature in used:
        _use(session, feature)
    found = credit_features(session)
    if "assignments" in used:  # the territory now goes to B
        assert {r.rep_id for r in session.execute(credited_lines(features=found))} == {reps["B"]}
    assert {name for name in used if getattr(found, name)} == set(used) and not found.trivial
    # The statement without the unused features' joins gives what the full one gives.
    for exclude in (None, True):
        assert _rows(session, features=found, exclude_returns=exclude) == _rows(session, exclude_returns=exclude)
        assert _rows(session, features=found, exclude_returns=exclude) == _rows(
            session, features=ALL_FEATURES, exclude_returns=exclude)
    # And with a window (pushed onto order_date where the credit date is the order date).
    for month in (2, 3):
        span = {"start": date(2026, month, 1), "end": date(2026, month, 28)}
        assert _rows(session, features=found, **span) == _rows(session, **span)
    session.execute(delete(ReturnedOrder))
    session.commit()
