"""Rollup benchmark: the rep × month attainment report over generated order lines.

Generates N order lines (default 10,000,000; 5,000 reps, 3 years) with NumPy, loads them into
PostgreSQL (COPY) and SQLite, writes a Parquet file with DuckDB, adds an approved plan of rep ×
month cells for the last year, then times on each engine:

  report      `attainment_columns(by="rep,month")` for the last year: the whole service (credited
              lines, targets, seasonal history, forecasts) as columns, as `attain report attainment
              --json` and /api/v1/attainment run it; on a database it reads the rollups
              (`attain.facts.rollups`, built after the COPY load and timed), and is timed once more
              reading the order lines (`use_rollups=False`)
  rollup SQL  only the report's rollup statement (from the rollups on a database)
  Python      report − rollup SQL: the work in Python (goal ≤ 0.3 s for 60,000 rows); the ratio
              report / bare GROUP BY against its goal (≤ 1.2× at 1M lines)
  row view    `attainment(...)`: the same report as row objects (tables, templates)
  JSON        the report's JSON from the columns, written by orjson
  actuals     `actuals(by="rep,month")`: the sums alone, what the pandas groupby computes
  bare SQL    SELECT rep_id, month, SUM(amount) FROM order_lines GROUP BY 1, 2 on the same engine
  pandas      the same groupby in pandas on a DataFrame already in memory, after reading the
              Parquet file or the CSV, and after reading the year's lines from PostgreSQL
              (read_sql: what a script on the same database does)

Usage: python benchmarks/rollup.py [--lines N] [--pg URL] [--no-sqlite] [--keep DIR]
PostgreSQL: --pg or ATTAIN_TEST_PG_URL (a schema `attain_rollup_bench_<id>` is created and dropped).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import Engine

from attain.catalog.models import Customer, ProductNode
from attain.cli.output import json_text
from attain.db import get_engine, make_session_factory, resolve_database_url
from attain.facts import rollups
from attain.facts.models import OrderLine
from attain.metrics.models import Metric
from attain.migrate import upgrade
from attain.org.models import OrgNode
from attain.periods import parse_period
from attain.plans.models import Plan, PlanCell
from attain.tracking.attainment import (
    actuals,
    attainment,
    attainment_columns,
    features_for,
)
from attain.tracking.engine import SessionRunner, open_duckdb, tables_read_by
from attain.tracking.format import attainment_columns_payload
from attain.tracking.query import Grouping, actuals_statement

REGIONS, TEAMS, REPS = 10, 100, 5_000
LINES_PER_PRODUCT_LINE, PRODUCT_LINES = 10, 10
CUSTOMERS = 50_000
FIRST_DAY, DAYS = np.datetime64("2024-01-01"), 1_096  # 2024-01-01 .. 2026-12-31
YEAR = 2026
RATIO_GOAL, PYTHON_GOAL = 1.2, 0.3  # issue 21 at 1M lines: report ≤ 1.2× the bare GROUP BY, Python ≤ 0.3 s
ORDER_COLUMNS = ("id", "line_id", "order_id", "order_date", "rep_id", "customer_id", "product_id", "region_id",
                 "quantity", "amount", "cost", "currency")


def generate(lines: int, seed: int = 7) -> pd.DataFrame:
    """Order lines as a DataFrame, vectorised: reps sell with their own level and a seasonal year."""
    rng = np.random.default_rng(seed)
    day = rng.integers(0, DAYS, size=lines)
    days = FIRST_DAY + day
    month = days.astype("datetime64[M]").astype(np.int64) % 12
    season = np.array([0.7, 0.6, 1.0, 1.0, 1.0, 1.1, 0.9, 0.9, 1.0, 1.1, 1.2, 1.5])[month]
    rep = rng.integers(0, REPS, size=lines)
    level = rng.lognormal(0.0, 0.4, size=REPS)[rep]
    amount = np.maximum((rng.lognormal(10.0, 1.0, size=lines) * level * season).astype(np.int64), 100)
    first_rep = 1 + REGIONS + TEAMS + 1
    rep_ids = first_rep + rep
    return pd.DataFrame({
        "id": np.arange(1, lines + 1),
        "line_id": np.char.add("L", np.arange(lines).astype(str)),
        "order_id": np.char.add("SO", (np.arange(lines) // 3).astype(str)),
        "order_date": days,
        "rep_id": rep_ids,
        "customer_id": rng.integers(1, CUSTOMERS + 1, size=lines),
        "product_id": PRODUCT_LINES + 1 + rng.integers(0, PRODUCT_LINES * LINES_PER_PRODUCT_LINE, size=lines),
        "region_id": 2 + (rep // (REPS // REGIONS)),
        "quantity": rng.integers(1, 20, size=lines),
        "amount": amount,
        "cost": amount * 6 // 10,
        "currency": "CNY",
    })


def org_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [{"id": 1, "code": "CO", "name": "公司", "kind": "company", "parent_id": None, "path": "/1/", "depth": 0}]
    for r in range(REGIONS):
        rid = 2 + r
        rows.append({"id": rid, "code": f"R{r}", "name": f"大区{r}", "kind": "region", "parent_id": 1, "path": f"/1/{rid}/", "depth": 1})
    for t in range(TEAMS):
        tid = 2 + REGIONS + t
        rid = 2 + t // (TEAMS // REGIONS)
        rows.append({"id": tid, "code": f"T{t}", "name": f"团队{t}", "kind": "team", "parent_id": rid, "path": f"/1/{rid}/{tid}/", "depth": 2})
    for p in range(REPS):
        pid = 2 + REGIONS + TEAMS + p
        tid = 2 + REGIONS + p // (REPS // TEAMS)
        rid = 2 + (p // (REPS // TEAMS)) // (TEAMS // REGIONS)
        rows.append({"id": pid, "code": f"S{p:05d}", "name": f"销售{p}", "kind": "rep", "parent_id": tid,
                     "path": f"/1/{rid}/{tid}/{pid}/", "depth": 3})
    return rows


def load_dimensions(engine: Engine, orders: pd.DataFrame) -> None:
    """Org, products, customers (first-order dates from the orders) and an approved rep × month plan."""
    session = make_session_factory(engine)()
    session.execute(insert(OrgNode), org_rows())
    products = [{"id": i + 1, "code": f"PL{i}", "name": f"产品线{i}", "kind": "line", "parent_id": None, "path": f"/{i + 1}/", "depth": 0}
                for i in range(PRODUCT_LINES)]
    for j in range(PRODUCT_LINES * LINES_PER_PRODUCT_LINE):
        line = 1 + j // LINES_PER_PRODUCT_LINE
        pid = PRODUCT_LINES + 1 + j
        products.append({"id": pid, "code": f"P{j}", "name": f"产品{j}", "kind": "product", "parent_id": line, "path": f"/{line}/{pid}/", "depth": 1})
    session.execute(insert(ProductNode), products)
    first = orders.groupby("customer_id")["order_date"].min()
    session.execute(insert(Customer), [{"id": int(c), "code": f"C{c}", "name": f"客户{c}", "first_order_date": d.date()}
                                       for c, d in first.items()])
    metric = session.scalar(select(Metric.id).where(Metric.code == "revenue"))
    session.execute(insert(Plan), [{"id": 1, "name": f"FY{YEAR}", "version": 1, "year": YEAR, "start_date": date(YEAR, 1, 1),
                                    "end_date": date(YEAR, 12, 31), "metric_id": metric, "status": "approved", "unit": 100}])
    last_year = orders[orders["order_date"].dt.year == YEAR - 1]
    history = last_year.groupby(["rep_id", last_year["order_date"].dt.month])["amount"].sum()
    cells = [{"plan_id": 1, "period": f"{YEAR}-{m:02d}", "period_start": parse_period(f"{YEAR}-{m:02d}").start,
              "period_end": parse_period(f"{YEAR}-{m:02d}").end, "org_node_id": int(rep), "customer_type": "all",
              "value": int(value) * 115 // 100 // 100 * 100}
             for (rep, m), value in history.items()]
    session.execute(insert(PlanCell), cells)
    session.commit()
    session.close()


def load_postgresql(url: str, orders: pd.DataFrame, csv_path: Path) -> None:
    engine = get_engine(url)
    upgrade(engine)
    load_dimensions(engine, orders)
    raw = engine.raw_connection()
    try:
        copy_sql = f"COPY order_lines ({', '.join(ORDER_COLUMNS)}) FROM STDIN WITH (FORMAT csv, HEADER true)"
        with raw.cursor() as cursor, open(csv_path, "rb") as source, cursor.copy(copy_sql) as copy:  # type: ignore[attr-defined]
            while chunk := source.read(1 << 20):
                copy.write(chunk)
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    build_rollups(engine, "PostgreSQL")


def build_rollups(engine: Engine, name: str) -> None:
    """COPY bypasses `attain import` (which keeps the rollups): build them as `attain rollups --rebuild` does."""
    started = time.perf_counter()
    with engine.begin() as connection:
        rows = rollups.rebuild(connection)
        if connection.dialect.name == "postgresql":
            connection.execute(text("ANALYZE rollup_rep_months; ANALYZE rollup_days"))
        else:
            connection.execute(text("ANALYZE"))
    print(f"  {name}: rollups built in {time.perf_counter() - started:.1f} s ({rows:,} rep × month rows)", flush=True)


def load_sqlite(url: str, orders: pd.DataFrame) -> None:
    engine = get_engine(url)
    upgrade(engine)
    load_dimensions(engine, orders)
    columns = [orders[c].to_numpy() for c in ORDER_COLUMNS]
    days = orders["order_date"].dt.strftime("%Y-%m-%d").to_numpy()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        statement = f"INSERT INTO order_lines ({', '.join(ORDER_COLUMNS)}) VALUES ({', '.join('?' * len(ORDER_COLUMNS))})"
        for start in range(0, len(orders), 200_000):
            stop = start + 200_000
            chunk = [c[start:stop].tolist() for c in columns]
            chunk[3] = days[start:stop].tolist()
            cursor.executemany(statement, list(zip(*chunk)))
        raw.commit()
        cursor.execute("ANALYZE")
    finally:
        raw.close()
    build_rollups(engine, "SQLite")


def timed(action: Callable[[], object], repeat: int = 3) -> float:
    """Best of `repeat` wall-clock runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def bare_statement():  # type: ignore[no-untyped-def]
    month = (func.extract("year", OrderLine.order_date) * 100 + func.extract("month", OrderLine.order_date)).label("month")
    return (select(OrderLine.rep_id, month, func.sum(OrderLine.amount))
            .where(OrderLine.order_date.between(date(YEAR, 1, 1), date(YEAR, 12, 31)))
            .group_by(OrderLine.rep_id, month))


