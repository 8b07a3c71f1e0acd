"""Uploads are refused before their body is read: anonymous (401), without the import permission
(403), or over the cap by Content-Length (413); a chunked body is stopped at the cap as it streams;
nothing stays on disk; previews that were never imported are deleted after a while.

The app is driven over raw ASGI with a body that counts what the server pulls from the "network",
so "not read" means zero bytes pulled, not just a status code."""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from attain.auth import service as auth
from attain.auth.models import Job
from attain.db import get_engine, make_session_factory
from attain.org.service import ensure_root
from attain.web import jobs
from attain.web.app import create_app
from tests.web.conftest import PASSWORD, sign_in

BOUNDARY = "attainboundary"
KB = 1024


def multipart(file_chunks: Iterator[bytes], name: str = "orders.csv") -> Iterator[bytes]:
    yield (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\norders\r\n"
           f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
           "Content-Type: text/csv\r\n\r\n").encode()
    yield from file_chunks
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def call(app, path: str, chunks: Iterator[bytes], headers: dict[str, str],  # type: ignore[no-untyped-def]
         content_length: int | None = None) -> tuple[int, bytes, int]:
    """POST over ASGI; returns (status, body, bytes the app pulled from the request stream)."""
    pulled = 0
    status = 0
    body = b""

    async def run() -> None:
        nonlocal pulled, status, body
        done = asyncio.Event()
        pending = iter(chunks)
        finished = False

        async def receive():  # type: ignore[no-untyped-def]
            nonlocal pulled, finished
            if finished:
                await done.wait()
                return {"type": "http.disconnect"}
            chunk = next(pending, None)
            if chunk is None:
                finished = True
                return {"type": "http.request", "body": b"", "more_body": False}
            pulled += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": True}

        async def send(message):  # type: ignore[no-untyped-def]
            nonlocal status, body
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                body += message.get("body", b"")
                if not message.get("more_body"):
                    done.set()

        raw = {"content-type": f"multipart/form-data; boundary={BOUNDARY}", **headers}
        if content_length is not None:
            raw["content-length"] = str(content_length)
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
                 "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": [(k.lower().encode(), v.encode()) for k, v in raw.items()],
                 "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}
        await app(scope, receive, send)

    _run_in_own_loop(run())
    return status, body, pulled


def _run_in_own_loop(coroutine) -> None:  # type: ignore[no-untyped-def]
    """asyncio.run in a thread of its own: a test process that ran Playwright's sync API (the browser
    tests, in the same xdist worker) keeps an event loop running in its main thread."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as exc:  # noqa: BLE001 -- re-raised in the test's thread below
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def zeros(total: int, size: int = 16 * KB) -> Iterator[bytes]:
    for start in range(0, total, size):
        yield b"0" * min(size, total - start)


def files_in(*folders: Path) -> list[Path]:
    return [p for folder in folders if folder.exists() for p in folder.rglob("*") if p.is_file()]


@pytest.fixture
def guarded(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The app with uploads in tmp_path/uploads, temporary files in tmp_path/tmp, and a 64 KB cap."""
    uploads, spool = tmp_path / "uploads", tmp_path / "tmp"
    spool.mkdir()
    monkeypatch.setenv("ATTAIN_UPLOAD_DIR", str(uploads))
    monkeypatch.setenv("ATTAIN_MAX_UPLOAD_MB", "0.0625")  # 64 KB
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    monkeypatch.delenv("ATTAIN_REDIS_URL", raising=False)
    with make_session_factory(get_engine(database_url))() as session:
        ensure_root(session=session)
        session.commit()
        admin = auth.create_user(session=session, username="boss", password=PASSWORD, role="admin")
        director = auth.create_user(session=session, username="viewer", password=PASSWORD, role="director")
        tokens = {"admin": auth.create_token(session=session, user=admin),
                  "director": auth.create_token(session=session, user=director)}
    app = create_app(database_url)
    app.state.test_tokens = tokens
    app.state.test_folders = (uploads, spool)
    return app


def test_an_anonymous_upload_is_refused_before_its_body_is_read(guarded) -> None:  # type: ignore[no-untyped-def]
    huge = 250 * 1024 * KB
    status, body, pulled = call(guarded, "/api/v1/imports", multipart(zeros(huge)), {}, content_length=huge)
    assert (status, pulled) == (401, 0), body[:200]
    status, _, pulled = call(guarded, "/api/v1/imports", multipart(zeros(huge)), {"authorization": "Bearer att_nope"})
    assert (status, pulled) == (401, 0)
    # The page answers an anonymous browser with the sign-in page, again without reading the body.
    status, _, pulled = call(guarded, "/imports/preview", multipart(zeros(huge)), {"cookie": "attain_session=forged"})
    assert (status, pulled) == (303, 0)
    assert files_in(*guarded.state.test_folders) == []


def test_a_user_without_the_import_permission_is_refused_before_the_body(guarded) -> None:  # type: ignore[no-untyped-def]
    token = guarded.state.test_tokens["director"]  # imports are the admins' by default
    status, body, pulled = call(guarded, "/api/v1/imports", multipart(zeros(10 * 1024 * KB)),
                                {"authorization": f"Bearer {token}"})
    assert (status, pulled) == (403, 0), body[:200]


