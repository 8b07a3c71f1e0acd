"""Incentive benchmark: statements for N reps × 12 months against the attainment report, same data, same run.

Generates order lines with `benchmarks/rollup.py` (reps in teams in regions, three years, an approved
rep × month target plan for the last year), adds an approved incentive plan settled monthly with every
rep as a participant (a marginal rate table on own attainment, and a payout curve on 70 % own + 30 %
team attainment), then times on each engine:

  report rep×month   `attainment(by="rep,month", parallel=True)` over the year, as `attain report
                     attainment --by rep,month` runs it
  statements         `incentives.service.year_statements`: the 12 monthly statements of every rep
                     (totals from the fast path: the report by rep and by team, month, once for the
                     year; the components paid with NumPy), then one rep's 12 statements with every line

and prints the timings and statements / report against the goal (at most 2×). Report and statements
alternate `--repeat` times (the fastest of each, and the median ratio of the pairs: both see the same
load on a shared machine); the seasonal-history cache is emptied before each, as a fresh process.

Usage: python benchmarks/incentives.py [--lines N] [--reps N] [--pg URL] [--no-sqlite] [--repeat N]
Defaults (200,000 lines, 500 reps, SQLite; PostgreSQL too when ATTAIN_TEST_PG_URL is set) run in
about a minute; `--lines 10000000 --reps 5000 --no-sqlite` is the issue's size.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rollup  # benchmarks/rollup.py: the generator and loaders

from attain.db import get_engine, make_session_factory, resolve_database_url
from attain.incentives import service
from attain.incentives.importers import PlanFile, validate_definition
from attain.incentives.models import IncentivePlan
from attain.org.models import OrgNode
from attain.periods import year
from attain.tracking.attainment import _HISTORY_CACHE, attainment
from attain.tracking.query import METRICS

PLAN = "bench-incentives"
GOAL = 2.0  # statements at most 2× the attainment report (issue #16)


def add_incentive_plan(session: Session) -> None:
    codes = list(session.scalars(select(OrgNode.code).where(OrgNode.kind == "rep").order_by(OrgNode.id)))
    raw = {
        "name": PLAN, "year": rollup.YEAR, "settlement": "month",
        "participants": [{"node": code, "target_incentive": 60000} for code in codes],
        "components": [
            {"code": "commission", "type": "rate_table", "metric": "revenue", "target_plan": f"FY{rollup.YEAR}",
             "mode": "marginal", "bands": [{"from": 0, "to": 60, "rate": 0}, {"from": 60, "to": 80, "rate": 2},
                                          {"from": 80, "to": 100, "rate": 4}, {"from": 100, "rate": 6}]},
            {"code": "bonus", "type": "payout_curve", "weight": 100, "metric": "revenue", "target_plan": f"FY{rollup.YEAR}",
             "attainment": {"own": 70, "team": 30}, "threshold": 50, "points": [[50, 25], [100, 100], [150, 200]], "cap": 200},
        ],
    }
    known = set(codes)
    definition = validate_definition(PlanFile(raw, {}), target_plan_metric=lambda name: "revenue" if name == f"FY{rollup.YEAR}" else None,
                                     node_exists=known.__contains__, metrics=METRICS)
    plan = service.create_plan(session=session, definition=definition, by="benchmark")
    session.get(IncentivePlan, plan.id).status = "approved"  # type: ignore[union-attr]
    session.commit()


def cold(action):  # type: ignore[no-untyped-def]
    """Seconds `action` takes, the seasonal-history cache emptied first (as a fresh process reads it)."""
    _HISTORY_CACHE.clear()
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure(name: str, url: str, repeat: int) -> dict[str, float]:
    session = make_session_factory(get_engine(url))()
    try:
        add_incentive_plan(session)
        as_of = date(rollup.YEAR, 12, 31)
        results: list[service.StatementSet] = []

        def report() -> None:  # as `attain report attainment --by rep,month` runs it (rollup on its own connection)
            attainment(session=session, period=year(rollup.YEAR), by="rep,month", as_of=as_of, parallel=True)

        def all_statements() -> None:
            results.clear()
            results.extend(service.year_statements(session=session, name=PLAN, as_of=as_of, detail=False, parallel=True))

        # Report and statements alternate, so that both see the same load on a shared machine: the
        # fastest of each and the median of the pairs' ratios.
        pairs = [(cold(report), cold(all_statements)) for _ in range(repeat)]
        figures = {"report": min(r for r, _s in pairs), "statements": min(s for _r, s in pairs),
                   "pair_ratio": float(np.median([s / r for r, s in pairs]))}
        print(f"  {name}: pairs (report s, statements s): " + ", ".join(f"({r:.2f}, {s:.2f})" for r, s in pairs), flush=True)
        people = sum(len(r.statements) for r in results)
        paid = sum(r.total for r in results)
        print(f"  {name}: {people:,} statements (people × months), total paid {paid / 100:,.2f} yuan", flush=True)
        # One person's twelve statements with every line (built by the scalar path on the run's figures
        # and checked against the fast totals): what a statement page or a one-rep export adds.
        first = results[0].statements[0].code
        started = time.perf_counter()
        lines = sum(len(next(s for s in r.statements if s.code == first).lines) for r in results)
        figures["detail"] = time.perf_counter() - started
        print(f"  {name}: {first}'s 12 statements with every line ({lines} lines) in {figures['detail']:.2f} s", flush=True)
        return figures
    finally:
        session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--reps", type=int, default=500, help="a multiple of 100 (100 teams in 10 regions)")
    parser.add_argument("--pg", default=os.environ.get("ATTAIN_TEST_PG_URL"))
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="report/statements pairs timed (fastest of each, median ratio)")
    args = parser.parse_args()
    if args.reps % rollup.TEAMS:
        parser.error(f"--reps must be a multiple of {rollup.TEAMS}")
    rollup.REPS = args.reps
    workdir = Path(tempfile.mkdtemp(prefix="attain-incentives-"))
    print(f"{args.lines:,} order lines, {args.reps:,} reps, statements for {rollup.YEAR} settled monthly")
    orders = rollup.generate(args.lines)
    csv_path = workdir / "orders.csv"
    frame = orders.copy()
    frame["order_date"] = frame["order_date"].dt.strftime("%Y-%m-%d")
    frame[list(rollup.ORDER_COLUMNS)].to_csv(csv_path, index=False)
    results: dict[str, dict[str, float]] = {}
    if not args.no_sqlite:
        url = f"sqlite:///{workdir / 'incentives.db'}"
        rollup.load_sqlite(url, orders)
        results["SQLite"] = measure("SQLite", url, args.repeat)
        get_engine(url).dispose()
    if args.pg:
        schema = f"attain_incentive_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(resolve_database_url(args.pg), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in args.pg else "?"
        url = resolve_database_url(f"{args.pg}{separator}options=-csearch_path%3D{schema}")
        try:
            rollup.load_postgresql(url, orders, csv_path)
            results["PostgreSQL"] = measure("PostgreSQL", url, args.repeat)
        finally:
            get_engine(url).dispose()
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
    print()
    print(f"{'engine':<12}{'report rep×month':>18}{'statements 12 mo':>18}{'ratio':>8}{'median pair':>13}{'goal':>7}")
    for name, f in results.items():
        ratio = f["statements"] / f["report"]
        print(f"{name:<12}{f['report']:>17.2f}s{f['statements']:>17.2f}s{ratio:>7.2f}x{f['pair_ratio']:>12.2f}x{'≤2x':>7}  "
              f"{'goal met' if max(ratio, f['pair_ratio']) <= GOAL else 'goal NOT met'}")


if __name__ == "__main__":
    main()
