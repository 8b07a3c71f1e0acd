"""/api/v1/incentives: plans, statements and what-if with the pages' access rules (SQLite and
PostgreSQL); the bodies are the service's `as_dict()` for the same user."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from attain.auth.service import require_user
from attain.incentives import service
from tests.web.incentives.conftest import AS_OF, PLAN

BASE = f"/api/v1/incentives/{PLAN}"
TEAM = ["R001", "R002", "R003", "R004", "R005"]


@pytest.fixture
def api(incentive_app) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(incentive_app)


def test_plans(api: TestClient, token_for) -> None:  # type: ignore[no-untyped-def]
    answer = api.get("/api/v1/incentives", headers=token_for("rep"))
    assert answer.status_code == 200
    plan = next(p for p in answer.json()["plans"] if p["name"] == PLAN)
    assert plan["in_force"] == 1 and "commission" in plan["components"]


@pytest.mark.parametrize(("user", "expected"), [("rep", ["R002"]), ("manager", TEAM), ("director", [*TEAM, "R018"])])
def test_statements_per_role(api: TestClient, token_for, db: Session, user: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    answer = api.get(f"{BASE}/statements/2026Q3", params={"as_of": AS_OF.isoformat()}, headers=token_for(user))
    assert answer.status_code == 200
    body = answer.json()
    assert [s["code"] for s in body["statements"]] == expected
    result = service.statements(session=db, name=PLAN, period="2026Q3", as_of=AS_OF, user=require_user(session=db, username=user))
    assert body == result.as_dict()
    assert body["total"] == sum(s["total"] for s in body["statements"])  # visible rows only


def test_one_statement_and_404_for_another_rep(api: TestClient, token_for) -> None:  # type: ignore[no-untyped-def]
    rep = token_for("rep")
    own = api.get(f"{BASE}/statements/2026Q3/R002", params={"as_of": AS_OF.isoformat()}, headers=rep)
    assert own.status_code == 200
    lines = own.json()["statement"]["lines"]
    assert lines[-1]["step"] == "total" and own.json()["statement"]["total"] == sum(li["amount"] or 0 for li in lines)
    other = api.get(f"{BASE}/statements/2026Q3/R003", params={"as_of": AS_OF.isoformat()}, headers=rep)
    assert other.status_code == 404 and "R003" in other.json()["detail"]
    assert api.get(f"{BASE}/statements/2026Q3/R018", headers=token_for("manager")).status_code == 404
    closed = api.get(f"{BASE}/statements/2026Q2/R002", headers=rep).json()
    assert closed["status"] == "closed" and [s["code"] for s in closed["statements"]] == ["R002"]


@pytest.mark.parametrize(("user", "expected"), [("rep", ["R002"]), ("manager", TEAM)])
def test_what_if_for_everyone_visible(api: TestClient, token_for, db: Session, user: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    answer = api.get(f"{BASE}/what-if", params={"as_of": AS_OF.isoformat(), "extra": 10_000_000}, headers=token_for(user))
    assert answer.status_code == 200
    found = answer.json()["what_if"]
    assert [w["rep"] for w in found] == expected
    one = service.what_if(session=db, name=PLAN, rep="R002", extra=10_000_000, as_of=AS_OF)
    assert next(w for w in found if w["rep"] == "R002") == one.as_dict()


def test_what_if_of_another_rep_is_404(api: TestClient, token_for) -> None:  # type: ignore[no-untyped-def]
    rep = token_for("rep")
    assert api.get(f"{BASE}/what-if", params={"rep": "R003", "as_of": AS_OF.isoformat()}, headers=rep).status_code == 404
    mine = api.get(f"{BASE}/what-if", params={"rep": "R002", "as_of": AS_OF.isoformat(), "period": "2026Q3"}, headers=rep)
    assert mine.status_code == 200 and mine.json()["what_if"][0]["period"] == "2026Q3"


@pytest.mark.parametrize(("path", "params", "status"), [
    (f"{BASE}/statements/2026Q5", {}, 422),
    (f"{BASE}/statements/2026-07", {}, 422),  # a quarterly plan
    (f"{BASE}/statements/2025Q1", {}, 422),  # outside the plan year
    (f"{BASE}/statements/2026Q3", {"as_of": "2026-02-30"}, 422),
    (f"{BASE}/what-if", {"extra": -1}, 422),
    ("/api/v1/incentives/没有这个方案/statements/2026Q3", {}, 404),
    ("/api/v1/incentives/没有这个方案/what-if", {}, 404),
])
def test_bad_requests(api: TestClient, token_for, path: str, params: dict[str, object], status: int) -> None:  # type: ignore[no-untyped-def]
    answer = api.get(path, params=params, headers=token_for("manager"))
    assert answer.status_code == status, answer.text
    assert answer.json()["detail"]


def test_api_needs_a_token(api: TestClient) -> None:
    assert api.get(f"{BASE}/statements/2026Q3").status_code == 401
    assert api.get(f"{BASE}/what-if").status_code == 401
