"""`attain serve --workers N`: one process as before by default; N uvicorn worker processes that
each build the app from its import string, on the database given to serve."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner

from attain.cli.main import app
from attain.errors import InvalidInput
from attain.web import cache

runner = CliRunner()


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: calls.append((target, options)))
    monkeypatch.setenv("ATTAIN_DATABASE_URL", "sqlite:///not-this-one.db")  # restored after the test
    return calls


def test_serve_runs_one_process_with_the_app_by_default(tmp_path: Path, uvicorn_calls) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'a.db'}"
    result = runner.invoke(app, ["serve", "--db", url, "--no-scheduler", "--port", "8123"])
    assert result.exit_code == 0, result.output
    ((target, options),) = uvicorn_calls
    assert isinstance(target, FastAPI) and target.state.database_url == url
    # proxy_headers off: a client address from X-Forwarded-For is believed only from ATTAIN_TRUSTED_PROXIES
    assert options == {"host": "127.0.0.1", "port": 8123, "log_level": "info", "proxy_headers": False}


def test_serve_with_workers_hands_uvicorn_the_app_factory(tmp_path: Path, uvicorn_calls) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'a.db'}"
    result = runner.invoke(app, ["serve", "--db", url, "--no-scheduler", "--workers", "3"])
    assert result.exit_code == 0, result.output
    ((target, options),) = uvicorn_calls
    assert target == "attain.web.app:create_app" and options["factory"] is True and options["workers"] == 3
    assert os.environ["ATTAIN_DATABASE_URL"] == url  # what each worker's create_app() reads
    assert "3 workers" in result.output


@pytest.mark.parametrize("workers", ["0", "-1"])
def test_serve_refuses_fewer_than_one_worker(uvicorn_calls, workers: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["serve", "--workers", workers])
    assert result.exit_code == 2 and not uvicorn_calls


def test_serve_refuses_a_bad_cache_setting(tmp_path: Path, uvicorn_calls, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(cache.TTL_ENV, "soon")
    result = runner.invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 'a.db'}", "--no-scheduler"])
    # `attain` (cli.main.main) prints an AttainError in red and exits 1
    assert isinstance(result.exception, InvalidInput) and cache.TTL_ENV in str(result.exception)
    assert not uvicorn_calls


def test_two_worker_processes_answer(tmp_path: Path) -> None:
    """The real thing: `attain serve --workers 2` starts, both workers import the app, /healthz answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"sqlite:///{tmp_path / 'a.db'}"
    server = subprocess.Popen(
        [sys.executable, "-m", "attain.cli.main", "serve", "--db", url, "--no-scheduler", "--workers", "2",
         "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()[0]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "no answer within 60 s"
            time.sleep(0.2)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert output.count("Started server process") == 2 or output.count("Application startup complete") == 2, output
