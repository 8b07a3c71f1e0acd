"""The cost of a plan at the P10/P50/P90 of the forecast, hand-computed (SQLite and PostgreSQL):
every rep moved to a percentile at once, paid by the statement code, per person, team and total."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from attain.cli.main import app
from attain.errors import NotAllowed
from attain.incentives import cost, service
from attain.plans.service import require_user
from attain.tracking.pipeline import forecast
from tests.incentives.test_service import PLAN, make_target_org, sale

AS_OF = date(2027, 2, 15)
POOL = """\
  - code: pool
    type: team_pool
    applies_to: rep
    metric: revenue
    target_plan: T2027
    amount: 10000
    threshold: 90
    share_by: sales
"""
# rep → (actual to as_of, P10, P50, P90) of the quarter's final credited revenue, fen
PERCENTILES = {"R1-T1-1": (50_000_000, 70_000_000, 80_000_000, 120_000_000),
               "R1-T1-2": (20_000_000, 20_000_000, 50_000_000, 100_000_000)}


@pytest.fixture
def org(session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, int]:
    monkeypatch.setattr("attain.plans.service.current_day", lambda: date(2027, 12, 31))
    ids = make_target_org(session)
    sale(session, ids, "R1-T1-1", 50_000_000)
    sale(session, ids, "R1-T1-2", 20_000_000)
    return ids


def approve(session: Session, tmp_path: Path, text: str, name: str = "激励") -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.format(name=name, mode="marginal", joined="2027-01-01"), encoding="utf-8")
    service.import_plan(session=session, path=path, by="wang")
    service.submit_plan(session=session, name=name, by="wang")
    service.approve_plan(session=session, name=name, by="zhao")
    return name


def fake_forecast(ids: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cost, "rep_percentiles", lambda *_a: {ids[code]: row for code, row in PERCENTILES.items()})


def test_cost_at_each_percentile_by_hand(session: Session, org: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_forecast(org, monkeypatch)
    result = cost.plan_cost(session=session, name=approve(session, tmp_path, PLAN), period="2027Q1", as_of=AS_OF)
    people = {p.code: p for p in result.people}
    one, two = people["R1-T1-1"], people["R1-T1-2"]
    assert one.final == {"p10": 70_000_000, "p50": 80_000_000, "p90": 120_000_000}
    # R1-T1-1 (15,000 yuan a quarter on target):
    #  P10 70 %: commission 2 % × 10,000,000 = 200,000; bonus (25 + 75 × 20/50) = 55 % → 825,000
    #  P50 80 %: 400,000 + 70 % → 1,050,000
    #  P90 120 %: 400,000 + 800,000 + 6 % × 20,000,000 = 2,400,000; bonus 100 + 100 × 20/50 = 140 % → 2,100,000
    assert one.pay == {"p10": 1_025_000, "p50": 1_450_000, "p90": 4_500_000}
    # R1-T1-2: P10 20 % pays nothing; P50 exactly at the 50 % threshold: 25 % → 375,000;
    # P90 100 %: 400,000 + 800,000 + 1,500,000
    assert two.pay == {"p10": 0, "p50": 375_000, "p90": 2_700_000}
    assert (one.earned, two.earned, result.earned) == (375_000, 0, 375_000)  # 50 % and 20 % now
    assert result.total == {"p10": 1_025_000, "p50": 1_825_000, "p90": 7_200_000}
    assert [(t.code, t.people, t.pay) for t in result.teams] == [("R1-T1", 2, result.total)]
    assert result.not_projected == ()


def test_team_pool_is_funded_on_the_projected_team(session: Session, org: dict[str, int], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    fake_forecast(org, monkeypatch)
    result = cost.plan_cost(session=session, name=approve(session, tmp_path, PLAN + POOL), period="2027Q1", as_of=AS_OF)
    people = {p.code: p for p in result.people}
    # Team target 2,000,000 yuan: P10 90,000,000 = 45 %, P50 130,000,000 = 65 %: no pool; P90 220,000,000 =
    # 110 %: 1,000,000 fen shared 120 : 100 by largest remainder → 545,455 + 454,545.
    assert people["R1-T1-1"].pay == {"p10": 1_025_000, "p50": 1_450_000, "p90": 4_500_000 + 545_455}
    assert people["R1-T1-2"].pay == {"p10": 0, "p50": 375_000, "p90": 2_700_000 + 454_545}
    assert result.total["p90"] == 7_200_000 + 1_000_000


def test_access_and_the_real_forecast(session: Session, org: dict[str, int], tmp_path: Path) -> None:
    name = approve(session, tmp_path, PLAN)
    with pytest.raises(NotAllowed, match="managers, directors and admins"):
        cost.plan_cost(session=session, name=name, period="2027Q1", as_of=AS_OF, user=require_user(session=session, username="rep1"))
    manager = cost.plan_cost(session=session, name=name, period="2027Q1", as_of=AS_OF, draws=500, seed=7,
                             user=require_user(session=session, username="li"))
    assert [p.code for p in manager.people] == ["R1-T1-1", "R1-T1-2"]
    # The scenarios are the tracking forecast's percentiles, rep by rep.
    found = {r.code: r for r in forecast(session=session, period=service.settlement_period(
        service.plan_in_force(session=session, name=name), "2027Q1"), level="rep", as_of=AS_OF, plan="T2027", draws=500, seed=7).rows}
    for person in manager.people:
        row = found[person.code]
        assert person.final == {"p10": person.actual + row.p10 - row.actual, "p50": person.actual + row.p50 - row.actual,
                                "p90": person.actual + row.p90 - row.actual}
        assert person.pay["p10"] <= person.pay["p50"] <= person.pay["p90"]
    statements = service.statements(session=session, name=name, period="2027Q1", as_of=AS_OF)
    assert manager.earned == statements.total  # earned so far is the statement's


def test_cli_cost_json(database_url: str, session: Session, org: dict[str, int], tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    fake_forecast(org, monkeypatch)
    approve(session, tmp_path, PLAN)
    answer = CliRunner().invoke(app, ["incentive", "cost", "--plan", "激励", "--period", "2027Q1", "--as-of", AS_OF.isoformat(),
                                      "--json", "--db", database_url])
    assert answer.exit_code == 0, answer.output
    assert '"p50": 1825000' in answer.stdout.replace("\n", "").replace("  ", "") or '"p50":1825000' in answer.stdout.replace(" ", "")
    bad = CliRunner().invoke(app, ["incentive", "cost", "--plan", "激励", "--period", "2027-02", "--db", database_url])
    assert bad.exit_code != 0 and "settles by quarter" in str(bad.exception)
