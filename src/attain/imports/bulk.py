"""Bulk loading of fact rows: COPY on PostgreSQL, executemany on SQLite, into a temporary staging
table; then set-based SQL counts, updates and inserts. All inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Column, MetaData, Table, and_, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class UpsertCounts:
    inserted: int
    updated: int
    unchanged: int


def _staging_table(target: Table, columns: Sequence[str]) -> Table:
    metadata = MetaData()
    return Table(
        f"staging_{target.name}",
        metadata,
        *(Column(name, target.c[name].type) for name in columns),
        prefixes=["TEMPORARY"],
    )


def _load_postgresql(session: Session, staging: Table, rows: Sequence[tuple[object, ...]]) -> None:
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    names = ", ".join(c.name for c in staging.columns)
    with cursor.copy(f"COPY {staging.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _sqlite_value(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _load_sqlite(session: Session, staging: Table, rows: Sequence[tuple[object, ...]]) -> None:
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    marks = ", ".join("?" for _ in staging.columns)
    converters = [_needs_conversion(c) for c in staging.columns]
    if any(converters):
        rows = [tuple(_sqlite_value(v) if conv else v for v, conv in zip(row, converters)) for row in rows]
    cursor.executemany(f"INSERT INTO {staging.name} VALUES ({marks})", rows)


def _needs_conversion(column: Column) -> bool:  # type: ignore[type-arg]
    return column.type.python_type in (date, Decimal)


def upsert(
    *, session: Session, target: Table, key: str, columns: Sequence[str], rows: Sequence[tuple[object, ...]]
) -> UpsertCounts:
    """Insert rows whose `key` is new, update rows that changed, leave identical rows alone.

    `rows` hold values for `columns` (which include `key`) in order; keys must be unique.
    """
    staging = _staging_table(target, columns)
    connection = session.connection()
    staging.create(connection)
    try:
        if connection.dialect.name == "postgresql":
            _load_postgresql(session, staging, rows)
            connection.exec_driver_sql(f"ANALYZE {staging.name}")
        else:
            _load_sqlite(session, staging, rows)
        connection.exec_driver_sql(f"CREATE UNIQUE INDEX ix_{staging.name}_key ON {staging.name} ({key})")
        return _merge(session, target, staging, key, [c for c in columns if c != key])
    finally:
        staging.drop(connection)


def _merge(session: Session, target: Table, staging: Table, key: str, value_columns: list[str]) -> UpsertCounts:
    joined = target.c[key] == staging.c[key]
    changed = or_(*(target.c[c].is_distinct_from(staging.c[c]) for c in value_columns))
    matched = session.scalar(select(func.count()).select_from(staging.join(target, joined))) or 0
    updated = 0
    if matched:
        updated = session.scalar(select(func.count()).select_from(staging.join(target, joined)).where(changed)) or 0
        if updated:
            session.execute(
                update(target).where(and_(joined, changed)).values({c: staging.c[c] for c in value_columns})
            )
    total = session.scalar(select(func.count()).select_from(staging)) or 0
    inserted = total - matched
    if inserted:
        names = [key, *value_columns]
        session.execute(
            insert(target).from_select(
                names,
                select(*(staging.c[n] for n in names)).where(~exists().where(joined)),
            )
        )
    return UpsertCounts(inserted=inserted, updated=updated, unchanged=matched - updated)
