"""Issue 19 on a 390×844 phone and at the desktop, in Chinese and English: 今日行动 with readable
labels, thumb-sized buttons, an undo and a retry when the network drops; the menu and 诊断 usable on a
phone; the review pack opening in the browser; the customers page searched and paged. Screenshots go to
docs/screenshots/ (the *-phone ones at 390 px). Timings are printed (run with -s), never asserted."""

from __future__ import annotations

import time
from datetime import date

import pytest

PHONE_WIDTH = 390
THUMB = 40  # px: the smallest button height a thumb hits reliably (Apple and Material ask for 44/48 dp)
LOCALES = ["zh-CN", "en"]


def _suffix(locale: str) -> str:
    return "" if locale == "zh-CN" else "-en"


def _done(page, key: str) -> int:  # type: ignore[no-untyped-def]
    return int(page.inner_text(f"[data-testid=done-{key}]"))


def _wait_done(page, key: str, count: int) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "([key, n]) => Number(document.querySelector(`[data-testid=done-${key}]`).innerText) === n", arg=[key, count])


def _no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"the page is {width} px wide on a {PHONE_WIDTH} px phone"


@pytest.mark.parametrize("locale", LOCALES)
def test_actions_on_a_phone_check_off_and_undo(sign_in, screenshot, as_of: date, locale: str) -> None:
    page = sign_in("rep", phone=True, locale=locale)
    page.goto(f"{page.url}actions?day={as_of}")
    _no_sideways_scroll(page)
    # The day picker has a visible label tied to its input.
    label = page.locator("label[for=action-day]")
    assert label.is_visible() and label.inner_text().strip() in ("行动日期", "Day of the action list")
    assert page.locator("#action-day").input_value() == str(as_of)
    # Each figure carries its own heading (the table header is for wide screens).
    assert not page.locator(".action-table thead").is_visible()
    planned = page.locator("tr[data-action=proposal] td[data-label]").first
    heading = planned.evaluate("el => getComputedStyle(el, '::before').content")
    assert heading.strip('"') in ("计划", "Planned")
    # Thumb-sized buttons on one line, not pillars of wrapped text.
    button = page.locator("[data-testid=check-proposal]").bounding_box()
    assert button is not None and THUMB <= button["height"] <= 2 * THUMB and button["width"] >= PHONE_WIDTH / 2
    before = _done(page, "proposal")
    page.click("[data-testid=check-proposal]")
    _wait_done(page, "proposal", before + 1)
    assert page.locator("[data-testid=undo-bar]").is_visible()
    screenshot(page, f"actions-phone{_suffix(locale)}")
    page.click("[data-testid=undo]")  # the mis-tap is taken back
    _wait_done(page, "proposal", before)
    assert page.locator("[data-testid=undone]").is_visible()
    assert page.locator("[data-testid=undo-bar]").count() == 0


def test_a_check_off_without_signal_says_so_and_the_retry_counts_once(sign_in, screenshot, as_of: date) -> None:
    page = sign_in("rep", phone=True)
    page.goto(f"{page.url}actions?day={as_of}")
    before = _done(page, "follow_up")
    page.context.set_offline(True)
    page.click("[data-testid=check-follow_up]")
    page.wait_for_selector("[data-testid=not-saved]:not([hidden])")
    assert "没有保存" in page.inner_text("[data-testid=not-saved]")
    assert _done(page, "follow_up") == before
    screenshot(page, "actions-phone-offline")
    page.context.set_offline(False)
    page.click("[data-testid=retry]")
    _wait_done(page, "follow_up", before + 1)
    assert page.locator("[data-testid=not-saved]").is_hidden()


def test_a_retry_of_a_tap_whose_answer_was_lost_counts_once(sign_in, as_of: date) -> None:
    """The server stores the check-off but the phone never sees the answer: the retry sends the same
    key, and the count goes up by one, not two."""
    page = sign_in("rep", phone=True)
    page.goto(f"{page.url}actions?day={as_of}")
    before = _done(page, "prospect")
    lost = {"first": True}

    def drop_the_first_answer(route) -> None:  # type: ignore[no-untyped-def]
        response = route.fetch()  # the server records the activity ...
        if lost.pop("first", False):
            route.abort("internetdisconnected")  # ... and the answer is lost on the way back
        else:
            route.fulfill(response=response)

    page.route("**/actions/done", drop_the_first_answer)
    page.click("[data-testid=check-prospect]")
    page.wait_for_selector("[data-testid=not-saved]:not([hidden])")
    page.click("[data-testid=retry]")
    _wait_done(page, "prospect", before + 1)
    page.reload()
    assert _done(page, "prospect") == before + 1


@pytest.mark.parametrize("locale", LOCALES)
def test_actions_at_the_desktop_keep_the_table(sign_in, screenshot, as_of: date, locale: str) -> None:
    page = sign_in("manager", locale=locale)
    page.goto(f"{page.url}actions?day={as_of}")
    assert page.locator(".action-table thead").is_visible()
    heights = [page.locator(f"[data-testid=check-{key}]").bounding_box()["height"] for key in ("prospect", "proposal")]
    assert all(h < 2 * THUMB for h in heights)
    screenshot(page, f"actions-desktop{_suffix(locale)}")


