"""Sign-in hardening: the rate limit holds against parallel requests, and a wrong password costs the
same argon2 work whether or not the username exists. Checked by counting password verifications
(a spy on argon2's PasswordHasher.verify), never by measuring time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from attain.auth import service as auth
from attain.auth.models import LoginAttempt
from attain.db import get_engine, make_session_factory
from attain.web.app import create_app
from tests.web.conftest import PASSWORD, csrf_from

ADDRESS = "10.9.9.9"


class VerifySpy:
    """Counts argon2 verifications (thread-safe). `hold` runs inside each call, as the real cost would."""

    def __init__(self, hold: Callable[[str], None] = lambda password: None) -> None:
        self.passwords: list[str] = []
        self.lock = threading.Lock()
        self.hold = hold

    def install(self, monkeypatch: pytest.MonkeyPatch) -> VerifySpy:
        real = PasswordHasher.verify

        def verify(hasher: PasswordHasher, hash: str, password: str | bytes) -> bool:
            with self.lock:
                self.passwords.append(password if isinstance(password, str) else password.decode())
            self.hold(password if isinstance(password, str) else password.decode())
            return real(hasher, hash, password)

        monkeypatch.setattr(PasswordHasher, "verify", verify)
        return self


@pytest.fixture
def app_url(database_url: str) -> str:
    with make_session_factory(get_engine(database_url))() as session:
        auth.create_user(session=session, username="alice", password=PASSWORD, role="admin")
    return database_url


def _burst(app, passwords: list[str], *, after_wrong_ones: threading.Event | None = None) -> list[int]:  # type: ignore[no-untyped-def]
    """POST /login for alice once per password, all released at the same moment from separate threads
    (one browser each, same address). Returns the status codes in the order of `passwords`."""
    clients = [TestClient(app, client=(ADDRESS, 6000 + i)) for i in range(len(passwords))]
    tokens = [csrf_from(client.get("/login").text) for client in clients]
    start = threading.Barrier(len(passwords))
    statuses = [0] * len(passwords)

    def post(i: int) -> None:
        start.wait()
        response = clients[i].post("/login", data={"username": "alice", "password": passwords[i],
                                                   "csrf_token": tokens[i]}, follow_redirects=False)
        statuses[i] = response.status_code

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(passwords))]
    for thread in threads:
        thread.start()
    wrong = [t for t, p in zip(threads, passwords) if p != PASSWORD]
    for thread in wrong:
        thread.join()
    if after_wrong_ones is not None:
        after_wrong_ones.set()
    for thread in threads:
        thread.join()
    return statuses


def _widen(password: str) -> None:
    # Real argon2 takes ~0.7 s; hold each check a little so parallel requests overlap as they do in
    # production (the assertions below hold however long this takes).
    time.sleep(0.1)


def test_twenty_parallel_guesses_check_at_most_the_limit(app_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = VerifySpy(_widen).install(monkeypatch)
    app = create_app(app_url)
    statuses = _burst(app, [f"wrong-guess-{i}" for i in range(20)])
    assert 1 <= len(spy.passwords) <= auth.LOGIN_MAX_FAILURES, spy.passwords
    assert statuses.count(401) == len(spy.passwords) and statuses.count(429) == 20 - len(spy.passwords)
    # Refused attempts are not stored; the checked failures are, so the limit now holds.
    with make_session_factory(get_engine(app_url))() as session:
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == len(spy.passwords)
    if len(spy.passwords) == auth.LOGIN_MAX_FAILURES:
        client = TestClient(app, client=(ADDRESS, 7000))
        token = csrf_from(client.get("/login").text)
        late = client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token})
        assert late.status_code == 429 and len(spy.passwords) == auth.LOGIN_MAX_FAILURES


def test_nine_wrong_and_the_right_password_in_one_burst(app_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The right password, sent with nine wrong ones, is checked only if it is among the first
    LOGIN_MAX_FAILURES attempts counted; its check waits until the wrong ones are answered, so a
    success cannot reset the counter for them mid-burst."""
    wrong_ones_done = threading.Event()

    def hold(password: str) -> None:
        _widen(password)
        if password == PASSWORD:
            wrong_ones_done.wait(60)

    spy = VerifySpy(hold).install(monkeypatch)
    passwords = [f"wrong-guess-{i}" for i in range(9)] + [PASSWORD]
    statuses = _burst(create_app(app_url), passwords, after_wrong_ones=wrong_ones_done)
    assert len(spy.passwords) <= auth.LOGIN_MAX_FAILURES, spy.passwords
    signed_in = statuses[-1] == 303
    assert statuses[-1] in (303, 429)
    assert statuses[:-1].count(401) + signed_in == len(spy.passwords)
    assert statuses[:-1].count(401) + statuses[:-1].count(429) == 9


@pytest.mark.parametrize("username", ["alice", "mallory", "retired"])
def test_a_wrong_password_costs_one_verification_whoever_the_user(
    app_url: str, monkeypatch: pytest.MonkeyPatch, username: str,
) -> None:
    """Known user, unknown user, deactivated user: each wrong sign-in runs argon2 exactly once, so
    the answer takes the same time and does not tell which usernames exist."""
    with make_session_factory(get_engine(app_url))() as session:
        retired = auth.create_user(session=session, username="retired", password=PASSWORD, role="admin")
        auth.set_active(session=session, user=retired, active=False)
    spy = VerifySpy().install(monkeypatch)
    client = TestClient(create_app(app_url))
    token = csrf_from(client.get("/login").text)
    for password in ("wrong-pass-1", PASSWORD if username == "retired" else "wrong-pass-2"):
        response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
        assert response.status_code == 401
    assert spy.passwords == ["wrong-pass-1", PASSWORD if username == "retired" else "wrong-pass-2"]


def test_the_right_password_still_signs_in_with_one_verification(app_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = VerifySpy().install(monkeypatch)
    with make_session_factory(get_engine(app_url))() as session:
        assert auth.authenticate(session=session, username="alice", password=PASSWORD, ip=ADDRESS) is not None
        assert auth.authenticate(session=session, username="nobody", password=PASSWORD, ip=ADDRESS) is None
    assert spy.passwords == [PASSWORD, PASSWORD]
