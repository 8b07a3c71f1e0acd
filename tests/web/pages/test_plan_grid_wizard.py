"""Issue 19, plan grid and wizard: the wizard opens on next year in Q4 with the CLI's growth total
(last complete year's actual × (1 + growth), `plan create --growth`), offers growth and capacity as
the CLI does, labels every method select; the grid groups reps under their team, shows inputs in 万
with separators and takes '80万'."""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from attain.db import get_engine, make_session_factory
from attain.metrics.service import evaluate, require_metric
from attain.org.models import OrgNode
from attain.plans import service as plans
from attain.plans.models import ALL_CUSTOMERS, Plan, PlanCell
from attain.plans.setting import propose_total
from attain.plans.wizard import plan_year, wizard_defaults, wizard_total
from attain.web.i18n import format_input_amount

Q4_DAY = date(2026, 11, 23)


def _session(url: str):  # type: ignore[no-untyped-def]
    return make_session_factory(get_engine(url))()


def _node(session, code: str) -> OrgNode:  # type: ignore[no-untyped-def]
    return session.scalars(select(OrgNode).where(OrgNode.code == code)).one()


def _company(session) -> OrgNode:  # type: ignore[no-untyped-def]
    return session.scalars(select(OrgNode).where(OrgNode.parent_id.is_(None))).one()


def test_plan_year_is_next_year_in_the_last_fiscal_quarter(demo_url: str) -> None:
    session = _session(demo_url)
    try:
        assert plan_year(session=session, today=Q4_DAY) == 2027
        assert plan_year(session=session, today=date(2026, 10, 1)) == 2027
        assert plan_year(session=session, today=date(2026, 9, 30)) == 2026
        assert plan_year(session=session, today=date(2026, 1, 5)) == 2026
    finally:
        session.close()


