"""Incentive statements on SQLite and PostgreSQL, hand-computed: bands, thresholds, caps, split
credit, a mid-quarter joiner, a return after a frozen statement, access, payroll, what-if."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from attain.credit.service import record_returns, set_rule, set_split
from attain.errors import Conflict, NotAllowed, NotFound
from attain.facts.models import OrderLine
from attain.incentives import service
from attain.metrics.service import require_metric
from attain.org.models import OrgNode
from attain.plans.models import PlanCell
from attain.plans.service import create_plan
from tests.plans.conftest import make_org, make_users

Q1 = (date(2027, 1, 1), date(2027, 3, 31))
TARGET = 100_000_000  # each rep's 2027Q1 target: 1,000,000.00 yuan

PLAN = """\
name: {name}
year: 2027
settlement: quarter
participants:
  - {{node: R1-T1-1, target_incentive: 60000}}
  - {{node: R1-T1-2, target_incentive: 60000, from: {joined}}}
components:
  - code: commission
    type: rate_table
    applies_to: rep
    metric: revenue
    target_plan: T2027
    mode: {mode}
    bands:
      - {{from: 0, to: 60, rate: 0}}
      - {{from: 60, to: 80, rate: 2}}
      - {{from: 80, to: 100, rate: 4}}
      - {{from: 100, rate: 6}}
  - code: bonus
    type: payout_curve
    weight: 100
    metric: revenue
    target_plan: T2027
    threshold: 50
    points: [[50, 25], [100, 100], [150, 200]]
    cap: 200
