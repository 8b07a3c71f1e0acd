"""Issue 19's web timing goals on the demo company, in Debian's Chromium through Playwright:
the customers page of the whole company under 500 ms and sign-in to a drawn dashboard under 1 s.

    .venv/bin/python benchmarks/web_pages.py --runs 7            # timings: median, min, max, ratio to the goal
    .venv/bin/python benchmarks/web_pages.py --walk /tmp/walk    # also walk every page as director,
                                                                 # manager and rep at 1440×900 and 390×844 (zh-CN)

The app runs in this process (uvicorn in a thread, as tests/browser does) on a fresh demo SQLite
database. Each timing is one navigation in a fresh browser context; the first run of each is a cold
start (nothing cached), the later ones are what a user meets during the day; the median of the
runs is compared with the goal. The box is shared: run it idle and read the spread too.

The walk (not a test) saves a screenshot per page and size and prints what it finds that a user
should not meet: text that is not Chinese in the page's own words (runs of three English words),
a CLI command ("attain …"), a page wider than the screen, an element poking out of the page.
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORDS = {"admin": "admin-demo-1", "director": "director-demo-1", "manager": "manager-demo-1", "rep": "rep-demo-1"}
SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
PAGES = {
    "director": ["/", "/plans", "/plans/new", "/leaderboard", "/leaderboard?tv=1", "/diagnosis", "/customers", "/incentives",
                 "/alerts", "/account/password"],
    "manager": ["/", "/plans", "/leaderboard", "/actions", "/diagnosis", "/customers", "/incentives", "/alerts"],
    "rep": ["/", "/leaderboard", "/actions", "/customers", "/incentives", "/alerts"],
}
ENGLISH = re.compile(r"\b[A-Za-z]{2,}(?:[ \-][A-Za-z]{2,}){2,}\b")
ALLOWED = re.compile(r"P10|P50|P90|SMART|RFM|ABC|Excel|CSV|HTML|YAML|xlsx|English|Attain|ECharts|API")


def _serve(url: str) -> tuple[str, object]:
    import uvicorn

    from attain.web.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(url), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def _demo(folder: Path, as_of: date) -> str:
    from attain.db import get_engine, make_session_factory
    from attain.demo.service import load_demo
    from attain.migrate import upgrade

    url = f"sqlite:///{folder / 'demo.db'}"
    upgrade(get_engine(url))
    with make_session_factory(get_engine(url))() as session:
        load_demo(session=session, seed=2026, year=as_of.year, as_of=as_of)
    return url


def _login(page, base: str, role: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.fill("input[name=username]", role)
    page.fill("input[name=password]", PASSWORDS[role])
    page.click("form.stack button[type=submit]")


def time_customers(browser, base: str) -> float:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=SIZES["desktop"], locale="zh-CN")
    page = context.new_page()
    _login(page, base, "director")
    page.wait_for_url(f"{base}/")
    page.wait_for_load_state("networkidle")  # the dashboard's own requests are over
    started = time.perf_counter()
    page.goto(f"{base}/customers")
    page.wait_for_selector("[data-testid=customers] tbody tr")
    took = time.perf_counter() - started
    served = page.evaluate("() => { const n = performance.getEntriesByType('navigation')[0]; return n.responseEnd - n.startTime; }")
    SERVED.append(served)
    context.close()
    return took * 1000


SERVED: list[float] = []  # the customers page's answer (navigation responseEnd), ms
LOGIN_PARTS: list[list[float]] = []  # the dashboard after sign-in: [answer, scripts run] since its request, ms


def time_login(browser, base: str) -> float:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=SIZES["desktop"], locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "director")
    page.fill("input[name=password]", PASSWORDS["director"])
    page.wait_for_timeout(1500)  # a person takes longer than this to type a password
    started = time.perf_counter()
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("#gauge svg")
    page.wait_for_selector("#line svg")
    took = time.perf_counter() - started
    LOGIN_PARTS.append(page.evaluate("""() => { const n = performance.getEntriesByType('navigation')[0];
        return [n.responseEnd - n.startTime, n.domContentLoadedEventEnd - n.startTime]; }"""))
    context.close()
    return took * 1000


def _report(name: str, runs: list[float], goal: float) -> None:
    median = statistics.median(runs)
    print(f"{name}: median {median:,.0f} ms over {len(runs)} runs (min {min(runs):,.0f}, max {max(runs):,.0f}; "
          f"first {runs[0]:,.0f}) — goal {goal:,.0f} ms, ratio {median / goal:.2f}")


FINDINGS_JS = """() => {
  const found = [];
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width + 1) found.push('page wider than the screen: ' + document.documentElement.scrollWidth + ' > ' + width);
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.table-wrap, .grid-scroll, [data-testid=diagnosis-wrap], svg, script, style, code, pre')) continue;
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 1 && getComputedStyle(el).position !== 'fixed')
      found.push('pokes out: <' + el.tagName.toLowerCase() + ' class=' + el.className + '> right ' + Math.round(box.right));
  }
  return [found.slice(0, 8), document.body.innerText];
}"""


def walk(browser, base: str, folder: Path) -> int:  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True, exist_ok=True)
    problems = 0
    for role, paths in PAGES.items():
        for size, viewport in SIZES.items():
            context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=size == "phone",
                                          has_touch=size == "phone")
            page = context.new_page()
            _login(page, base, role)
            page.wait_for_url(f"{base}/")
            for path in paths:
                page.goto(f"{base}{path}")
                page.wait_for_load_state("networkidle")
                layout, text = page.evaluate(FINDINGS_JS)
                english = sorted({m for m in ENGLISH.findall(text) if not ALLOWED.search(m)})
                cli = sorted(set(re.findall(r"attain [a-z]+(?: [a-z\-]+)?", text)))
                name = f"{role}-{size}-{re.sub(r'[^a-z0-9]+', '_', path).strip('_') or 'dashboard'}"
                page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
                for kind, items in (("English", english), ("CLI", cli), ("layout", layout)):
                    if items:
                        problems += 1
                        print(f"{role:8} {size:7} {path:22} {kind}: {items[:6]}")
            context.close()
    print(f"walk: {problems} finding(s); screenshots in {folder}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--walk", type=Path, default=None, help="walk every page and save screenshots here")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    as_of = date.today()
    while as_of.weekday() >= 5:
        as_of -= timedelta(days=1)
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        started = time.perf_counter()
        url = _demo(Path(folder), as_of)
        print(f"demo company loaded as of {as_of} in {time.perf_counter() - started:.1f} s")
        base, server = _serve(url)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        _report("customers page, whole company (director)", [time_customers(browser, base) for _ in range(args.runs)], 500)
        _report("  of which the server's answer", SERVED, 500)
        _report("sign-in to a drawn dashboard (director)", [time_login(browser, base) for _ in range(args.runs)], 1000)
        _report("  of which the dashboard's answer", [p[0] for p in LOGIN_PARTS], 1000)
        _report("  of which the dashboard's scripts run (ECharts parsed)", [p[1] for p in LOGIN_PARTS], 1000)
        if args.walk:
            walk(browser, base, args.walk)
        browser.close()
        server.should_exit = True  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
