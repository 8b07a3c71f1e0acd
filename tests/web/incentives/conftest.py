"""A demo company with an approved incentive plan, per database (SQLite and PostgreSQL), built once
for these tests (the shared page demo is left alone), and clients signed in as each role.

The plan is docs/examples/incentives-2026.yaml (销售激励2026: R001 as manager of EAST-T1, R002–R005
and R018 as reps), imported by the director and approved by the admin; 2026Q2 is closed. Users:
the four demo users (rep = R002, manager = EAST-T1, director = COMPANY, admin), rep3 = R003 (the
demo rep's teammate) and east = director of EAST.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from attain.auth import service as auth
from attain.db import get_engine, make_session_factory
from attain.incentives import service
from attain.web.app import create_app
from tests.databases import demo_database

AS_OF = date(2026, 11, 23)
PLAN = "销售激励2026"
PLAN_FILE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "incentives-2026.yaml"
PASSWORDS = {"admin": "admin-demo-1", "director": "director-demo-1", "manager": "manager-demo-1", "rep": "rep-demo-1",
             "rep3": "secret-pass-1", "east": "secret-pass-1"}


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def incentive_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_database(request.param, tmp_path_factory.mktemp("incentive-web"), "attain_incentive_web", as_of=AS_OF) as url:
        with make_session_factory(get_engine(url))() as session:
            auth.create_user(session=session, username="rep3", password=PASSWORDS["rep3"], role="rep", node_key="R003")
            auth.create_user(session=session, username="east", password=PASSWORDS["east"], role="director", node_key="EAST")
            service.import_plan(session=session, path=PLAN_FILE, by="director")
            service.submit_plan(session=session, name=PLAN, by="director")
            service.approve_plan(session=session, name=PLAN, by="admin")
            service.close_period(session=session, name=PLAN, period="2026Q2", by="director", as_of=date(2026, 7, 5))
        yield url


@pytest.fixture(scope="session")
def incentive_app(incentive_url: str):  # type: ignore[no-untyped-def]
    return create_app(incentive_url)


@pytest.fixture
def db(incentive_url: str) -> Iterator:  # type: ignore[type-arg]
    """A session on the incentive demo, to ask the service what a page must show."""
    with make_session_factory(get_engine(incentive_url))() as session:
        yield session


def _sign_in(client: TestClient, username: str) -> TestClient:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    answer = client.post("/login", data={"username": username, "password": PASSWORDS[username], "csrf_token": token.group(1)},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text[:300]
    return client


def csrf(client: TestClient) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/incentives").text)
    assert found
    return found.group(1)


@pytest.fixture
def client_for(incentive_app):  # type: ignore[no-untyped-def]
    """client_for("rep", locale="en") → a TestClient signed in as that user."""
    clients: list[TestClient] = []

    def make(username: str, locale: str = "zh-CN") -> TestClient:
        client = TestClient(incentive_app, headers={"accept-language": locale})
        clients.append(client)
        return _sign_in(client, username)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def token_for(incentive_url: str):  # type: ignore[no-untyped-def]
    """token_for("rep") → Authorization headers with a fresh API token of that user."""

    def make(username: str) -> dict[str, str]:
        with make_session_factory(get_engine(incentive_url))() as session:
            token = auth.create_token(session=session, user=auth.require_user(session=session, username=username))
        return {"Authorization": f"Bearer {token}"}

    return make
