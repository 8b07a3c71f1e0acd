"""A demo company per database (SQLite and PostgreSQL), built once per test session, and clients
signed in as each demo role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from attain.db import get_engine, make_session_factory
from attain.web.app import create_app
from tests.databases import demo_database

AS_OF = date(2026, 11, 23)
PASSWORDS = {"admin": "admin-demo-1", "director": "director-demo-1", "manager": "manager-demo-1", "rep": "rep-demo-1"}


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def demo_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database holding the demo company (year 2026, as of 2026-11-23) and its users."""
    with demo_database(request.param, tmp_path_factory.mktemp("pages"), "attain_pages", as_of=AS_OF) as url:
        yield url


@pytest.fixture(scope="session")
def app(demo_url: str):  # type: ignore[no-untyped-def]
    return create_app(demo_url)


def sign_in(client: TestClient, username: str, password: str | None = None) -> TestClient:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "the sign-in form carries a CSRF token"
    answer = client.post("/login", data={"username": username, "password": password or PASSWORDS[username],
                                         "csrf_token": token.group(1), "next": "/"}, follow_redirects=False)
    assert answer.status_code == 303, answer.text[:500]
    return client


def read_csrf(client: TestClient, path: str = "/dashboard") -> str:
    page = client.get(path, params={"as_of": AS_OF.isoformat()})
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert match
    return match.group(1)


@pytest.fixture(scope="session")
def demo_codes(demo_url: str) -> dict[str, str]:
    """Codes of the demo users' nodes ({"rep": ..., "manager": ..., "director": ...}) and of
    "other_rep", a rep of the same team who is not the signed-in rep."""
    from sqlalchemy import select

    from attain.auth.models import User
    from attain.org.models import OrgNode

    session = make_session_factory(get_engine(demo_url))()
    try:
        codes = {u.username: session.get(OrgNode, u.org_node_id).code  # type: ignore[union-attr]
                 for u in session.scalars(select(User)) if u.org_node_id is not None}
        rep = session.scalars(select(OrgNode).where(OrgNode.code == codes["rep"])).one()
        codes["other_rep"] = session.scalars(select(OrgNode.code).where(
            OrgNode.parent_id == rep.parent_id, OrgNode.kind == "rep", OrgNode.id != rep.id).order_by(OrgNode.code)).first()
        return codes
    finally:
        session.close()


@pytest.fixture
def csrf_of():  # type: ignore[no-untyped-def]
    """csrf_of(client) → the CSRF token of that client's signed-in session."""
    return read_csrf


@pytest.fixture
def client_for(app):  # type: ignore[no-untyped-def]
    """client_for("rep") → a TestClient signed in as that demo user (Chinese unless told otherwise)."""
    clients: list[TestClient] = []

    def make(username: str, locale: str = "zh-CN") -> TestClient:
        client = TestClient(app, headers={"accept-language": locale})
        clients.append(client)
        return sign_in(client, username)

    yield make
    for client in clients:
        client.close()
