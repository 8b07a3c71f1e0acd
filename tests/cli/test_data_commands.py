"""The database commands end to end: init, import, status, demo — as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attain.cli.main import app

ATTAIN = [sys.executable, "-m", "attain.cli.main"]
runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ATTAIN, *args], check=False, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_init_is_idempotent(database_url: str) -> None:
    result = runner.invoke(app, ["init", "--db", database_url, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["revision"] == json.loads(result.stdout)["from_revision"]


def test_import_then_status_json(database_url: str, fixtures: Path) -> None:
    result = runner.invoke(app, ["import", "orders", str(fixtures / "orders_zh.csv"), "--db", database_url, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["inserted"], summary["updated"], summary["unchanged"], summary["errors"]) == (3, 0, 0, [])
    status = json.loads(runner.invoke(app, ["status", "--db", database_url, "--json"]).stdout)
    assert status["counts"]["order_lines"] == 3
    assert status["revenue_by_year"] == [{"year": 2026, "revenue": "13334.40", "lines": 3}]


def test_import_twice_changes_nothing(database_url: str, fixtures: Path) -> None:
    args = ["import", "orders", str(fixtures / "orders_zh.csv"), "--db", database_url, "--json"]
    runner.invoke(app, args)
    second = json.loads(runner.invoke(app, args).stdout)
    assert (second["inserted"], second["updated"], second["unchanged"]) == (0, 0, 3)


def test_db_defaults_to_attain_db_in_current_directory(tmp_path: Path, fixtures: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    assert run("init", env=env, cwd=tmp_path).returncode == 0
    assert (tmp_path / "attain.db").exists()


def test_environment_variable_selects_database(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "ATTAIN_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    assert run("init", env=env, cwd=tmp_path).returncode == 0
    assert (tmp_path / "x.db").exists()


def test_command_on_database_without_schema_says_run_init(tmp_path: Path) -> None:
    result = run("status", "--db", f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.returncode == 1
    assert "attain init" in result.stderr
    assert "Traceback" not in result.stderr


def test_rejected_import_exits_1_with_row_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    run("init", "--db", url)
    bad = tmp_path / "bad.csv"
    bad.write_text("订单号,日期,金额\nA1,2026-01-01,12x\nA2,2026-13-01,5\n", encoding="utf-8")
    result = run("import", "orders", str(bad), "--db", url, "--json")
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    assert [(e["line"], e["column"]) for e in payload["errors"]] == [(2, "金额"), (3, "日期")]
    human = run("import", "orders", str(bad), "--db", url)
    assert human.returncode == 1 and "line 2, 金额" in human.stderr and "Traceback" not in human.stderr


def test_unknown_import_kind_is_a_one_line_error(tmp_path: Path) -> None:
    result = run("import", "invoices", "x.csv", "--db", f"sqlite:///{tmp_path / 'a.db'}")
    assert result.returncode == 1
    assert "unknown import kind" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_demo_json_is_deterministic_and_idempotent(database_url: str) -> None:
    args = ["demo", "--seed", "7", "--year", "2026", "--as-of", "2026-06-30", "--db", database_url, "--json"]
    first = json.loads(runner.invoke(app, args).stdout)
    second = json.loads(runner.invoke(app, args).stdout)
    assert first["order_lines"]["inserted"] > 50_000
    assert second["order_lines"] == {"inserted": 0, "updated": 0, "unchanged": first["order_lines"]["inserted"]}
    assert first["plan_cells"] == second["plan_cells"]


@pytest.mark.parametrize(("args", "message"), [
    (["report", "attainment"], "Missing option '--period'"),
    (["report", "attainment", "--period", "2026", "--bogus"], "No such option: --bogus"),
    (["import"], "Missing argument"),
    (["report", "actuals", "--period", "2026", "--json", "--limit", "x"], "No such option"),
])
def test_usage_mistakes_print_clicks_message_not_a_traceback(tmp_path: Path, args: list[str], message: str) -> None:
    result = run(*args, "--db", f"sqlite:///{tmp_path / 'a.db'}") if args[-1] != "import" else run(*args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
