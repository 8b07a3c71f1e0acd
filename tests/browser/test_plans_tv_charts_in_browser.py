"""Issue 19 in a real browser, at 1440×900 (the 战报墙 TV view at 1920×1080), in Chinese and English:
the plan grid (sticky header and name column, the whole year, total and owner/strategy reachable,
reps under their team, 万 inputs taking '80万', read-only cells on one line), the wizard's company
defaults, the TV wall paging through every row with its refresh time and a milestone banner, and the
dashboard's charts and numbers. Writes docs/screenshots/{plan-wizard,plan-editor,leaderboard-tv,dashboard}.png."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest

DESKTOP = {"width": 1440, "height": 900}
TV = {"width": 1920, "height": 1080}
LOCALES = ["zh-CN", "en"]


def _open(sign_in, server: str, role: str, locale: str, size: dict[str, int]):  # type: ignore[no-untyped-def]
    page = sign_in(role, locale=locale)
    page.set_viewport_size(size)
    page.context.add_cookies([{"name": "attain_locale", "value": "zh_CN" if locale == "zh-CN" else "en", "url": server}])
    return page


def _box(page, selector: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box


@pytest.mark.parametrize("locale", LOCALES)
def test_wizard_opens_on_next_year_with_the_growth_total(sign_in, server: str, screenshot, as_of: date,
                                                         monkeypatch, locale: str) -> None:
    from attain.plans import service as plans

    monkeypatch.setattr(plans, "current_day", lambda: date(as_of.year, 11, 16))  # in Q4: next year's plan
    page = _open(sign_in, server, "admin", locale, DESKTOP)
    page.goto(f"{server}/plans/new")
    assert page.input_value("input[name=year]") == str(as_of.year + 1)
    assert page.locator("[data-testid=total-basis]").input_value() == "growth"
    total = page.input_value("[data-testid=total]")
    assert total.endswith("万") if locale == "zh-CN" else re.fullmatch(r"[\d,]+(\.\d+)?", total)
    assert str(as_of.year - 1) in page.inner_text("[data-testid=total-proposal]")
    labels = [t.strip() for t in page.locator("form.wizard label").all_inner_texts()]
    assert not any(t.split("\n")[0].strip() in ("按", "by") for t in labels), labels
    page.fill("[data-testid=plan-name]", f"W-{uuid.uuid4().hex[:6]}")
    page.select_option("[data-testid=org-level]", "region")
    page.click("[data-testid=preview]")
    page.wait_for_selector("[data-testid=preview-table]")
    shown = page.inner_text("[data-testid=preview-total]")
    assert re.sub(r"[^\d.]", "", shown), shown
    # One unit per column: the total sits in 万 beside the row totals' 万 inputs (never 亿 next to 万).
    cells = page.locator("[data-testid=preview-table] td").evaluate_all(
        "cells => cells.map(c => c.querySelector('input') ? c.querySelector('input').placeholder : c.innerText.trim())")
    if locale == "zh-CN":
        assert all(c.endswith("万") for c in cells), cells
    else:
        assert all(re.fullmatch(r"[\d,]+(\.\d+)?", c) for c in cells), cells
    if locale == "zh-CN":
        screenshot(page, "plan-wizard")


@pytest.mark.parametrize("locale", LOCALES)
def test_plan_grid_fits_1440_with_sticky_header_and_names(sign_in, server: str, screenshot, as_of: date,
                                                          locale: str) -> None:
    page = _open(sign_in, server, "director", locale, DESKTOP)
    name = f"G-{uuid.uuid4().hex[:6]}"
    page.goto(f"{server}/plans/new")
    page.fill("[data-testid=plan-name]", name)
    page.fill("input[name=year]", str(as_of.year))
    page.select_option("[data-testid=total-basis]", "total")
    page.fill("[data-testid=total]", "1,200万")
    page.select_option("select[name=scope]", "EAST")
    page.select_option("[data-testid=org-level]", "rep")
    page.select_option("select[name=org_method]", "equal")
    page.click("[data-testid=apply]")
    page.wait_for_selector("[data-testid=plan-grid]")
    # Reps sit under their team.
    groups = page.locator("tbody.group")
    assert groups.count() >= 2
    assert groups.first.locator("tr.team").count() == 1 and groups.first.locator("tr.member").count() >= 2
    # Inputs in 万 (Chinese) or with separators (English).
    first_input = page.locator("table.plan tbody input[name=value]").first.input_value()
    assert first_input.endswith("万") if locale == "zh-CN" else "," in first_input, first_input
    scroller = page.locator("[data-testid=grid-scroll]")
    outer = _box(page, "[data-testid=grid-scroll]")
    assert outer["x"] + outer["width"] <= DESKTOP["width"], "the grid box fits the window; it scrolls inside"
    # Scroll to the far right: the name column stays put, Total and owner/strategy come into view.
    scroller.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    name_cell = _box(page, "table.plan tbody tr.member th.name")
    assert abs(name_cell["x"] - outer["x"]) <= 2, (name_cell, outer)
    owner = _box(page, "table.plan thead th.owner")
    assert owner["x"] + owner["width"] <= outer["x"] + outer["width"] + 1
    # Scroll down: the header stays at the top of the box.
    scroller.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    header = _box(page, "table.plan thead th.name")
    assert abs(header["y"] - outer["y"]) <= 2, (header, outer)
    scroller.evaluate("el => { el.scrollTop = 0; el.scrollLeft = 0; }")
    # Type 80万 into a rep's March: the grid comes back with it, in 万.
    rep_row = page.locator("table.plan tbody tr.member").first
    code = rep_row.get_attribute("data-row")
    cell = page.locator(f"[data-testid=cell-{code}-{as_of.year}-03]")
    cell.fill("80万")
    cell.press("Tab")
    page.wait_for_selector("[data-testid=grid-changes]")
    after = page.locator(f"[data-testid=cell-{code}-{as_of.year}-03]").input_value()
    assert after == ("80万" if locale == "zh-CN" else "800,000"), after
    if locale == "zh-CN":
        screenshot(page, "plan-editor")
    # Read-only cells (an approved plan) stay on one line.
    page.goto(f"{server}/plans/FY{as_of.year}?node=EAST")
    page.wait_for_selector("table.plan")
    heights = page.locator("table.plan tbody tr").evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")
    assert heights and max(heights) < 2 * min(heights), heights
    wrapped = page.locator("table.plan tbody td span").evaluate_all(
        "spans => spans.filter(s => s.getClientRects().length > 1).length")
    assert wrapped == 0


def _crossing_day(database_url: str, as_of: date) -> tuple[str, date, str]:
    """A month and day on which tracking says a rep crossed 50 % or 100 % (the latest such day up to
    as-of), and that rep's name."""
    from attain.db import get_engine, make_session_factory
    from attain.org.models import OrgNode
    from attain.periods import parse_period
    from attain.tracking.leaderboard import CELEBRATED, crossings, leaderboard

    session = make_session_factory(get_engine(database_url))()
    try:
        for month in (as_of.month, as_of.month - 1, as_of.month - 2):
            period = parse_period(f"{as_of.year}-{month:02d}")
            board = leaderboard(session=session, period=period, by="rep", as_of=min(as_of, period.end))
            days = sorted({day for leader in board.rows for share, day in leader.milestones.reached
                           if share in CELEBRATED and day is not None})
            if days:
                found = crossings(leaderboard(session=session, period=period, by="rep", as_of=days[-1]), on=days[-1])
                node = session.get(OrgNode, found[0].leader.row.node_id)
                assert node is not None
                return period.label, days[-1], node.name
    finally:
        session.close()
    pytest.fail("no rep crossed 50 % or 100 % in the demo's last three months")


