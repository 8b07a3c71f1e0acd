"""Sign-in, sessions, CSRF, the login rate limit, sign-out and password change, through HTTP."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from attain.auth import service as auth
from attain.auth.models import LoginAttempt, WebSession
from attain.db import get_engine, make_session_factory
from attain.web.app import create_app
from tests.web.conftest import PASSWORD, csrf_from, sign_in


@pytest.fixture
def app_url(database_url: str) -> str:
    with make_session_factory(get_engine(database_url))() as session:
        auth.create_user(session=session, username="alice", password=PASSWORD, role="admin")
    return database_url


def _count(url: str, model) -> int:  # type: ignore[no-untyped-def]
    with make_session_factory(get_engine(url))() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_sign_in_sets_a_safe_cookie_and_sign_out_ends_the_session(app_url: str) -> None:
    client = TestClient(create_app(app_url))
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "attain_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()
    assert client.get("/account/password", follow_redirects=False).status_code == 200
    stolen = client.cookies.get("attain_session")
    csrf = csrf_from(client.get("/account/password").text)
    assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert _count(app_url, WebSession) == 0
    # The old cookie no longer works, even if someone kept it.
    replay = TestClient(create_app(app_url), cookies={"attain_session": stolen})
    assert replay.get("/account/password", follow_redirects=False).headers["location"] == "/login?next=/account/password"


def test_secure_cookie_flag_is_configurable(app_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTAIN_COOKIE_SECURE", "1")
    client = TestClient(create_app(app_url), base_url="https://testserver")
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token},
                           follow_redirects=False)
    assert "secure" in response.headers["set-cookie"].lower()


def test_wrong_password_is_refused_without_a_session(app_url: str) -> None:
    client = TestClient(create_app(app_url))
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"username": "alice", "password": "nope-nope", "csrf_token": token})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    assert "attain_session" not in client.cookies
    assert _count(app_url, LoginAttempt) == 1
    unknown = client.post("/login", data={"username": "mallory", "password": "nope-nope", "csrf_token": token})
    assert unknown.status_code == 401 and "用户名或密码错误" in unknown.text  # same answer: no username probing


def test_login_rate_limit_holds_across_app_instances(app_url: str) -> None:
    client = TestClient(create_app(app_url), client=("10.0.0.1", 5000))
    token = csrf_from(client.get("/login").text)
    for _ in range(auth.LOGIN_MAX_FAILURES):
        assert client.post("/login", data={"username": "alice", "password": "wrong-one", "csrf_token": token}).status_code == 401
    # Another worker process (a new app on the same database) refuses even the right password now.
    other = TestClient(create_app(app_url), client=("10.0.0.1", 5001))
    token = csrf_from(other.get("/login").text)
    limited = other.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token})
    assert limited.status_code == 429 and "15" in limited.text
    # The limit is per username and address: alice can still sign in from elsewhere.
    elsewhere = TestClient(create_app(app_url), client=("10.0.0.2", 5000))
    sign_in(elsewhere, "alice", PASSWORD)


def test_state_changing_requests_need_the_csrf_token(app_url: str) -> None:
    client = TestClient(create_app(app_url))
    assert client.post("/login", data={"username": "alice", "password": PASSWORD}).status_code == 403
    assert client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": "forged"}).status_code == 403
    csrf = sign_in(client, "alice", PASSWORD)
    # Sign-out without the token is refused and the session survives.
    assert client.post("/logout", data={}).status_code == 403
    assert client.get("/account/password", follow_redirects=False).status_code == 200
    # JSON API calls made with the cookie need the header; the anonymous token is not the session's.
    anon = client.cookies.get("attain_csrf")
    assert client.patch("/api/v1/plans/X/cells/1", json={"expect": 1}).status_code == 403
    assert client.patch("/api/v1/plans/X/cells/1", json={"expect": 1}, headers={"X-CSRF-Token": anon}).status_code == 403
    with_header = client.patch("/api/v1/plans/X/cells/1", json={"expect": 1}, headers={"X-CSRF-Token": csrf})
    assert with_header.status_code == 404  # past CSRF: the plan does not exist
    # The HTMX header comes from the base layout.
    page = client.get("/account/password").text
    assert f'<meta name="csrf-token" content="{csrf}">' in page and f'"X-CSRF-Token": "{csrf}"' in page


def test_an_htmx_call_after_the_session_ended_redirects_the_page(app_url: str) -> None:
    client = TestClient(create_app(app_url))
    response = client.get("/imports/jobs/abc/status", headers={"HX-Request": "true",
                                                               "HX-Current-URL": "http://testserver/imports?x=1"})
    assert response.status_code == 401 and response.headers["HX-Redirect"] == "/login?next=/imports"


def test_bearer_tokens_need_no_csrf_and_bad_tokens_get_401(app_url: str) -> None:
    with make_session_factory(get_engine(app_url))() as session:
        token = auth.create_token(session=session, user=auth.require_user(session=session, username="alice"))
    client = TestClient(create_app(app_url))
    assert client.get("/api/v1/plans", headers={"Authorization": f"Bearer {token}"}).json() == []
    assert client.patch("/api/v1/plans/X/cells/1", json={"expect": 1},
                        headers={"Authorization": f"Bearer {token}"}).status_code == 404
    bad = client.get("/api/v1/plans", headers={"Authorization": "Bearer att_forged"})
    assert bad.status_code == 401 and bad.json() == {"detail": "invalid or revoked API token"}
    assert client.get("/api/v1/plans").status_code == 401


def test_after_sign_in_the_user_goes_back_but_never_off_site(app_url: str) -> None:
    client = TestClient(create_app(app_url))
    assert client.get("/imports", follow_redirects=False).headers["location"] == "/login?next=/imports"
    for target, expected in (("/imports", "/imports"), ("//evil.example/x", "/"), ("https://evil.example", "/"),
                             ("/\\evil.example", "/")):
        fresh = TestClient(create_app(app_url))
        token = csrf_from(fresh.get("/login").text)
        response = fresh.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token,
                                              "next": target}, follow_redirects=False)
        assert response.headers["location"] == expected, target


def test_password_change_signs_out_other_devices(app_url: str) -> None:
    laptop, phone = TestClient(create_app(app_url)), TestClient(create_app(app_url))
    csrf = sign_in(laptop, "alice", PASSWORD)
    sign_in(phone, "alice", PASSWORD)
    wrong = laptop.post("/account/password", data={"current": "bad-bad-bad", "new": "new-pass-22", "repeat": "new-pass-22",
                                                   "csrf_token": csrf})
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.text
    differ = laptop.post("/account/password", data={"current": PASSWORD, "new": "new-pass-22", "repeat": "new-pass-23",
                                                    "csrf_token": csrf})
    assert differ.status_code == 422
    short = laptop.post("/account/password", data={"current": PASSWORD, "new": "short", "repeat": "short", "csrf_token": csrf})
    assert short.status_code == 422 and "8" in short.text
    done = laptop.post("/account/password", data={"current": PASSWORD, "new": "new-pass-22", "repeat": "new-pass-22",
                                                  "csrf_token": csrf})
    assert done.status_code == 200 and "密码已修改" in done.text
    assert laptop.get("/account/password", follow_redirects=False).status_code == 200  # this browser stays signed in
    assert phone.get("/account/password", follow_redirects=False).status_code == 303  # the other one is signed out
    sign_in(TestClient(create_app(app_url)), "alice", "new-pass-22")


def test_disabled_users_cannot_sign_in(app_url: str) -> None:
    client = TestClient(create_app(app_url))
    sign_in(client, "alice", PASSWORD)
    with make_session_factory(get_engine(app_url))() as session:
        auth.set_active(session=session, user=auth.require_user(session=session, username="alice"), active=False)
    assert client.get("/account/password", follow_redirects=False).status_code == 303
    fresh = TestClient(create_app(app_url))
    token = csrf_from(fresh.get("/login").text)
    assert fresh.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token}).status_code == 401
