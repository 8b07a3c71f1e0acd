"""One import at a time per database: the second waits for the first (saying so), then runs.

Two imports at once used to die half-way: on SQLite with `database is locked` (both had read,
one could not start writing), on PostgreSQL with a duplicate key when both created the same new
rep. An import now takes a lock when its transaction starts and holds it until it commits or rolls
back: on SQLite the database's write lock itself (BEGIN IMMEDIATE), on PostgreSQL an advisory lock
keyed by the schema. A second import waits up to `wait` seconds, then fails with one line.
"""

from __future__ import annotations

import time

from sqlalchemy.orm import Session

from attain.errors import Conflict

DEFAULT_WAIT_SECONDS = 300.0
_POLL_SECONDS = 0.2


class ImportBusy(Conflict):
    """Another import holds the database for longer than this one was willing to wait."""


def take_import_lock(*, session: Session, wait: float, step: object) -> None:
    """Hold the import lock for the rest of the session's transaction, waiting at most `wait` seconds.

    `step` receives the progress message shown while waiting. Must run before the import reads
    anything, so that everything it reads is what the previous import committed."""
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        _wait(lambda: bool(connection.exec_driver_sql(
            "SELECT pg_try_advisory_xact_lock(hashtext('attain.import'), hashtext(current_schema()))").scalar()),
            wait, step)
    elif dialect == "sqlite":
        _lock_sqlite(connection.connection.driver_connection, wait, step)  # type: ignore[union-attr]


def _lock_sqlite(raw: object, wait: float, step: object) -> None:
    """BEGIN IMMEDIATE: take SQLite's write lock now rather than at the first write, when a reader
    that another import has overtaken can only fail (SQLITE_BUSY_SNAPSHOT, no waiting)."""
    import sqlite3

    assert isinstance(raw, sqlite3.Connection)
    if raw.in_transaction:  # the caller has written already: this transaction holds the write lock
        return
    (before,) = raw.execute("PRAGMA busy_timeout").fetchone()

    def attempt() -> bool:
        try:
            raw.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return False
            raise
        return True

    raw.execute(f"PRAGMA busy_timeout = {int(_POLL_SECONDS * 1000)}")  # the busy handler waits between polls
    try:
        _wait(attempt, wait, step, pause=0.0)
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(before)}")


def _wait(attempt, wait: float, step, pause: float = _POLL_SECONDS) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    said = False
    while not attempt():
        waited = time.monotonic() - started
        if waited >= wait:
            raise ImportBusy.coded("imports.lock.another_import_running_database", waited=waited)
        if not said:
            step(f"waiting for another import to finish (at most {wait:.0f} s)")
            said = True
        if pause:
            time.sleep(min(pause, max(wait - waited, 0.0)))
