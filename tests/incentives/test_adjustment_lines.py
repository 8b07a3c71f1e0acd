"""A correction after close names the order lines that caused it — for a rep their own, for a
manager measured on the team the team's — and old order-level snapshots still name the orders
(SQLite and PostgreSQL, hand-computed)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.credit.service import record_returns, set_rule
from attain.incentives import service
from attain.incentives.models import IncentiveStatement
from tests.incentives.test_service import PLAN, Q1, make_target_org, of, sale

Q2_END = date(2027, 6, 30)


@pytest.fixture
def org(session: Session, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    monkeypatch.setattr("attain.plans.service.current_day", lambda: date(2027, 12, 31))
    return make_target_org(session)


def closed_q1_with_a_late_return(session: Session, org: dict[str, int], tmp_path: Path) -> str:
    """Q1: R1-T1-1 sells SO-A 750,000 and SO-B 100,000 yuan, R1-T1-2 SO-C 1,000,000; the team R1-T1 is a
    participant as manager (40,000 a year on the team's attainment). Q1 is closed, then SO-B is returned."""
    set_rule(session=session, returns_in="sale")
    sale(session, org, "R1-T1-1", 75_000_000, order="SO-A")
    sale(session, org, "R1-T1-1", 10_000_000, order="SO-B", day="2027-03-20")
    sale(session, org, "R1-T1-2", 100_000_000, order="SO-C")
    text = PLAN.format(name="激励", mode="marginal", joined="2027-01-01").replace(
        "participants:\n", "participants:\n  - {node: R1-T1, role: manager, target_incentive: 40000}\n")
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    service.import_plan(session=session, path=path, by="wang")
    service.submit_plan(session=session, name="激励", by="wang")
    service.approve_plan(session=session, name="激励", by="zhao")
    service.close_period(session=session, name="激励", period="2027Q1", by="zhao", as_of=Q1[1])
    record_returns(session=session, returns={"SO-B": (date(2027, 4, 10), "customer returned it")})
    session.commit()
    return "激励"


def adjustments(result: service.StatementSet, code: str) -> list[tuple[int, str]]:
    return [(int(li["amount"]), str(li["label"])) for li in of(result, code).lines if li["step"] == "adjustment"]


def test_the_rep_and_the_manager_adjustments_name_the_order_line(session: Session, org: dict[str, int], tmp_path: Path) -> None:
    name = closed_q1_with_a_late_return(session, org, tmp_path)
    q2 = service.statements(session=session, name=name, period="2027Q2", as_of=Q2_END)
    # R1-T1-1: 85 % → 75 %: commission 600,000 → 300,000 and bonus 11,625 → 9,375 yuan (test_service, by hand).
    [(amount, label)] = adjustments(q2, "R1-T1-1")
    assert amount == -525_000
    assert "order SO-B returned/reduced -100,000 (line SO-B-1 -100,000)" in label and "2027Q1" in label
    # The team (manager): 185,000,000 → 175,000,000 of 200,000,000 = 92.5 % → 87.5 %; the curve pays
    # 25 + 75 × 42.5/50 = 88.75 % → 81.25 % of 10,000 yuan: −750 yuan, named by the team's order line.
    [(amount, label)] = adjustments(q2, "R1-T1")
    assert amount == -75_000
    assert "order SO-B returned/reduced -100,000 (line SO-B-1 -100,000)" in label
    assert "SO-A" not in label and "SO-C" not in label  # unchanged lines are not named
    frozen = session.scalars(select(IncentiveStatement)).all()
    team = next(s for s in frozen if s.org_node_id == org["R1-T1"])
    assert team.orders == {"SO-A\x1fSO-A-1": 75_000_000, "SO-B\x1fSO-B-1": 10_000_000, "SO-C\x1fSO-C-1": 100_000_000}
    service.close_period(session=session, name=name, period="2027Q2", by="zhao", as_of=Q2_END)
    q3 = service.statements(session=session, name=name, period="2027Q3", as_of=date(2027, 9, 30))
    assert adjustments(q3, "R1-T1-1") == [] and adjustments(q3, "R1-T1") == []  # paid once


def test_an_order_level_snapshot_is_named_by_order(session: Session, org: dict[str, int], tmp_path: Path) -> None:
    name = closed_q1_with_a_late_return(session, org, tmp_path)
    statement = session.scalars(select(IncentiveStatement).where(IncentiveStatement.org_node_id == org["R1-T1-1"])).one()
    statement.orders = {"SO-A": 75_000_000, "SO-B": 10_000_000}  # as closes before line detail kept them
    session.commit()
    [(amount, label)] = adjustments(service.statements(session=session, name=name, period="2027Q2", as_of=Q2_END), "R1-T1-1")
    assert amount == -525_000 and "order SO-B returned/reduced -100,000;" in label and "line" not in label
