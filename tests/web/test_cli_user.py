"""`attain user add | list | passwd | token | disable` as an administrator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from attain.auth import service as auth
from attain.cli.main import app
from attain.web.app import create_app
from tests.web.conftest import sign_in

runner = CliRunner()


def _attain(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ATTAIN_PASSWORD_HASH": "fast"}
    return subprocess.run([sys.executable, "-m", "attain.cli.main", *args], check=False, capture_output=True, text=True, env=env,
                          timeout=120)


def test_add_list_passwd_and_sign_in(org_session: Session, database_url: str) -> None:
    added = runner.invoke(app, ["user", "add", "zhang", "--role", "rep", "--rep", "R1", "--password", "first-pass-1",
                                "--db", database_url, "--json"])
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout) == {"username": "zhang", "display_name": "张三", "role": "rep", "node": "R1",
                                        "node_kind": "rep", "locale": None, "active": True}
    runner.invoke(app, ["user", "add", "li", "--role", "manager", "--node", "T1", "--name", "李经理",
                        "--password", "second-pass-2", "--locale", "en", "--db", database_url])
    listing = json.loads(runner.invoke(app, ["user", "list", "--db", database_url, "--json"]).stdout)
    assert [(u["username"], u["role"], u["node"], u["locale"]) for u in listing] == [
        ("li", "manager", "T1", "en"), ("zhang", "rep", "R1", None)]
    table = runner.invoke(app, ["user", "list", "--db", database_url]).stdout
    assert "zhang" in table and "李经理" in table
    changed = runner.invoke(app, ["user", "passwd", "zhang", "--password", "changed-pass-3", "--db", database_url])
    assert changed.exit_code == 0 and "sessions were ended" in changed.stdout
    sign_in(TestClient(create_app(database_url)), "zhang", "changed-pass-3")


def test_password_is_prompted_twice_when_not_given(org_session: Session, database_url: str) -> None:
    result = runner.invoke(app, ["user", "add", "wang", "--role", "admin", "--db", database_url],
                           input="prompted-pass-1\nprompted-pass-1\n")
    assert result.exit_code == 0, result.output
    assert auth.verify_password(auth.require_user(session=org_session, username="wang").password_hash, "prompted-pass-1")


def test_tokens_are_printed_once_and_work_as_bearer(org_session: Session, database_url: str) -> None:
    runner.invoke(app, ["user", "add", "bot", "--role", "admin", "--password", "bot-pass-11", "--db", database_url])
    token = runner.invoke(app, ["user", "token", "bot", "--label", "nightly", "--db", database_url]).stdout.strip()
    assert token.startswith("att_") and len(token) > 40
    client = TestClient(create_app(database_url))
    assert client.get("/api/v1/plans", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    revoked = runner.invoke(app, ["user", "token", "bot", "--revoke", "--db", database_url, "--json"])
    assert json.loads(revoked.stdout) == {"username": "bot", "revoked": 1}
    assert client.get("/api/v1/plans", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_mistakes_print_one_red_line_and_exit_1(org_session: Session, database_url: str) -> None:
    result = _attain("user", "add", "x", "--role", "rep", "--rep", "T1", "--password", "long-enough-1", "--db", database_url)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: a rep is attached to a rep, but T1 is a team"
    for args, message in (
        (["user", "add", "x", "--role", "rep", "--password", "long-enough-1"], "a rep needs --rep CODE"),
        (["user", "add", "x", "--role", "admin", "--password", "short"], "at least 8 characters"),
        (["user", "add", "x", "--role", "rep", "--rep", "R1", "--node", "T1", "--password", "long-enough-1"], "not both"),
        (["user", "passwd", "nobody", "--password", "long-enough-1"], "no user named 'nobody'"),
    ):
        failed = runner.invoke(app, [*args, "--db", database_url])
        assert failed.exit_code != 0 and message in str(failed.exception), (args, failed.exception)
    assert auth.list_users(session=org_session) == []
