"""A small company loaded once per module and database, and a checksum of everything it holds.

Rejected imports must leave the database exactly as it was: `checksum(url)` hashes every row of
every table (in primary-key order), so a test compares it before and after. Tests that share one
`seeded_database` never change it unless they say so (accepted imports use ids of their own).

The company (tests/fixtures/good and orders_zh.csv): company → regions 华东, 华南 → teams 华东/一组,
华南/二组 → reps R001 张三, R002 李四, R003 王五 (华东, no team), R004 赵六; product lines 工业 (P1, P2)
and 民用 (P3); customers C001-C003; orders SO1 (2026-01-05, two lines) and SO2 (2026-02-01);
opportunities OP1-OP5; draft plan FY2027 with targets for 2027-01 and 2027-02.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import MetaData, select
from sqlalchemy.exc import SAWarning

from attain.db import get_engine, make_session_factory
from attain.imports.service import ImportOptions, import_file
from tests.databases import fresh_database

FIXTURES = Path(__file__).parents[1] / "fixtures"
GOOD = FIXTURES / "good"
ATTAIN = Path(sys.executable).parent / "attain"

SEED: tuple[tuple[str, Path, ImportOptions], ...] = (
    ("reps", GOOD / "reps.csv", ImportOptions()),
    ("products", GOOD / "products.csv", ImportOptions()),
    ("customers", GOOD / "customers.csv", ImportOptions()),
    ("orders", FIXTURES / "orders_zh.csv", ImportOptions()),
    ("opportunities", GOOD / "opportunities.csv", ImportOptions()),
    ("targets", GOOD / "targets_long.csv", ImportOptions(plan="FY2027")),
)


@contextmanager
def seeded_database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of a migrated database of `kind` holding the company above."""
    with fresh_database(kind, folder, prefix="attain_seeded") as url:
        session = make_session_factory(get_engine(url))()
        try:
            for what, path, options in SEED:
                import_file(session=session, kind=what, path=path, options=options)
        finally:
            session.close()
        yield url


_TABLES: dict[str, MetaData] = {}


def checksum(url: str) -> str:
    """A hash of every row of every table of the database at `url`."""
    engine = get_engine(url)
    if url not in _TABLES:
        metadata = MetaData()
        with warnings.catch_warnings():  # expression indexes are not reflected; the rows are what counts
            warnings.simplefilter("ignore", SAWarning)
            metadata.reflect(engine)
        _TABLES[url] = metadata
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in _TABLES[url].sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            digest.update(table.name.encode())
            for row in connection.execute(select(table).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def run_attain(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The `attain` command line in a child process (a wide terminal, no colours)."""
    return subprocess.run(
        [str(ATTAIN), *args], capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, "COLUMNS": "300", "NO_COLOR": "1", **(env or {})},
    )
