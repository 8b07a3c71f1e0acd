"""What-if with every component, hand-computed (SQLite and PostgreSQL): rate tables and curves,
a sale in a slice, a milestone crossed, a SPIF order, the team pool's threshold; the next step is
the nearest band, milestone or pool threshold; a manager's team what-if; bad input."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from attain.cli.main import app
from attain.errors import InvalidInput, NotFound
from attain.incentives import service
from attain.plans.service import require_user
from tests.incentives.test_service import PLAN, make_target_org, sale

AS_OF = date(2027, 2, 15)
EXTRAS = """\
  - code: new_customers
    name: 新客户提成
    type: slice_rate
    applies_to: rep
    metric: revenue
    target_plan: T2027
    slice: {customer_type: new}
    rate: 1
  - code: mid
    name: 季中里程碑
    type: milestone
    applies_to: rep
    metric: revenue
    target_plan: T2027
    percent: 65
    by: 2027-02-28
    amount: 2000
  - code: big_order
    name: 大单奖
    type: spif
    applies_to: rep
    metric: revenue
    target_plan: T2027
    per: order
    amount: 300
    min_order: 50000
    from: 2027-01-01
    to: 2027-03-31
  - code: pool
    name: 团队奖池
    type: team_pool
    applies_to: rep
    metric: revenue
    target_plan: T2027
    amount: 10000
    threshold: 90
    share_by: sales
