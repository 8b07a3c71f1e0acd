"""Web platform fixtures: a demo company per database (built once per session), a small org for
write tests, and helpers to sign in through the real login form."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from attain.auth import service as auth
from attain.db import get_engine, make_session_factory
from attain.org.service import create_node, ensure_root
from attain.web.app import create_app
from tests.databases import demo_database

os.environ.setdefault("ATTAIN_PASSWORD_HASH", "fast")  # argon2 at full cost makes every sign-in ~1 s on a busy CI box

DEMO_AS_OF = date(2026, 11, 23)
DEMO_PASSWORDS = {"admin": "admin-demo-1", "director": "director-demo-1", "manager": "manager-demo-1", "rep": "rep-demo-1"}
PASSWORD = "secret-pass-1"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def demo_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database with the demo company (2026, as of 2026-11-23) and its four users."""
    with demo_database(request.param, tmp_path_factory.mktemp("platform"), "attain_platform", as_of=DEMO_AS_OF) as url:
        with make_session_factory(get_engine(url))() as session:
            # A second rep in the same team as the demo rep, to prove reps cannot see each other.
            auth.create_user(session=session, username="rep3", password=PASSWORD, role="rep", node_key="R003")
            auth.create_user(session=session, username="east", password=PASSWORD, role="director", node_key="EAST")
        yield url


@pytest.fixture(scope="session")
def demo_app(demo_db: str):  # type: ignore[no-untyped-def]
    return create_app(demo_db)


@pytest.fixture(scope="session")
def demo_tokens(demo_db: str) -> dict[str, str]:
    """An API token per demo user (admin, director, east, manager, rep, rep3)."""
    with make_session_factory(get_engine(demo_db))() as session:
        return {name: auth.create_token(session=session, user=auth.require_user(session=session, username=name))
                for name in ("admin", "director", "east", "manager", "rep", "rep3")}


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str) -> str:
    """Sign in through the login form; returns the session's CSRF token."""
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303, response.text[:500]
    return csrf_from(client.get("/account/password").text)


@pytest.fixture
def org_session(session: Session) -> Session:
    """A small organisation: COMPANY > EAST > T1 (R1, R2), T2 (R3); WEST > W1 (R4)."""
    root = ensure_root(session=session)
    east = create_node(session=session, code="EAST", name="华东", kind="region", parent_id=root)
    west = create_node(session=session, code="WEST", name="华西", kind="region", parent_id=root)
    t1 = create_node(session=session, code="T1", name="上海团队", kind="team", parent_id=east)
    t2 = create_node(session=session, code="T2", name="杭州团队", kind="team", parent_id=east)
    w1 = create_node(session=session, code="W1", name="成都团队", kind="team", parent_id=west)
    for code, name, team in (("R1", "张三", t1), ("R2", "李四", t1), ("R3", "王五", t2), ("R4", "赵六", w1)):
        create_node(session=session, code=code, name=name, kind="rep", parent_id=team)
    session.commit()
    return session


@pytest.fixture
def fixtures_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "fixtures"