"""


@pytest.fixture
def org(session: Session, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    monkeypatch.setattr("attain.plans.service.current_day", lambda: date(2027, 12, 31))
    return make_target_org(session)


def make_target_org(session: Session) -> dict[str, int]:
    """Team R1-T1 with reps R1-T1-1 and R1-T1-2, plan users, and the approved target plan T2027
    (2027Q1: 1,000,000 yuan per rep, 2,000,000 for the team)."""
    ids = make_org(session, regions=1, teams=1, reps=2)
    make_users(session)
    plan = create_plan(session=session, name="T2027", metric=require_metric(session=session, code="revenue"),
                       start=date(2027, 1, 1), end=date(2027, 12, 31), status="approved")
    for code in ("R1-T1-1", "R1-T1-2"):
        session.add(PlanCell(plan_id=plan.id, period="2027Q1", period_start=Q1[0], period_end=Q1[1],
                             org_node_id=ids[code], customer_type="all", value=TARGET))
    session.add(PlanCell(plan_id=plan.id, period="2027Q1", period_start=Q1[0], period_end=Q1[1],
                         org_node_id=ids["R1-T1"], customer_type="all", value=2 * TARGET))
    session.commit()
    return ids


def incentive_plan(session: Session, tmp_path: Path, *, name: str = "激励", mode: str = "marginal",
                   joined: str = "2027-01-01") -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(PLAN.format(name=name, mode=mode, joined=joined), encoding="utf-8")
    service.import_plan(session=session, path=path, by="wang")
    service.submit_plan(session=session, name=name, by="wang")
    service.approve_plan(session=session, name=name, by="zhao")
    return name


def sale(session: Session, ids: dict[str, int], rep: str, amount: int, day: str = "2027-02-01", order: str | None = None) -> None:
    order = order or f"SO-{rep}-{amount}-{day}"
    session.add(OrderLine(line_id=f"{order}-1", order_id=order, order_date=date.fromisoformat(day), rep_id=ids[rep],
                          amount=amount, quantity=Decimal(1), currency="CNY"))
    session.commit()


def amounts(result: service.StatementSet, code: str, component: str) -> int:
    statement = next(s for s in result.statements if s.code == code)
    return sum(int(line["amount"]) for line in statement.lines if line["component"] == component and line["amount"] is not None)


def of(result: service.StatementSet, code: str) -> service.Statement:
    return next(s for s in result.statements if s.code == code)


def test_band_boundary_marginal_and_retroactive_threshold_and_cap(session: Session, org: dict[str, int], tmp_path: Path) -> None:
    sale(session, org, "R1-T1-1", 80_000_000)  # exactly 80.00 %
    sale(session, org, "R1-T1-2", 49_999_999)  # one fen below the 50 % threshold
    marginal = service.statements(session=session, name=incentive_plan(session, tmp_path), period="2027Q1", as_of=Q1[1])
    retro = service.statements(session=session, name=incentive_plan(session, tmp_path, name="追溯", mode="retroactive"),
                               period="2027Q1", as_of=Q1[1])
    assert amounts(marginal, "R1-T1-1", "commission") == 400_000  # 2 % of the 60–80 % slice
    assert amounts(retro, "R1-T1-1", "commission") == 3_200_000  # 4 % of all 80,000,000
    # Quarter's target incentive 60,000 / 4 = 15,000 yuan; the curve at 80 % pays 25 + 75 × 30/50 = 70 %.
    assert amounts(marginal, "R1-T1-1", "bonus") == 1_050_000
    assert amounts(marginal, "R1-T1-2", "bonus") == 0
    assert amounts(marginal, "R1-T1-2", "commission") == 0  # 49.99 %: all in the 0 % band
    line = next(li for li in of(marginal, "R1-T1-1").lines if li["step"] == "credited")
    assert (line["basis"], line["attainment"]) == (80_000_000, "80.00")
    for statement in marginal.statements:
        assert statement.total == sum(int(li["amount"]) for li in statement.lines if li["amount"] is not None)
    sale(session, org, "R1-T1-2", 100_000_001)  # now 150.00 %: exactly at the 200 % cap of the curve
    again = service.statements(session=session, name="激励", period="2027Q1", as_of=Q1[1])
    assert amounts(again, "R1-T1-2", "bonus") == 3_000_000


def test_split_credit_fifty_fifty_in_the_statement(session: Session, org: dict[str, int], tmp_path: Path) -> None:
    sale(session, org, "R1-T1-1", 160_000_001, order="SO-SPLIT")
    set_split(session=session, order_id="SO-SPLIT", shares=[("R1-T1-1", 5000), ("R1-T1-2", 5000)])
    session.commit()
    result = service.statements(session=session, name=incentive_plan(session, tmp_path), period="2027Q1", as_of=Q1[1])
    credited = {s.code: next(li["basis"] for li in s.lines if li["step"] == "credited") for s in result.statements}
    assert credited == {"R1-T1-1": 80_000_000, "R1-T1-2": 80_000_001}  # the odd fen goes to one side only
    assert amounts(result, "R1-T1-1", "commission") == 400_000
    assert amounts(result, "R1-T1-2", "commission") == 400_000 + 0  # 1 fen × 4 % rounds to 0


def test_mid_quarter_joiner_gets_a_prorated_target_incentive(session: Session, org: dict[str, int], tmp_path: Path) -> None:
    sale(session, org, "R1-T1-2", 100_000_000)  # 100 %: the curve pays 100 % of the target incentive
    result = service.statements(session=session, name=incentive_plan(session, tmp_path, joined="2027-02-15"),
                                period="2027Q1", as_of=Q1[1])
    joiner = of(result, "R1-T1-2")
    assert joiner.target_incentive == 750_000  # 15,000 yuan × 45/90 days
    assert amounts(result, "R1-T1-2", "bonus") == 750_000
    assert of(result, "R1-T1-1").target_incentive == 1_500_000


def test_return_after_a_frozen_statement_is_an_adjustment_next_period(
    session: Session, org: dict[str, int], tmp_path: Path,
) -> None:
    set_rule(session=session, returns_in="sale")
    sale(session, org, "R1-T1-1", 75_000_000, order="SO-A")
    sale(session, org, "R1-T1-1", 10_000_000, order="SO-B", day="2027-03-20")
    name = incentive_plan(session, tmp_path)
    with pytest.raises(NotAllowed):
        service.close_period(session=session, name=name, period="2027Q1", by="li")  # a manager
    closed = service.close_period(session=session, name=name, period="2027Q1", by="zhao", as_of=Q1[1])
    assert closed.status == "closed"
    assert amounts(closed, "R1-T1-1", "commission") == 600_000  # 85 %: 400,000 + 4 % × 5,000,000
    with pytest.raises(Conflict, match="already closed"):
        service.close_period(session=session, name=name, period="2027Q1", by="zhao")
    record_returns(session=session, returns={"SO-B": (date(2027, 4, 10), "customer returned it")})
    session.commit()
    # The frozen statement does not move …
    assert amounts(service.statements(session=session, name=name, period="2027Q1"), "R1-T1-1", "commission") == 600_000
    # … Q1 recomputed is 75 %: 2 % × 15,000,000 = 300,000 commission, and the bonus falls from
    # 15,000 × (25 + 75 × 35/50) % = 11,625 to 15,000 × (25 + 75 × 25/50) % = 9,375 yuan.
    q2 = service.statements(session=session, name=name, period="2027Q2", as_of=date(2027, 6, 30))
    adjustment = [li for li in of(q2, "R1-T1-1").lines if li["step"] == "adjustment"]
    assert [li["amount"] for li in adjustment] == [-300_000 - 225_000]
    assert "order SO-B returned/reduced -100,000" in str(adjustment[0]["label"]) and "2027Q1" in str(adjustment[0]["label"])
    assert of(q2, "R1-T1-1").total == -525_000  # no Q2 target: nothing earned in Q2
    service.close_period(session=session, name=name, period="2027Q2", by="zhao", as_of=date(2027, 6, 30))
    q3 = service.statements(session=session, name=name, period="2027Q3", as_of=date(2027, 9, 30))
    assert [li for li in of(q3, "R1-T1-1").lines if li["step"] == "adjustment"] == []  # paid once, not again


def test_return_in_the_return_period_is_a_named_clawback(session: Session, org: dict[str, int], tmp_path: Path) -> None:
    sale(session, org, "R1-T1-1", 90_000_000, order="SO-A", day="2027-01-10")
    sale(session, org, "R1-T1-1", 10_000_000, order="SO-R", day="2027-01-11")
    record_returns(session=session, returns={"SO-R": (date(2027, 3, 1), None)})
    session.commit()
    result = service.statements(session=session, name=incentive_plan(session, tmp_path), period="2027Q1", as_of=Q1[1])
    clawbacks = [li for li in of(result, "R1-T1-1").lines if li["step"] == "clawback"]
    assert [(li["basis"], "SO-R" in str(li["label"])) for li in clawbacks] == [(-10_000_000, True)]
    assert amounts(result, "R1-T1-1", "commission") == 800_000  # 90 % after the return: 400,000 + 400,000


def test_access_draft_payroll_and_what_if(session: Session, org: dict[str, int], tmp_path: Path) -> None:
    from attain.plans.service import require_user

    sale(session, org, "R1-T1-1", 75_000_000)
    session.get(OrgNode, org["R1-T1-2"]).name = "=HYPERLINK(\"http://x\")"  # type: ignore[union-attr]
    session.commit()
    path = tmp_path / "draft.yaml"
    path.write_text(PLAN.format(name="草稿", mode="marginal", joined="2027-01-01"), encoding="utf-8")
    service.import_plan(session=session, path=path, by="wang")
    with pytest.raises(Conflict, match="no approved version"):
        service.statements(session=session, name="草稿", period="2027Q1")
    service.submit_plan(session=session, name="草稿", by="wang")
    with pytest.raises(NotAllowed, match="four eyes"):
        service.approve_plan(session=session, name="草稿", by="wang")
    name = incentive_plan(session, tmp_path)
    rep = require_user(session=session, username="rep1")
    mine = service.statements(session=session, name=name, period="2027Q1", as_of=Q1[1], user=rep)
    assert [s.code for s in mine.statements] == ["R1-T1-1"]
    with pytest.raises(NotFound):
        service.statements(session=session, name=name, period="2027Q1", rep="R1-T1-2", user=rep)
    answer = service.what_if(session=session, name=name, rep="R1-T1-1", extra=10_000_000, as_of=Q1[1])
    assert answer.next_step is not None and answer.next_step.needed == 5_000_000  # 5 万 to 80 %
    # 5,000,000 × 2 % = 100,000 commission + the curve from 62.5 % to 70 % of 1,500,000 = 112,500
    assert answer.next_step.gain == 212_500
    assert answer.message.startswith("再完成 5万 进入下一档，多拿 2,125 元")
    service.close_period(session=session, name=name, period="2027Q1", by="zhao", as_of=Q1[1])
    out = tmp_path / "payroll.csv"
    assert service.export_payroll(session=session, period="2027Q1", out=out) == 2
    rows = list(csv.reader(out.open(encoding="utf-8-sig")))
    assert rows[1][0] == "R1-T1-1" and rows[1][5] == f"{Decimal(of(mine, 'R1-T1-1').total) / 100:.2f}"
    assert rows[2][2].startswith("'=HYPERLINK")  # a name never becomes a formula