"""


@pytest.fixture
def org(session: Session, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    monkeypatch.setattr("attain.plans.service.current_day", lambda: date(2027, 12, 31))
    return make_target_org(session)


def approve(session: Session, tmp_path: Path, name: str = "全激励") -> str:
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN.format(name=name, mode="marginal", joined="2027-01-01") + EXTRAS, encoding="utf-8")
    service.import_plan(session=session, path=path, by="wang")
    service.submit_plan(session=session, name=name, by="wang")
    service.approve_plan(session=session, name=name, by="zhao")
    return name


def test_a_new_customer_sale_pays_slice_spif_and_curve(session: Session, org: dict[str, int], tmp_path: Path) -> None:
    sale(session, org, "R1-T1-1", 45_000_000)  # 45 %: below every threshold
    sale(session, org, "R1-T1-2", 60_000_000)  # 60 %: team 52.5 %
    name = approve(session, tmp_path)
    answer = service.what_if(session=session, name=name, rep="R1-T1-1", extra=10_000_000, as_of=AS_OF, sale="customer_type=new")
    # 55 %: commission still 0 %; curve 25 + 75 × 5/50 = 32.5 % of 1,500,000 = 487,500; new customers 1 % = 100,000;
    # the order is ≥ 50,000 yuan: SPIF 30,000; milestone 65 % not reached (55 %); team 57.5 %: no pool.
    assert answer.extra_pays == 487_500 + 100_000 + 30_000
    # Earned so far: the order of 450,000 yuan is a SPIF order (30,000) and, sold to no known customer, counts in
    # the new-customer slice (1 % = 450,000); nothing else pays at 45 %.
    assert answer.earned == 30_000 + 450_000
    # Nearest step: the curve's 50 % threshold, 5,000,000 away, paying 375,000 + 50,000 (slice) + 30,000 (SPIF).
    assert answer.next_step is not None and (answer.next_step.kind, answer.next_step.needed, answer.next_step.gain) == ("band", 5_000_000, 455_000)
    assert answer.message == "再完成 5万 进入下一档，多拿 4,550 元；再卖 10万 多拿 6,175 元"
    assert answer.message_en == "Another 50,000 of sales reaches the next band, paying 4,550 more; another 100,000 of sales pays 6,175 more"
    plain = service.what_if(session=session, name=name, rep="R1-T1-1", extra=10_000_000, as_of=AS_OF)
    assert plain.extra_pays == 487_500 + 30_000  # any sale: not in the new-customer slice
    small = service.what_if(session=session, name=name, rep="R1-T1-1", extra=4_000_000, as_of=AS_OF)
    assert small.extra_pays == 0  # 49 %: below the threshold, and an order under 50,000 yuan earns no SPIF


def test_the_next_step_is_a_milestone(session: Session, org: dict[str, int], tmp_path: Path) -> None:
    sale(session, org, "R1-T1-1", 45_000_000)
    sale(session, org, "R1-T1-2", 60_000_000)
    name = approve(session, tmp_path)
    answer = service.what_if(session=session, name=name, rep="R1-T1-2", extra=0, as_of=AS_OF)
    # 5,000,000 to the 65 % milestone (band 80 % is 20,000,000 away): commission 2 % × 5,000,000 = 100,000,
    # curve 40 % → 47.5 % of 1,500,000 = 112,500, milestone 200,000, SPIF 30,000.
    step = answer.next_step
    assert step is not None and (step.kind, step.component, step.needed, step.gain) == ("milestone", "mid", 5_000_000, 442_500)
    assert answer.message == "再完成 5万 达成里程碑「季中里程碑」，多拿 4,425 元"
    assert answer.message_en == "Another 50,000 of sales reaches the milestone 季中里程碑, paying 4,425 more"
    late = service.what_if(session=session, name=name, rep="R1-T1-2", extra=5_000_000, as_of=date(2027, 3, 10))
    assert late.extra_pays == 100_000 + 112_500 + 30_000  # past the milestone's deadline: it cannot be reached


def test_the_next_step_is_the_team_pool(session: Session, org: dict[str, int], tmp_path: Path) -> None:
    sale(session, org, "R1-T1-1", 90_000_000)
    sale(session, org, "R1-T1-2", 85_000_000)  # team 175,000,000 = 87.5 %, the pool needs 90 %
    name = approve(session, tmp_path)
    answer = service.what_if(session=session, name=name, rep="R1-T1-1", extra=5_000_000, as_of=AS_OF)
    # 5,000,000 more: commission 4 % = 200,000, curve 85 % → 92.5 % = 112,500, SPIF 30,000, and the team reaches exactly
    # 90 %: 1,000,000 shared 95 : 85 by largest remainder → 527,778 (527,777.78) for R1-T1-1.
    step = answer.next_step
    assert step is not None and (step.kind, step.needed, step.gain) == ("pool", 5_000_000, 200_000 + 112_500 + 30_000 + 527_778)
    assert answer.extra_pays == step.gain
    assert answer.message.startswith("再完成 5万 团队奖池达标，多拿 8,702.78 元")


def test_team_what_if_for_a_manager_and_bad_input(database_url: str, session: Session, org: dict[str, int], tmp_path: Path) -> None:
    sale(session, org, "R1-T1-1", 45_000_000)
    sale(session, org, "R1-T1-2", 60_000_000)
    name = approve(session, tmp_path)
    manager = require_user(session=session, username="li")
    team = service.team_what_if(session=session, name=name, extra=10_000_000, as_of=AS_OF, user=manager, team="R1-T1")
    assert [w.rep for w in team] == ["R1-T1-1", "R1-T1-2"]
    assert team[0].extra_pays == 487_500 + 30_000
    with pytest.raises(NotFound, match="no team or region 'R9'"):
        service.team_what_if(session=session, name=name, extra=0, as_of=AS_OF, user=manager, team="R9")
    with pytest.raises(InvalidInput, match="'colour=red' is not a slice"):
        service.what_if(session=session, name=name, rep="R1-T1-1", extra=0, as_of=AS_OF, sale="colour=red")
    with pytest.raises(InvalidInput, match="customer_type 'old' is new or existing"):
        service.what_if(session=session, name=name, rep="R1-T1-1", extra=0, as_of=AS_OF, sale="customer_type=old")
    runner = CliRunner()
    answer = runner.invoke(app, ["incentive", "what-if", "--plan", name, "--team", "R1-T1", "--extra", "100000", "--sale",
                                 "customer_type=new", "--as-of", AS_OF.isoformat(), "--user", "li", "--json", "--db", database_url])
    assert answer.exit_code == 0, answer.output
    rows = json.loads(answer.stdout)
    assert [(r["rep"], r["extra_pays"]) for r in rows] == [("R1-T1-1", 617_500), ("R1-T1-2", rows[1]["extra_pays"])]
    assert rows[0]["next_step"]["kind"] == "band" and rows[0]["sale"] == "customer_type=new"
    both = runner.invoke(app, ["incentive", "what-if", "--plan", name, "--db", database_url])
    assert both.exit_code != 0 and "--rep CODE or --team CODE" in str(both.exception)
