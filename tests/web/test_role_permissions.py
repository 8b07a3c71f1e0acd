"""Role permissions per company (issue 19), on SQLite and PostgreSQL: a director may not import by
default (page, API and menu), may once the company's import_roles says so; the setting is checked and
an admin always keeps the right."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from attain.auth import service as auth
from attain.auth.permissions import PERMISSIONS, roles_for
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


# --- the generic table: plan editing, approval, calendar, settings (web, API, menu) ---------------------

@pytest.fixture
def staff(database_url: str) -> dict[str, str]:
    """API tokens of an admin (aaa), a director (ddd) and a manager of team T1 (mmm)."""
    from attain.org.service import create_node

    with make_session_factory(get_engine(database_url))() as session:
        root = ensure_root(session=session)
        create_node(session=session, code="T1", name="上海团队", kind="team", parent_id=root)
        session.commit()
        users = {"admin": auth.create_user(session=session, username="aaa", password=PASSWORD, role="admin"),
                 "director": auth.create_user(session=session, username="ddd", password=PASSWORD, role="director"),
                 "manager": auth.create_user(session=session, username="mmm", password=PASSWORD, role="manager",
                                             node_key="T1")}
        return {role: auth.create_token(session=session, user=user) for role, user in users.items()}


def _set(database_url: str, key: str, value: str) -> None:
    with make_session_factory(get_engine(database_url))() as session:
        set_setting(session, key, value)
        session.commit()


def _patch(client: TestClient, token: str) -> Any:
    return client.patch("/api/v1/plans/FY2026/cells/1", headers={"Authorization": f"Bearer {token}"},
                        json={"expect": 1, "value": 100})


def test_the_defaults_are_what_the_roles_always_could(session: Session) -> None:
    assert {p: roles_for(session=session, permission=p) for p in PERMISSIONS} == {
        "import": ("admin",), "plan_edit": ("admin", "director", "manager"), "plan_approve": ("admin", "director"),
        "calendar": ("admin",), "settings": ("admin",)}


def test_plan_editing_follows_the_setting_on_the_web_and_the_api(database_url: str, staff: dict[str, str]) -> None:
    manager = TestClient(create_app(database_url))
    sign_in(manager, "mmm", PASSWORD)
    assert manager.get("/plans").status_code == 200 and 'href="/plans"' in manager.get("/").text
    assert _patch(manager, staff["manager"]).status_code == 404  # past the permission: no such plan

    _set(database_url, "permission.plan_edit", "admin,director")
    assert manager.get("/plans").status_code == 403
    assert 'href="/plans"' not in manager.get("/").text
    refused = _patch(manager, staff["manager"])
    assert refused.status_code == 403 and refused.json()["code"] == "permission.denied"
    assert _patch(manager, staff["director"]).status_code == 404


def test_calendar_and_settings_pages_follow_the_setting(database_url: str, staff: dict[str, str]) -> None:
    director = TestClient(create_app(database_url))
    sign_in(director, "ddd", PASSWORD)
    assert director.get("/calendar").status_code == 403 and director.get("/settings").status_code == 403
    _set(database_url, "permission.calendar", "director")
    assert director.get("/calendar").status_code == 200
    assert 'href="/calendar"' in director.get("/").text and 'href="/settings"' not in director.get("/").text


def test_the_settings_page_shows_the_table_in_both_languages(database_url: str, staff: dict[str, str]) -> None:
    _set(database_url, "permission.plan_approve", "admin,director,manager")
    admin = TestClient(create_app(database_url))
    sign_in(admin, "aaa", PASSWORD)
    page = admin.get("/settings", cookies={"attain_locale": "zh_CN"})
    assert page.status_code == 200 and "角色权限" in page.text and "批准和锁定计划" in page.text
    roles = re.search(r'data-testid="roles-plan_approve">([^<]*)<', page.text)
    assert roles and roles.group(1) == "管理员、总监、经理"
    assert "permission.plan_approve" in page.text and 'href="/settings"' in page.text
    english = admin.get("/settings", cookies={"attain_locale": "en"})
    assert "Role permissions" in english.text and "Approve and lock plans" in english.text


def test_an_unknown_role_is_refused_with_the_names(session: Session) -> None:
    with pytest.raises(InvalidInput, match="names unknown roles boss, chief; roles are admin, director, manager, rep"):
        set_setting(session, "permission.calendar", "chief,boss")
