"""A whole planning year on the demo company, through the `attain plan` commands, and bad input
for every command."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from attain.cli.main import app
from attain.db import get_engine, make_session_factory
from attain.demo.service import load_demo
from attain.errors import (
    AttainError,
    Conflict,
    ImportRejected,
    InvalidInput,
    NotAllowed,
    NotFound,
)

runner = CliRunner()


def plan(database_url: str, *args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["plan", *args, "--db", database_url, "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def fails(database_url: str, *args: str) -> AttainError:
    result = runner.invoke(app, ["plan", *args, "--db", database_url])
    assert result.exit_code != 0
    assert isinstance(result.exception, AttainError), result.output
    return result.exception


@pytest.fixture
def demo(database_url: str, today_is) -> str:  # type: ignore[no-untyped-def]
    today_is(date(2026, 12, 15))  # planning FY2027 before it starts: a revision takes effect from 2027-01-01
    session = make_session_factory(get_engine(database_url))()
    try:
        load_demo(session=session, seed=7, year=2027, as_of=date(2027, 7, 15))
    finally:
        session.close()
    return database_url


@pytest.fixture
def small(database_url: str, today_is) -> str:  # type: ignore[no-untyped-def]
    """A small approved plan FY2027 (2 regions × 1 team × 2 reps, 1,200,000 by month, unit 10,000),
    submitted by director wang and approved by director zhao; today is 2026-12-15."""
    from attain.plans.service import approve_plan, submit_plan
    from attain.plans.setting import create_target
    from attain.plans.splitting import SplitOptions, split_plan
    from tests.plans.conftest import make_org, make_users

    today_is(date(2026, 12, 15))
    session = make_session_factory(get_engine(database_url))()
    try:
        make_org(session, regions=2, teams=1, reps=2, managers=True)
        make_users(session)
        create_target(session=session, name="FY2027", year=2027, metric_code="revenue", by="a", total="1200000", unit="10000")
        split_plan(session=session, name="FY2027", options=SplitOptions(by=("org", "time")), by="a")
        submit_plan(session=session, name="FY2027", by="wang")
        approve_plan(session=session, name="FY2027", by="zhao")
    finally:
        session.close()
    return database_url


def _edit(path: Path, sheet: str, match: dict[int, str], column: int, value: object) -> None:
    book = openpyxl.load_workbook(path)
    rows = book[sheet]
    for row in rows.iter_rows(min_row=2):
        if all(str(row[c].value or "") == v for c, v in match.items()):
            row[column].value = value
            break
    else:
        raise AssertionError(f"no row {match} in {sheet}")
    book.save(path)


def test_whole_year_on_the_demo_company(demo: str, tmp_path: Path) -> None:
    url = demo
    plans = plan(url, "list")
    assert [(p["name"], p["status"]) for p in plans] == [("FY2027", "approved")]
    assert isinstance(fails(url, "split", "FY2027", "--by", "org,time"), Conflict)  # approved: revise first
    revised = plan(url, "revise", "FY2027", "--reason", "按产品线和客户类型细化", "--as", "director")
    assert revised["status"] == "draft" and revised["version"] == 2

    split = plan(url, "split", "FY2027", "--by", "org,time,customer_type", "--method", "history", "--user", "陈志远",
                 "--expect", "2")
    assert split["version"] == 3 and split["cells"] == 39 * 17 * 3  # company, 3 regions, 6 teams, 29 reps (one left before 2027)
    show = plan(url, "show", "FY2027", "--level", "company", "--period", "year")
    assert len(show["rows"]) == 1 and show["rows"][0]["value"] == split["total"]
    regions = plan(url, "show", "FY2027", "--level", "region", "--period", "quarter")
    assert len(regions["rows"]) == 3 * 4
    reps = plan(url, "show", "FY2027", "--level", "rep", "--period", "month")
    assert {r["owner"] for r in reps["rows"]} == {r["code"] for r in reps["rows"]}  # every rep owns their cells

    check = plan(url, "check", "FY2027")
    assert {f["check"] for f in check["findings"]} <= {"measurable", "owner", "deadline", "realistic", "relevant"}
    assert all(f["figure"] for f in check["findings"] if f["check"] == "realistic")
    assert not [f for f in check["findings"] if f["check"] in ("owner", "deadline")]

    out = tmp_path / "plan.xlsx"
    exported = plan(url, "export", "FY2027", "--out", str(out))
    assert set(exported["rows"]) == {"company", "region", "team", "rep"}
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["说明 info", "公司 company", "大区 region", "团队 team", "销售 rep"]
    assert book["销售 rep"]["F1"].value == "目标 Target" and isinstance(book["销售 rep"]["F2"].value, (int, float))

    leaf = next(r for r in plan(url, "show", "FY2027", "--level", "rep", "--period", "month", "--customer-type", "new")["rows"])
    team_before = _team_month(url, leaf)
    new_value = float(leaf["value"]) + 10_000
    _edit(out, "销售 rep", {0: leaf["code"], 2: leaf["period"], 4: "new"}, 5, new_value)
    _edit(out, "销售 rep", {0: leaf["code"], 2: "2027", 3: "", 4: "all"}, 8, "重点跟进华东制造业客户")
    edited = plan(url, "import-edits", "FY2027", str(out), "--by", "陈志远")
    assert (edited["values_changed"], edited["notes_changed"], edited["version"]) == (1, 1, 4)
    assert _team_month(url, leaf) == team_before + 10_000  # the parents rolled up

    versions = plan(url, "versions", "FY2027")
    assert [v["action"] for v in versions] == ["created", "revised", "split history", "import edits"]
    diff = plan(url, "diff", "FY2027", "--from", "3", "--to", "4")
    assert all(float(c["delta"]) == 10_000 for c in diff["cells"])
    # the rep, team, region and company × (month, quarter, year) × (new, all customers)
    assert len(diff["cells"]) == 4 * 3 * 2 and leaf["code"] in {c["org"] for c in diff["cells"]}

    # The same file again is stale now: it was exported from version 3.
    assert isinstance(fails(url, "import-edits", "FY2027", str(out)), Conflict)

    # SMART errors block a submission unless overridden; the override's reason is kept in the version.
    errors = [f for f in plan(url, "check", "FY2027")["findings"] if f["severity"] == "error"]
    if errors:
        assert "SMART error" in str(fails(url, "submit", "FY2027", "--as", "director"))
    plan(url, "submit", "FY2027", "--as", "director", "--override", "demo targets agreed with the board")
    if errors:
        assert "demo targets agreed with the board" in plan(url, "versions", "FY2027")[-1]["reason"]
    # Issue 15: approval acts as a user account (no free-text name, no --role); four eyes.
    assert isinstance(fails(url, "approve", "FY2027", "--as", "小李"), NotAllowed)  # not a user
    assert isinstance(fails(url, "approve", "FY2027", "--as", "manager"), NotAllowed)  # a team manager
    assert "four eyes" in str(fails(url, "approve", "FY2027", "--as", "director"))  # the submitter
    approved = plan(url, "approve", "FY2027", "--as", "admin")
    assert approved["status"] == "approved" and approved["changed_by"] == "admin"
    assert isinstance(fails(url, "lock", "FY2027", "--by", "manager"), NotAllowed)
    assert plan(url, "lock", "FY2027", "--by", "director")["status"] == "locked"  # `plan lock` takes --by (no --as yet)


def _team_month(url: str, leaf: dict) -> float:  # type: ignore[type-arg]
    rows = plan(url, "show", "FY2027", "--level", "company", "--period", "month")["rows"]
    return float(next(r["value"] for r in rows if r["period"] == leaf["period"]))


def test_import_edits_is_all_or_nothing(small: str, tmp_path: Path) -> None:
    url = small
    plan(url, "revise", "FY2027", "--reason", "edit", "--as", "wang")
    out = tmp_path / "plan.xlsx"
    plan(url, "export", "FY2027", "--out", str(out))
    reps = plan(url, "show", "FY2027", "--level", "rep", "--period", "month")["rows"]
    teams = plan(url, "show", "FY2027", "--level", "team", "--period", "month")["rows"]
    _edit(out, "销售 rep", {0: reps[0]["code"], 2: reps[0]["period"]}, 5, -5)
    _edit(out, "销售 rep", {0: reps[1]["code"], 2: reps[1]["period"]}, 5, "abc")
    _edit(out, "销售 rep", {0: reps[2]["code"], 2: reps[2]["period"]}, 5, float(reps[2]["value"]) + 1)  # not a multiple of 10,000
    _edit(out, "团队 team", {0: teams[0]["code"], 2: teams[0]["period"]}, 5, float(teams[0]["value"]) + 10_000)  # a sum
    _edit(out, "销售 rep", {0: reps[3]["code"], 2: reps[3]["period"]}, 0, "NOBODY")
    error = fails(url, "import-edits", "FY2027", str(out))
    assert isinstance(error, ImportRejected)
    messages = " | ".join(e.message for e in error.errors)
    assert "negative" in messages and "'abc'" in messages and "multiple" in messages and "is a sum" in messages
    assert "'NOBODY' is not a rep" in messages
    assert plan(url, "versions", "FY2027")[-1]["action"] == "revised"  # nothing was written


def test_import_edits_rejects_edits_to_locked_cells(small: str, tmp_path: Path) -> None:
    url = small
    plan(url, "revise", "FY2027", "--reason", "edit", "--by", "wang")  # --by is still accepted for --as
    rep = plan(url, "show", "FY2027", "--level", "rep", "--period", "month")["rows"][0]
    plan(url, "lock", "FY2027", "--node", rep["code"], "--period", rep["period"], "--by", "a")
    out = tmp_path / "plan.xlsx"
    plan(url, "export", "FY2027", "--out", str(out))
    _edit(out, "销售 rep", {0: rep["code"], 2: rep["period"]}, 5, float(rep["value"]) + 10_000)
    error = fails(url, "import-edits", "FY2027", str(out))
    assert isinstance(error, ImportRejected) and "locked" in error.errors[0].message


BAD_INPUT = [
    (("show", "NOPE"), NotFound, "no plan named 'NOPE'"),
    (("check", "NOPE"), NotFound, "no plan named"),
    (("split", "NOPE"), NotFound, "no plan named"),
    (("export", "NOPE", "--out", "x.xlsx"), NotFound, "no plan named"),
    (("versions", "NOPE"), NotFound, "no plan named"),
    (("diff", "FY2027", "--from", "1", "--to", "9"), NotFound, "versions 1 to 4"),
    (("create", "--name", "N", "--year", "2028", "--total", "-5"), InvalidInput, "more than zero"),
    (("create", "--name", "N", "--year", "2028", "--total", "5", "--growth", "0.1"), InvalidInput, "--growth alone"),
    (("create", "--name", "FY2027", "--year", "2027", "--total", "5"), Conflict, "already exists"),
    (("show", "FY2027", "--level", "planet"), InvalidInput, "level 'planet'"),
    (("show", "FY2027", "--period", "decade"), InvalidInput, "period 'decade'"),
    (("split", "FY2027", "--by", "org"), Conflict, "approved"),
    (("set-cell", "FY2027", "--node", "R1-T1-1", "--period", "2027-01", "--value", "1"), Conflict, "approved"),
    (("lock", "FY2027", "--node", "R1-T1-1"), InvalidInput, "--node and --period"),
    (("unlock", "FY2027", "--node", "R1-T1-1", "--period", "2027-01"), Conflict, "approved"),
    (("note", "FY2027", "--node", "R1-T1-1", "--period", "2027-01", "--note", "x"), Conflict, "approved"),
    (("commit", "FY2027", "--node", "R1-T1-1", "--period", "2027", "--value", "x"), InvalidInput, "not an amount"),
    (("reconcile", "FY2027", "--rule", "avg"), InvalidInput, "unknown reconcile rule"),
    (("resplit", "FY2027", "--from", "2027-07"), Conflict, "approved"),
    (("submit", "FY2027", "--as", "wang"), Conflict, "approved"),
    (("submit", "FY2027", "--as", "li"), NotAllowed, "may not submit"),  # a team manager, company plan
    (("approve", "FY2027", "--as", "zhao"), Conflict, "approved"),
    (("approve", "FY2027", "--as", ""), NotAllowed, "no active user ''"),
    (("approve", "FY2027", "--as", "a"), NotAllowed, "no active user 'a'"),  # issue 15: a free-text name was enough
    (("approve", "FY2027", "--as", "li"), NotAllowed, "only a director"),
    (("approve", "FY2027", "--as", "rep1"), NotAllowed, "only a director or admin"),
    (("revise", "FY2027", "--reason", "x", "--as", "wang", "--expect", "3"), Conflict, "based on version 3"),
    (("revise", "FY2027", "--reason", "x", "--as", "r1boss"), NotAllowed, "may not revise"),  # a region's director
    (("import-edits", "FY2027", "missing.xlsx"), Conflict, "approved"),
]


@pytest.mark.parametrize(("args", "error", "message"), BAD_INPUT, ids=[" ".join(a[:1]) + f"-{i}" for i, (a, _e, _m) in enumerate(BAD_INPUT)])
def test_bad_input_for_every_command(small: str, args: tuple[str, ...], error: type, message: str) -> None:
    raised = fails(small, *args)
    assert isinstance(raised, error), raised
    assert message in str(raised)


def test_approve_has_no_role_option(small: str) -> None:
    """Issue 15: `--role director` let anyone claim a role; the role is the user account's."""
    result = runner.invoke(app, ["plan", "approve", "FY2027", "--as", "zhao", "--role", "director", "--db", small])
    assert result.exit_code == 2 and "--role" in result.output


def test_bad_files_for_import_edits(small: str, tmp_path: Path) -> None:
    demo = small
    plan(demo, "revise", "FY2027", "--reason", "x", "--as", "wang")
    assert "no such file" in str(fails(demo, "import-edits", "FY2027", str(tmp_path / "none.xlsx")))
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a workbook")
    assert "not a readable Excel workbook" in str(fails(demo, "import-edits", "FY2027", str(junk)))
    other = tmp_path / "other.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Sheet1"
    book.save(other)
    assert "说明 info" in str(fails(demo, "import-edits", "FY2027", str(other)))
