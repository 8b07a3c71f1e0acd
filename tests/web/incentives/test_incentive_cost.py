"""The plan-cost page (P10/P50/P90 of the forecast) per role on SQLite and PostgreSQL: the figures
are `incentives.cost.plan_cost`'s for the same user; reps may not open it; links from the plan,
the statements and the dashboard's what-if panel."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from attain.auth.service import require_user
from attain.incentives import service
from attain.incentives.cost import plan_cost
from attain.web.i18n import format_exact_yuan
from tests.web.incentives.conftest import AS_OF, PLAN

COST = f"/incentives/{PLAN}/cost"
TEAM = ["R001", "R002", "R003", "R004", "R005"]


@pytest.mark.parametrize(("user", "expected"), [("manager", TEAM), ("director", [*TEAM, "R018"])])
def test_cost_page_shows_the_service_figures_for_the_user(client_for, db: Session, user: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    page = client_for(user, "en").get(COST, params={"as_of": AS_OF.isoformat()})
    assert page.status_code == 200, page.text[:500]
    result = plan_cost(session=db, name=PLAN, as_of=AS_OF, user=require_user(session=db, username=user))
    assert result.period == "2026Q4"
    people = re.search(r'data-testid="cost-people".*?</table>', page.text, re.DOTALL)
    assert people and re.findall(r'<tr data-node="([^"]+)"', people.group(0)) == expected
    for scenario in ("p10", "p50", "p90"):
        shown = re.search(rf'data-testid="cost-total-{scenario}">([^<]+)<', page.text)
        assert shown and shown.group(1) == format_exact_yuan(result.total[scenario])
        assert re.findall(rf'data-testid="pay-{scenario}">([^<]+)<', page.text) == [format_exact_yuan(p.pay[scenario]) for p in result.people]
    assert result.total["p10"] <= result.total["p50"] <= result.total["p90"]
    assert "What the plan pays this period if every rep ends it at the P10, P50 or P90" in page.text


def test_cost_page_in_chinese_and_for_a_rep(client_for) -> None:  # type: ignore[no-untyped-def]
    zh = client_for("manager").get(COST, params={"as_of": AS_OF.isoformat(), "period": "2026Q4"})
    assert zh.status_code == 200 and "方案成本" in zh.text and "按团队" in zh.text
    assert client_for("rep").get(COST, params={"as_of": AS_OF.isoformat()}).status_code == 403
    assert client_for("manager").get(COST, params={"period": "2026-13"}).status_code == 422


def test_links_to_the_cost_page(client_for) -> None:  # type: ignore[no-untyped-def]
    manager = client_for("manager")
    assert 'data-testid="cost-link"' in manager.get(f"/incentives/{PLAN}").text
    panel = manager.get("/dashboard/what-if", params={"as_of": AS_OF.isoformat()}).text
    assert 'data-testid="what-if-cost-link"' in panel
    assert 'data-testid="what-if-cost-link"' not in client_for("rep").get("/dashboard/what-if", params={"as_of": AS_OF.isoformat()}).text


def test_api_what_if_for_a_team_and_a_sale(incentive_app, token_for, db: Session) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    api = TestClient(incentive_app)
    base = f"/api/v1/incentives/{PLAN}/what-if"
    params = {"extra": 10_000_000, "as_of": AS_OF.isoformat(), "team": "EAST-T1", "sale": "customer_type=new"}
    answer = api.get(base, params=params, headers=token_for("manager"))
    assert answer.status_code == 200, answer.text
    expected = service.team_what_if(session=db, name=PLAN, extra=10_000_000, as_of=AS_OF, team="EAST-T1", sale="customer_type=new",
                                    user=require_user(session=db, username="manager"))
    assert answer.json()["what_if"] == [w.as_dict() for w in expected]
    assert {w["rep"] for w in answer.json()["what_if"]} == set(TEAM) and all(w["sale"] == "customer_type=new" for w in answer.json()["what_if"])
    assert api.get(base, params={**params, "team": "SOUTH-T2"}, headers=token_for("manager")).status_code == 404  # not theirs
    assert api.get(base, params={**params, "sale": "colour=red"}, headers=token_for("manager")).status_code == 422
