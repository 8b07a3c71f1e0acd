"""Changing a plan: versions, diff, approval, optimistic concurrency, edits, commitments, re-splits."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from attain.db import get_engine, make_session_factory
from attain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from attain.facts.models import OrderLine
from attain.plans.edits import (
    CellRef,
    commit_number,
    reconcile_plan,
    resplit_from,
    set_cells,
    set_lock,
    set_note,
)
from attain.plans.service import (
    approve_plan,
    diff_versions,
    list_versions,
    lock_plan,
    require_plan,
    revise_plan,
    submit_plan,
)
from attain.plans.setting import create_target
from attain.plans.splitting import SplitOptions, load_cells, split_plan
from tests.plans.conftest import make_org, make_users
from tests.plans.test_split import assert_every_level_sums


@pytest.fixture
def plan(session: Session) -> dict[str, int]:
    ids = make_org(session, regions=2, teams=1, reps=2, managers=True)
    make_users(session)
    create_target(session=session, name="P", year=2027, metric_code="revenue", by="王总", total="1200000", unit="100")
    split_plan(session=session, name="P", options=SplitOptions(by=("org", "time")), by="王总")
    return ids


def cell(session: Session, key: tuple) -> int:  # type: ignore[type-arg]
    return load_cells(session=session, plan=require_plan(session=session, name="P"))[key].value


def test_every_change_is_a_version_with_who_and_why(session: Session, plan: dict[str, int]) -> None:
    set_cells(session=session, name="P", values={CellRef("R1-T1-1", "2027-01"): 30_000_00}, by="李经理", reason="大客户签约", expect=2)
    versions = list_versions(session=session, plan=require_plan(session=session, name="P"))
    assert [(v.version, v.action, v.changed_by) for v in versions] == [
        (1, "created", "王总"), (2, "split equal", "王总"), (3, "set cells", "李经理")]
    assert versions[2].reason == "大客户签约" and versions[2].cells_changed > 0


def test_diff_shows_the_cells_that_moved(session: Session, plan: dict[str, int]) -> None:
    set_cells(session=session, name="P", values={CellRef("R1-T1-1", "2027-01"): 30_000_00}, by="a", within="R1-T1")
    changes = diff_versions(session=session, name="P", from_version=2, to_version=3)
    moved = {(d.org_code, d.period): (d.before, d.after) for d in changes}
    assert moved[("R1-T1-1", "2027-01")] == (25_000_00, 30_000_00)
    assert moved[("R1-T1-2", "2027-01")] == (25_000_00, 20_000_00)  # the sibling absorbs it
    assert ("R1", "2027-01") not in moved  # the team and region keep their targets
    assert sum(d.delta for d in changes if d.period == "2027-01") == 0
    backwards = diff_versions(session=session, name="P", from_version=3, to_version=2)
    assert {(d.org_code, d.period): (d.before, d.after) for d in backwards}[("R1-T1-1", "2027-01")] == (30_000_00, 25_000_00)
    created = diff_versions(session=session, name="P", from_version=1, to_version=2)
    assert all(d.before is None for d in created) and len(created) == 9 * 17  # company, 2 regions, 2 teams, 4 reps × year, 4 quarters, 12 months
    with pytest.raises(NotFound, match="versions 1 to 3"):
        diff_versions(session=session, name="P", from_version=1, to_version=9)


def test_stale_edit_is_a_conflict_not_an_overwrite(session: Session, plan: dict[str, int], database_url: str) -> None:
    other = make_session_factory(get_engine(database_url))()
    try:
        require_plan(session=other, name="P")  # the second editor reads version 2 too
        set_cells(session=session, name="P", values={CellRef("R1-T1-1", "2027-01"): 30_000_00}, by="first", expect=2,
                  within="R1-T1")
        with pytest.raises(Conflict, match="is at version 3, but this change was based on version 2"):
            set_cells(session=other, name="P", values={CellRef("R1-T1-2", "2027-01"): 10_000_00}, by="second", expect=2)
    finally:
        other.close()
    assert cell(session, ("2027-01", plan["R1-T1-2"], None, "all")) == 20_000_00


def test_concurrent_bump_of_the_same_read_version_conflicts(session: Session, plan: dict[str, int], database_url: str) -> None:
    from attain.plans.service import begin_change

    other = make_session_factory(get_engine(database_url))()
    try:
        stale = require_plan(session=other, name="P")
        other.commit()
        set_lock(session=session, name="P", ref=CellRef("R2", "2027"), locked=True, by="first")
        with pytest.raises(Conflict, match="changed by someone else since version 2"):
            begin_change(session=other, plan=stale, expect=None, by="second", action="edit")
    finally:
        other.close()


def test_approval_flow_and_revision(session: Session, plan: dict[str, int]) -> None:
    assert submit_plan(session=session, name="P", by="wang").status == "submitted"
    with pytest.raises(Conflict, match="submitted"):
        set_cells(session=session, name="P", values={CellRef("R1", "2027"): 1}, by="a")
    # Issue 15: approval acts as a real account with its own role; a free-text name or --role is gone.
    with pytest.raises(NotAllowed, match="no active user '小王'"):
        approve_plan(session=session, name="P", by="小王")
    with pytest.raises(NotAllowed, match="only a director or admin"):
        approve_plan(session=session, name="P", by="li")
    with pytest.raises(NotAllowed, match="no active user ''"):
        approve_plan(session=session, name="P", by=" ")
    with pytest.raises(NotAllowed, match="four eyes"):
        approve_plan(session=session, name="P", by="wang")  # the submitter
    approved = approve_plan(session=session, name="P", by="zhao")
    assert approved.status == "approved" and approved.role == "director" and approved.changed_by == "zhao"
    assert lock_plan(session=session, name="P", by="zhao").status == "locked"
    with pytest.raises(Conflict, match="locked"):
        set_lock(session=session, name="P", ref=CellRef("R1", "2027"), locked=True, by="a")
    with pytest.raises(InvalidInput, match="reason"):
        revise_plan(session=session, name="P", by="wang", reason=" ", today=date(2026, 12, 2))
    revised = revise_plan(session=session, name="P", by="wang", reason="竞争对手降价", today=date(2026, 12, 2))
    assert revised.status == "draft" and revised.version == 6
    # The revision is a new working row; the locked version stays in force (issue 15: not reopened in place).
    working = require_plan(session=session, name="P")
    assert (working.status, working.version, working.effective_from) == ("draft", 6, date(2027, 1, 1))
    from attain.plans.service import plan_in_force

    assert (plan_in_force(session=session, name="P").status, plan_in_force(session=session, name="P").version) == ("locked", 5)


def test_approver_with_a_user_account_uses_its_role(session: Session, plan: dict[str, int]) -> None:
    from attain.auth.models import User

    session.add(User(username="liu", display_name="刘", password_hash="x", role="manager"))
    session.commit()
    submit_plan(session=session, name="P", by="wang")
    with pytest.raises(NotAllowed, match="liu is a manager, not a director"):
        approve_plan(session=session, name="P", by="liu", role="director")
    with pytest.raises(NotAllowed, match="only a director or admin"):
        approve_plan(session=session, name="P", by="liu")
    with pytest.raises(NotAllowed, match="zhao is a director, not a admin"):
        approve_plan(session=session, name="P", by="zhao", role="admin")
    assert approve_plan(session=session, name="P", by="admin").role == "admin"


def test_set_cell_rules(session: Session, plan: dict[str, int]) -> None:
    with pytest.raises(InvalidInput, match="negative"):
        set_cells(session=session, name="P", values={CellRef("R1-T1-1", "2027-01"): -100}, by="a")
    with pytest.raises(InvalidInput, match="multiple"):
        set_cells(session=session, name="P", values={CellRef("R1-T1-1", "2027-01"): 150}, by="a")
    with pytest.raises(NotFound, match="no rep, team"):
        set_cells(session=session, name="P", values={CellRef("NOPE", "2027-01"): 100}, by="a")
    with pytest.raises(NotFound, match="no cell"):
        set_cells(session=session, name="P", values={CellRef("R1", "2028-01"): 100}, by="a")
    set_lock(session=session, name="P", ref=CellRef("R1-T1-1", "2027-01"), locked=True, by="a")
    with pytest.raises(Conflict, match="locked"):
        set_cells(session=session, name="P", values={CellRef("R1-T1-1", "2027-01"): 10_000_00}, by="a")
    with pytest.raises(InvalidInput, match="already locked"):
        set_lock(session=session, name="P", ref=CellRef("R1-T1-1", "2027-01"), locked=True, by="a")


def test_setting_the_company_year_changes_the_total(session: Session, plan: dict[str, int]) -> None:
    with pytest.raises(InvalidInput, match="change the total instead"):  # redistributing within the top is no change
        set_cells(session=session, name="P", values={CellRef("COMPANY", "2027"): 2_400_000_00}, by="a")
    result = set_cells(session=session, name="P", values={CellRef("COMPANY", "2027"): 2_400_000_00}, by="a", change_total=True)
    assert result.total == 2_400_000_00
    assert cell(session, ("2027-05", plan["R2-T1-2"], None, "all")) == 50_000_00
    assert_every_level_sums(session, load_cells(session=session, plan=require_plan(session=session, name="P")))


def test_note_owner_and_rule(session: Session, plan: dict[str, int]) -> None:
    set_note(session=session, name="P", ref=CellRef("R1", "2027"), note="主攻制造业", owner="R1-T1-1",
             rule={"achieved_at": "0.95", "review": "monthly"}, by="a")
    stored = load_cells(session=session, plan=require_plan(session=session, name="P"))[("2027", plan["R1"], None, "all")]
    assert (stored.note, stored.owner_id) == ("主攻制造业", plan["R1-T1-1"])
    assert stored.rule == {"metric": "revenue", "achieved_at": "0.95", "review": "monthly"}
    with pytest.raises(InvalidInput, match="review 'hourly'"):
        set_note(session=session, name="P", ref=CellRef("R1", "2027"), rule={"review": "hourly"}, by="a")
    with pytest.raises(NotFound, match="no metric 'x'"):
        set_note(session=session, name="P", ref=CellRef("R1", "2027"), rule={"metric": "x"}, by="a")


def test_commitments_reconcile_and_apply(session: Session, plan: dict[str, int]) -> None:
    commit_number(session=session, name="P", node="R1-T1-1", period="2027", value=400_000_00, by="R1-T1-1")
    commit_number(session=session, name="P", node="R1-T1-2", period="2027", value=200_000_00, by="R1-T1-2")
    commit_number(session=session, name="P", node="R2", period="2027", value=500_000_00, by="R2 head")
    report = reconcile_plan(session=session, name="P", rule="scale")
    gaps = {g.node: g for g in report.gaps}
    assert (gaps["R1-T1-1"].top_down, gaps["R1-T1-1"].bottom_up, gaps["R1-T1-1"].gap) == (300_000_00, 400_000_00, 100_000_00)
    assert (gaps["R1-T1-1"].reconciled, gaps["R1-T1-2"].reconciled) == (400_000_00, 200_000_00)
    assert (gaps["R2"].gap, gaps["R2"].reconciled) == (-100_000_00, 600_000_00)  # alone among its siblings: keeps its share
    assert "R1" not in gaps  # no commitment
    assert report.applied_version is None
    applied = reconcile_plan(session=session, name="P", rule="scale", apply=True, by="王总")
    assert applied.applied_version is not None
    assert cell(session, ("2027", plan["R1-T1-1"], None, "all")) == 400_000_00
    assert cell(session, ("2027", plan["COMPANY"], None, "all")) == 1_200_000_00
    with pytest.raises(InvalidInput, match="unknown reconcile rule 'avg'; rules are scale, max"):
        reconcile_plan(session=session, name="P", rule="avg")


def test_reconcile_without_commitments(session: Session, plan: dict[str, int]) -> None:
    with pytest.raises(NotFound, match="no commitments"):
        reconcile_plan(session=session, name="P")


def _sell(session: Session, rep_id: int, months: range, amount_yuan: int) -> None:
    session.execute(insert(OrderLine), [
        {"line_id": f"L{rep_id}-{m}", "order_id": f"O{rep_id}-{m}", "order_date": date(2027, m, 10), "rep_id": rep_id,
         "amount": amount_yuan * 100, "quantity": 1, "currency": "CNY"} for m in months])
    session.commit()


def test_resplit_keep_total_spreads_the_shortfall_over_the_open_months(session: Session, plan: dict[str, int]) -> None:
    rep = plan["R1-T1-1"]
    _sell(session, rep, range(1, 7), 30_000)  # 180,000 of 300,000 in the first half
    resplit_from(session=session, name="P", start="2027-07", rule="keep-total", by="a")
    cells = load_cells(session=session, plan=require_plan(session=session, name="P"))
    assert cells[("2027-03", rep, None, "all")].value == 25_000_00  # closed months untouched
    assert [cells[(f"2027-{m:02d}", rep, None, "all")].value for m in range(7, 13)] == [20_000_00] * 6  # (300,000 − 180,000) / 6
    assert cells[("2027", rep, None, "all")].value == 300_000_00  # the year target is kept
    assert cells[("2027-09", plan["R1"], None, "all")].value == cells[("2027-09", rep, None, "all")].value + 50_000_00  # the teammate sold nothing
    with pytest.raises(InvalidInput, match="cuts period"):
        resplit_from(session=session, name="P", start="2027-07-15", rule="keep-total", by="a")


def test_resplit_leaver_hands_the_rest_of_the_year_to_teammates(session: Session, plan: dict[str, int]) -> None:
    leaver, mate = plan["R1-T1-1"], plan["R1-T1-2"]
    resplit_from(session=session, name="P", start="2027-07", rule="leaver", rep="R1-T1-1", by="a")
    cells = load_cells(session=session, plan=require_plan(session=session, name="P"))
    assert cells[("2027-06", leaver, None, "all")].value == 25_000_00
    assert cells[("2027-07", leaver, None, "all")].value == 0
    assert cells[("2027-07", mate, None, "all")].value == 50_000_00
    assert cells[("2027-03", mate, None, "all")].value == 25_000_00
    assert cells[("2027", plan["R1"], None, "all")].value == 600_000_00
    assert not cells[("2027-07", leaver, None, "all")].locked
    assert_every_level_sums(session, cells)
    with pytest.raises(InvalidInput, match="needs --rep"):
        resplit_from(session=session, name="P", start="2027-07", rule="leaver", by="a")
    with pytest.raises(InvalidInput, match="unknown re-split rule"):
        resplit_from(session=session, name="P", start="2027-07", rule="magic", by="a")


def test_a_target_import_into_a_draft_is_a_version(session: Session, plan: dict[str, int], tmp_path) -> None:  # type: ignore[no-untyped-def]
    from attain.imports.common import ImportOptions
    from attain.imports.service import import_file

    sheet = tmp_path / "quota.csv"
    sheet.write_text("销售员,期间,目标\nR1-T1-1,2027-01,26000\n", encoding="utf-8")
    import_file(session=session, kind="targets", path=sheet, options=ImportOptions(plan="P", metric="revenue"))
    versions = list_versions(session=session, plan=require_plan(session=session, name="P"))
    assert (versions[-1].action, versions[-1].changed_by, versions[-1].cells_changed) == ("import targets", "import", 1)
    changes = diff_versions(session=session, name="P", from_version=2, to_version=3)
    assert [(d.org_code, d.period, d.before, d.after) for d in changes] == [("R1-T1-1", "2027-01", 25_000_00, 26_000_00)]


def test_a_rep_only_quota_sheet_gets_its_parents_on_the_first_edit(session: Session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from attain.imports.common import ImportOptions
    from attain.imports.service import import_file

    ids = make_org(session, regions=1, teams=1, reps=2)
    sheet = tmp_path / "quota.csv"
    sheet.write_text("销售员,期间,目标\nR1-T1-1,2027-01,30000\nR1-T1-2,2027-01,10000\n", encoding="utf-8")
    import_file(session=session, kind="targets", path=sheet, options=ImportOptions(plan="Q", metric="revenue"))
    set_cells(session=session, name="Q", values={CellRef("R1-T1-1", "2027-01"): 20_000_00}, by="a")
    cells = load_cells(session=session, plan=require_plan(session=session, name="Q"))
    assert cells[("2027-01", ids["R1-T1-2"], None, "all")].value == 20_000_00  # the teammate absorbs the change
    assert cells[("2027-01", ids["R1-T1"], None, "all")].value == 40_000_00
    assert cells[("2027-01", ids["COMPANY"], None, "all")].value == 40_000_00
    assert require_plan(session=session, name="Q").total == 40_000_00  # the sheet has months only, no year cell
