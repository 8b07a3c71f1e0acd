"""Import benchmark: `attain import orders` of 1,000,000 generated order lines, end to end through the
CLI (a subprocess: process start, reading, validation, writing, rollups, first-order dates), against a
raw load of the same CSV on the same database, on SQLite and PostgreSQL in one run.

The raw load is the limit: on PostgreSQL a COPY of the CSV into a table of its columns with a primary
key; on SQLite the csv module feeding one executemany into such a table, in one transaction. The goal
(issue 21) is an end-to-end import at >= 0.5x the raw load's lines per second; the ratio is printed.
A re-import (all unchanged) and a daily file (1 % new lines in one month) follow, through the CLI too.

Usage: python benchmarks/imports.py [--lines N] [--pg URL] [--only sqlite|postgresql]
       (PostgreSQL: --pg, else ATTAIN_TEST_PG_URL, else postgresql://postgres@127.0.0.1/test)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, text

from attain.db import get_engine, resolve_database_url

GOAL = 0.5
ATTAIN = str(Path(sys.executable).with_name("attain"))
RAW_COLUMNS = (
    "line_id TEXT PRIMARY KEY, order_id TEXT, order_date DATE, rep TEXT, customer TEXT, product TEXT, region TEXT, "
    "quantity NUMERIC, amount NUMERIC(18, 2), cost NUMERIC(18, 2)"
)


def write_orders_csv(path: Path, lines: int, seed: int = 1, *, first_id: int = 0, days_span: tuple[int, int] = (0, 1000)) -> None:
    rng = np.random.default_rng(seed)
    days = np.datetime64("2024-01-01") + rng.integers(*days_span, size=lines)
    order_numbers = np.arange(lines) // 3
    reps = rng.integers(1, 301, size=lines)
    customers = rng.integers(1, 20_001, size=lines)
    products = rng.integers(1, 501, size=lines)
    quantities = rng.integers(1, 50, size=lines)
    fen = rng.integers(100, 5_000_000, size=lines)
    cost = fen * 6 // 10
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("明细ID,订单号,下单日期,销售员,客户,产品,区域,数量,金额,成本\n")
        day_text = np.datetime_as_string(days)
        for start in range(0, lines, 100_000):
            stop = min(start + 100_000, lines)
            chunk = [
                f"L{i},SO{o},{d},R{r:03d},C{c:05d},P{p:03d},R{r % 6},{q},{a // 100}.{a % 100:02d},{b // 100}.{b % 100:02d}\n"
                for i, o, d, r, c, p, q, a, b in zip(
                    range(first_id + start, first_id + stop), order_numbers[start:stop] + first_id, day_text[start:stop], reps[start:stop],
                    customers[start:stop], products[start:stop], quantities[start:stop], fen[start:stop], cost[start:stop],
                )
            ]
            out.writelines(chunk)


def raw_sqlite(folder: Path, csv_path: Path) -> float:
    """The CSV into an SQLite table with a primary key: csv reader + one executemany, one transaction."""
    started, cpu = time.perf_counter(), time.process_time()
    connection = sqlite3.connect(folder / "raw.db")
    connection.execute(f"CREATE TABLE raw_orders ({RAW_COLUMNS})")
    with csv_path.open(encoding="utf-8", newline="") as source:
        rows = csv.reader(source)
        next(rows)
        connection.executemany("INSERT INTO raw_orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    connection.commit()
    connection.close()
    print(f"  (raw load CPU {time.process_time() - cpu:.1f} s)")
    return time.perf_counter() - started


def raw_postgresql(url: str, csv_path: Path) -> float:
    """The CSV into a PostgreSQL table with a primary key: one COPY … FROM STDIN (CSV), committed."""
    engine = create_engine(url)
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE TABLE raw_orders ({RAW_COLUMNS})")
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy("COPY raw_orders FROM STDIN (FORMAT csv, HEADER true)") as copy, csv_path.open("rb") as source:
            while block := source.read(1 << 20):
                copy.write(block)
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cli_import(url: str, path: Path) -> tuple[float, float, dict[str, object]]:
    """`attain import orders FILE --json` in a new process, timed from its start to its exit (wall
    clock, and the CPU seconds of the process: a steadier figure on a busy machine)."""
    env = {**os.environ, "ATTAIN_DATABASE_URL": url}
    started, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run([ATTAIN, "import", "orders", str(path), "--json"], env=env, capture_output=True, text=True, check=False)
    seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"attain import failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds, cpu, json.loads(done.stdout)


def bench(url: str, raw_seconds: float, csv_path: Path, lines: int, daily_path: Path, daily: int) -> None:
    env = {**os.environ, "ATTAIN_DATABASE_URL": url}
    subprocess.run([ATTAIN, "init"], env=env, capture_output=True, check=True)
    print(f"  raw load      {raw_seconds:7.2f} s  {lines / raw_seconds:>10,.0f} lines/s")
    for label, path, count in (("first import", csv_path, lines), ("re-import", csv_path, lines),
                               ("daily import", daily_path, daily)):
        seconds, cpu, result = cli_import(url, path)
        print(
            f"  {label:<13} {seconds:7.2f} s  {count / seconds:>10,.0f} lines/s  (CPU {cpu:.1f} s)  "
            f"(inserted {result['inserted']:,}, unchanged {result['unchanged']:,})"
            + (f"  = {raw_seconds / seconds:.2f}x the raw load (goal >= {GOAL}x: {'met' if raw_seconds / seconds >= GOAL else 'NOT met'})"
               if label == "first import" else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--pg", default=os.environ.get("ATTAIN_TEST_PG_URL", "postgresql://postgres@127.0.0.1/test"))
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        csv_path = folder / "orders.csv"
        started = time.perf_counter()
        write_orders_csv(csv_path, args.lines)
        daily = max(args.lines // 100, 1)  # a day's file: new lines, all in one month (September 2026)
        daily_path = folder / "daily.csv"
        write_orders_csv(daily_path, daily, seed=2, first_id=args.lines, days_span=(974, 1004))
        print(f"generated {args.lines:,} lines ({csv_path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
        if args.only != "postgresql":
            print("SQLite:")
            bench(f"sqlite:///{folder / 'bench.db'}", raw_sqlite(folder, csv_path), csv_path, args.lines, daily_path, daily)
        if args.only == "sqlite":
            return
        schema = f"attain_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(resolve_database_url(args.pg), isolation_level="AUTOCOMMIT")
        url = resolve_database_url(f"{args.pg}?options=-csearch_path%3D{schema}")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            print("PostgreSQL:")
            raw_seconds = raw_postgresql(url, csv_path)
            with admin.connect() as connection:
                connection.execute(text(f'DROP TABLE "{schema}".raw_orders'))
            bench(url, raw_seconds, csv_path, args.lines, daily_path, daily)
        finally:
            get_engine(url).dispose()
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