def test_a_content_length_over_the_cap_is_413_before_the_body(guarded) -> None:  # type: ignore[no-untyped-def]
    token = guarded.state.test_tokens["admin"]
    status, body, pulled = call(guarded, "/api/v1/imports", multipart(zeros(10 * 1024 * KB)),
                                {"authorization": f"Bearer {token}"}, content_length=10 * 1024 * KB)
    assert (status, pulled) == (413, 0)
    assert b"0.06 MB" in body
    assert files_in(*guarded.state.test_folders) == []


@pytest.mark.parametrize("path", ["/api/v1/imports", "/imports/preview"])
def test_a_chunked_upload_is_stopped_at_the_cap_while_it_streams(guarded, path: str) -> None:  # type: ignore[no-untyped-def]
    if path.startswith("/api/"):
        headers = {"authorization": f"Bearer {guarded.state.test_tokens['admin']}"}
    else:
        client = TestClient(guarded)
        csrf = sign_in(client, "boss", PASSWORD)
        headers = {"cookie": f"attain_session={client.cookies.get('attain_session')}", "x-csrf-token": csrf}
    status, body, pulled = call(guarded, path, multipart(zeros(50 * 1024 * KB)), headers)  # 50 MB, no length
    assert status == 413, body[:300]
    assert pulled <= 64 * KB + 64 * KB + 16 * KB + 1024  # the cap, the form's allowance, one chunk, the part header
    assert files_in(*guarded.state.test_folders) == []


def test_a_file_just_over_the_cap_is_413_and_one_under_it_is_queued(guarded) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(guarded, headers={"authorization": f"Bearer {guarded.state.test_tokens['admin']}"})
    over = client.post("/api/v1/imports", data={"kind": "orders"},
                       files={"file": ("orders.csv", b"x" * (64 * KB + 1), "text/csv")})
    assert over.status_code == 413 and files_in(guarded.state.test_folders[0]) == []
    under = client.post("/api/v1/imports", data={"kind": "orders"},
                        files={"file": ("orders.csv", "下单日期,金额\n2026-01-05,1\n".encode(), "text/csv")})
    assert under.status_code == 202, under.text
    jobs.wait_idle()


def test_other_request_bodies_are_capped_too(guarded, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ATTAIN_MAX_BODY_MB", "0.0625")
    status, _, pulled = call(guarded, "/login", multipart(zeros(10 * 1024 * KB)), {}, content_length=10 * 1024 * KB)
    assert (status, pulled) == (413, 0)
    status, _, pulled = call(guarded, "/login", multipart(zeros(10 * 1024 * KB)), {})
    assert status == 413 and pulled <= 64 * KB + 16 * KB + 1024


def _upload_folder(root: Path, name: str, modified: datetime) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "orders.csv").write_text("a,b\n1,2\n")
    for path in (folder / "orders.csv", folder):
        os.utime(path, (modified.timestamp(), modified.timestamp()))
    return folder


def test_previews_never_imported_are_deleted_after_the_ttl(session: Session, tmp_path: Path) -> None:
    at = datetime(2026, 3, 10, 12, 0)
    old = _upload_folder(tmp_path, "a" * 32, at - timedelta(hours=25))
    fresh = _upload_folder(tmp_path, "b" * 32, at - timedelta(hours=23))
    queued = _upload_folder(tmp_path, "c" * 32, at - timedelta(days=3))  # its import job has not run yet
    finished = _upload_folder(tmp_path, "d" * 32, at - timedelta(days=3))
    other = tmp_path / "not-an-upload"
    other.mkdir()
    os.utime(other, ((at - timedelta(days=9)).timestamp(),) * 2)
    session.add_all([
        Job(id="1" * 32, kind="import", status="queued", progress=0, backend="rq", created_at=at,
            params={"path": str(queued / "orders.csv")}),
        Job(id="2" * 32, kind="import", status="failed", progress=0, backend="rq", created_at=at,
            params={"path": str(finished / "orders.csv")}),
    ])
    session.commit()
    deleted = jobs.purge_stale_uploads(session=session, folder=tmp_path, older_than=timedelta(hours=24), at=at)
    assert deleted == 2
    assert (old.exists(), fresh.exists(), queued.exists(), finished.exists(), other.exists()) == (
        False, True, True, False, True)


def test_a_new_upload_clears_old_previews(guarded, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    uploads = guarded.state.test_folders[0]
    monkeypatch.setenv("ATTAIN_UPLOAD_TTL_HOURS", "1")
    stale = _upload_folder(uploads, "e" * 32, datetime.now() - timedelta(days=2))
    client = TestClient(guarded)
    csrf = sign_in(client, "boss", PASSWORD)
    response = client.post("/imports/preview", data={"kind": "orders", "csrf_token": csrf},
                           files={"file": ("orders.csv", "下单日期,金额\n2026-01-05,1\n".encode(), "text/csv")})
    assert response.status_code == 200, response.text[:300]
    assert not stale.exists() and len(files_in(uploads)) == 1