def test_wizard_default_total_is_last_complete_year_times_growth(demo_url: str) -> None:
    session = _session(demo_url)
    try:
        defaults = wizard_defaults(session=session, scope=_company(session), today=Q4_DAY)
        assert defaults.year == 2027 and defaults.basis == "growth" and defaults.growth == "10%"
        assert defaults.window is not None and defaults.window.label == "2025"  # 2026 is not over on 2026-11-23
        last_year = evaluate(session=session, metric=require_metric(session=session, code="revenue"),
                             start=date(2025, 1, 1), end=date(2025, 12, 31))
        base = int(last_year[0].value)
        assert defaults.base == base
        unit = 10_000_00
        assert defaults.total == (int(Decimal(base) * Decimal("1.1")) + unit // 2) // unit * unit
        # The same total the CLI's `plan create --growth 10%` sets.
        assert defaults.total == propose_total(session=session, year=2027, metric_code="revenue", growth="10%",
                                               unit="10000", as_of=Q4_DAY).total
        team = wizard_defaults(session=session, scope=_node(session, "EAST-T1"), today=Q4_DAY)
        assert team.basis == "total" and team.total is None  # growth and capacity totals are company totals
    finally:
        session.close()


def test_wizard_total_by_growth_capacity_or_typed(demo_url: str) -> None:
    session = _session(demo_url)
    try:
        company = _company(session)
        args = {"session": session, "total": "80万", "growth": "20%", "unit": "10000", "year": 2027, "today": Q4_DAY}
        assert wizard_total(basis="total", scope=company, **args) == 80_000_000  # type: ignore[arg-type]
        grown = wizard_total(basis="growth", scope=company, **args)  # type: ignore[arg-type]
        assert grown == propose_total(session=session, year=2027, metric_code="revenue", growth="20%", unit="10000",
                                      as_of=Q4_DAY).total
        capacity = wizard_total(basis="capacity", scope=company, **args)  # type: ignore[arg-type]
        assert capacity == propose_total(session=session, year=2027, metric_code="revenue", from_capacity=True,
                                         unit="10000", as_of=Q4_DAY).total
        from attain.errors import InvalidInput

        with pytest.raises(InvalidInput, match="whole company"):
            wizard_total(basis="growth", scope=_node(session, "EAST"), **args)  # type: ignore[arg-type]
    finally:
        session.close()


def test_wizard_page_opens_on_the_proposal_with_labelled_method_selects(client_for, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(plans, "current_day", lambda: Q4_DAY)
    page = client_for("admin").get("/plans/new")
    assert page.status_code == 200
    assert re.search(r'name="year" type="number" min="2000" max="2100" value="2027"', page.text)
    assert re.search(r'<option value="growth" selected>', page.text)
    total = re.search(r'name="total" value="([^"]*)"', page.text)
    assert total and total.group(1).endswith("万") and "," in total.group(1)
    assert 'data-testid="total-proposal"' in page.text and "2025" in page.text
    # No select is labelled by a lone "按" (by) any more: each says which shares it sets.
    labels = re.findall(r"<label>([^<]*)<select", page.text)
    assert labels and all(label.strip() not in ("按", "by", "") for label in labels), labels


def test_wizard_preview_by_growth_splits_the_cli_total(client_for, csrf_of, demo_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(plans, "current_day", lambda: Q4_DAY)
    client = client_for("admin")
    form = {"name": f"G-{uuid.uuid4().hex[:8]}", "year": "2027", "basis": "growth", "growth": "20%", "total": "",
            "unit": "10000", "scope": "COMPANY", "org_level": "region", "org_method": "history", "time": "none",
            "product": "none", "customer_type": "no", "csrf_token": csrf_of(client)}
    session = _session(demo_url)
    try:
        form["scope"] = _company(session).code
        expected = propose_total(session=session, year=2027, metric_code="revenue", growth="20%", unit="10000",
                                 as_of=Q4_DAY).total
    finally:
        session.close()
    preview = client.post("/plans/new/preview", data=form, headers={"hx-request": "true"})
    assert 'data-testid="preview-error"' not in preview.text, preview.text[:400]
    from attain.web.i18n import format_input_amount

    assert f'data-testid="preview-total">{format_input_amount(expected, "zh_CN")}<' in preview.text  # the unit of its column
    refused = client.post("/plans/new/preview", data={**form, "scope": "EAST"}, headers={"hx-request": "true"})
    assert 'data-testid="preview-error"' in refused.text


def test_grid_groups_reps_under_their_team_and_takes_80wan(client_for, csrf_of, demo_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(plans, "current_day", lambda: date(2026, 1, 5))
    client = client_for("director")
    name = f"R-{uuid.uuid4().hex[:8]}"
    token = csrf_of(client)
    created = client.post("/plans/new", data={
        "name": name, "year": "2026", "basis": "total", "total": "12000000", "unit": "10000", "scope": "EAST",
        "org_level": "rep", "org_method": "equal", "time": "month", "time_method": "equal", "product": "none",
        "customer_type": "no", "csrf_token": token}, follow_redirects=False)
    assert created.status_code == 303, created.text[:400]
    page = client.get(f"/plans/{name}?node=EAST")
    session = _session(demo_url)
    try:
        teams = session.scalars(select(OrgNode).where(OrgNode.parent_id == _node(session, "EAST").id)
                                .order_by(OrgNode.code)).all()
        reps = {t.code: [r.code for r in session.scalars(select(OrgNode).where(
            OrgNode.parent_id == t.id, OrgNode.kind == "rep", OrgNode.end_date.is_(None)).order_by(OrgNode.code))]
            for t in teams}
    finally:
        session.close()
    for team, members in reps.items():
        group = re.search(rf'<tbody class="group" data-testid="group-{team}">(.*?)</tbody>', page.text, re.DOTALL)
        assert group, team
        rows = re.findall(r'<tr data-row="([^"]+)"', group.group(1))
        assert rows[0] == team and set(members) <= set(rows[1:]), (team, rows)
    rep = next(iter(reps.values()))[0]
    value = re.search(rf'value="([^"]+)" inputmode="decimal" data-testid="cell-{rep}-2026-03"', page.text)
    assert value and value.group(1).endswith("万")
    edited = client.post(f"/plans/{name}/cell", data={"node": "EAST", "row": rep, "period": "2026-03", "value": "80万",
                                                       "version": 2}, headers={"X-CSRF-Token": token, "hx-request": "true"})
    assert 'data-testid="grid-error"' not in edited.text, edited.text[:600]
    assert f'value="{format_input_amount(80_000_000, "zh_CN")}" inputmode="decimal" data-testid="cell-{rep}-2026-03"' in edited.text
    session = _session(demo_url)
    try:
        plan = session.scalars(select(Plan).where(Plan.name == name)).one()
        cell = session.scalars(select(PlanCell).where(
            PlanCell.plan_id == plan.id, PlanCell.org_node_id == _node(session, rep).id, PlanCell.period == "2026-03",
            PlanCell.customer_type == ALL_CUSTOMERS, PlanCell.product_node_id.is_(None))).one()
        assert cell.value == 80_000_000
    finally:
        session.close()
