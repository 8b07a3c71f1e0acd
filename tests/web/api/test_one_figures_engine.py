"""One figures engine: the dashboard (GET /api/v1/dashboard and the page) and the diagnosis page show
the figures of `attain report attainment --json` (tracking), field by field, for every node of the
demo — there is no second aggregation, status rule or forecast in the web layer."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from attain.cli.main import app as cli
from attain.db import get_engine, make_session_factory
from attain.org.models import OrgNode
from tests.web.conftest import DEMO_AS_OF, DEMO_PASSWORDS, sign_in

DAY = DEMO_AS_OF.isoformat()
LEVELS = ("region", "team", "rep")


def report(url: str, *args: str) -> dict[str, Any]:
    """`attain report ... --json` as a user runs it."""
    result = CliRunner().invoke(cli, ["report", *args, "--db", url, "--as-of", DAY, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def figures(row: dict[str, Any]) -> dict[str, Any]:
    """A report row without its key and labels (which name the report's dimensions, not the figures)."""
    return {field: value for field, value in row.items() if field not in ("key", "labels")}


@pytest.fixture(scope="module")
def cli_reports(demo_db: str) -> dict[str, Any]:
    """The CLI's attainment for 2026 as of the demo day: the company, each level, and both by month."""
    found = {"company": report(demo_db, "attainment", "--period", "2026"),
             "company_months": report(demo_db, "attainment", "--period", "2026", "--by", "month")}
    for level in LEVELS:
        found[level] = report(demo_db, "attainment", "--period", "2026", "--by", level)
        found[f"{level}_months"] = report(demo_db, "attainment", "--period", "2026", "--by", f"{level},month")
    return found


@pytest.fixture(scope="module")
def nodes(demo_db: str) -> list[tuple[int, str, str]]:
    with make_session_factory(get_engine(demo_db))() as session:
        return [tuple(row) for row in session.execute(select(OrgNode.id, OrgNode.code, OrgNode.kind).order_by(OrgNode.code))]  # type: ignore[misc]


def _cli_row(reports: dict[str, Any], node_id: int, kind: str) -> dict[str, Any] | None:
    if kind not in LEVELS:
        return figures(reports["company"]["total"])
    rows = [r for r in reports[kind]["rows"] if r["node_id"] == node_id]
    return figures(rows[0]) if rows else None


def _cli_months(reports: dict[str, Any], node_id: int, kind: str) -> list[dict[str, Any]]:
    if kind not in LEVELS:
        rows = reports["company_months"]["rows"]
    else:
        rows = [r for r in reports[f"{kind}_months"]["rows"] if r["key"][kind] == node_id]
    # The by-month CLI rows carry node_id None (month is not an org level) or the node's: the figures are compared.
    return [{"month": r["labels"]["month"], **{k: v for k, v in figures(r).items() if k != "node_id"}} for r in rows]


def test_the_dashboard_json_is_report_attainment_field_by_field_for_every_node(
    demo_app, demo_tokens, cli_reports, nodes  # type: ignore[no-untyped-def]
) -> None:
    client = TestClient(demo_app, headers={"Authorization": f"Bearer {demo_tokens['admin']}"})
    kinds = {node_id: kind for node_id, _code, kind in nodes}
    compared = 0
    for node_id, code, kind in nodes:
        body = client.get(f"/api/v1/dashboard?as_of={DAY}&node={code}").json()
        assert body["plan"]["name"] == cli_reports["company"]["plan"], code
        assert body["plan"]["version"] == cli_reports["company"]["plan_version"], code
        assert body["time_progress"] == cli_reports["company"]["time_progress"], code
        expected = _cli_row(cli_reports, node_id, kind)
        if expected is None:  # no target and no sale: the CLI has no row, the dashboard shows nothing
            assert body["summary"]["actual"] == "0.00" and body["summary"]["target"] is None, code
            assert body["months"] == [] and body["rows"] == [] and body["forecast"] is None, code
            continue
        assert body["summary"] == expected, code
        months = [{k: v for k, v in m.items() if k != "node_id"} for m in body["months"]]
        assert months == _cli_months(cli_reports, node_id, kind), code
        assert body["forecast"]["p50"] == expected["seasonal_forecast"], code
        for row in body["rows"]:
            below = {k: v for k, v in row.items() if k != "node"}
            child_id = below["node_id"]
            assert below == _cli_row(cli_reports, child_id, kinds[child_id]), (code, row["node"]["code"])
            compared += 1
        compared += 1
    assert compared > len(nodes)  # every node with figures, and the rows below them


def test_the_issue_figures_agree(demo_app, demo_tokens, cli_reports) -> None:  # type: ignore[no-untyped-def]
    """The company's forecast on the dashboard is the CLI's seasonal forecast (they differed by 1.7
    million yuan when the dashboard had a forecast of its own)."""
    body = TestClient(demo_app, headers={"Authorization": f"Bearer {demo_tokens['admin']}"}).get(
        f"/api/v1/dashboard?as_of={DAY}").json()
    assert body["forecast"]["p50"] == cli_reports["company"]["total"]["seasonal_forecast"]
    assert body["summary"]["status"] == cli_reports["company"]["total"]["status"]


def _page_statuses(html: str) -> dict[str, str]:
    """{node code: data-status} of the rows of a page's table."""
    return dict(re.findall(r'<tr data-node="([^"]+)">(?:(?!</tr>).)*?data-status="([^"]+)"', html, flags=re.DOTALL))


@pytest.mark.parametrize(("period", "by"), [("2026-11", "rep"), ("2026", "team"), ("2026Q3", "region")])
def test_the_diagnosis_page_status_is_the_clis(demo_app, demo_db, period: str, by: str) -> None:  # type: ignore[no-untyped-def]
    browser = TestClient(demo_app)
    sign_in(browser, "director", DEMO_PASSWORDS["director"])
    page = browser.get(f"/diagnosis?as_of={DAY}&period={period}&by={by}&vs=target")
    assert page.status_code == 200
    shown = _page_statuses(page.text)
    attainment = {r["key"][by]: r["status"] for r in report(demo_db, "attainment", "--period", period, "--by", by)["rows"]}
    diagnosis = report(demo_db, "diagnosis", "--period", period, "--by", by)
    assert shown and set(shown) == {r["node"] for r in diagnosis["rows"]}
    for row in diagnosis["rows"]:
        status = attainment.get(_node_id(demo_db, row["node"]))
        assert row["status"] == status, row["node"]
        assert shown[row["node"]] == (status or "no target").replace(" ", "_"), row["node"]


def _node_id(url: str, code: str) -> int:
    with make_session_factory(get_engine(url))() as session:
        return session.scalars(select(OrgNode.id).where(OrgNode.code == code)).one()


def test_the_dashboard_page_shows_the_api_statuses(demo_app, demo_tokens) -> None:  # type: ignore[no-untyped-def]
    api = TestClient(demo_app, headers={"Authorization": f"Bearer {demo_tokens['director']}"})
    browser = TestClient(demo_app)
    sign_in(browser, "director", DEMO_PASSWORDS["director"])
    for code in ("COMPANY", "EAST", "EAST-T1"):
        body = api.get(f"/api/v1/dashboard?as_of={DAY}&node={code}").json()
        html = browser.get(f"/dashboard?as_of={DAY}&node={code}").text
        expected = {r["node"]["code"]: (r["status"] or "no target").replace(" ", "_") for r in body["rows"]}
        assert expected and _page_statuses(html) == expected, code