@pytest.mark.parametrize("locale", LOCALES)
def test_tv_mode_pages_through_every_row_and_celebrates(sign_in, server: str, screenshot, database_url: str,
                                                        as_of: date, locale: str) -> None:
    period, day, rep = _crossing_day(database_url, as_of)
    page = _open(sign_in, server, "manager", locale, TV)
    page.goto(f"{server}/leaderboard?period={period}&by=rep&as_of={day}&seconds=3&tv=1")
    wall = page.locator("[data-testid=leaderboard]")
    page.wait_for_selector(".wall.tv[data-pages]")
    assert wall.get_attribute("hx-trigger") == "every 60s"  # refreshes itself
    assert re.search(r"\d\d:\d\d:\d\d", page.inner_text("[data-testid=refreshed]"))
    rows = wall.locator("tbody tr")
    pages = int(wall.get_attribute("data-pages") or "0")
    assert pages >= 2 and rows.count() >= 20
    visible = rows.evaluate_all("rs => rs.filter(r => !r.hidden).length")
    assert visible < rows.count()
    assert rows.last.is_hidden()  # the bottom of the ranking is on a later page
    banner = page.locator("[data-testid=celebration]:not([hidden])").first
    banner.wait_for()
    assert rep in banner.inner_text()
    if locale == "zh-CN":
        screenshot(page, "leaderboard-tv")
    # Every page comes round: the last row is shown, then the first page again.
    page.wait_for_function("() => !Array.from(document.querySelectorAll('[data-tv] tbody tr')).pop().hidden",
                           timeout=3_000 * (pages + 1) + 5_000)
    box = rows.last.bounding_box()
    assert box is not None and box["y"] + box["height"] <= TV["height"]
    assert page.locator("[data-testid=tv-page]").inner_text() == f"{pages} / {pages}"
    page.wait_for_function("() => document.querySelector('[data-tv]').dataset.page === '1'", timeout=10_000)


