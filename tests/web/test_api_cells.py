"""Editing one plan cell through the API: optimistic versions (409 on a stale edit), locks, scope."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.auth import service as auth
from attain.metrics.service import require_metric
from attain.org.models import OrgNode
from attain.plans.models import PlanCell, PlanCellChange
from attain.plans.service import create_plan
from attain.web.app import create_app
from tests.web.conftest import PASSWORD


@pytest.fixture
def draft(org_session: Session, database_url: str) -> dict[str, object]:
    """A draft plan with one January cell per rep and API tokens for an admin, T1's manager and rep R1."""
    session = org_session
    plan = create_plan(session=session, name="P", metric=require_metric(session=session, code="revenue"),
                       start=date(2027, 1, 1), end=date(2027, 12, 31))
    nodes = dict(session.execute(select(OrgNode.code, OrgNode.id)).all())
    cells = {}
    for code in ("R1", "R2", "R3", "R4"):
        cell = PlanCell(plan_id=plan.id, period="2027-01", period_start=date(2027, 1, 1), period_end=date(2027, 1, 31),
                        org_node_id=nodes[code], customer_type="all", value=100_000_00, locked=False)
        session.add(cell)
        session.flush()
        cells[code] = cell.id
    session.commit()
    tokens = {}
    for name, role, node in (("boss", "admin", None), ("mgr", "manager", "T1"), ("r1", "rep", "R1")):
        user = auth.create_user(session=session, username=name, password=PASSWORD, role=role, node_key=node)
        tokens[name] = auth.create_token(session=session, user=user)
    client = TestClient(create_app(database_url))
    return {"cells": cells, "tokens": tokens, "client": client, "session": session}


def _patch(draft: dict, who: str, code: str, body: dict) -> object:  # type: ignore[type-arg]
    client: TestClient = draft["client"]  # type: ignore[assignment]
    return client.patch(f"/api/v1/plans/P/cells/{draft['cells'][code]}", json=body,  # type: ignore[index]
                        headers={"Authorization": f"Bearer {draft['tokens'][who]}"})  # type: ignore[index]


def test_an_edit_bumps_the_version_and_a_stale_edit_gets_409(draft: dict) -> None:  # type: ignore[type-arg]
    first = _patch(draft, "mgr", "R1", {"expect": 1, "value": 120_000_00})
    assert first.status_code == 200, first.text  # type: ignore[attr-defined]
    body = first.json()  # type: ignore[attr-defined]
    assert body["version"] == 2 and body["cell"]["value"] == 120_000_00 and body["cell"]["locked"] is True
    # The one edit rule: the manager's team keeps its total, so R2 (same team, same month) gives the 20,000.
    moved = {(c["node"], c["before"], c["after"]) for c in body["changes"]}
    assert ("R1", 100_000_00, 120_000_00) in moved and ("R2", 100_000_00, 80_000_00) in moved
    assert not any(node in ("R3", "R4") for node, *_ in moved)  # nothing outside the manager's team moved
    stale = _patch(draft, "boss", "R2", {"expect": 1, "value": 100})
    assert stale.status_code == 409 and "version 2" in stale.json()["detail"]  # type: ignore[attr-defined]
    session: Session = draft["session"]
    session.expire_all()
    values = dict(session.execute(select(OrgNode.code, PlanCell.value).join(OrgNode, OrgNode.id == PlanCell.org_node_id)
                                  .where(PlanCell.period == "2027-01")).all())
    assert values["R2"] == 80_000_00 and values["R3"] == 100_000_00  # the stale edit wrote nothing
    assert values["T1"] == 200_000_00 == values["R1"] + values["R2"]  # every level adds up
    changes = {(c.org_node_id, c.value_before, c.value_after) for c in session.scalars(select(PlanCellChange)).all()
               if c.value_before is not None}
    assert {(b, a) for _n, b, a in changes} == {(100_000_00, 120_000_00), (100_000_00, 80_000_00)}
    noted = _patch(draft, "mgr", "R1", {"expect": 2, "strategy_note": "拜访A类客户"})
    assert noted.status_code == 200, noted.text  # type: ignore[attr-defined]
    assert noted.json()["version"] == 3 and noted.json()["cell"]["strategy_note"] == "拜访A类客户"  # type: ignore[attr-defined]


def test_a_value_off_the_unit_is_refused_and_nothing_is_written(draft: dict) -> None:  # type: ignore[type-arg]
    refused = _patch(draft, "boss", "R1", {"expect": 1, "value": 100_000_00 + 12_345})
    assert refused.status_code == 422 and "multiple" in refused.json()["detail"]  # type: ignore[attr-defined]
    session: Session = draft["session"]
    session.expire_all()
    assert session.scalars(select(PlanCellChange)).all() == []


def test_a_locked_cell_keeps_its_value_until_unlocked(draft: dict) -> None:  # type: ignore[type-arg]
    assert _patch(draft, "boss", "R3", {"expect": 1, "locked": True}).json()["cell"]["locked"] is True  # type: ignore[attr-defined]
    refused = _patch(draft, "boss", "R3", {"expect": 2, "value": 500})
    assert refused.status_code == 409 and "locked" in refused.json()["detail"]  # type: ignore[attr-defined]
    # Editing a neighbour leaves the locked cell as it is.
    other = _patch(draft, "boss", "R4", {"expect": 2, "value": 90_000_00})
    assert other.status_code == 200 and all(c["node"] != "R3" for c in other.json()["changes"])  # type: ignore[attr-defined]
    unlocked = _patch(draft, "boss", "R3", {"expect": 3, "value": 500, "locked": False})
    assert unlocked.status_code == 200 and unlocked.json()["cell"]["value"] == 500  # type: ignore[attr-defined]


def test_edits_stay_inside_the_editors_scope(draft: dict) -> None:  # type: ignore[type-arg]
    assert _patch(draft, "r1", "R1", {"expect": 1, "value": 100}).status_code == 403  # type: ignore[attr-defined]
    assert _patch(draft, "mgr", "R3", {"expect": 1, "value": 100}).status_code == 404  # type: ignore[attr-defined]
    owner_elsewhere = _patch(draft, "mgr", "R2", {"expect": 1, "owner": "R4"})
    assert owner_elsewhere.status_code == 404  # type: ignore[attr-defined]
    owner = _patch(draft, "mgr", "R2", {"expect": 1, "owner": "R1"})
    assert owner.json()["cell"]["owner"] == "R1"  # type: ignore[attr-defined]


def test_cell_filters(draft: dict) -> None:  # type: ignore[type-arg]
    client: TestClient = draft["client"]  # type: ignore[assignment]
    headers = {"Authorization": f"Bearer {draft['tokens']['boss']}"}  # type: ignore[index]
    listing = client.get("/api/v1/plans/P/cells?node=EAST&limit=2", headers=headers).json()
    assert listing["total"] == 3 and len(listing["cells"]) == 2
    rest = client.get("/api/v1/plans/P/cells?node=EAST&limit=2&offset=2", headers=headers).json()
    assert {c["org_node"] for c in listing["cells"] + rest["cells"]} == {"R1", "R2", "R3"}
    assert client.get("/api/v1/plans/P/cells?period=2027-02", headers=headers).json()["total"] == 0
    mine = client.get("/api/v1/plans/P/cells", headers={"Authorization": f"Bearer {draft['tokens']['r1']}"}).json()  # type: ignore[index]
    assert [c["org_node"] for c in mine["cells"]] == ["R1"]
