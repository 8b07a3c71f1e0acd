"""`attain report actuals|attainment|leaderboard` end to end on the demo company, with --json."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attain.cli.main import app

runner = CliRunner()


def report(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["report", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_actuals_json_rows_add_up_to_the_total(demo_url: str) -> None:
    payload = report("actuals", "--db", demo_url, "--period", "2026Q2", "--by", "region")
    assert payload["by"] == ["region"] and payload["unit"] == "CNY"
    assert {row["labels"]["region"] for row in payload["rows"]} == {"华东", "华南", "华北"}
    assert sum(Decimal(r["value"]) for r in payload["rows"]) == Decimal(payload["total"])
    assert payload["total"].count(".") == 1 and len(payload["total"].split(".")[1]) == 2  # exact yuan.fen


def test_actuals_counts_are_integers(demo_url: str) -> None:
    payload = report("actuals", "--db", demo_url, "--period", "2026-03", "--metric", "orders")
    assert isinstance(payload["total"], int) and payload["total"] > 0


def test_attainment_json_has_every_figure(demo_url: str) -> None:
    payload = report("attainment", "--db", demo_url, "--period", "2026Q4", "--by", "team", "--as-of", "2026-11-23")
    assert payload["plan"] == "FY2026" and payload["as_of"] == "2026-11-23"
    row = payload["rows"][0]
    for field in ("actual", "target", "target_source", "attainment", "time_progress_calendar", "time_progress_working",
                  "pace_gap", "expected_to_date", "run_rate_forecast", "seasonal_forecast", "required_daily", "status"):
        assert row[field] is not None, field
    assert row["status"] in ("ahead", "on track", "at risk", "behind")
    total = payload["total"]
    assert Decimal(total["attainment"]) == (Decimal(total["actual"]) / Decimal(total["target"])).quantize(Decimal("0.0001"))
    assert payload["time_progress"]["days"] == 92 and payload["time_progress"]["days_elapsed"] == 54


def test_leaderboard_json(demo_url: str) -> None:
    payload = report("leaderboard", "--db", demo_url, "--period", "2026-10", "--by", "team", "--as-of", "2026-10-31")
    ranks = [row["rank"] for row in payload["rows"]]
    assert ranks == sorted(ranks) and ranks[0] == 1
    assert set(payload["rows"][0]["milestones"]["reached"]) == {"25%", "50%", "75%", "100%"}


def test_duckdb_engine_on_a_file_gives_the_same_json(demo_url: str, demo_parquet: Path) -> None:
    args = ["--db", demo_url, "--period", "2026-09", "--by", "region,product_line"]
    on_db = report("actuals", *args)
    on_file = report("actuals", *args, "--engine", "duckdb", "--orders", str(demo_parquet))
    assert on_file.pop("engine") == "duckdb" and on_db.pop("engine") in ("sqlite", "postgresql")
    assert on_file == on_db


def test_tables_print_in_chinese_with_wan(demo_url: str) -> None:
    result = runner.invoke(app, ["report", "actuals", "--db", demo_url, "--period", "2026Q1", "--by", "region"])
    assert result.exit_code == 0 and "万" in result.stdout and "合计" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["actuals", "--period", "2026Q9"], "'2026Q9' is not a period"),
    (["actuals", "--period", "2026", "--by", "colour"], "cannot report by 'colour'"),  # city is a customer attribute (issue 17)
    (["attainment", "--period", "2030"], "no approved plan covers 2030"),
    (["attainment", "--period", "2026", "--metric", "orders"], "sets revenue targets, not orders"),
    (["actuals", "--period", "2026", "--engine", "duckdb"], "needs --orders"),
    (["actuals", "--period", "2026", "--as-of", "tomorrow"], "--as-of 'tomorrow'"),
])
def test_bad_input_prints_one_red_line_and_exits_1(demo_url: str, args: list[str], message: str) -> None:
    if not demo_url.startswith("sqlite"):
        pytest.skip("error handling is the same on every database; checked once on SQLite")
    result = subprocess.run([sys.executable, "-m", "attain.cli.main", "report", *args, "--db", demo_url],
                            check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
