"""The 中文/English switch keeps the page's query, and periods are typed as people say them (issue 19)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit


def test_language_switch_keeps_the_query_and_a_typed_period(sign_in, server: str) -> None:
    page = sign_in("director")
    page.goto(f"{server}/diagnosis?period=2026Q3&by=team&vs=last-year")
    page.fill("[data-testid=period-input]", "2026年第3季度")
    page.click("form.toolbar button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("[data-testid=period-input]").input_value() == "2026Q3"
    before = parse_qs(urlsplit(page.url).query)
    page.click("[data-testid=lang-en]")
    page.wait_for_url("**/diagnosis?**")
    assert urlsplit(page.url).path == "/diagnosis"
    after = parse_qs(urlsplit(page.url).query)
    assert after["by"] == ["team"] and after["vs"] == ["last-year"] and after["period"] == before["period"]
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("[data-testid=period-input]").input_value() == "2026Q3"
    page.click("[data-testid=lang-zh_CN]")
    page.wait_for_url("**/diagnosis?**")
    assert parse_qs(urlsplit(page.url).query) == after and page.locator("html").get_attribute("lang") == "zh-CN"
