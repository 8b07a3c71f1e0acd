"""GET /api/v1/dashboard: each role gets its own node's dashboard, never another's, money exact."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from attain.db import get_engine, make_session_factory
from attain.org.models import OrgNode

AS_OF = "as_of=2026-11-23"
OWN_NODE = {"admin": "COMPANY", "director": "COMPANY", "east": "EAST", "manager": "EAST-T1", "rep": "R002", "rep3": "R003"}
STATUSES = {"ahead", "on track", "at risk", "behind"}  # tracking's (attain.tracking.calc.status_of)


def _client(demo_app, demo_tokens: dict[str, str], who: str) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(demo_app, headers={"Authorization": f"Bearer {demo_tokens[who]}"}, raise_server_exceptions=False)


def _yuan(text: str) -> Decimal:
    """A money figure of the payload: a string with exactly two decimals, never a float."""
    assert isinstance(text, str) and Decimal(text) == Decimal(text).quantize(Decimal("0.01")) and "." in text, text
    return Decimal(text)


@pytest.fixture(scope="module")
def children(demo_db: str) -> dict[str, set[str]]:
    """Codes of each node's children."""
    with make_session_factory(get_engine(demo_db))() as session:
        codes = dict(session.execute(select(OrgNode.id, OrgNode.code)).all())
        found: dict[str, set[str]] = {code: set() for code in codes.values()}
        for code, parent in session.execute(select(OrgNode.code, OrgNode.parent_id)).all():
            if parent is not None:
                found[codes[parent]].add(code)
        return found


@pytest.mark.parametrize("who", list(OWN_NODE))
def test_each_role_gets_the_dashboard_of_its_own_node(demo_app, demo_tokens, children, who: str) -> None:  # type: ignore[no-untyped-def]
    response = _client(demo_app, demo_tokens, who).get(f"/api/v1/dashboard?{AS_OF}")
    assert response.status_code == 200, response.text[:300]
    body = response.json()
    assert body["node"]["code"] == OWN_NODE[who] and body["as_of"] == "2026-11-23"
    assert body["plan"]["name"] == "FY2026" and body["plan"]["start"] == "2026-01-01"
    assert body["period"] == "2026" and body["time_progress"]["calendar_share"] == "0.8959"  # 327 of 365 days
    months = body["months"]
    assert [m["month"] for m in months] == [f"2026-{m:02d}" for m in range(1, 13)]
    summary = body["summary"]
    assert _yuan(summary["actual"]) == sum(_yuan(m["actual"]) for m in months) > 0
    assert _yuan(summary["target"]) == sum(_yuan(m["target"]) for m in months) > 0
    assert Decimal(summary["attainment"]) == (_yuan(summary["actual"]) / _yuan(summary["target"])).quantize(Decimal("0.0001"))
    assert summary["status"] in STATUSES
    forecast = body["forecast"]
    assert forecast["basis"] == "seasonal" and forecast["p50"] == summary["seasonal_forecast"]
    assert _yuan(summary["actual"]) <= _yuan(forecast["p10"]) <= _yuan(forecast["p50"]) <= _yuan(forecast["p90"])
    assert {r["node"]["code"] for r in body["rows"]} <= children[OWN_NODE[who]]
    if who.startswith("rep"):
        assert body["rows"] == []
    else:
        assert body["rows"]
    for row in body["rows"]:
        assert row["status"] in STATUSES
        _yuan(row["actual"]), _yuan(row["target"]), _yuan(row["expected_to_date"])
    attainments = [Decimal(r["attainment"]) for r in body["rows"] if r["attainment"] is not None]
    assert attainments == sorted(attainments, reverse=True)


def test_the_rep_figure_matches_the_attainment_api(demo_app, demo_tokens) -> None:  # type: ignore[no-untyped-def]
    rep = _client(demo_app, demo_tokens, "rep")
    dashboard = rep.get(f"/api/v1/dashboard?{AS_OF}").json()
    attainment = rep.get(f"/api/v1/attainment?period=2026&{AS_OF}").json()
    assert dashboard["summary"]["actual"] == attainment["total"]["actual"]


@pytest.mark.parametrize(("who", "other"), [("rep", "R003"), ("rep3", "R002"), ("rep", "EAST-T1"), ("rep", "COMPANY"),
                                             ("manager", "EAST-T2"), ("manager", "EAST"), ("east", "SOUTH")])
def test_a_node_outside_the_scope_gets_404_and_no_figures(demo_app, demo_tokens, who: str, other: str) -> None:  # type: ignore[no-untyped-def]
    response = _client(demo_app, demo_tokens, who).get(f"/api/v1/dashboard?{AS_OF}&node={other}")
    assert response.status_code == 404
    assert response.json()["detail"] == f"no rep, team or region '{other}' that you can see"
    assert response.json()["params"] == {"key": other}


@pytest.mark.parametrize(("who", "node"), [("manager", "R002"), ("east", "EAST-T2"), ("director", "R003"), ("admin", "SOUTH")])
def test_a_node_inside_the_scope_can_be_drilled_into(demo_app, demo_tokens, who: str, node: str) -> None:  # type: ignore[no-untyped-def]
    body = _client(demo_app, demo_tokens, who).get(f"/api/v1/dashboard?{AS_OF}&node={node}").json()
    assert body["node"]["code"] == node


def test_a_manager_sees_the_same_figures_as_the_rep_for_the_rep(demo_app, demo_tokens) -> None:  # type: ignore[no-untyped-def]
    own = _client(demo_app, demo_tokens, "rep").get(f"/api/v1/dashboard?{AS_OF}").json()
    drilled = _client(demo_app, demo_tokens, "manager").get(f"/api/v1/dashboard?{AS_OF}&node=R002").json()
    assert own == drilled


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("as_of=yesterday", 422, "not a date"), ("as_of=2026-02-30", 422, "not a date"),
        ("as_of=" + "9" * 20, 422, "as_of"), ("node=" + "N" * 100, 422, "node"), ("node=NOPE", 404, "NOPE"),
        ("plan=nope", 404, "nope"), ("plan=" + "p" * 150, 422, "plan"), ("node=%00", None, ""),
    ],
)
def test_bad_parameters_get_a_4xx_message(demo_app, demo_tokens, query: str, status: int | None, words: str) -> None:  # type: ignore[no-untyped-def]
    response = _client(demo_app, demo_tokens, "admin").get(f"/api/v1/dashboard?{query}")
    assert response.status_code == status if status else 400 <= response.status_code < 500, response.text[:300]
    detail = response.json()["detail"]
    assert words in (detail if isinstance(detail, str) else str(detail))


def test_token_auth_is_required(demo_app, demo_tokens) -> None:  # type: ignore[no-untyped-def]
    anonymous = TestClient(demo_app).get(f"/api/v1/dashboard?{AS_OF}")
    assert anonymous.status_code == 401 and anonymous.json() == {"detail": "sign in first"}
    bad = TestClient(demo_app, headers={"Authorization": "Bearer att_not-a-token"}).get(f"/api/v1/dashboard?{AS_OF}")
    assert bad.status_code == 401 and bad.json() == {"detail": "invalid or revoked API token"}
    assert _client(demo_app, demo_tokens, "rep").get(f"/api/v1/dashboard?{AS_OF}").status_code == 200
