"""Databases for tests: a freshly migrated empty one, or a copy of a prepared one (the demo company).

Building a database is slow (Alembic runs every revision; the demo company takes seconds), copying
one is not. So each test process (each pytest-xdist worker) builds every kind of database once, as a
*template*, and hands each test its own copy:

- SQLite: the template is a file in a private folder; a copy is a file copy.
- PostgreSQL (ATTAIN_TEST_PG_URL): the template is a database; a copy is
  `CREATE DATABASE … TEMPLATE …` (a block copy, about 0.1 s), dropped afterwards.

A copy starts exactly as a fresh build would, so every test still gets a database of its own that no
other test sees. Without ATTAIN_TEST_PG_URL the PostgreSQL case is skipped with a visible reason (CI
always sets it). Names carry the process id (`…_p<pid>_…`): templates are dropped when the process
ends, and databases left by a process that died (kill -9) are dropped by the next run.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from attain.db import get_engine, make_session_factory, resolve_database_url
from attain.migrate import upgrade

PG_URL_VARIABLE = "ATTAIN_TEST_PG_URL"
DEMO_SEED, DEMO_YEAR, DEMO_AS_OF = 2026, 2026, date(2026, 11, 23)
_OURS = re.compile(r"^attain\w*_p(\d+)_[0-9a-f]+$")

# (kind, key) -> SQLite template path or PostgreSQL template database name, for this process.
_templates: dict[tuple[str, Hashable], str] = {}
_template_folder: Path | None = None
_admin: Engine | None = None
# Copies to drop: a thread drops them while the next test runs (a DROP DATABASE can take seconds on a busy server).
_to_drop: queue.Queue[str] = queue.Queue()
_dropper: threading.Thread | None = None


def _pg_base() -> str:
    base = os.environ.get(PG_URL_VARIABLE)
    if not base:
        pytest.skip(f"PostgreSQL tests need {PG_URL_VARIABLE} (e.g. postgresql://postgres@127.0.0.1/test)")
    return base


def _pg_url(database: str) -> str:
    """The test URL of `database` on the server of ATTAIN_TEST_PG_URL. Commits do not wait for the
    WAL to reach the disk (synchronous_commit=off): a test database need not survive a power cut."""
    url = make_url(resolve_database_url(_pg_base())).set(database=database)
    options = " ".join(filter(None, (url.query.get("options"), "-csynchronous_commit=off")))
    return url.update_query_dict({"options": options}).render_as_string(hide_password=False)


def _pg_admin() -> Engine:
    """An AUTOCOMMIT engine on the ATTAIN_TEST_PG_URL database, for CREATE/DROP DATABASE."""
    global _admin
    if _admin is None:
        _admin = create_engine(resolve_database_url(_pg_base()), isolation_level="AUTOCOMMIT", pool_size=1)
        _drop_orphans(_admin)
    return _admin


def _name(prefix: str) -> str:
    return f"{prefix[:30]}_p{os.getpid()}_{uuid.uuid4().hex[:12]}"


def _drop_database(database: str) -> None:
    get_engine(_pg_url(database)).dispose()
    with _pg_admin().connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def _drop_later(database: str) -> None:
    global _dropper
    get_engine(_pg_url(database)).dispose()
    if _dropper is None or not _dropper.is_alive():
        _dropper = threading.Thread(target=_drop_queued, name="drop-test-databases", daemon=True)
        _dropper.start()
    _to_drop.put(database)


def _drop_queued() -> None:
    admin = create_engine(resolve_database_url(_pg_base()), isolation_level="AUTOCOMMIT", pool_size=1)
    while True:
        database = _to_drop.get()
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        except Exception:  # noqa: BLE001,S110 -- left for the next run's orphan sweep
            pass
        finally:
            _to_drop.task_done()


def _drop_orphans(admin: Engine) -> None:
    """Drop test databases whose process is gone (a worker killed before it could clean up)."""
    with admin.connect() as connection:
        names = connection.execute(text("SELECT datname FROM pg_database WHERE datname LIKE 'attain%'")).scalars().all()
        for name in names:
            found = _OURS.match(name)
            if found and not Path(f"/proc/{found.group(1)}").exists():
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _sqlite_folder() -> Path:
    global _template_folder
    if _template_folder is None:
        _template_folder = Path(tempfile.mkdtemp(prefix=f"attain-templates-p{os.getpid()}-"))
    return _template_folder


@atexit.register
def drop_templates() -> None:
    """Drop this process's templates (tests/conftest.py calls it when the session ends; atexit too)."""
    global _template_folder, _admin
    if _dropper is not None and _dropper.is_alive():
        _to_drop.join()
    for (kind, _key), where in list(_templates.items()):
        if kind == "postgresql":
            with contextlib.suppress(Exception):  # the server may be gone at exit; the next run drops orphans
                _drop_database(where)
    _templates.clear()
    if _template_folder is not None:
        shutil.rmtree(_template_folder, ignore_errors=True)
        _template_folder = None
    if _admin is not None:
        _admin.dispose()
        _admin = None


