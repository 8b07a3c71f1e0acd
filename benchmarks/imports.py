"""Import benchmark: 1,000,000 generated order lines from a CSV file into SQLite and PostgreSQL.

Prints lines per second for a first import (all inserts), a re-import (all unchanged) and a daily
import (1 % more lines, all in one month), and the time the rollups take within an import.
Usage: python benchmarks/imports.py [--lines N] [--pg URL]   (PostgreSQL: ATTAIN_TEST_PG_URL or --pg)
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, text

from attain.db import get_engine, make_session_factory, resolve_database_url
from attain.facts import rollups
from attain.imports.service import import_file
from attain.migrate import upgrade


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


def bench(url: str, csv_path: Path, lines: int, daily_path: Path, daily: int) -> None:
    engine = get_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    for label, path, count in (("first import", csv_path, lines), ("re-import", csv_path, lines),
                               ("daily import", daily_path, daily)):
        with factory() as session:
            started = time.perf_counter()
            result = import_file(session=session, kind="orders", path=path)
            seconds = time.perf_counter() - started
        print(
            f"  {label:<13} {seconds:7.2f} s  {count / seconds:>10,.0f} lines/s  "
            f"(inserted {result.inserted:,}, unchanged {result.unchanged:,})"
        )
    # The part of an import that keeps the rollups (`attain.facts.rollups`): the daily file's
    # month rebuilt once more, and everything rebuilt, each in a transaction rolled back.
    for label, months in (("rollups, 1 month", {date(2026, 9, 1)}), ("rollups, all", None)):
        with engine.connect() as connection:
            started = time.perf_counter()
            rollups.rebuild(connection, months)
            seconds = time.perf_counter() - started
            connection.rollback()
        print(f"  {label:<17} {seconds:7.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--pg", default=os.environ.get("ATTAIN_TEST_PG_URL", "postgresql://postgres@127.0.0.1/test"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "orders.csv"
        started = time.perf_counter()
        write_orders_csv(csv_path, args.lines)
        daily = max(args.lines // 100, 1)  # a day's file: new lines, all in one month (September 2026)
        daily_path = Path(folder) / "daily.csv"
        write_orders_csv(daily_path, daily, seed=2, first_id=args.lines, days_span=(974, 1004))
        print(f"generated {args.lines:,} lines ({csv_path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
        print("SQLite:")
        bench(f"sqlite:///{Path(folder) / 'bench.db'}", csv_path, args.lines, daily_path, daily)
        schema = f"attain_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(resolve_database_url(args.pg), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            print("PostgreSQL:")
            bench(resolve_database_url(f"{args.pg}?options=-csearch_path%3D{schema}"), csv_path, args.lines, daily_path, daily)
        finally:
            get_engine(resolve_database_url(f"{args.pg}?options=-csearch_path%3D{schema}")).dispose()
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