def _texts_overlap(page, selector: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return page.locator(selector).evaluate("""svg => {
        const boxes = Array.from(svg.querySelectorAll('text')).filter(t => t.textContent.trim())
            .map(t => [t.textContent, t.getBoundingClientRect()]);
        const hits = [];
        for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
            const [a, p] = boxes[i], [b, q] = boxes[j];
            if (p.left < q.right - 1 && q.left < p.right - 1 && p.top < q.bottom - 1 && q.top < p.bottom - 1) hits.push([a, b]);
        }
        return hits;
    }""")


@pytest.mark.parametrize("locale", LOCALES)
def test_dashboard_charts_in_wan_and_a_precise_card(sign_in, server: str, screenshot, locale: str) -> None:
    page = _open(sign_in, server, "director", locale, DESKTOP)
    page.goto(f"{server}/dashboard")
    page.wait_for_selector("#line svg")
    page.wait_for_selector("#gauge svg")
    zh = locale == "zh-CN"
    # The card: 万 with two decimals, the exact yuan on hover.
    card = page.locator("[data-testid=kpi-actual]")
    shown, exact = card.inner_text(), card.get_attribute("title") or ""
    assert re.fullmatch(r"¥[\d,]+\.\d\d", exact), exact
    fen = round(float(exact[1:].replace(",", "")) * 100)
    if zh:
        assert re.fullmatch(r"[\d,]+\.\d\d万", shown), shown
        assert float(shown[:-1].replace(",", "")) == pytest.approx(fen / 1_000_000, abs=0.005)
    else:
        assert re.fullmatch(r"[\d,]+", shown), shown
    # Axis names carry the unit; the values are in it.
    names = page.evaluate("""() => ['bars', 'line'].map(id => echarts.getInstanceByDom(document.getElementById(id))
        .getOption().yAxis[0].name)""")
    for name in names:
        assert name in (("万元", "亿元") if zh else ("thousand ¥", "million ¥")), names
    # The P10–P90 band is an area, not only a legend entry.
    band = page.evaluate("""() => {
        const option = echarts.getInstanceByDom(document.getElementById('line')).getOption();
        const s = option.series.find(s => s.areaStyle);
        return s ? s.data.filter(v => v !== null && v !== undefined).length : 0;
    }""")
    assert band >= 2
    assert page.locator("#line svg path[fill-opacity='0.25']").count() >= 1
    # The gauge: no label on another, and the needle says what it is.
    assert _texts_overlap(page, "#gauge svg") == []
    assert ("时间进度" if zh else "time progress") in (page.locator("#gauge svg").text_content() or "")
    # One unit per table column: the unit in the header, no unit in the cells.
    table = page.locator("[data-testid=status-table]")
    for column in (2, 3):
        header = table.locator(f"thead th:nth-child({column})").inner_text()
        cells = table.locator(f"tbody td:nth-child({column})").all_inner_texts()
        if zh:
            assert re.search(r"\((万|亿|元)\)", header), header
            assert all(re.fullmatch(r"-?[\d,]+(\.\d\d)?", c) for c in cells), cells
        else:
            assert all(re.fullmatch(r"-?[\d,]+", c) for c in cells), cells
    if zh:
        screenshot(page, "dashboard")