def pandas_from_database(engine: Engine) -> object:
    """What a script does without Attain: read the year's lines from the database, group in pandas."""
    with engine.connect() as connection:
        frame = pd.read_sql(text("SELECT order_date, rep_id, amount FROM order_lines WHERE order_date BETWEEN :a AND :b"),
                            connection, params={"a": date(YEAR, 1, 1), "b": date(YEAR, 12, 31)}, parse_dates=["order_date"])
    return frame.groupby(["rep_id", frame["order_date"].dt.month])["amount"].sum()


def measure(name: str, session, runner, repeat: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    period = parse_period(str(YEAR))
    # The rollup as the report runs it: with the crediting features the database uses (none here).
    rollup = actuals_statement(metric="revenue", grouping=Grouping(("rep", "month")), start=period.start, end=period.end,
                               features=features_for(session, runner, plan_id=1))
    session.rollback()  # each timing starts outside a transaction, as a CLI command does

    def report(use_rollups: bool = True) -> object:
        # As `attain report attainment --json` and /api/v1/attainment run it: columns, no row objects.
        return attainment_columns(session=session, period=period, by="rep,month", as_of=date(YEAR, 12, 31),
                                  runner=runner, parallel=True, use_rollups=use_rollups)

    def rows() -> object:  # the row objects' view (tables, templates)
        return attainment(session=session, period=period, by="rep,month", as_of=date(YEAR, 12, 31), runner=runner,
                          parallel=True)

    # The first report of a process also reads the seasonal history (three years of days) for the
    # weights, as every `attain report` command does; a long-running process (the web app) keeps them.
    cold = timed(report, 1)
    warm = timed(report, repeat)
    rollup_sql = timed(lambda: runner.rows(rollup), repeat)
    bare = timed(lambda: runner.rows(bare_statement()), repeat)
    lines = timed(lambda: report(False), 1) if runner.reads_database else None
    as_rows = timed(rows, repeat)
    columns = report()
    json_time = timed(lambda: json_text(attainment_columns_payload(columns)), repeat)
    # What a pandas groupby computes: the sums per rep × month (`attain report actuals --by rep,month`).
    sums = timed(lambda: actuals(session=session, period=period, by="rep,month", runner=runner), repeat)
    via = "rollups" if "rollup_rep_months" in str(rollup) else "order lines"
    print(f"  {name:<22} report {cold:6.2f} s first, {warm:6.2f} s then (from {via})   its SQL {rollup_sql:6.2f} s   "
          f"bare GROUP BY {bare:6.2f} s" + ("" if lines is None else f"   report from the lines {lines:6.2f} s")
          + f"   actuals {sums:6.2f} s", flush=True)
    python = max(warm - rollup_sql, 0.0)
    print(f"  {'':<22} {len(columns):,} rows: Python ≈ report − its SQL = {python:.2f} s (goal ≤ {PYTHON_GOAL} s)   "
          f"report/bare GROUP BY {warm / bare:.2f}× (goal ≤ {RATIO_GOAL}×)   row view {as_rows:.2f} s   "
          f"JSON of the rows (orjson) {json_time:.2f} s", flush=True)
    return {"cold": cold, "report": warm, "rollup": rollup_sql, "bare": bare, "lines": lines or float("nan"), "actuals": sums,
            "python": python, "rows": as_rows, "json": json_time}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--pg", default=os.environ.get("ATTAIN_TEST_PG_URL"))
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite (slow to load at 10M lines)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (best is kept)")
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="attain-rollup-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"{args.lines:,} order lines, {REPS:,} reps, 3 years; report: rep × month attainment of {YEAR}")

    started = time.perf_counter()
    orders = generate(args.lines)
    csv_path, parquet_path = workdir / "orders.csv", workdir / "orders.parquet"
    con = duckdb.connect()
    con.register("orders", orders)
    con.execute("CREATE VIEW orders_by_day AS SELECT * REPLACE (CAST(order_date AS DATE) AS order_date) FROM orders")
    con.execute(f"COPY (SELECT {', '.join(ORDER_COLUMNS)} FROM orders_by_day) TO '{csv_path}' (FORMAT csv, HEADER true)")
    con.execute(f"COPY (SELECT * FROM orders_by_day) TO '{parquet_path}' (FORMAT parquet)")
    con.close()
    print(f"  generated and wrote CSV + Parquet in {time.perf_counter() - started:.1f} s")

    results: dict[str, dict[str, float]] = {}
    pandas_sql: float | None = None
    schema = f"attain_rollup_bench_{uuid.uuid4().hex[:8]}"
    admin = None
    try:
        if args.pg:
            admin = create_engine(resolve_database_url(args.pg), isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            separator = "&" if "?" in args.pg else "?"
            pg_url = resolve_database_url(f"{args.pg}{separator}options=-csearch_path%3D{schema}")
            started = time.perf_counter()
            load_postgresql(pg_url, orders, csv_path)
            print(f"  PostgreSQL loaded (COPY) in {time.perf_counter() - started:.1f} s", flush=True)
            session = make_session_factory(get_engine(pg_url))()
            try:
                results["PostgreSQL"] = measure("PostgreSQL", session, SessionRunner(session), args.repeat)
                pandas_sql = timed(lambda: pandas_from_database(get_engine(pg_url)), 1)
                sample = actuals_statement(metric="new_customers", grouping=Grouping(("product_line", "customer_type")),
                                           start=date(YEAR, 1, 1), end=date(YEAR, 1, 1))
                duck = open_duckdb(session=session, orders=parquet_path, tables=tables_read_by([sample]))
                results["DuckDB on Parquet"] = measure("DuckDB on Parquet", session, duck, args.repeat)
                duck.close()
            finally:
                session.close()
                get_engine(pg_url).dispose()
        if not args.no_sqlite:
            sqlite_url = f"sqlite:///{workdir / 'rollup.db'}"
            started = time.perf_counter()
            load_sqlite(sqlite_url, orders)
            print(f"  SQLite loaded in {time.perf_counter() - started:.1f} s", flush=True)
            session = make_session_factory(get_engine(sqlite_url))()
            results["SQLite"] = measure("SQLite", session, SessionRunner(session), args.repeat)
            session.close()
            get_engine(sqlite_url).dispose()
    finally:
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()

    in_year = orders["order_date"].dt.year == YEAR
    pandas_memory = timed(lambda: orders[in_year].groupby(["rep_id", orders["order_date"].dt.month])["amount"].sum(), args.repeat)

    def pandas_from_csv() -> object:
        frame = pd.read_csv(csv_path, usecols=["order_date", "rep_id", "amount"], parse_dates=["order_date"])
        year = frame[frame["order_date"].dt.year == YEAR]
        return year.groupby(["rep_id", year["order_date"].dt.month])["amount"].sum()

    pandas_csv = timed(pandas_from_csv, 1)

    def pandas_from_parquet() -> object:
        # DuckDB reads the file into the DataFrame (pyarrow is not a dependency of Attain).
        frame = duckdb.read_parquet(str(parquet_path)).project("order_date, rep_id, amount").df()
        frame["order_date"] = pd.to_datetime(frame["order_date"])
        year = frame[frame["order_date"].dt.year == YEAR]
        return year.groupby(["rep_id", year["order_date"].dt.month])["amount"].sum()

    pandas_parquet = timed(pandas_from_parquet, args.repeat)
    print()
    print(f"{'engine':<20}{'report 1st':>11}{'report':>9}{'its SQL':>9}{'from lines':>12}{'bare GROUP BY':>15}"
          f"{'report/bare':>13}{'1st/bare':>10}{'actuals':>9}{'pandas mem/actuals':>20}{'pandas mem/report':>19}")
    for name, figures in results.items():
        print(f"{name:<20}{figures['cold']:>10.2f}s{figures['report']:>8.2f}s{figures['rollup']:>8.2f}s"
              f"{figures['lines']:>11.2f}s{figures['bare']:>14.2f}s"
              f"{figures['report'] / figures['bare']:>12.2f}x{figures['cold'] / figures['bare']:>9.2f}x"
              f"{figures['actuals']:>8.2f}s{pandas_memory / figures['actuals']:>19.2f}x"
              f"{pandas_memory / figures['report']:>18.2f}x")
    print(f"{'pandas in memory':<20}{'':>11}{'':>9}{'':>12}{pandas_memory:>14.2f}s")
    print(f"{'pandas from Parquet':<20}{'':>11}{'':>9}{'':>12}{pandas_parquet:>14.2f}s")
    print(f"{'pandas read CSV':<20}{'':>11}{'':>9}{'':>12}{pandas_csv:>14.2f}s")
    print()
    for name, figures in results.items():
        ratio = figures["report"] / figures["bare"]
        print(f"{name:<20} report/bare GROUP BY {ratio:.2f}× (goal ≤ {RATIO_GOAL}×: {'met' if ratio <= RATIO_GOAL else 'NOT met'})"
              f"   Python {figures['python']:.2f} s (goal ≤ {PYTHON_GOAL} s: {'met' if figures['python'] <= PYTHON_GOAL else 'NOT met'})"
              f"   row view {figures['rows']:.2f} s   JSON {figures['json']:.2f} s")
    if pandas_sql is not None and "PostgreSQL" in results:
        print(f"{'pandas read_sql (PG)':<20}{'':>11}{'':>9}{'':>12}{pandas_sql:>14.2f}s"
              f"   ({pandas_sql / results['PostgreSQL']['report']:.1f}x the report's time)")
    if not args.keep:
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()


if __name__ == "__main__":
    main()
