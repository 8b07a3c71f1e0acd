"""Issue 20 finding 7: two imports at once, as two real `attain import orders` processes.

The second used to die with a traceback (SQLite `database is locked`; PostgreSQL `UniqueViolation`
when both created the same new rep). Now an import takes the import lock when its transaction
starts: the second waits, then runs, and both succeed; or, past `--wait`, it fails with one line and
writes nothing. New reps, customers and products named by both files are created once.
SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection

from attain.db import get_engine
from attain.facts.models import OrderLine
from attain.org.models import OrgNode
from tests.databases import fresh_database
from tests.imports.seeded import ATTAIN, checksum, run_attain

LINES = 3_000


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


def orders_file(folder: Path, name: str, prefix: str) -> Path:
    """LINES order lines of reps N01-N20, customers and products that the database does not have yet
    (the same ones in every file, so two imports both create them)."""
    path = folder / name
    rows = (f"{prefix}-{i},{prefix}{i // 3},2026-{i % 12 + 1:02d}-{i % 28 + 1:02d},N{i % 20:02d},K{i % 50},Q{i % 10},"
            f"东区,{i % 997}.{i % 100:02d}\n" for i in range(LINES))
    path.write_text("行号,订单号,下单日期,销售员,客户,产品,区域,金额\n" + "".join(rows), encoding="utf-8")
    return path


def start_import(url: str, path: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([str(ATTAIN), "import", "orders", str(path), "--db", url, *extra], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "300", "NO_COLOR": "1"})


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


@contextmanager
def import_lock_held(url: str) -> Iterator[Connection]:
    """Hold the lock an import takes, as another import in the middle of its work would."""
    engine = get_engine(url)
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            raw.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
            yield raw  # type: ignore[misc]
            raw.driver_connection.rollback()  # type: ignore[union-attr]
        finally:
            raw.close()
        return
    with engine.connect() as connection, connection.begin():
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('attain.import'), hashtext(current_schema()))"))
        yield connection


def counts(url: str) -> tuple[int, int, int]:
    with get_engine(url).connect() as connection:
        lines = connection.scalar(select(func.count()).select_from(OrderLine))
        reps = connection.scalar(select(func.count()).select_from(OrgNode).where(OrgNode.kind == "rep"))
        regions = connection.scalar(select(func.count()).select_from(OrgNode).where(OrgNode.kind == "region"))
    return lines, reps, regions  # type: ignore[return-value]


def test_two_imports_started_together_both_succeed(database: str, tmp_path: Path) -> None:
    first, second = orders_file(tmp_path, "a.csv", "A"), orders_file(tmp_path, "b.csv", "B")

    processes = [start_import(database, first), start_import(database, second)]
    results = [finish(p) for p in processes]

    assert [code for code, _out, _err in results] == [0, 0], results
    assert all("Traceback" not in err for _code, _out, err in results)
    assert counts(database) == (2 * LINES, 20, 1)


def test_second_import_waits_for_the_first_and_creates_nothing_twice(database: str, tmp_path: Path) -> None:
    first, second = orders_file(tmp_path, "a.csv", "A"), orders_file(tmp_path, "b.csv", "B")

    # Both processes reach the lock while it is held, so they really contend for it once it goes.
    with import_lock_held(database):
        processes = [start_import(database, first), start_import(database, second)]
        time.sleep(4)
        assert [p.poll() for p in processes] == [None, None]
    results = [finish(p) for p in processes]

    assert [code for code, _out, _err in results] == [0, 0], results
    assert all("Traceback" not in err for _code, _out, err in results)
    inserted = sorted(out.split(" rows — ")[1].split(" inserted")[0] for _code, out, _err in results)
    assert inserted == [f"{LINES:,}", f"{LINES:,}"]
    assert counts(database) == (2 * LINES, 20, 1)


def test_import_that_waits_too_long_fails_in_one_line_and_writes_nothing(database: str, tmp_path: Path) -> None:
    path = orders_file(tmp_path, "a.csv", "A")
    before = checksum(database)

    with import_lock_held(database):
        done = run_attain("import", "orders", str(path), "--db", database, "--wait", "1")

    assert done.returncode == 1
    assert [line for line in done.stderr.splitlines() if line.strip()] == [
        "error: another import is running on this database; retry when it has finished (waited 1 s)"
    ]
    assert checksum(database) == before
    assert counts(database) == (0, 0, 0)
