"""Plan editor pages: the split wizard (preview, locks, apply), the grid (edit → re-split, every level
reconciles, optimistic version check), notes, diff and the approval buttons by role."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from attain.db import get_engine, make_session_factory
from attain.org.models import OrgNode
from attain.plans.models import ALL_CUSTOMERS, Plan, PlanCell

WIZARD = {"year": "2026", "total": "12000000", "unit": "10000", "scope": "EAST", "org_level": "team",
          "org_method": "history", "time": "month", "time_method": "working-days", "product": "none",
          "customer_type": "no"}


def _name() -> str:
    return f"T-{uuid.uuid4().hex[:8]}"


def _cells(url: str, name: str) -> dict[tuple[int, str], int]:
    session = make_session_factory(get_engine(url))()
    try:
        plan = session.scalars(select(Plan).where(Plan.name == name)).one()
        return {(c.org_node_id, c.period): c.value for c in session.scalars(select(PlanCell).where(
            PlanCell.plan_id == plan.id, PlanCell.customer_type == ALL_CUSTOMERS, PlanCell.product_node_id.is_(None)))}
    finally:
        session.close()


def _assert_reconciles(url: str, cells: dict[tuple[int, str], int]) -> None:
    """Every node's year = its months; every parent's month = its children's months."""
    session = make_session_factory(get_engine(url))()
    try:
        nodes = {n.id: n for n in session.scalars(select(OrgNode).where(OrgNode.id.in_({k[0] for k in cells})))}
    finally:
        session.close()
    months = sorted({p for _, p in cells if "-" in p})
    for node_id in nodes:
        assert cells[(node_id, "2026")] == sum(cells[(node_id, m)] for m in months)
        kids = [k for k, n in nodes.items() if n.parent_id == node_id]
        for m in months:
            if kids:
                assert cells[(node_id, m)] == sum(cells[(k, m)] for k in kids)


def test_wizard_preview_locks_and_apply(client_for, csrf_of, demo_url: str) -> None:
    client = client_for("director")
    token = csrf_of(client)
    form = {**WIZARD, "name": _name(), "csrf_token": token}
    preview = client.post("/plans/new/preview", data=form, headers={"hx-request": "true"})
    assert re.search(r'data-testid="preview-total">1,200万<', preview.text)
    locked = client.post("/plans/new/preview", data={**form, "lock:EAST-T1": "7000000"}, headers={"hx-request": "true"})
    assert re.search(r'placeholder="7000000" aria-label="[^"]+" data-testid="lock-EAST-T1"', locked.text) or \
        'value="7000000"' in locked.text
    answer = client.post("/plans/new", data={**form, "lock:EAST-T1": "7000000"}, follow_redirects=False)
    assert answer.status_code == 303
    cells = _cells(demo_url, form["name"])
    session = make_session_factory(get_engine(demo_url))()
    try:
        ids = dict(session.execute(select(OrgNode.code, OrgNode.id)).all())
    finally:
        session.close()
    assert cells[(ids["EAST"], "2026")] == 12_000_000_00
    assert cells[(ids["EAST-T1"], "2026")] == 7_000_000_00
    assert all(v % 10_000_00 == 0 for v in cells.values())
    _assert_reconciles(demo_url, cells)
    page = client.get(answer.headers["location"])
    assert page.status_code == 200 and 'data-testid="reconciled"' in page.text


@pytest.mark.parametrize(("change", "message"), [
    ({"total": "12000001"}, "不是取整单位 10,000.00 的整数倍"),  # the pages are Chinese: so are their errors
    ({"total": "lots"}, "总额“lots”不是以元计的金额"),
    ({"customer_type": "yes", "customer_weights": "1"}, "需要 2 个权重"),
    ({"org_level": "none", "time": "none"}, "请至少选择一个拆分维度"),
    ({"lock:EAST-T1": "13000000"}, ""),
])
def test_wizard_preview_explains_bad_input(client_for, csrf_of, change: dict[str, str], message: str) -> None:
    client = client_for("director")
    answer = client.post("/plans/new/preview", data={**WIZARD, "name": _name(), "csrf_token": csrf_of(client), **change},
                         headers={"hx-request": "true"})
    assert answer.status_code == 200
    error = re.search(r'data-testid="preview-error">([^<]+)<', answer.text)
    assert error and message in error.group(1)


