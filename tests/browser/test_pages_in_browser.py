"""The web app in a real browser: sign in as each role, run the split wizard, edit a cell and see the
sums follow, import a file with an error and see it reported, the 战报墙 in Chinese. Screenshots of
the main pages go to docs/screenshots/."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

NAV = {  # menu links each role must (True) or must not (False) see
    "admin": {"/plans": True, "/imports": True},
    "director": {"/plans": True, "/imports": False},
    "manager": {"/plans": True, "/actions": True},
    "rep": {"/plans": False, "/actions": True},
}


@pytest.mark.parametrize("role", ["admin", "director", "manager", "rep"])
def test_each_role_signs_in_to_their_dashboard(sign_in, screenshot, role: str) -> None:
    page = sign_in(role, phone=role == "rep")
    page.wait_for_selector("#gauge svg")
    assert page.locator("[data-testid=kpi-attainment]").inner_text().endswith("%")
    for path, shown in NAV[role].items():
        assert (page.locator(f"nav.main a[href='{path}']").count() == 1) == shown, (role, path)
    rows = page.locator("[data-testid=status-table] tbody tr")
    assert (rows.count() > 0) == (role != "rep")
    if role == "director":
        page.wait_for_selector("#line svg")
        screenshot(page, "dashboard")
    if role == "rep":
        screenshot(page, "dashboard-phone")


def test_split_wizard_then_edit_a_cell_and_sums_follow(sign_in, screenshot, as_of: date) -> None:
    page = sign_in("director")
    page.goto(page.url + "plans/new")
    page.fill("[data-testid=plan-name]", "浏览器测试")
    page.fill("input[name=year]", str(as_of.year))
    page.select_option("[data-testid=total-basis]", "total")
    page.select_option("select[name=scope]", "EAST")
    page.select_option("[data-testid=org-level]", "team")
    page.fill("[data-testid=total]", "12000000")
    page.click("[data-testid=preview]")
    page.wait_for_selector("[data-testid=preview-table]")
    assert page.inner_text("[data-testid=preview-total]") == "1,200万"
    page.fill("[data-testid=lock-EAST-T1]", "7000000")
    page.click("[data-testid=preview]")
    page.wait_for_selector("[data-testid=preview-table] td.locked")
    page.click("[data-testid=apply]")
    page.wait_for_selector("[data-testid=plan-grid]")
    assert page.inner_text("[data-testid=row-total-EAST-T1]") == "700.00"  # the grid's amounts are in 万
    assert "1,200万" in page.inner_text("[data-testid=reconciled]")

    month = f"{as_of.year}-03"
    cell = page.locator(f"[data-testid=cell-EAST-T1-{month}]")
    old_column = page.inner_text(f"[data-testid=col-total-{month}]")
    cell.fill("2000000")
    cell.press("Tab")
    page.wait_for_selector("[data-testid=grid-changes]")
    # The wizard's lock on 上海团队's year holds (its other open months give the difference), so the
    # region's March moves and its year total holds; the moved cells are listed.
    assert page.inner_text(f"[data-testid=col-total-{month}]") != old_column
    assert page.inner_text("[data-testid=row-total-EAST-T1]") == "700.00"
    assert "1,200万" in page.inner_text("[data-testid=reconciled]")
    assert page.locator(f"[data-testid=cell-EAST-T1-{month}]").input_value() == "200万"
    assert page.locator("td.locked").count() == 1
    assert "v3" in page.inner_text("[data-testid=plan-version]")  # the header followed the edit


def test_import_with_an_error_is_reported_and_nothing_written(sign_in, screenshot, tmp_path: Path) -> None:
    bad = tmp_path / "销售明细.csv"
    bad.write_text("订单号,日期,金额,销售员,客户,产品\nB-1,2026-03-02,1200.00,R002,C00001,P001\n"
                   "B-2,2026-13-45,800.00,R002,C00001,P001\nB-3,2026-03-04,abc,R002,C00001,P001\n", encoding="utf-8")
    page = sign_in("admin")
    page.goto(page.url + "imports")
    page.select_option("select[name=kind]", "orders")
    page.set_input_files("input[type=file]", str(bad))
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("[data-testid=mapping]")
    page.click("form[action='/imports/run'] button[type=submit]")
    page.wait_for_selector("[data-testid=row-errors]")
    errors = page.inner_text("[data-testid=row-errors]")
    assert re.search(r"\b3\b", errors) and re.search(r"\b4\b", errors)
    assert page.locator("[data-testid=job-status]").get_attribute("data-status") == "failed"
    screenshot(page, "import-errors")


def test_leaderboard_in_chinese_and_tv_mode(sign_in, screenshot) -> None:
    page = sign_in("manager")
    page.goto(page.url + "leaderboard")
    assert "战报墙" in page.inner_text("h1")
    board = page.locator("[data-testid=leaderboard]")
    assert board.get_attribute("hx-trigger") == "every 60s"
    assert board.locator("tbody tr").count() >= 20
    assert board.locator("td.rank").first.inner_text().startswith("1")
    screenshot(page, "leaderboard")
    page.click("[data-testid=tv-mode]")
    page.wait_for_selector(".wall.tv")


def test_rep_board_check_off_and_other_pages(sign_in, screenshot, as_of: date) -> None:
    page = sign_in("rep")
    base = page.url
    page.goto(f"{base}actions?day={as_of}")
    done = page.locator("[data-testid=done-proposal]")
    before = int(done.inner_text())
    page.click("[data-testid=check-proposal]")
    page.wait_for_function(
        "n => Number(document.querySelector('[data-testid=done-proposal]').innerText) === n", arg=before + 1)
    screenshot(page, "actions")
    page.goto(f"{base}customers")
    assert page.locator("[data-testid=customers] tbody tr").count() > 0
    screenshot(page, "customers")
    other = page.goto(f"{base}dashboard?node=R003")
    assert other is not None and other.status == 404

    manager = sign_in("manager")
    manager.goto(f"{base}diagnosis?period={as_of.year}Q{(as_of.month - 1) // 3 + 1}")
    manager.wait_for_selector("#gap-chart svg")
    screenshot(manager, "diagnosis")


def test_alerts_inbox_marks_one_read_and_the_badge_follows(sign_in, screenshot, database_url: str) -> None:
    from tests.web.test_alerts_inbox import _add_events

    own = [_add_events(database_url, ["R002"])["R002"] for _ in range(2)]
    _add_events(database_url, ["R003"])  # another rep's: never on this rep's page
    page = sign_in("rep")
    badge = page.locator("[data-testid=unread-badge]")
    page.wait_for_function("() => document.querySelector('[data-testid=unread-badge]').innerText === '2'")
    page.goto(page.url + "alerts")
    assert page.locator("table[data-testid=alerts] tbody tr").count() == 2
    assert page.locator("tr[data-node=R003]").count() == 0
    page.click(f"[data-testid=mark-{own[1]}]")
    page.wait_for_selector(f"tr#alert-{own[1]}.read")
    page.wait_for_function("() => document.querySelector('[data-testid=unread-badge]').innerText === '1'")
    assert badge.inner_text() == "1" and "1 条未读" in page.inner_text("[data-testid=unread-count]")
    screenshot(page, "alerts")
    page.click("[data-testid=read-all]")
    page.wait_for_selector(f"tr#alert-{own[0]}.read")
    page.wait_for_function("() => document.querySelector('[data-testid=unread-badge]').innerText === ''")
