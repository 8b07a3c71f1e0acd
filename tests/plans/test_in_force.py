"""Issue 15 "One target, one truth over time": regression tests, one per reproduction, on a small
company (2 regions × 1 team × 2 reps, FY2026 of 1,200,000 split by month, unit 100 yuan), on SQLite
and PostgreSQL, through the services and the CLI. Today is fixed at 2026-11-20 (never the wall clock).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from attain.cli.main import app
from attain.errors import Conflict, InvalidInput, NotAllowed
from attain.org.models import OrgNode
from attain.periods import parse_period
from attain.plans.edits import CellRef, EditResult, resplit_from, set_cells, set_lock
from attain.plans.models import Plan
from attain.plans.service import (
    approve_plan,
    lineage_ids,
    list_versions,
    lock_plan,
    plan_in_force,
    require_plan,
    resolve_plan,
    revise_plan,
    submit_plan,
)
from attain.plans.setting import create_target
from attain.plans.splitting import SplitOptions, load_cells, split_plan
from tests.plans.conftest import make_org, make_users

runner = CliRunner()
TODAY = date(2026, 11, 20)
DECEMBER = date(2026, 12, 1)
MONTH = 25_000_00  # each rep's month target (minor units): 1,200,000 / 4 reps / 12 months

Key = tuple[str, str, int | None, str]  # (node code, period, product id, customer type)


@pytest.fixture
def company(session: Session, today_is) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """FY2026 in force (v4: created, split, submitted by director wang, approved by director zhao)."""
    today_is(TODAY)
    ids = make_org(session, regions=2, teams=1, reps=2, managers=True)
    make_users(session)
    create_target(session=session, name="FY2026", year=2026, metric_code="revenue", by="wang", total="1200000", unit="100")
    split_plan(session=session, name="FY2026", options=SplitOptions(by=("org", "time")), by="wang")
    submit_plan(session=session, name="FY2026", by="wang")
    approve_plan(session=session, name="FY2026", by="zhao")
    return ids


def cells_of(session: Session, plan: Plan) -> dict[Key, tuple[int, bool]]:
    """Every cell of one plan row, keyed by node code: (value, locked)."""
    session.expire_all()
    codes = dict(session.execute(select(OrgNode.id, OrgNode.code)).all())
    return {(codes[k[1]], k[0], k[2], k[3]): (c.value, c.locked) for k, c in load_cells(session=session, plan=plan).items()}


def values(cells: dict[Key, tuple[int, bool]]) -> dict[Key, int]:
    return {k: v for k, (v, _locked) in cells.items()}


def working(session: Session) -> Plan:
    session.expire_all()
    return require_plan(session=session, name="FY2026")


def assert_adds_up(session: Session, cells: dict[Key, tuple[int, bool]], unit: int) -> None:
    """Every value a non-negative multiple of the unit; every node = the sum of its children and every
    period = the sum of its sub-periods (year = quarters = months, quarter = its months)."""
    parent = {n.code: (session.get(OrgNode, n.parent_id).code if n.parent_id else None) for n in session.scalars(select(OrgNode))}
    assert all(v >= 0 and v % unit == 0 for v, _ in cells.values())
    children: dict[Key, int] = defaultdict(int)
    for (code, period, product, ctype), (value, _locked) in cells.items():
        up = (parent[code], period, product, ctype)
        if up in cells:
            children[up] += value
    assert children
    for key, total in children.items():
        assert cells[key][0] == total, key
    spans = {period: parse_period(period) for (_c, period, _p, _t) in cells}
    rank = {7: 0, 6: 1, 4: 2}  # 2026-01 month, 2026Q1 quarter, 2026 year
    for (code, period, product, ctype), (value, _locked) in cells.items():
        outer = spans[period]
        for finer in range(rank[len(period)]):
            inner = [p for p in spans if rank[len(p)] == finer and outer.start <= spans[p].start and spans[p].end <= outer.end]
            assert inner and value == sum(cells[(code, p, product, ctype)][0] for p in inner), (code, period)


def assert_changes_are_the_diff(result: EditResult, before: dict[Key, tuple[int, bool]], after: dict[Key, tuple[int, bool]]) -> None:
    """`EditResult.changes` lists exactly the cells whose value changed, with their before and after."""
    listed = {(c.node, c.period, c.customer_type): (c.before, c.after) for c in result.changes}
    actual = {(k[0], k[1], k[3]): (before[k][0], after[k][0]) for k in before if before[k][0] != after[k][0]}
    assert listed == actual
    assert all(c.product is None for c in result.changes)


def attainment(url: str, *args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["report", "attainment", "--db", url, "--json", "--period", "2026-12", "--by", "rep",
                                 "--as-of", "2026-12-15", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def target_of(payload: dict, rep: str) -> float:  # type: ignore[type-arg]
    rows = [r for r in payload["rows"] if r["labels"]["rep"] == "销售" + rep.replace("R", "").replace("-T", "").replace("-", "")]
    assert len(rows) == 1, payload["rows"]
    return float(rows[0]["target"])


def cli(url: str, *args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, [*args, "--db", url, "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def cli_fails(url: str, *args: str) -> BaseException:
    result = runner.invoke(app, [*args, "--db", url])
    assert result.exit_code == 1, result.output
    assert result.exception is not None
    return result.exception


# --- (1) a revision is not what reports read until it is approved -----------------------------------

def test_a_revision_changes_reports_only_once_approved(session: Session, company: dict[str, int], database_url: str) -> None:
    in_force = plan_in_force(session=session, name="FY2026")
    assert target_of(attainment(database_url, "--plan", "FY2026"), "R1-T1-1") == 25_000

    revised = revise_plan(session=session, name="FY2026", by="wang", reason="大客户提前签约", effective_from=DECEMBER, today=TODAY)
    assert (revised.version, revised.status) == (5, "draft")
    set_cells(session=session, name="FY2026", values={CellRef("R1-T1-1", "2026-12"): 30_000_00}, by="wang", within="R1-T1")
    submit_plan(session=session, name="FY2026", by="wang")
    revision = working(session)
    assert revision.id != in_force.id and revision.revision_of == in_force.id

    # Draft and submitted: every report still reads the version in force.
    for name in ("FY2026", None):
        assert resolve_plan(session=session, name=name, start=DECEMBER, end=date(2026, 12, 31)).id == in_force.id
        assert resolve_plan(session=session, name=name, start=DECEMBER, end=date(2026, 12, 31), preview=True).id == revision.id
    from attain.tracking.attainment import resolve_plan as tracking_resolve

    assert tracking_resolve(session, parse_period("2026-12"), None).id == in_force.id
    for args in (("--plan", "FY2026"), ()):
        report = attainment(database_url, *args)
        assert (target_of(report, "R1-T1-1"), target_of(report, "R1-T1-2"), report["plan_version"]) == (25_000, 25_000, 4)
    assert target_of(attainment(database_url, "--draft"), "R1-T1-1") == 30_000  # the explicit preview

    approve_plan(session=session, name="FY2026", by="zhao")
    session.expire_all()
    assert session.get(Plan, in_force.id).status == "superseded"
    assert values(cells_of(session, session.get(Plan, in_force.id)))[("R1-T1-1", "2026-12", None, "all")] == MONTH  # kept
    for name in ("FY2026", None):
        assert resolve_plan(session=session, name=name, start=DECEMBER, end=date(2026, 12, 31)).id == revision.id
    for args in (("--plan", "FY2026"), ()):
        report = attainment(database_url, *args)
        assert (target_of(report, "R1-T1-1"), target_of(report, "R1-T1-2")) == (30_000, 20_000)
    assert [v.action for v in list_versions(session=session, plan=working(session))] == [
        "created", "split equal", "submitted", "approved", "revised", "set cells", "submitted", "approved"]


# --- (2) closed periods of a revision never change --------------------------------------------------

def test_a_revision_from_december_never_changes_january_to_november(session: Session, company: dict[str, int], database_url: str) -> None:
    in_force = plan_in_force(session=session, name="FY2026")
    original = cells_of(session, in_force)
    total = in_force.total
    revise_plan(session=session, name="FY2026", by="wang", reason="Q4 push", effective_from=DECEMBER, today=TODAY)
    closed = {k for k in original if parse_period(k[1]).end < DECEMBER}
    assert len(closed) == 9 * (11 + 3)  # 9 nodes × (Jan..Nov + Q1..Q3)

    def check(total_now: int) -> None:
        cells = cells_of(session, working(session))
        assert {k: cells[k][0] for k in closed} == {k: original[k][0] for k in closed}
        assert cells_of(session, session.get(Plan, in_force.id)) == original  # the version in force never moves
        assert working(session).total == total_now == cells[("COMPANY", "2026", None, "all")][0]
        assert_adds_up(session, cells, in_force.unit)

    set_cells(session=session, name="FY2026", values={CellRef("R1-T1-1", "2026-12"): 40_000_00}, by="wang")
    check(total)  # redistributed within the company: the total stays
    set_cells(session=session, name="FY2026", values={CellRef("R2-T1-2", "2026Q4"): 80_000_00}, by="wang")
    check(total)  # a quarter with two closed months: only December moves
    assert values(cells_of(session, working(session)))[("R2-T1-2", "2026-12", None, "all")] == 80_000_00 - 2 * MONTH
    was = values(cells_of(session, working(session)))[("R2-T1-1", "2026-12", None, "all")]
    result = set_cells(session=session, name="FY2026", values={CellRef("R2-T1-1", "2026-12"): was + 10_000_00}, by="wang",
                       change_total=True)
    total += 10_000_00
    check(total)  # change_total: the plan total moves by the delta
    assert result.total == total

    with pytest.raises(Conflict, match="closed"):
        set_cells(session=session, name="FY2026", values={CellRef("R1-T1-2", "2026-11"): 30_000_00}, by="wang")
    with pytest.raises(Conflict, match="closed"):
        set_cells(session=session, name="FY2026", values={CellRef("R1-T1-2", "2026-11"): 30_000_00}, by="wang", change_total=True)
    with pytest.raises(Conflict, match="closed"):
        set_lock(session=session, name="FY2026", ref=CellRef("R1-T1-2", "2026-03"), locked=True, by="wang")
    with pytest.raises(Conflict, match="before this revision's effective date"):
        resplit_from(session=session, name="FY2026", start="2026-11", rule="keep-total", by="wang")
    with pytest.raises(Conflict, match="closed periods"):
        split_plan(session=session, name="FY2026", options=SplitOptions(by=("org", "time")), by="wang")
    check(total)

    # The catch-up re-split from December, through the CLI: closed months and the year targets stay.
    for rep in ("R1-T1-1", "R2-T1-1"):  # the catch-up moves every open rep month: unlock the edited ones
        cli(database_url, "plan", "unlock", "FY2026", "--node", rep, "--period", "2026-12", "--by", "wang")
    before = cells_of(session, working(session))
    cli(database_url, "plan", "resplit", "FY2026", "--from", "2026-12", "--rule", "keep-total", "--by", "wang")
    after = cells_of(session, working(session))
    assert {k: after[k][0] for k in closed} == {k: original[k][0] for k in closed}
    assert {k: after[k][0] for k in after if k[1] == "2026"} == {k: before[k][0] for k in before if k[1] == "2026"}
    assert working(session).total == total
    assert cells_of(session, session.get(Plan, in_force.id)) == original


def test_an_import_cannot_edit_a_closed_month_of_a_revision(session: Session, company: dict[str, int], database_url: str,
                                                              tmp_path: Path) -> None:
    from attain.errors import ImportRejected
    from tests.plans.test_demo_year import _edit

    revise_plan(session=session, name="FY2026", by="wang", reason="x", effective_from=DECEMBER, today=TODAY)
    out = tmp_path / "plan.xlsx"
    cli(database_url, "plan", "export", "FY2026", "--out", str(out))
    _edit(out, "销售 rep", {0: "R1-T1-1", 2: "2026-11"}, 5, 30_000)
    error = cli_fails(database_url, "plan", "import-edits", "FY2026", str(out), "--by", "wang")
    assert isinstance(error, ImportRejected) and "closed" in error.errors[0].message


def test_a_revision_opens_this_month_at_the_earliest(session: Session, company: dict[str, int]) -> None:
    with pytest.raises(InvalidInput, match="periods before 2026-11-01 are closed"):
        revise_plan(session=session, name="FY2026", by="wang", reason="x", effective_from=date(2026, 10, 1), today=TODAY)
    with pytest.raises(Conflict, match="ended on 2026-12-31"):
        revise_plan(session=session, name="FY2026", by="wang", reason="x", today=date(2027, 1, 5))
    assert len(lineage_ids(session=session, name="FY2026")) == 1  # nothing was created
    assert revise_plan(session=session, name="FY2026", by="wang", reason="x", today=TODAY).version == 5
    assert working(session).effective_from == date(2026, 11, 1)  # default: the first day of this month


# --- (3) the one edit rule ----------------------------------------------------------------------------

def test_every_edit_keeps_units_sums_and_locks_and_lists_what_moved(session: Session, company: dict[str, int]) -> None:
    revise_plan(session=session, name="FY2026", by="wang", reason="edits", effective_from=DECEMBER, today=TODAY)
    unit = working(session).unit
    version = working(session).version
    with pytest.raises(InvalidInput, match="multiple"):
        set_cells(session=session, name="FY2026", values={CellRef("R1-T1-1", "2026-12"): 30_000_00 + unit // 2}, by="wang")
    with pytest.raises(InvalidInput, match="multiple"):
        set_cells(session=session, name="FY2026", values={CellRef("R1-T1", "2026-12"): 1}, by="wang", change_total=True)
    assert working(session).version == version  # refused edits write nothing

    set_lock(session=session, name="FY2026", ref=CellRef("R2-T1-1", "2026-12"), locked=True, by="wang")
    locked = {("R2-T1-1", "2026-12", None, "all"): MONTH}
    edits = [
        ({CellRef("R1-T1-1", "2026-12"): 35_000_00}, {}),  # within the company: R2-T1-1 is locked, the other two give
        ({CellRef("R1-T1", "2026-12"): 80_000_00}, {"change_total": True}),  # R1-T1-1 (locked by the edit) keeps 35,000
        ({CellRef("R2", "2026Q4"): 150_000_00}, {"change_total": True}),  # only December is open in Q4
        "unlock R2-T1-1",
        ({CellRef("R2-T1-2", "2026-12"): 0}, {"within": "R2-T1"}),  # the teammate takes it all
    ]
    for step in edits:
        if isinstance(step, str):
            set_lock(session=session, name="FY2026", ref=CellRef("R2-T1-1", "2026-12"), locked=False, by="wang")
            del locked[("R2-T1-1", "2026-12", None, "all")]
            continue
        pins, options = step
        before = cells_of(session, working(session))
        result = set_cells(session=session, name="FY2026", values=pins, by="wang", **options)  # type: ignore[arg-type]
        after = cells_of(session, working(session))
        assert_adds_up(session, after, unit)
        assert_changes_are_the_diff(result, before, after)
        for ref, value in pins.items():
            assert after[(ref.node, ref.period, None, "all")] == (value, True)  # the edited cell is set and locked
        for key, value in locked.items():
            assert after[key] == (value, True), key  # every cell locked earlier keeps its value
        locked.update({(ref.node, ref.period, None, "all"): value for ref, value in pins.items()})
        if options.get("change_total"):
            assert result.total == before[("COMPANY", "2026", None, "all")][0] + sum(
                v - before[(r.node, r.period, None, "all")][0] for r, v in pins.items())
        else:
            assert result.total == before[("COMPANY", "2026", None, "all")][0]
            scope = options.get("within", "COMPANY")
            assert {k: v for k, v in values(after).items() if k[0] == scope} == {k: v for k, v in values(before).items() if k[0] == scope}
    final = values(cells_of(session, working(session)))
    december = {code: final[(code, "2026-12", None, "all")] for code in ("R1-T1-1", "R1-T1-2", "R1-T1", "R2-T1-1", "R2-T1-2")}
    assert december == {"R1-T1-1": 35_000_00, "R1-T1-2": 45_000_00, "R1-T1": 80_000_00, "R2-T1-1": 50_000_00, "R2-T1-2": 0}
    # Nothing open is left under the company in December: refused, and nothing is written.
    version = working(session).version
    with pytest.raises(InvalidInput, match="locked or in closed periods"):
        set_cells(session=session, name="FY2026", values={CellRef("COMPANY", "2026-12"): 200_000_00}, by="wang", change_total=True)
    assert working(session).version == version and values(cells_of(session, working(session))) == final


# --- (4) identity: who may submit, approve and lock ---------------------------------------------------

def test_approval_needs_another_real_director_or_admin(session: Session, company: dict[str, int], database_url: str) -> None:
    revise_plan(session=session, name="FY2026", by="wang", reason="x", effective_from=DECEMBER, today=TODAY)
    set_cells(session=session, name="FY2026", values={CellRef("R1-T1-1", "2026-12"): 30_000_00}, by="wang", within="R1-T1")
    submit_plan(session=session, name="FY2026", by="wang")
    for who, message in (("王总", "no active user"), ("wang", "four eyes"), ("li", "only a director or admin"),
                         ("rep1", "only a director or admin"), ("r1boss", "may not approve")):
        with pytest.raises(NotAllowed, match=message):
            approve_plan(session=session, name="FY2026", by=who)
    assert isinstance(cli_fails(database_url, "plan", "approve", "FY2026", "--as", "wang"), NotAllowed)
    from attain.auth.service import get_user, set_active

    set_active(session=session, user=get_user(session=session, username="zhao"), active=False)
    with pytest.raises(NotAllowed, match="no active user 'zhao'"):
        approve_plan(session=session, name="FY2026", by="zhao")
    assert working(session).status == "submitted" and plan_in_force(session=session, name="FY2026").version == 4

    cli(database_url, "config", "set", "plan_self_approval", "true")
    approved = cli(database_url, "plan", "approve", "FY2026", "--as", "wang")
    assert (approved["status"], approved["changed_by"], approved["role"]) == ("approved", "wang", "director")
    with pytest.raises(NotAllowed, match="only a director or admin"):
        lock_plan(session=session, name="FY2026", by="li")
    assert lock_plan(session=session, name="FY2026", by="wang").status == "locked"


def test_smart_errors_block_submit_unless_overridden(session: Session, company: dict[str, int], database_url: str) -> None:
    create_target(session=session, name="FY2027", year=2027, metric_code="revenue", by="wang", total="1000000", unit="100")
    # never split: nobody has a target (a SMART error)
    error = cli_fails(database_url, "plan", "submit", "FY2027", "--as", "wang")
    assert isinstance(error, Conflict) and "SMART error" in str(error) and "no cells" in str(error)
    with pytest.raises(Conflict, match="SMART error"):
        submit_plan(session=session, name="FY2027", by="wang", override="  ")
    assert require_plan(session=session, name="FY2027").status == "draft"
    submitted = cli(database_url, "plan", "submit", "FY2027", "--as", "wang", "--override", "董事会已批准总额")
    assert submitted["status"] == "submitted"
    reasons = [v["reason"] for v in cli(database_url, "plan", "versions", "FY2027")]
    assert "董事会已批准总额" in reasons[-1] and "SMART override" in reasons[-1]
    assert (list_versions(session=session, plan=require_plan(session=session, name="FY2027"))[-1].reason or "").endswith("董事会已批准总额")


# --- (20#2) a team manager cannot reopen the company plan; a revision never takes the plan away --------

def test_a_team_manager_cannot_revise_the_company_plan(session: Session, company: dict[str, int], database_url: str) -> None:
    with pytest.raises(NotAllowed, match="may not revise"):
        revise_plan(session=session, name="FY2026", by="li", reason="my team", effective_from=DECEMBER, today=TODAY)
    assert isinstance(cli_fails(database_url, "plan", "revise", "FY2026", "--reason", "x", "--as", "li"), NotAllowed)
    assert len(lineage_ids(session=session, name="FY2026")) == 1
    assert attainment(database_url)["plan_version"] == 4  # still in force, still answering

    revise_plan(session=session, name="FY2026", by="wang", reason="Q4", effective_from=DECEMBER, today=TODAY)
    from attain.auth.service import get_user

    li = get_user(session=session, username="li")
    team = values(cells_of(session, working(session)))[("R1-T1", "2026-12", None, "all")]
    set_cells(session=session, name="FY2026", values={CellRef("R1-T1-1", "2026-12"): 30_000_00}, by="li", actor=li)
    assert values(cells_of(session, working(session)))[("R1-T1", "2026-12", None, "all")] == team  # within li's team
    with pytest.raises(NotAllowed, match="may not change-total"):
        set_cells(session=session, name="FY2026", values={CellRef("R1-T1-2", "2026-12"): 40_000_00}, by="li", actor=li,
                  change_total=True)
    with pytest.raises(NotAllowed, match="outside what li manages"):
        set_cells(session=session, name="FY2026", values={CellRef("R2-T1-1", "2026-12"): 30_000_00}, by="li", actor=li)
    for action in (submit_plan, approve_plan):
        with pytest.raises(NotAllowed):
            action(session=session, name="FY2026", by="li")
    with pytest.raises(Conflict, match="pending revision"):
        lock_plan(session=session, name="FY2026", by="zhao")
    report = attainment(database_url)  # the revision is pending: the version in force still answers
    assert report["plan_version"] == 4 and target_of(report, "R1-T1-1") == 25_000
    assert plan_in_force(session=session, name="FY2026").status == "approved"