def test_grid_edit_resplits_and_every_level_reconciles(client_for, csrf_of, demo_url: str) -> None:
    client = client_for("director")
    token = csrf_of(client)
    name = _name()
    client.post("/plans/new", data={**WIZARD, "name": name, "org_level": "rep", "csrf_token": token})
    before = _cells(demo_url, name)
    session = make_session_factory(get_engine(demo_url))()
    try:
        team = session.scalars(select(OrgNode).where(OrgNode.code == "EAST-T1")).one()
        rep = session.scalars(select(OrgNode).where(OrgNode.parent_id == team.id).order_by(OrgNode.code)).first()
        east = session.scalars(select(OrgNode).where(OrgNode.code == "EAST")).one()
        version = session.scalars(select(Plan.version).where(Plan.name == name)).one()
    finally:
        session.close()
    new_value = before[(rep.id, "2026-03")] + 50_000_00
    answer = client.post(f"/plans/{name}/cell", data={"node": "EAST-T1", "row": rep.code, "period": "2026-03",
                                                      "value": str(new_value // 100), "version": version},
                         headers={"X-CSRF-Token": token, "hx-request": "true"})
    assert answer.status_code == 200 and 'data-testid="grid-error"' not in answer.text
    assert 'data-testid="reconciled"' in answer.text
    after = _cells(demo_url, name)
    assert after[(rep.id, "2026-03")] == new_value
    assert after[(team.id, "2026")] == before[(team.id, "2026")]  # the grid's node keeps its total
    assert after[(east.id, "2026")] == before[(east.id, "2026")]
    assert after != before
    _assert_reconciles(demo_url, after)
    # The same edit again, based on the old version: refused, nothing written.
    stale = client.post(f"/plans/{name}/cell", data={"node": "EAST-T1", "row": rep.code, "period": "2026-04",
                                                     "value": "0", "version": version},
                        headers={"X-CSRF-Token": token, "hx-request": "true"})
    assert "而此修改基于版本" in stale.text and "attain plan versions" not in stale.text  # no CLI command on the web
    assert _cells(demo_url, name) == after
    diff = client.get(f"/plans/{name}/diff?from_version={version}&to_version={version + 1}")
    assert diff.status_code == 200 and rep.name in diff.text


def test_grid_refuses_a_value_off_the_unit_and_edits_of_approved_plans(client_for, csrf_of) -> None:
    client = client_for("director")
    token = csrf_of(client)
    name = _name()
    client.post("/plans/new", data={**WIZARD, "name": name, "csrf_token": token})
    odd = client.post(f"/plans/{name}/cell", data={"node": "EAST", "row": "EAST-T1", "period": "2026-02",
                                                   "value": "12345", "version": 2},
                      headers={"X-CSRF-Token": token, "hx-request": "true"})
    assert "取整单位" in odd.text
    approved = client.post("/plans/FY2026/cell", data={"node": "COMPANY", "row": "EAST", "period": "2026-02",
                                                       "value": "100", "version": 1},
                           headers={"X-CSRF-Token": token, "hx-request": "true"})
    assert "已审批" in re.search(r'data-testid="grid-error">([^<]+)<', approved.text).group(1)


def test_submit_then_only_a_director_approves(client_for, csrf_of) -> None:
    director = client_for("director")
    token = csrf_of(director)
    name = _name()
    director.post("/plans/new", data={**WIZARD, "name": name, "scope": "EAST-T1", "org_level": "rep",
                                      "csrf_token": token})
    manager = client_for("manager")
    mtoken = csrf_of(manager)
    submitted = manager.post(f"/plans/{name}/status", data={"action": "submit", "version": 2, "csrf_token": mtoken},
                             follow_redirects=False)
    assert submitted.status_code == 303
    refused = manager.post(f"/plans/{name}/status", data={"action": "approve", "version": 3, "csrf_token": mtoken},
                           headers={"hx-request": "true"})
    assert refused.status_code == 403
    approved = director.post(f"/plans/{name}/status", data={"action": "approve", "version": 3, "csrf_token": token},
                             follow_redirects=False)
    assert approved.status_code == 303
    page = director.get(f"/plans/{name}")
    assert "v4" in page.text and 'data-testid="status-lock"' in page.text


def test_rep_has_no_plan_pages(client_for, csrf_of) -> None:
    client = client_for("rep")
    assert client.get("/plans/FY2026").status_code == 403
    answer = client.post("/plans/new/preview", data={**WIZARD, "name": "x", "csrf_token": csrf_of(client)},
                         headers={"hx-request": "true"})
    assert answer.status_code == 403


def test_wizard_preview_names_the_baseline_its_history_shares_come_from(client_for, csrf_of) -> None:
    client = client_for("director")
    form = {**WIZARD, "year": "2027", "time_method": "history", "name": _name(), "csrf_token": csrf_of(client)}
    preview = client.post("/plans/new/preview", data=form, headers={"hx-request": "true"})
    assert 'data-testid="preview-baseline"' in preview.text and "上一个完整财年" in preview.text  # in the page's language


def test_wizard_apply_errors_show_in_place(client_for, csrf_of) -> None:  # type: ignore[no-untyped-def]
    """An HTMX apply that fails (the name exists) answers the preview area with the reason, not a 409 page."""
    client = client_for("director")
    form = {**WIZARD, "name": "FY2026", "csrf_token": csrf_of(client)}
    answer = client.post("/plans/new", data=form, headers={"hx-request": "true"})
    assert answer.status_code == 200 and answer.headers["HX-Retarget"] == "#preview"
    assert 'data-testid="preview-error"' in answer.text and "FY2026" in answer.text
    plain = client.post("/plans/new", data=form, follow_redirects=False)
    assert plain.status_code == 409
