"""Bulk loading of fact rows: COPY on PostgreSQL, executemany on SQLite, into a temporary staging
table; then set-based SQL counts, updates and inserts. All inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import (
    Column,
    ColumnElement,
    MetaData,
    Table,
    UniqueConstraint,
    and_,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from attain.columnar import converted


@dataclass(frozen=True)
class UpsertCounts:
    inserted: int
    updated: int
    unchanged: int


def _staging_table(target: Table, columns: Sequence[str]) -> Table:
    return Table(
        f"staging_{target.name}",
        MetaData(),
        *(Column(name, target.c[name].type) for name in columns),
        prefixes=["TEMPORARY"],
    )


COPY_BLOCK_ROWS = 100_000
_COPY_TYPES = (str, int, date, Decimal)
_COPY_SPECIAL = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _load_postgresql(session: Session, staging: Table, values: dict[str, Sequence[object]]) -> None:
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    names = ", ".join(values)
    texts = _copy_columns(values)
    with cursor.copy(f"COPY {staging.name} ({names}) FROM STDIN") as copy:
        if texts is None:
            for row in zip(*values.values()):
                copy.write_row(row)
            return
        # COPY's text format built a block of rows at a time by C-level joins (a row at a time
        # through write_row took half of a million-line import).
        count = len(texts[0]) if texts else 0
        for start in range(0, count, COPY_BLOCK_ROWS):
            rows = zip(*(column[start : start + COPY_BLOCK_ROWS] for column in texts))
            copy.write("\n".join(map("\t".join, rows)).encode("utf-8") + b"\n")


def _copy_columns(values: dict[str, Sequence[object]]) -> list[list[str]] | None:
    """Every column as COPY text (NULL as \\N, special characters escaped), or None when a column
    holds a type this does not write (the caller then writes row by row)."""
    texts = []
    for column in values.values():
        sample = next((v for v in column if v is not None), None)
        if sample is None:
            texts.append(["\\N"] * len(column))
            continue
        if type(sample) not in _COPY_TYPES:
            return None
        if type(sample) in (date, Decimal):  # dates and quantities repeat: convert each once
            texts.append(converted(column, lambda v: "\\N" if v is None else v.isoformat() if type(v) is date else str(v)))
            continue
        has_none = None in column  # type: ignore[operator]
        out = [("\\N" if v is None else str(v)) for v in column] if has_none else list(map(str, column))
        if type(sample) is str:
            joined = "".join(filter(None, column)) if has_none else "".join(out)  # type: ignore[arg-type]
            if "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined:
                out = ["\\N" if v is None else str(v).translate(_COPY_SPECIAL) for v in column]
        texts.append(out)
    return texts


def _sqlite_column(column: Sequence[object]) -> Sequence[object]:
    """Dates and Decimals as the text SQLAlchemy stores them in SQLite, converted once per distinct value."""
    sample = next((v for v in column if v is not None), None)
    if not isinstance(sample, (date, Decimal)):
        return column
    return converted(column, lambda v: None if v is None else v.isoformat() if isinstance(v, date) else str(v))


def _load_sqlite(session: Session, staging: Table, values: dict[str, Sequence[object]]) -> None:
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    marks = ", ".join("?" for _ in values)
    cursor.executemany(
        f"INSERT INTO {staging.name} ({', '.join(values)}) VALUES ({marks})",
        zip(*(_sqlite_column(column) for column in values.values())),
    )


def _load(session: Session, table: Table, values: dict[str, Sequence[object]]) -> None:
    if session.connection().dialect.name == "postgresql":
        _load_postgresql(session, table, values)
    else:
        _load_sqlite(session, table, values)


@contextmanager
def _indexes_rebuilt(session: Session, table: Table) -> Iterator[None]:
    """Drop the table's secondary indexes (and, on PostgreSQL, its unique constraints) for the
    duration of the block and build them again at its end, inside the same transaction."""
    connection = session.connection()
    indexes = sorted(table.indexes, key=lambda index: index.name or "")
    uniques = []
    if connection.dialect.name == "postgresql":  # SQLite cannot drop a table's UNIQUE constraint
        uniques = [c for c in table.constraints if isinstance(c, UniqueConstraint)]
    for index in indexes:
        connection.execute(DropIndex(index))
    for constraint in uniques:
        connection.execute(DropConstraint(constraint))
    yield
    for constraint in uniques:
        connection.execute(AddConstraint(constraint))
    for index in indexes:
        connection.execute(CreateIndex(index))


def upsert(
    *, session: Session, target: Table, key: str, values: dict[str, Sequence[object]],
    before_update: Callable[[Table, ColumnElement[bool]], None] | None = None,
) -> UpsertCounts:
    """Insert rows whose `key` is new, update rows that changed, leave identical rows alone.

    `values` maps column name → one value per row (column-major; it includes `key`, whose values
    must be unique). `before_update(staging, changed)` is called when existing rows are about to
    change, before they do, with the staging table and the condition (over the target joined to the
    staging table on `key`) that picks the changing rows: to read what they were (`facts.rollups`).
    """
    columns = list(values)
    connection = session.connection()
    if session.scalar(select(target.c[key]).limit(1)) is None:
        # An empty table (the first load, usually the biggest): straight in, no staging copy, and
        # the secondary indexes built once afterwards instead of row by row (about twice as fast).
        with _indexes_rebuilt(session, target):
            _load(session, target, values)
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"ANALYZE {target.name}")  # fresh statistics for the reports that follow
        return UpsertCounts(inserted=len(values[key]), updated=0, unchanged=0)
    staging = _staging_table(target, columns)
    # No try/finally around the drop: after a failed statement PostgreSQL refuses every command
    # (the DROP would hide the real error), and the caller's rollback removes the table anyway.
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {staging.name}")  # left by a failed import on this connection
    staging.create(connection)
    _load(session, staging, values)
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"ANALYZE {staging.name}")
    connection.exec_driver_sql(f"CREATE UNIQUE INDEX ix_{staging.name}_key ON {staging.name} ({key})")
    counts = _merge(session, target, staging, key, [c for c in columns if c != key], before_update)
    staging.drop(connection)
    return counts


def _merge(
    session: Session, target: Table, staging: Table, key: str, value_columns: list[str],
    before_update: Callable[[Table, ColumnElement[bool]], None] | None = None,
) -> UpsertCounts:
    joined = target.c[key] == staging.c[key]
    changed = or_(*(target.c[c].is_distinct_from(staging.c[c]) for c in value_columns))
    total = session.scalar(select(func.count()).select_from(staging)) or 0
    # One join counts both the rows that exist and those of them that changed.
    matched, updated = session.execute(
        select(func.count(), func.count().filter(changed)).select_from(staging.join(target, joined))
    ).one()
    names = [key, *value_columns]
    rows = select(*(staging.c[n] for n in names))
    if not matched:
        # Nothing in the file exists yet: a plain INSERT … SELECT, no anti-join.
        session.execute(insert(target).from_select(names, rows))
        return UpsertCounts(inserted=total, updated=0, unchanged=0)
    if updated:
        if before_update is not None:
            before_update(staging, and_(joined, changed))
        session.execute(update(target).where(and_(joined, changed)).values({c: staging.c[c] for c in value_columns}))
    if total > matched:
        session.execute(insert(target).from_select(names, rows.where(~exists().where(joined))))
    return UpsertCounts(inserted=total - matched, updated=updated, unchanged=matched - updated)
