"""Where tracking statements run: the Attain database (SQLite or PostgreSQL) or DuckDB on a file.

Both run the same SQLAlchemy Core statement from `query.py`. For DuckDB it is compiled with the
PostgreSQL dialect and literal values (DuckDB speaks PostgreSQL's SQL), against an in-memory DuckDB
in which the order file is a view named `order_lines` and the small tables the statement also reads
(org nodes, products, customers, whatever `credited_lines()` joins) are copied from the Attain
database. The copy needs no DuckDB extension, so it works offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Select, Table, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql.util import find_tables

from attain.errors import InvalidInput
from attain.facts.models import OrderLine

ORDER_COLUMNS = tuple(c.name for c in OrderLine.__table__.columns)
# Columns a file may give as codes instead of ids: resolved against the copied tables.
CODE_COLUMNS = {"rep_code": ("rep_id", "org_nodes"), "customer_code": ("customer_id", "customers"),
                "product_code": ("product_id", "product_nodes"), "region_code": ("region_id", "org_nodes")}


class Runner(Protocol):
    """Runs a tracking statement and returns its rows as tuples."""

    name: str
    reads_database: bool  # the Attain database itself (its rollups are there), not an order file

    def rows(self, statement: Select) -> list[tuple[Any, ...]]:  # type: ignore[type-arg]
        ...


class SessionRunner:
    """The Attain database itself (SQLite or PostgreSQL)."""

    reads_database = True

    def __init__(self, session: Session):
        self.session = session
        self.name = session.get_bind().dialect.name

    def rows(self, statement: Select) -> list[tuple[Any, ...]]:  # type: ignore[type-arg]
        return core_rows(self.session, statement)


class ConnectionRunner:
    """The Attain database through a connection of its own (a report's rollup running beside the
    session's other queries; see `attainment(parallel=True)`)."""

    reads_database = True

    def __init__(self, connection: Connection):
        self.connection = connection
        self.name = connection.dialect.name

    def rows(self, statement: Select) -> list[tuple[Any, ...]]:  # type: ignore[type-arg]
        return [tuple(row) for row in self.connection.execute(statement).fetchall()]


def core_rows(session: Session, statement: Select) -> list[tuple[Any, ...]]:  # type: ignore[type-arg]
    """The statement's rows as tuples, run on the session's connection (in its transaction, after
    flushing what the session holds): Core skips the ORM's per-row work, 2–3× faster at 60,000 rows."""
    if session.autoflush:
        session.flush()
    return [tuple(row) for row in session.connection().execute(statement).fetchall()]


def compile_for_duckdb(statement: Select) -> str:  # type: ignore[type-arg]
    """The statement as DuckDB SQL text (PostgreSQL dialect, values inlined)."""
    return str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


class DuckDBRunner:
    """DuckDB in memory, with an order file as `order_lines` (see `open_duckdb`)."""

    name = "duckdb"
    reads_database = False  # the lines are the file's: the database's rollups do not sum them

    def __init__(self, connection: Any):
        self.connection = connection

    def rows(self, statement: Select) -> list[tuple[Any, ...]]:  # type: ignore[type-arg]
        return [tuple(row) for row in self.connection.execute(compile_for_duckdb(statement)).fetchall()]

    def close(self) -> None:
        self.connection.close()


def tables_read_by(statements: Sequence[Select]) -> list[Table]:  # type: ignore[type-arg]
    """Every table the statements read (through subqueries and aliases), by name."""
    found: dict[str, Table] = {}
    for statement in statements:
        for table in find_tables(statement, include_aliases=True, include_joins=True, include_selects=True):
            base = getattr(table, "element", table)
            while not isinstance(base, Table) and hasattr(base, "element"):
                base = base.element
            if isinstance(base, Table):
                found[base.name] = base
    return [found[name] for name in sorted(found)]


def _reader(path: Path) -> str:
    if not path.exists():
        raise InvalidInput.coded("tracking.engine.order_file_does_exist", path=path)
    quoted = str(path).replace("'", "''")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return f"read_parquet('{quoted}')"
    if suffix in (".csv", ".txt", ".tsv"):
        return f"read_csv('{quoted}', header=true)"
    raise InvalidInput.coded("tracking.engine.order_file_neither_parquet", path=path)


def open_duckdb(*, session: Session, orders: Path, tables: Sequence[Table]) -> DuckDBRunner:
    """DuckDB with `orders` as the `order_lines` view and `tables` copied from the session's database.

    The file holds order lines with the columns of `order_lines` (order_date, amount and cost in
    fen, rep_id, …); rep_code / customer_code / product_code / region_code may stand in for the ids.
    Missing optional columns are NULL (quantity 0, currency CNY, line ids numbered).
    """
    import duckdb

    connection = duckdb.connect()
    try:
        for table in tables:
            if table.name != OrderLine.__tablename__:
                _copy_table(connection, session, table)
        _order_view(connection, _reader(orders), orders)
    except duckdb.Error as exc:
        connection.close()
        raise InvalidInput.coded("tracking.engine.duckdb_cannot_read", orders=orders, exc=exc) from exc
    return DuckDBRunner(connection)


def _copy_table(connection: Any, session: Session, table: Table) -> None:
    import pandas as pd

    dialect = postgresql.dialect()
    columns = ", ".join(f'"{c.name}" {_duck_type(c.type.compile(dialect=dialect))}' for c in table.columns)
    connection.execute(f'CREATE TABLE "{table.name}" ({columns})')
    rows = session.execute(select(table)).all()
    if rows:
        frame = pd.DataFrame([tuple(r) for r in rows], columns=[c.name for c in table.columns], dtype=object)
        connection.register("attain_copy", frame)
        names = ", ".join(f'"{c.name}"' for c in table.columns)
        connection.execute(f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM attain_copy')
        connection.unregister("attain_copy")


def _duck_type(pg_type: str) -> str:
    return "JSON" if pg_type in ("JSON", "JSONB") else pg_type


def _order_view(connection: Any, reader: str, path: Path) -> None:
    present = [row[0] for row in connection.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    missing = [c for c in ("order_date", "amount") if c not in present]
    if missing:
        raise InvalidInput.coded("tracking.engine.order_file_column_needs", path=path, items=', '.join(missing))
    joins: list[str] = []
    exprs: dict[str, str] = {}
    for code_column, (id_column, table) in CODE_COLUMNS.items():
        if code_column in present and id_column not in present:
            alias = f"by_{code_column}"
            joins.append(f'LEFT JOIN "{table}" {alias} ON {alias}.code = CAST(f."{code_column}" AS VARCHAR)')
            exprs[id_column] = f"{alias}.id"
    defaults = {
        "id": "row_number() OVER ()", "line_id": "CAST(row_number() OVER () AS VARCHAR)",
        "order_id": "CAST(row_number() OVER () AS VARCHAR)", "quantity": "0", "currency": "'CNY'",
    }
    dialect = postgresql.dialect()
    casts = {c.name: _duck_type(c.type.compile(dialect=dialect)) for c in OrderLine.__table__.columns}
    select_list = []
    for column in ORDER_COLUMNS:
        source = f'f."{column}"' if column in present else exprs.get(column, defaults.get(column, "NULL"))
        select_list.append(f'CAST({source} AS {casts[column]}) AS "{column}"')
    connection.execute(
        f"CREATE VIEW order_lines AS SELECT {', '.join(select_list)} FROM {reader} f {' '.join(joins)}"
    )
