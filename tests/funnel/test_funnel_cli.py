"""`attain funnel` as a user runs it: the issue's example, JSON shape, plan mode, bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from attain.cli.main import app
from attain.db import get_engine, make_session_factory
from attain.errors import InvalidInput, NotFound
from attain.settings.service import set_setting

runner = CliRunner()
EXAMPLE = ["funnel", "--target", "250000", "--deal-size", "83334", "--stages", "deal,prospect,lead", "--rates", "0.2,0.1"]


def test_issue_example_json() -> None:
    result = runner.invoke(app, [*EXAMPLE, "--days", "5", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["stages"] == [{"name": "deal", "count": 3}, {"name": "prospect", "count": 15}, {"name": "lead", "count": 150}]
    assert payload["per_day"][0] == {"day": 1, "counts": {"deal": 1, "prospect": 3, "lead": 30}}
    assert payload["per_day"][4] == {"day": 5, "counts": {"deal": 0, "prospect": 3, "lead": 30}}
    assert len(payload["per_day"]) == 5


def test_deals_instead_of_deal_size_and_table_output() -> None:
    result = runner.invoke(app, ["funnel", "--deals", "4", "--stages", "deal,lead", "--rates", "0.25", "--days", "2"])
    assert result.exit_code == 0, result.output
    assert "16" in result.stdout and "倒推漏斗" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["funnel", "--target", "250000", "--deal-size", "83334", "--rates", "0.2"], "3 stages need 2 conversion rates"),
        (["funnel", "--target", "250000", "--deal-size", "83334", "--rates", "0.2,1.5"], "at most 1"),
        (["funnel", "--target", "-1", "--deal-size", "83334", "--rates", "0.2,0.1"], "target must be positive"),
        (["funnel", "--target", "abc", "--deal-size", "83334", "--rates", "0.2,0.1"], "not a number"),
        (["funnel", "--deals", "3", "--deal-size", "5", "--rates", "0.2,0.1"], "not both"),
        (["funnel", "--target", "100", "--deal-size", "5"], "--rates"),
        (["funnel", "--rates", "0.2,0.1"], "give --target"),
        (["funnel", "--plan", "P", "--rep", "R1"], "--plan, --rep and --week"),
        (["funnel", "--plan", "P", "--rep", "R1", "--week", "2027-W10", "--rates", "0.1"], "leave out"),
        (["funnel", "--deals", "1", "--rates", "0.2,,0.1", "--stages", "a,b,c,d"], "without empty items"),
    ],
)
def test_bad_input_is_invalid_input(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert isinstance(result.exception, InvalidInput), result.output
    assert message in str(result.exception)


def test_bad_input_is_one_red_line_and_exit_1() -> None:
    done = subprocess.run([sys.executable, "-m", "attain.cli.main", *EXAMPLE[:-1], "0,0.1"], check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == ["error: rate prospect→deal 0 must be above 0 and at most 1 (e.g. 0.2 for 20 %)"]


def test_plan_funnel_json(database_url: str) -> None:
    from attain_test_world import build  # type: ignore[import-not-found]  # registered by conftest

    session = make_session_factory(get_engine(database_url))()
    try:
        build(session)
        set_setting(session, "funnel_prior_weight", 0)
        session.commit()
    finally:
        session.close()
    result = runner.invoke(app, ["funnel", "--plan", "P", "--rep", "R100", "--week", "2027-W09", "--db", database_url, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["target"] == "500000.00" and payload["deal_size"] == "100000.00"
    assert [s["count"] for s in payload["stages"]] == [5, 8, 11, 11, 14]
    assert payload["rates"][0] == {"from": "negotiation", "to": "won", "rate": "0.6667", "rep": {"moved_on": 4, "decided": 6},
                                   "team": {"moved_on": 6, "decided": 8}, "company": {"moved_on": 7, "decided": 9}}
    assert payload["based_on"]["opportunities"] == 11 and payload["based_on"]["deals"] == 4
    assert [d["date"] for d in payload["per_day"]][:2] == ["2027-03-01", "2027-03-02"]
    assert sum(d["counts"]["lead"] for d in payload["per_day"]) == 14
    table = runner.invoke(app, ["funnel", "--plan", "P", "--rep", "R100", "--week", "2027-W09", "--db", database_url])
    assert table.exit_code == 0 and "based on" in table.stdout
    missing = runner.invoke(app, ["funnel", "--plan", "P", "--rep", "R200", "--week", "2027-W09", "--db", database_url])
    assert isinstance(missing.exception, NotFound) and "R200" in str(missing.exception)
