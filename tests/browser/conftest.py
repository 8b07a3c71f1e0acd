"""Browser tests: the app served by uvicorn in a thread on a free port, against a demo SQLite
database, driven by Playwright with Debian's Chromium (never a downloaded browser).

Skipped with a visible reason when /usr/bin/chromium is missing (install it with
`apt-get install chromium fonts-noto-cjk`, as `.ci/run` and `make browser-test` do) or when
Playwright cannot start it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORDS = {"admin": "admin-demo-1", "director": "director-demo-1", "manager": "manager-demo-1", "rep": "rep-demo-1"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk (make browser-test does)")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as exc:
        pytest.skip(f"playwright is not installed: {exc}")
    manager = sync_playwright().start()
    try:
        launched = manager.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    except Error as exc:
        manager.stop()
        pytest.skip(f"Playwright could not start {CHROMIUM}: {str(exc).splitlines()[0]}")
    yield launched
    launched.close()
    manager.stop()


@pytest.fixture(scope="session")
def as_of() -> date:
    """The demo's 'today': the last weekday up to today, so the action board has a working day."""
    day = date.today()
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


@pytest.fixture(scope="session")
def database_url(browser, tmp_path_factory: pytest.TempPathFactory, as_of: date) -> str:  # type: ignore[no-untyped-def]
    """The served demo company (loaded as of `as_of`) with one user per role, for tests that add rows."""
    from attain.db import get_engine, make_session_factory
    from attain.demo.service import load_demo
    from attain.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'demo.db'}"
    upgrade(get_engine(url))
    session = make_session_factory(get_engine(url))()
    try:
        load_demo(session=session, seed=2026, year=as_of.year, as_of=as_of)
    finally:
        session.close()
    return url


@pytest.fixture(scope="session")
def server(database_url: str) -> Iterator[str]:
    """Base URL of the app on the demo company of `database_url`."""
    import uvicorn

    from attain.db import get_engine
    from attain.web.app import create_app

    url = database_url
    port = _free_port()
    config = uvicorn.Config(create_app(url), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    app_server = uvicorn.Server(config)
    thread = threading.Thread(target=app_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not app_server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the app did not start within 20 s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    app_server.should_exit = True
    thread.join(timeout=10)
    get_engine(url).dispose()


@pytest.fixture
def sign_in(browser, server: str):  # type: ignore[no-untyped-def]
    """sign_in("rep", phone=False, locale="zh-CN") → a Playwright page signed in as that demo user."""
    contexts = []

    def make(role: str, *, phone: bool = False, locale: str = "zh-CN"):  # type: ignore[no-untyped-def]
        size = {"width": 390, "height": 844} if phone else {"width": 1366, "height": 900}
        context = browser.new_context(viewport=size, locale=locale, device_scale_factor=1,
                                      is_mobile=phone, has_touch=phone)
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{server}/login")
        page.fill("input[name=username]", role)
        page.fill("input[name=password]", PASSWORDS[role])
        page.click("form.stack button[type=submit]")
        page.wait_for_url(f"{server}/")
        return page

    yield make
    for context in contexts:
        context.close()


def shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Save a screenshot of the page to docs/screenshots/NAME.png (for the README)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def screenshot():  # type: ignore[no-untyped-def]
    return shoot
