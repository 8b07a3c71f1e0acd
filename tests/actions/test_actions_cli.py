"""`attain actions` and `attain actions done` end to end."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from attain.cli.main import app
from attain.db import get_engine, make_session_factory
from attain.errors import InvalidInput, NotFound
from attain.settings.service import set_setting

runner = CliRunner()


@pytest.fixture
def db(database_url: str) -> str:
    from attain_test_world import build  # type: ignore[import-not-found]  # registered by conftest

    session = make_session_factory(get_engine(database_url))()
    try:
        build(session)
        set_setting(session, "funnel_prior_weight", 0)
        session.commit()
    finally:
        session.close()
    return database_url


def test_done_then_list_json(db: str) -> None:
    done = runner.invoke(app, ["actions", "done", "--rep", "R100", "--date", "2027-03-01", "--kind", "visit", "--customer", "C2",
                               "--note", "首访", "--db", db, "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["code"].startswith("MAN-")
    result = runner.invoke(app, ["actions", "--rep", "R100", "--date", "2027-03-02", "--plan", "SMALL", "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    lines = {a["action"]: (a["planned"], a["carried"], a["due"], a["done"], a["remaining"]) for a in payload["actions"]}
    assert lines == {"prospect": (1, 1, 2, 0, 2), "visit": (1, 0, 1, 0, 1), "proposal": (1, 1, 2, 0, 2), "follow_up": (1, 1, 2, 0, 2)}
    assert payload["working_day"] is True and payload["streak"] == 0 and payload["complete"] is False
    assert [c["code"] for c in payload["visit_customers"]] == ["C3"]  # A grade, C2 was visited yesterday


def test_table_output_and_weekend(db: str) -> None:
    table = runner.invoke(app, ["actions", "--rep", "R100", "--date", "2027-03-01", "--plan", "SMALL", "--db", db])
    assert table.exit_code == 0, table.output
    assert "拜访 visits" in table.stdout and "streak" in table.stdout
    weekend = runner.invoke(app, ["actions", "--rep", "R100", "--date", "2027-03-06", "--plan", "SMALL", "--db", db, "--json"])
    payload = json.loads(weekend.stdout)
    assert payload["working_day"] is False and payload["actions"] == []


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (["actions", "--rep", "R100"], InvalidInput, "give --rep and --date"),
        (["actions", "--rep", "R100", "--date", "2027-13-01"], InvalidInput, "not a date"),
        (["actions", "--rep", "NOBODY", "--date", "2027-03-01"], NotFound, "NOBODY"),
        (["actions", "--rep", "R100", "--date", "2027-03-01", "--plan", "NOPE"], NotFound, "NOPE"),
        (["actions", "done", "--rep", "R100", "--date", "2027-03-01", "--kind", "nap"], InvalidInput, "nap"),
        (["actions", "done", "--rep", "R100", "--date", "2027-03-01", "--kind", "visit"], InvalidInput, "--customer"),
    ],
)
def test_bad_input(db: str, args: list[str], error: type, message: str) -> None:
    result = runner.invoke(app, [*args, "--db", db])
    assert isinstance(result.exception, error), result.output
    assert message in str(result.exception)
