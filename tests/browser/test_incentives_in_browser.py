"""Incentives in Chromium: the dashboard's what-if panel (HTMX, a new extra sale), statements list
and detail, the plan editor with an upload error in place — zh-CN and en, no CSP violation.

Its own demo database as of 2026-11-23 with docs/examples/incentives-2026.yaml approved (the shared
browser demo is loaded as of today and has no incentive plan). Screenshots go to docs/screenshots/.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.browser.conftest import PASSWORDS, SCREENSHOTS, _free_port, shoot

AS_OF = date(2026, 11, 23)
PLAN = "销售激励2026"
PLAN_FILE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "incentives-2026.yaml"
expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture(scope="module")
def incentive_server(browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    import uvicorn

    from attain.db import get_engine, make_session_factory
    from attain.demo.service import load_demo
    from attain.incentives import service
    from attain.migrate import upgrade
    from attain.web.app import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('incentive-browser') / 'demo.db'}"
    upgrade(get_engine(url))
    with make_session_factory(get_engine(url))() as session:
        load_demo(session=session, seed=2026, year=2026, as_of=AS_OF)
        service.import_plan(session=session, path=PLAN_FILE, by="director")
        service.submit_plan(session=session, name=PLAN, by="director")
        service.approve_plan(session=session, name=PLAN, by="admin")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(url), host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the app did not start within 20 s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    get_engine(url).dispose()


@pytest.fixture
def open_as(browser, incentive_server: str):  # type: ignore[no-untyped-def]
    """open_as("rep", locale="en") → (page, console errors) signed in to the incentive demo."""
    contexts = []

    def make(role: str, locale: str = "zh-CN"):  # type: ignore[no-untyped-def]
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale=locale, device_scale_factor=1)
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(f"{incentive_server}/login")
        page.fill("input[name=username]", role)
        page.fill("input[name=password]", PASSWORDS[role])
        page.click("form.stack button[type=submit]")
        page.wait_for_url(f"{incentive_server}/")
        return page, errors

    yield make
    for context in contexts:
        context.close()


def test_rep_what_if_on_the_dashboard_then_own_statement(open_as, incentive_server: str) -> None:  # type: ignore[no-untyped-def]
    page, errors = open_as("rep")
    page.goto(f"{incentive_server}/dashboard?as_of={AS_OF}")
    panel = page.locator("#incentive-what-if")
    panel.locator("[data-testid=what-if]").wait_for()
    assert panel.locator("tbody tr").count() == 1
    assert "再完成" in panel.inner_text() and "进入下一档，多拿" in panel.inner_text()
    before = panel.locator("[data-testid=extra-pays]").inner_text()
    panel.locator("input[name=extra]").fill("300000")
    panel.locator("button[type=submit]").click()
    expect(panel.locator("thead th").last).to_contain_text("30万")  # the CSP forbids wait_for_function's eval
    assert panel.locator("[data-testid=extra-pays]").inner_text() != before
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    panel.screenshot(path=str(SCREENSHOTS / "incentive-what-if.png"))

    panel.locator("a", has_text="奖金单").first.click()
    page.wait_for_selector("[data-testid=statements]")
    assert page.locator("[data-testid=statements] tbody tr").count() == 1
    page.select_option("select[name=period]", "2026Q3")
    page.click("[data-testid=period-filter] button[type=submit]")
    page.wait_for_url("**period=2026Q3**")
    page.locator("[data-testid=statements] tbody a").first.click()
    page.wait_for_selector("[data-testid=statement-lines]")
    steps = page.locator("[data-testid=statement-lines] tbody tr").evaluate_all("rows => rows.map(r => r.dataset.step)")
    assert {"credited", "band", "curve", "total"} <= set(steps)
    shoot(page, "incentive-statement")
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_manager_team_what_if_in_english(open_as, incentive_server: str) -> None:  # type: ignore[no-untyped-def]
    page, errors = open_as("manager", locale="en-US")
    page.goto(f"{incentive_server}/lang/en?next=/dashboard%3Fas_of%3D{AS_OF}")
    panel = page.locator("#incentive-what-if")
    panel.locator("[data-testid=what-if]").wait_for()
    assert panel.locator("tbody tr").count() == 5
    assert "reaches the next band" in panel.inner_text()
    panel.screenshot(path=str(SCREENSHOTS / "incentive-what-if-team-en.png"))
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_director_statements_and_an_upload_error_in_place(open_as, incentive_server: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page, errors = open_as("director")
    page.goto(f"{incentive_server}/incentives/{PLAN}/statements?period=2026Q3&as_of={AS_OF}")
    assert page.locator("[data-testid=statements] tbody tr").count() == 6
    shoot(page, "incentive-statements")
    page.goto(f"{incentive_server}/incentives/{PLAN}")
    assert page.locator("[data-testid=components] tbody tr").count() == 7
    shoot(page, "incentive-plan")
    bad = tmp_path / "激励-错误.yaml"
    bad.write_text(PLAN_FILE.read_text(encoding="utf-8").replace("weight: 100", "weight: 90"), encoding="utf-8")
    page.goto(f"{incentive_server}/incentives")
    page.set_input_files("input[name=file]", str(bad))
    page.click("[data-testid=upload-form] button[type=submit]")
    page.wait_for_selector("[data-testid=upload-error]")
    assert "权重合计 90 %，应为 100 %" in page.inner_text("[data-testid=error-message]")  # zh-CN: the coded error translated
    assert page.inner_text("[data-testid=error-place]").startswith("第 ")
    shoot(page, "incentive-plans")
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_manager_plan_cost_and_a_new_customer_what_if(open_as, incentive_server: str) -> None:  # type: ignore[no-untyped-def]
    page, errors = open_as("manager")
    page.goto(f"{incentive_server}/dashboard?as_of={AS_OF}")
    panel = page.locator("#incentive-what-if")
    panel.locator("[data-testid=what-if]").wait_for()
    before = panel.locator("tr[data-node=R002] [data-testid=extra-pays]").inner_text()
    panel.locator("[data-testid=what-if-sale]").select_option("customer_type=new")
    panel.locator("button[type=submit]").click()
    # A sale to a new customer also pays the 1 % new-customer commission (1,000 yuan on 100,000).
    expect(panel.locator("tr[data-node=R002] [data-testid=extra-pays]")).not_to_have_text(before)
    panel.screenshot(path=str(SCREENSHOTS / "incentive-what-if-sale.png"))
    panel.locator("[data-testid=what-if-cost-link]").first.click()
    page.wait_for_selector("[data-testid=cost-people]")
    assert page.locator("[data-testid=cost-people] tbody tr").count() == 5  # the manager's team
    totals = [page.inner_text(f"[data-testid=cost-total-{s}]") for s in ("p10", "p50", "p90")]
    assert all(t.startswith("¥") for t in totals)
    assert "按团队" in page.inner_text("main")
    shoot(page, "incentive-cost")
    assert not [e for e in errors if "Content Security Policy" in e], errors
