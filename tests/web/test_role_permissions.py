"""Role permissions per company (issue 19), on SQLite and PostgreSQL: a director may not import by
default (page, API and menu), may once the company's import_roles says so; the setting is checked and
an admin always keeps the right."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from attain.auth import service as auth
from attain.auth.permissions import roles_for
from attain.cli.main import app as cli
from attain.db import get_engine, make_session_factory
from attain.errors import InvalidInput
from attain.org.service import ensure_root
from attain.settings.service import set_setting
from attain.web.app import create_app
from tests.web.conftest import PASSWORD, sign_in


@pytest.fixture
def people(database_url: str) -> dict[str, str]:
    """API tokens of an admin and a director of a new company (users aaa and ddd)."""
    with make_session_factory(get_engine(database_url))() as session:
        ensure_root(session=session)
        session.commit()
        users = {role: auth.create_user(session=session, username=role[:1] * 3, password=PASSWORD, role=role)
                 for role in ("admin", "director")}
        return {role: auth.create_token(session=session, user=user) for role, user in users.items()}


def _allow(database_url: str, value: str) -> None:
    with make_session_factory(get_engine(database_url))() as session:
        set_setting(session, "import_roles", value)
        session.commit()


def _upload(client: TestClient, token: str) -> int:
    return client.post("/api/v1/imports", headers={"Authorization": f"Bearer {token}"}, data={"kind": "nope"},
                       files={"file": ("a.csv", b"a\n1\n", "text/csv")}).status_code


def test_a_director_imports_only_when_the_company_allows_it(database_url: str, people: dict[str, str]) -> None:
    director = TestClient(create_app(database_url))
    sign_in(director, "ddd", PASSWORD)
    assert director.get("/imports").status_code == 403
    assert 'href="/imports"' not in director.get("/").text
    assert _upload(director, people["director"]) == 403
    assert _upload(director, people["admin"]) == 422  # past the permission: the kind is checked

    _allow(database_url, "admin,director")
    assert director.get("/imports").status_code == 200
    assert 'href="/imports"' in director.get("/").text
    assert _upload(director, people["director"]) == 422

    _allow(database_url, "director")  # the admin is kept even when left out
    assert _upload(director, people["admin"]) == 422


def test_the_setting_is_checked(session: Session) -> None:
    assert roles_for(session=session, permission="import") == ("admin",)
    assert set_setting(session, "import_roles", "Director，manager") == "admin,director,manager"
    assert roles_for(session=session, permission="import") == ("admin", "director", "manager")
    with pytest.raises(InvalidInput, match="unknown roles boss"):
        set_setting(session, "import_roles", "admin,boss")


def test_cli_sets_the_roles(database_url: str) -> None:
    result = CliRunner().invoke(cli, ["config", "set", "import_roles", "director", "--db", database_url])
    assert result.exit_code == 0, result.output
    with make_session_factory(get_engine(database_url))() as session:
        assert roles_for(session=session, permission="import") == ("admin", "director")
