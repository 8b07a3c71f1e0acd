"""Security headers on every answer, a Content-Security-Policy that the pages keep (no inline
script, no inline event handler, nothing from a CDN), and /docs served from our own files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from attain.web import app as web_app
from attain.web.app import create_app
from tests.web.conftest import DEMO_PASSWORDS, sign_in

TEMPLATES = Path(web_app.__file__).parent / "templates"
PAGES = ["/", "/dashboard", "/leaderboard", "/diagnosis", "/plans", "/plans/new", "/alerts", "/actions",
         "/customers", "/imports", "/calendar", "/account/password"]
# A <script> that runs: no src, and not a JSON data block.
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
EXTERNAL = re.compile(r"""(?:src|href)=["'](?:https?:)?//(?!testserver/)""", re.IGNORECASE)  # url_for gives http://testserver/...


def _script_policy(response) -> str:  # type: ignore[no-untyped-def]
    policy = response.headers["content-security-policy"]
    return next(d for d in policy.split("; ") if d.startswith("script-src"))


def assert_secure_headers(response, *, no_store: bool = True) -> None:  # type: ignore[no-untyped-def]
    headers = response.headers
    assert _script_policy(response) == "script-src 'self'"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "object-src 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert (headers.get("cache-control") == "no-store") is no_store
    assert "strict-transport-security" not in headers  # only with ATTAIN_COOKIE_SECURE=1


def assert_no_inline_code(html: str, where: str) -> None:
    assert not INLINE_SCRIPT.search(html), f"{where}: inline <script>"
    assert not EVENT_HANDLER.search(html), f"{where}: inline event handler (onclick=...)"
    assert "javascript:" not in html.lower(), f"{where}: javascript: URL"
    assert not EXTERNAL.search(html), f"{where}: loads something from another site"


def test_every_page_has_the_headers_and_keeps_the_policy(demo_app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(demo_app)
    login = client.get("/login")
    assert_secure_headers(login)
    assert_no_inline_code(login.text, "/login")
    sign_in(client, "admin", DEMO_PASSWORDS["admin"])
    seen = 0
    for path in PAGES:
        response = client.get(path)
        if response.status_code == 404:  # a page that this build does not have
            continue
        assert response.status_code == 200, (path, response.status_code)
        assert_secure_headers(response)
        assert_no_inline_code(response.text, path)
        seen += 1
    assert seen >= 8
    api = client.get("/api/v1/dashboard")
    assert_secure_headers(api)
    refused = TestClient(demo_app).get("/api/status")  # error answers carry them too
    assert refused.status_code in (401, 403) and refused.headers["x-frame-options"] == "DENY"


def test_static_files_are_cacheable_but_nosniff(demo_app) -> None:  # type: ignore[no-untyped-def]
    response = TestClient(demo_app).get("/static/vendor/htmx.min.js")
    assert response.status_code == 200
    assert_secure_headers(response, no_store=False)


def test_hsts_only_when_cookies_are_secure(demo_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTAIN_COOKIE_SECURE", "1")
    response = TestClient(create_app(demo_db), base_url="https://testserver").get("/login")
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


def test_docs_come_from_our_own_files(demo_app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(demo_app)
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert_secure_headers(docs)
    assert_no_inline_code(docs.text, "/docs")
    assets = re.findall(r"""(?:src|href)="([^"]+)\"""", docs.text)
    assert set(assets) == {"/static/vendor/swagger-ui.css", "/static/vendor/swagger-ui-bundle.js",
                           "/static/vendor/swagger-init.js"}
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert client.get("/openapi.json").json()["info"]["title"] == "Attain"
    assert client.get("/redoc").status_code == 404  # FastAPI's ReDoc loads from a CDN


def test_docs_can_be_switched_off(demo_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTAIN_API_DOCS", "0")
    client = TestClient(create_app(demo_db))
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404


@pytest.mark.parametrize("template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")))
def test_templates_hold_no_inline_code(template: str) -> None:
    assert_no_inline_code((TEMPLATES / template).read_text(encoding="utf-8"), template)


def test_the_shipped_package_includes_the_vendored_docs_assets() -> None:
    import tomllib

    package_data = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    patterns = package_data["tool"]["setuptools"]["package-data"]["attain"]
    assert "web/static/**/*" in patterns
    vendor = TEMPLATES.parent / "static" / "vendor"
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-init.js", "swagger-ui.LICENSE"):
        assert (vendor / name).is_file(), name
