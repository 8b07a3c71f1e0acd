"""The Content-Security-Policy holds in a real browser: pages with charts and /docs (Swagger UI from
our own files) work and Chromium reports no blocked script, style or connection."""

from __future__ import annotations


def _csp_reports(page) -> list[str]:  # type: ignore[no-untyped-def]
    reports: list[str] = []
    page.on("console", lambda message: reports.append(message.text)
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text else None)
    return reports


def test_docs_render_from_vendored_swagger_ui(browser, server: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context()
    context.set_default_timeout(20_000)
    page = context.new_page()
    reports = _csp_reports(page)
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url) if not request.url.startswith(server) else None)
    page.goto(f"{server}/docs")
    page.wait_for_selector(".opblock-summary-path")  # the operations are listed: the UI ran
    assert page.locator(".opblock").count() > 5
    assert reports == [] and outside == []
    context.close()


def test_charts_and_htmx_pages_keep_the_policy(sign_in) -> None:  # type: ignore[no-untyped-def]
    page = sign_in("director")
    reports = _csp_reports(page)
    base = page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2]
    for path, drawn in (("/dashboard", "canvas, svg"), ("/diagnosis", "canvas, svg"), ("/leaderboard", "table")):
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        assert page.locator(drawn).count() > 0, path  # ECharts drew (the leaderboard is a table: HTMX refreshes it)
    assert reports == []
