"""`attain credit …` end to end, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attain.cli.main import app
from attain.errors import AttainError

runner = CliRunner()

ORDERS = """订单号,下单日期,销售员,区域,客户,产品,金额
K1,2027-03-02,张三,华东,C1,P1,100.01
K2,2027-03-09,李四,华东,C2,P1,20.00
"""


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> str:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS, encoding="utf-8")
    result = runner.invoke(app, ["import", "orders", str(path), "--db", database_url, "--json"])
    assert result.exit_code == 0, result.output
    return database_url


def invoke(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def fails(*args: str) -> str:
    """The message of the user error a command stops with (cli.main prints it in red, exit 1)."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 1 and isinstance(result.exception, AttainError), result.output
    return str(result.exception)


def test_set_split_then_explain_json(db: str) -> None:
    splits = invoke("credit", "set", "--order", "K1", "--rep", "张三:50", "--rep", "李四:50", "--db", db)
    assert [(s["rep"], s["percent"]) for s in splits["splits"]] == [("张三", "50"), ("李四", "50")]
    report = invoke("credit", "explain", "--rep", "李四", "--period", "2027-03", "--db", db)
    assert [(line["order"], line["rule"], line["amount"]) for line in report["lines"]] == [("K1", "split", 5001), ("K2", "order_rep", 2000)]
    assert report["total"] == 7001
    metric = invoke("metric", "value", "revenue", "--period", "2027-03", "--by", "rep", "--db", db)
    assert {r["name"]: r["value"] for r in metric["rows"]}["李四"] == "70.01"


def test_split_not_summing_to_100_exits_1_naming_the_order(db: str) -> None:
    message = fails("credit", "set", "--order", "K1", "--rep", "张三:50", "--rep", "李四:40", "--db", db)
    assert message == "order K1: direct shares sum to 90 %, expected 100 %"
    assert "needs a percentage" in fails("credit", "set", "--order", "K1", "--rep", "张三", "--db", db)


def test_rules_show_and_set(db: str) -> None:
    assert invoke("credit", "rules", "--db", db)["event"] == "booked"
    changed = invoke("credit", "rules", "--event", "paid", "--returns-in", "sale", "--db", db)
    assert (changed["event"], changed["returns_in"], changed["exclude_returns"]) == ("paid", "sale", False)
    assert "event 'delivered' is not one of booked" in fails("credit", "rules", "--event", "delivered", "--db", db)


def test_overlay_rollup_rate_and_move(db: str) -> None:
    overlay = invoke("credit", "overlay", "--rep", "李四", "--order", "K1", "--db", db)
    assert overlay["share_percent"] == "100"
    rollup = invoke("credit", "rollup", "华东", "--period", "2027-03", "--db", db)
    # Reps created by the import sit directly under their region: both sales count once.
    assert (rollup["direct"], rollup["own_overlay"]) == (12001, 0)
    assert invoke("credit", "rollup", "李四", "--period", "2027-03", "--db", db)["own_overlay"] == 10001
    rates = invoke("credit", "rate", "usd", "7.1", "--from", "2027-01-01", "--db", db)
    assert rates == [{"currency": "USD", "valid_from": "2027-01-01", "valid_to": None, "rate": "7.100000"}]
    assert "a rep moves to a team or region" in fails("credit", "move-rep", "张三", "--team", "张三", "--from", "2027-07-01", "--db", db)
