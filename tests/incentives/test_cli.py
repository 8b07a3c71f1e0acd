"""`attain incentive …` end to end, as a user runs it (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attain.cli.main import app
from attain.db import get_engine, make_session_factory
from attain.errors import InvalidInput
from tests.incentives.test_service import PLAN, Q1, make_target_org, sale

runner = CliRunner()


@pytest.fixture
def db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr("attain.plans.service.current_day", lambda: date(2027, 12, 31))
    session = make_session_factory(get_engine(database_url))()
    try:
        ids = make_target_org(session)
        sale(session, ids, "R1-T1-1", 80_000_000)
    finally:
        session.close()
    return database_url


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_import_approve_statement_json_and_html(db: str, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN.format(name="激励", mode="marginal", joined="2027-01-01"), encoding="utf-8")
    run("incentive", "import-plan", str(plan), "--as", "wang", "--db", db)
    run("incentive", "submit", "激励", "--as", "wang", "--db", db)
    run("incentive", "approve", "激励", "--as", "zhao", "--db", db)
    payload = json.loads(run("incentive", "statement", "--plan", "激励", "--period", "2027Q1", "--rep", "R1-T1-1",
                             "--as-of", Q1[1].isoformat(), "--json", "--db", db))
    assert payload["status"] == "open" and payload["statements"][0]["total"] == 400_000 + 1_050_000
    out = tmp_path / "statements.html"
    run("incentive", "statement", "--plan", "激励", "--period", "2027Q1", "--out", str(out), "--as-of", "2027-03-31", "--db", db)
    assert "R1-T1-1" in out.read_text(encoding="utf-8")
    answer = json.loads(run("incentive", "what-if", "--plan", "激励", "--rep", "R1-T1-1", "--extra", "100000",
                            "--as-of", date(2027, 3, 31).isoformat(), "--json", "--db", db))
    assert answer["earned"] == 1_450_000 and answer["extra"] == 10_000_000


def test_bad_plan_file_is_one_message_naming_the_line(db: str, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN.format(name="激励", mode="marginal", joined="2027-01-01").replace("weight: 100", "weight: 90"),
                    encoding="utf-8")
    result = runner.invoke(app, ["incentive", "import-plan", str(plan), "--as", "wang", "--db", db])
    assert result.exit_code == 1 and isinstance(result.exception, InvalidInput)
    assert str(result.exception).startswith("line 7, components: weights of the target-incentive components sum to 90 %")
