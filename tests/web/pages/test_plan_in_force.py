"""The plan in force on the web: a revision is a separate draft that no dashboard, leaderboard or API
answer reads until it is approved; closed months cannot be edited; a team manager cannot reopen the
company's plan (issue 15 reproductions 1-3 and 6, issue 20 finding 2), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from attain.db import get_engine, make_session_factory
from attain.org.models import OrgNode
from attain.plans import service as plan_service
from attain.plans.models import ALL_CUSTOMERS, Plan, PlanCell
from attain.web.app import create_app
from tests.databases import demo_database
from tests.web.pages.conftest import PASSWORDS, sign_in

AS_OF = date(2026, 11, 23)
TODAY = date(2026, 12, 2)


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, TestClient]]:
    """A demo company of its own (this test revises FY2026) and the app, with the plan clock on 2026-12-02."""
    monkeypatch.setattr(plan_service, "current_day", lambda: TODAY)
    with demo_database(request.param, tmp_path_factory.mktemp("in_force"), "attain_in_force", as_of=AS_OF) as url:
        yield url, create_app(url)


def _client(app, who: str) -> TestClient:  # type: ignore[no-untyped-def]
    return sign_in(TestClient(app, headers={"accept-language": "zh-CN"}), who, PASSWORDS[who])


def _csrf(client: TestClient) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/plans").text)
    assert match
    return match.group(1)


def _status(client: TestClient, action: str, version: int, **extra: str):  # type: ignore[no-untyped-def]
    return client.post("/plans/FY2026/status", data={"csrf_token": _csrf(client), "action": action,
                                                     "version": str(version), **extra}, follow_redirects=False)


def _plain_cells(url: str, plan_id: int) -> dict[tuple[str, str], int]:
    session = make_session_factory(get_engine(url))()
    try:
        return {(code, period): value for code, period, value in session.execute(
            select(OrgNode.code, PlanCell.period, PlanCell.value).join(OrgNode, OrgNode.id == PlanCell.org_node_id)
            .where(PlanCell.plan_id == plan_id, PlanCell.product_node_id.is_(None), PlanCell.customer_type == ALL_CUSTOMERS))}
    finally:
        session.close()


def _rows(url: str) -> list[Plan]:
    session = make_session_factory(get_engine(url))()
    try:
        rows = list(session.scalars(select(Plan).where(Plan.name == "FY2026").order_by(Plan.version)))
        session.expunge_all()
        return rows
    finally:
        session.close()


def _rep_target(app, period: str) -> str:  # type: ignore[no-untyped-def]
    rep = _client(app, "rep")
    answer = rep.get("/api/v1/attainment", params={"period": period, "by": "rep", "as_of": AS_OF.isoformat()})
    assert answer.status_code == 200, answer.text
    rows = answer.json()["rows"]
    assert len(rows) == 1
    return rows[0]["target"]


def test_a_team_manager_cannot_revise_the_company_plan(world) -> None:  # type: ignore[no-untyped-def]
    url, app = world
    manager = _client(app, "manager")
    refused = _status(manager, "revise", 1, reason="我想改")
    assert refused.status_code == 403
    assert [(p.version, p.status) for p in _rows(url)] == [(1, "approved")]
    assert _rep_target(app, "2026-11")  # the plan in force still answers


def test_a_revision_is_not_in_force_until_approved(world) -> None:  # type: ignore[no-untyped-def]
    url, app = world
    before = _rep_target(app, "2026-12")
    director = _client(app, "director")
    assert _status(director, "revise", 1, reason="Q4 冲刺").status_code == 303
    approved, draft = _rows(url)
    assert (approved.status, draft.status, draft.revision_of, draft.effective_from) == ("approved", "draft", approved.id, date(2026, 12, 1))
    editor = director.get("/plans/FY2026", params={"node": "EAST-T1"})
    assert 'data-testid="revision-note"' in editor.text and "2026-12-01" in editor.text
    old = _plain_cells(url, draft.id)
    # 胡涛 (R002) · 2026-12 → 3,000,000 in the grid of his team.
    grid = director.post("/plans/FY2026/cell", data={"node": "EAST-T1", "row": "R002", "period": "2026-12", "value": "3000000",
                                                      "version": str(draft.version)}, headers={"hx-request": "true", "x-csrf-token": _csrf(director)})
    assert grid.status_code == 200 and 'data-testid="grid-error"' not in grid.text, grid.text[:2000]
    assert 'data-testid="grid-changes"' in grid.text and 'id="plan-head" hx-swap-oob="true"' in grid.text
    new = _plain_cells(url, draft.id)
    moved = {key for key in old if old[key] != new[key]}
    assert ("R002", "2026-12") in moved and new[("R002", "2026-12")] == 3_000_000_00
    assert all(period in ("2026", "2026-12") for _code, period in moved)  # nothing before December moved
    assert new[("EAST-T1", "2026-12")] == old[("EAST-T1", "2026-12")]  # the team's month holds
    assert new[("COMPANY", "2026")] == old[("COMPANY", "2026")]
    # Nothing that reads targets sees the draft.
    assert _rep_target(app, "2026-12") == before
    dashboard = _client(app, "rep").get("/dashboard", params={"as_of": AS_OF.isoformat()})
    assert "FY2026 v1" in dashboard.text and 'data-testid="pending-revision"' in dashboard.text
    # A closed month cannot be edited in the revision.
    closed = director.post("/plans/FY2026/cell", data={"node": "EAST-T1", "row": "R002", "period": "2026-03", "value": "1000000",
                                                        "version": str(_rows(url)[1].version)},
                           headers={"hx-request": "true", "x-csrf-token": _csrf(director)})
    assert 'data-testid="grid-error"' in closed.text and _plain_cells(url, draft.id) == new
    # Four eyes: the director who submits cannot approve; the admin can, and then the revision is in force.
    version = _rows(url)[1].version
    assert _status(director, "submit", version).status_code == 303
    assert _status(director, "approve", version + 1).status_code == 403
    assert _status(_client(app, "admin"), "approve", version + 1).status_code == 303
    superseded, in_force = _rows(url)
    assert (superseded.status, in_force.status) == ("superseded", "approved")
    assert _rep_target(app, "2026-12") != before
    assert _plain_cells(url, superseded.id) == old  # the superseded version is kept as it was
