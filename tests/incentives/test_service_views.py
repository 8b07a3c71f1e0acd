"""The service functions the web pages read: plans_in_force, plan_detail (participants limited by
access), settlement_periods and team_what_if (what_if for everyone a user sees), on SQLite and
PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from attain.errors import NotFound
from attain.incentives import service
from attain.plans.service import require_user
from tests.incentives.test_service import Q1, incentive_plan, org, sale

__all__ = ["org"]


def test_plans_in_force_are_the_approved_plans_of_the_year(session: Session, org: dict[str, int], tmp_path: Path) -> None:
    name = incentive_plan(session, tmp_path)
    path = tmp_path / "draft.yaml"
    path.write_text((tmp_path / f"{name}.yaml").read_text(encoding="utf-8").replace(f"name: {name}", "name: 草稿"), encoding="utf-8")
    service.import_plan(session=session, path=path, by="wang")
    assert service.plans_in_force(session=session, year=2027) == [name]
    assert service.plans_in_force(session=session, year=2026) == []


def test_plan_detail_components_versions_and_visible_participants(session: Session, org: dict[str, int], tmp_path: Path) -> None:
    name = incentive_plan(session, tmp_path)
    detail = service.plan_detail(session=session, name=name)
    assert (detail.version, detail.status, detail.in_force, detail.settlement) == (1, "approved", 1, "quarter")
    assert [(c.code, c.kind, c.weight_bp) for c in detail.components] == [("commission", "rate_table", None),
                                                                          ("bonus", "payout_curve", 10_000)]
    assert detail.components[0].spec["bands"][1] == {"from": "60", "to": "80", "rate": "2"}
    assert [(p.code, p.target_incentive) for p in detail.participants] == [("R1-T1-1", 6_000_000), ("R1-T1-2", 6_000_000)]
    assert [(v.version, v.status, v.submitted_by, v.approved_by) for v in detail.versions] == [(1, "approved", "wang", "zhao")]
    assert detail.periods == (("2027Q1", False), ("2027Q2", False), ("2027Q3", False), ("2027Q4", False))
    rep = require_user(session=session, username="rep1")
    assert [p.code for p in service.plan_detail(session=session, name=name, user=rep).participants] == ["R1-T1-1"]
    manager = require_user(session=session, username="li")
    assert len(service.plan_detail(session=session, name=name, user=manager).participants) == 2
    with pytest.raises(NotFound):
        service.plan_detail(session=session, name="没有")


def test_settlement_periods_mark_closed_ones(session: Session, org: dict[str, int], tmp_path: Path) -> None:
    name = incentive_plan(session, tmp_path)
    service.close_period(session=session, name=name, period="2027Q1", by="zhao", as_of=Q1[1])
    assert service.settlement_periods(session=session, name=name)[:2] == (("2027Q1", True), ("2027Q2", False))


def test_team_what_if_is_what_if_for_everyone_the_user_sees(session: Session, org: dict[str, int], tmp_path: Path) -> None:
    sale(session, org, "R1-T1-1", 75_000_000)
    sale(session, org, "R1-T1-2", 30_000_000)
    name = incentive_plan(session, tmp_path)
    manager = require_user(session=session, username="li")
    team = service.team_what_if(session=session, name=name, extra=10_000_000, as_of=Q1[1], user=manager)
    assert [w.rep for w in team] == ["R1-T1-1", "R1-T1-2"]
    for answer in team:
        assert answer == service.what_if(session=session, name=name, rep=answer.rep, extra=10_000_000, as_of=Q1[1])
    # R1-T1-1 at 75 %: 5 万 reaches 80 % (hand-computed in test_service: gain 2,125 yuan).
    assert team[0].next_step is not None and (team[0].next_step.needed, team[0].next_step.gain) == (5_000_000, 212_500)
    assert team[0].as_dict()["name"] == team[0].name and team[0].role == "rep"
    rep = require_user(session=session, username="rep1")
    assert [w.rep for w in service.team_what_if(session=session, name=name, extra=0, as_of=Q1[1], user=rep)] == ["R1-T1-1"]