def _template(kind: str, key: Hashable, build: Callable[[str], None] | None) -> str:
    """This process's template of `key`: migrated (the "empty" template), then `build(url)`."""
    if (kind, key) in _templates:
        return _templates[(kind, key)]
    empty = None if key == "empty" else _template(kind, "empty", None)
    if kind == "sqlite":
        where = str(_sqlite_folder() / f"template-{len(_templates)}.db")
        if empty is not None:
            shutil.copyfile(empty, where)
        url = f"sqlite:///{where}"
    else:
        where = _name("attain_tpl")
        with _pg_admin().connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{where}"' + (f' TEMPLATE "{empty}"' if empty else "")))
        url = _pg_url(where)
    try:
        if empty is None:
            upgrade(get_engine(url))
        if build is not None:
            build(url)
        get_engine(url).dispose()  # a template must have no open connection (and SQLite's WAL folded in)
    except BaseException:
        if kind == "postgresql":
            _drop_database(where)
        raise
    _templates[(kind, key)] = where
    return where


@contextmanager
def copied_database(kind: str, folder: Path, key: Hashable, build: Callable[[str], None] | None = None,
                    prefix: str = "attain_test") -> Iterator[str]:
    """Yield the URL of a database of its own, a copy of the template `key` (built once per process:
    migrated, then `build(url)`). The same `key` must always mean the same `build`."""
    if kind == "postgresql":
        _pg_base()
    template = _template(kind, key, build)
    if kind == "sqlite":
        path = folder / "attain.db"
        shutil.copyfile(template, path)
        url = f"sqlite:///{path}"
        try:
            yield url
        finally:
            get_engine(url).dispose()
        return
    database = _name(prefix)
    with _pg_admin().connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}" TEMPLATE "{template}"'))
    try:
        yield _pg_url(database)
    finally:
        _drop_later(database)


@contextmanager
def fresh_database(kind: str, folder: Path, prefix: str = "attain_test") -> Iterator[str]:
    """Yield the URL of an empty, migrated database of `kind` ('sqlite' or 'postgresql')."""
    with copied_database(kind, folder, "empty", None, prefix) as url:
        yield url


def load_demo_into(url: str, *, seed: int = DEMO_SEED, year: int = DEMO_YEAR, as_of: date = DEMO_AS_OF) -> None:
    from attain.demo.service import load_demo

    with make_session_factory(get_engine(url))() as session:
        load_demo(session=session, seed=seed, year=year, as_of=as_of)


@contextmanager
def demo_database(kind: str, folder: Path, prefix: str = "attain_demo", *, seed: int = DEMO_SEED, year: int = DEMO_YEAR,
                  as_of: date = DEMO_AS_OF) -> Iterator[str]:
    """Yield the URL of a database of its own holding the demo company (`attain demo` with these
    arguments, and its four users): the demo is loaded once per process, each caller gets a copy."""

    def build(url: str) -> None:
        load_demo_into(url, seed=seed, year=year, as_of=as_of)

    with copied_database(kind, folder, ("demo", seed, year, as_of), build, prefix) as url:
        yield url