@pytest.mark.parametrize("role", ["rep", "admin"])
def test_every_menu_entry_is_in_view_on_a_phone(sign_in, screenshot, role: str) -> None:
    page = sign_in(role, phone=True)
    links = page.locator("nav.main a")
    assert links.count() >= 5
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH, links.nth(i).inner_text()
        assert box["height"] >= 36
    for path in ("/alerts", "/customers"):
        assert page.locator(f"nav.main a[href='{path}']").is_visible()
    _no_sideways_scroll(page)
    if role == "rep":
        page.set_viewport_size({"width": PHONE_WIDTH, "height": 300})
        screenshot(page, "menu-phone")


@pytest.mark.parametrize("locale", LOCALES)
def test_diagnosis_on_a_phone(sign_in, screenshot, as_of: date, locale: str) -> None:
    page = sign_in("manager", phone=True, locale=locale)
    page.goto(f"{page.url}diagnosis?period={as_of.year}-{as_of.month:02d}")
    page.wait_for_selector("#gap-chart svg")
    _no_sideways_scroll(page)
    # The chart's texts (axis labels, names, legend) do not overlap at 390 px; the axis names its unit.
    texts = page.evaluate("""() => [...document.querySelectorAll('#gap-chart svg text')]
        .filter(t => t.textContent.trim() && getComputedStyle(t).display !== 'none' && t.getAttribute('opacity') !== '0')
        .map(t => { const b = t.getBoundingClientRect(); return [t.textContent, b.left, b.top, b.right, b.bottom]; })""")
    clashes = [(a[0], b[0]) for i, a in enumerate(texts) for b in texts[i + 1:]
               if a[1] < b[3] - 1 and b[1] < a[3] - 1 and a[2] < b[4] - 1 and b[2] < a[4] - 1]
    assert not clashes, clashes
    assert any(t[0] in ("万元", "亿元", "thousand ¥", "million ¥") for t in texts), texts
    table = page.locator("[data-testid=diagnosis]")
    assert table.locator("tbody tr").count() > 0
    # The table scrolls inside its card with the names pinned, and says so.
    assert page.locator("[data-testid=scroll-hint]").is_visible()
    first = table.locator("tbody tr td").first
    assert first.evaluate("el => getComputedStyle(el).position") == "sticky"
    page.locator("[data-testid=diagnosis-wrap]").evaluate("el => el.scrollLeft = 400")
    box = first.bounding_box()
    assert box is not None and box["x"] >= 0
    screenshot(page, f"diagnosis-phone{_suffix(locale)}")


def test_review_pack_html_opens_in_the_browser(sign_in, screenshot, as_of: date) -> None:
    page = sign_in("director")
    page.goto(f"{page.url}diagnosis?period={as_of.year}-{as_of.month:02d}")
    link = page.locator("[data-testid=review-html]")
    assert link.get_attribute("download") is None
    with page.context.expect_page() as opened:
        link.click()
    pack = opened.value
    pack.wait_for_load_state()
    assert pack.url.split("?")[0].endswith("/diagnosis/review")
    assert pack.locator("table").count() > 0
    screenshot(pack, "review-pack")


@pytest.mark.parametrize("locale", LOCALES)
def test_customers_search_and_pages(sign_in, screenshot, locale: str) -> None:
    page = sign_in("director", locale=locale)
    base = page.url
    started = time.perf_counter()
    page.goto(f"{base}customers")
    took = time.perf_counter() - started
    timing = page.evaluate("() => performance.getEntriesByType('navigation')[0].responseEnd")
    print(f"\ncustomers page, whole company ({locale}): {took * 1000:.0f} ms to load, response in {timing:.0f} ms")
    rows = page.locator("[data-testid=customers] tbody tr")
    assert rows.count() == 50
    assert "1 / " in page.inner_text("[data-testid=pager]")
    first_page = rows.first.inner_text()
    page.click("[data-testid=next-page]")
    page.wait_for_url("**page=2**")
    assert rows.count() == 50 and rows.first.inner_text() != first_page
    name = first_page.split("\t")[0].strip()
    page.fill("[data-testid=customer-search]", name)
    page.press("[data-testid=customer-search]", "Enter")
    page.wait_for_url("**q=**")
    assert 1 <= rows.count() < 50 and all(name in rows.nth(i).inner_text() for i in range(rows.count()))
    assert "page=" not in page.url  # a new search starts on its first page
    if locale == "zh-CN":
        screenshot(page, "customers-search")


def _timed_login(page, server: str) -> str:  # type: ignore[no-untyped-def]
    from tests.browser.conftest import PASSWORDS

    page.goto(f"{server}/login")
    page.fill("input[name=username]", "director")
    page.fill("input[name=password]", PASSWORDS["director"])
    started = time.perf_counter()
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("#gauge svg")
    page.wait_for_selector("#line svg")
    took = time.perf_counter() - started
    served, parsed = page.evaluate("() => { const n = performance.getEntriesByType('navigation')[0];"
                                   " return [n.responseEnd - n.startTime, n.domContentLoadedEventEnd - n.startTime]; }")
    return (f"{took * 1000:.0f} ms (dashboard page served in {served:.0f} ms, "
            f"its scripts run {parsed:.0f} ms after its request)")


def test_login_to_a_drawn_dashboard_is_timed(browser, server: str) -> None:  # type: ignore[no-untyped-def]
    """Reported, not asserted: the first sign-in computes the company's figures, a later one finds
    them in the dashboard cache (attain.web.cache)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    context.set_default_timeout(20_000)
    page = context.new_page()
    first = _timed_login(page, server)
    page.click("[data-testid=logout]")
    again = _timed_login(page, server)
    print(f"\nlogin to a drawn dashboard (director, demo company): first {first}; again {again}")
    context.close()
