"""Load check: concurrent clients on GET /api/v1/dashboard over generated order lines on PostgreSQL.

Builds the rollup benchmark's company (10 regions, 100 teams, 5,000 reps, 3 years of orders;
`benchmarks/rollup.py`'s generator and loaders) in a fresh PostgreSQL schema with N order lines
(default 1,000,000), an approved FY plan with month cells at every org level (rep cells as the
rollup benchmark writes them, summed up to team, region and company as the plan wizard does),
users of every role with API tokens, then starts the real app with `attain serve --workers W` in a
subprocess on a free port and warms up the code paths with users that are not measured. Then two
measured phases, both with C concurrent clients (threads, one keep-alive httpx client each):

- cold: every measured user's first dashboard request, each user once, in random order (nothing
  of theirs is cached yet: this is what the first person to open a dashboard waits);
- steady state: R requests per client for users drawn from a realistic mix (mostly reps, some
  managers, few directors and admins), after the cold phase.

With `--interval MS` each client is paced instead of sending back to back (closed loop, the
default 0): it starts a request every MS milliseconds, like a dashboard wall refreshing (the next
one goes at once when an answer took longer than MS), each client at its own random offset within
the first interval so that the clients are not in step. Both phases are paced.

Prints requests, errors, throughput and p50/p95/p99 latency overall and per role for each phase.
The server inherits the environment (ATTAIN_DASHBOARD_CACHE_SECONDS=0 measures without the
dashboard cache). The schema is dropped at the end. Exits 1 if any request failed.

Usage: python benchmarks/load.py [--lines N] [--clients C] [--requests R] [--pg URL] [--workers W] [--no-cold-phase]
                                [--interval MS]
PostgreSQL: --pg or ATTAIN_TEST_PG_URL.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx
import numpy as np
from rollup import ORDER_COLUMNS, REGIONS, REPS, TEAMS, YEAR, generate, load_postgresql
from sqlalchemy import create_engine, func, insert, literal, select, text

from attain.auth import service as auth
from attain.db import get_engine, make_session_factory, resolve_database_url
from attain.org.models import OrgNode
from attain.plans.models import PlanCell

AS_OF = f"{YEAR}-11-23"
# Users per role and the share of requests each role sends (a sales team: mostly reps).
USERS = {"rep": 200, "manager": 40, "director": REGIONS, "admin": 1}
MIX = {"rep": 0.75, "manager": 0.17, "director": 0.06, "admin": 0.02}
PASSWORD = "load-check-1"


@dataclass(frozen=True)
class Result:
    role: str
    user: str
    cold: bool
    seconds: float
    status: int | None  # None: no answer (connection error, timeout)
    error: str = ""


def write_csv(orders, path: Path) -> None:  # type: ignore[no-untyped-def]
    """The order lines as CSV for COPY, with order_date as a plain date (DuckDB: a few seconds for 1M)."""
    columns = ", ".join("CAST(order_date AS DATE) AS order_date" if c == "order_date" else c for c in ORDER_COLUMNS)
    con = duckdb.connect()
    con.register("orders", orders)
    con.execute(f"COPY (SELECT {columns} FROM orders) TO '{path}' (FORMAT csv, HEADER true)")
    con.close()


def add_rollup_cells(url: str) -> None:
    """Month cells for every team, region and the company: the sum of the cells below, as the plan
    wizard writes them (the dashboard reads a node's own cells)."""
    engine = get_engine(url)
    parent = OrgNode.__table__.alias("child")
    cell = PlanCell.__table__
    with engine.begin() as connection:
        for kind in ("rep", "team", "region"):
            rows = (
                select(cell.c.plan_id, cell.c.period, cell.c.period_start, cell.c.period_end, parent.c.parent_id,
                       cell.c.customer_type, func.sum(cell.c.value), literal(False))
                .join(parent, parent.c.id == cell.c.org_node_id)
                .where(parent.c.kind == kind, cell.c.product_node_id.is_(None))
                .group_by(cell.c.plan_id, cell.c.period, cell.c.period_start, cell.c.period_end, parent.c.parent_id,
                          cell.c.customer_type)
            )
            connection.execute(insert(cell).from_select(
                ["plan_id", "period", "period_start", "period_end", "org_node_id", "customer_type", "value", "locked"], rows))
        connection.execute(text("ANALYZE plan_cells"))


def add_users(url: str) -> dict[str, list[tuple[str, str]]]:
    """Users of every role with an API token: {role: [(username, token)]}. Reps spread over the
    company, a manager per team, a director per region and one for the company, one admin."""
    rng = random.Random(11)
    session = make_session_factory(get_engine(url))()
    codes = {kind: list(session.scalars(select(OrgNode.code).where(OrgNode.kind == kind).order_by(OrgNode.code)))
             for kind in ("rep", "team", "region")}
    wanted = {
        "rep": [(f"rep{i}", code) for i, code in enumerate(rng.sample(codes["rep"], USERS["rep"]))],
        "manager": [(f"manager{i}", code) for i, code in enumerate(rng.sample(codes["team"], USERS["manager"]))],
        "director": [(f"director{i}", code) for i, code in enumerate(codes["region"][: USERS["director"] - 1])]
        + [("director_company", None)],
        "admin": [("admin", None)],
    }
    users: dict[str, list[tuple[str, str]]] = {}
    for role, pairs in wanted.items():
        for name, code in [*pairs, (f"warmup_{role}", pairs[0][1])]:
            user = auth.create_user(session=session, username=name, password=PASSWORD, role=role, node_key=code)
            users.setdefault(role, []).append((name, auth.create_token(session=session, user=user, name="load")))
    session.close()
    return users


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(url: str, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    """The real app as people run it: `attain serve --workers W` (no alert scheduler)."""
    env = {**os.environ, "ATTAIN_DATABASE_URL": url}
    command = [sys.executable, "-m", "attain.cli.main", "serve", "--db", url, "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--no-scheduler"]
    with log.open("wb") as output:
        server = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (exit {server.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"the server did not answer /healthz within 60 s:\n{log.read_text()[-3000:]}")


def fetch(client: httpx.Client, token: str) -> tuple[float, int | None, str]:
    started = time.perf_counter()
    try:
        response = client.get("/api/v1/dashboard", params={"as_of": AS_OF},
                              headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        return time.perf_counter() - started, None, f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        return seconds, response.status_code, response.text[:200]
    if "summary" not in response.json():
        return seconds, response.status_code, "no summary in the answer"
    return seconds, response.status_code, ""


class Pacer:
    """Waits so that a client starts one request every `interval` seconds (0: no wait, closed loop).
    The first request waits a random offset within the interval; a late request goes at once and
    the schedule continues from it (no burst to catch up)."""

    def __init__(self, interval: float, rng: random.Random) -> None:
        self.interval = interval
        self.next_at = time.perf_counter() + rng.uniform(0, interval) if interval > 0 else 0.0

    def wait(self) -> None:
        if self.interval <= 0:
            return
        now = time.perf_counter()
        if self.next_at > now:
            time.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval


def run_cold(base: str, users: dict[str, list[tuple[str, str]]], clients: int,
             seed: int, interval: float = 0.0) -> tuple[list[Result], float]:
    """Every measured user's first request, each user once in random order, `clients` at a time."""
    todo = [(role, name, token) for role, pairs in users.items() for name, token in pairs
            if not name.startswith("warmup_")]
    random.Random(seed).shuffle(todo)
    lock = threading.Lock()
    results: list[Result] = []
    start_together = threading.Barrier(clients)

    def client_loop(index: int) -> None:
        with httpx.Client(base_url=base, timeout=300) as client:
            start_together.wait()
            pacer = Pacer(interval, random.Random(seed * 2000 + index))
            while True:
                pacer.wait()
                with lock:
                    if not todo:
                        return
                    role, name, token = todo.pop()
                seconds, status, error = fetch(client, token)
                with lock:
                    results.append(Result(role, name, True, seconds, status, error))

    return results, run_threads(client_loop, clients)


def run_threads(client_loop, clients: int) -> float:  # type: ignore[no-untyped-def]
    """Run `client_loop(index)` on `clients` threads at once; the wall-clock seconds they took."""
    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def run_clients(base: str, users: dict[str, list[tuple[str, str]]], clients: int, requests: int,
                seed: int, seen: set[str], interval: float = 0.0) -> tuple[list[Result], float]:
    """`clients` threads, each sending `requests` requests for users drawn from MIX, back to back
    or one every `interval` seconds; a user's request is cold when nobody asked for that user
    before (`seen`, updated)."""
    measured = {role: [u for u in pairs if not u[0].startswith("warmup_")] for role, pairs in users.items()}
    roles, weights = list(MIX), list(MIX.values())
    lock = threading.Lock()
    results: list[Result] = []
    start_together = threading.Barrier(clients)

    def client_loop(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        with httpx.Client(base_url=base, timeout=120) as client:
            start_together.wait()
            pacer = Pacer(interval, rng)
            for _ in range(requests):
                pacer.wait()
                role = rng.choices(roles, weights)[0]
                name, token = rng.choice(measured[role])
                with lock:
                    cold = name not in seen
                    seen.add(name)
                seconds, status, error = fetch(client, token)
                with lock:
                    results.append(Result(role, name, cold, seconds, status, error))

    return results, run_threads(client_loop, clients)


def percentiles_ms(results: list[Result]) -> str:
    if not results:
        return f"{0:>7}{'-':>10}{'-':>10}{'-':>10}{'-':>10}"
    ms = np.array([r.seconds for r in results]) * 1000
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return f"{len(ms):>7}{p50:>10.1f}{p95:>10.1f}{p99:>10.1f}{ms.max():>10.1f}"


def report(title: str, results: list[Result], elapsed: float, clients: int) -> int:
    """Print one phase's figures; the number of failed requests."""
    failed = [r for r in results if r.status != 200]
    print(f"\n{title}: {len(results):,} requests from {clients} clients in {elapsed:.1f} s: "
          f"{len(results) / elapsed:.1f} requests/s, {len(failed)} errors")
    print(f"{'':<14}{'n':>7}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    print(f"{'all':<14}{percentiles_ms(results)}")
    by_role: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_role[r.role].append(r)
    for role in MIX:
        print(f"{role:<14}{percentiles_ms(by_role[role])}")
    if any(r.cold for r in results) and not all(r.cold for r in results):
        print(f"{'cold (1st)':<14}{percentiles_ms([r for r in results if r.cold])}")
        print(f"{'warm':<14}{percentiles_ms([r for r in results if not r.cold])}")
    if failed:
        print(f"\nFAILED: {len(failed)} of {len(results)} requests did not answer 200; the first ones:")
        for r in failed[:10]:
            print(f"  {r.role} {r.user}: {r.status} {r.error}")
    return len(failed)


def warm_up(base: str, users: dict[str, list[tuple[str, str]]], rounds: int) -> None:
    """A few requests per role from users that are not measured (code paths, statement caches)."""
    with httpx.Client(base_url=base, timeout=300) as client:
        for _ in range(rounds):
            for role, pairs in users.items():
                name, token = next(p for p in pairs if p[0].startswith("warmup_"))
                seconds, status, error = fetch(client, token)
                if status != 200:
                    raise SystemExit(f"warm-up request as {name} failed: {status} {error}")
                print(f"  warm-up {role:<9}{seconds * 1000:8.1f} ms", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="order lines to generate")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients")
    parser.add_argument("--requests", type=int, default=50, help="requests per client")
    parser.add_argument("--pg", default=os.environ.get("ATTAIN_TEST_PG_URL"), help="PostgreSQL URL")
    parser.add_argument("--workers", type=int, default=1, help="attain serve --workers (default 1)")
    parser.add_argument("--cold-phase", action=argparse.BooleanOptionalAction, default=True,
                        help="first ask for every measured user once (cold), then the steady-state phase")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up rounds (one request per role each)")
    parser.add_argument("--interval", type=float, default=0.0, metavar="MS",
                        help="each client starts one request every MS milliseconds (default 0: back to back)")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    if args.interval < 0:
        parser.error("--interval must be 0 (closed loop) or a number of milliseconds")
    if not args.pg:
        parser.error("needs PostgreSQL: --pg URL or ATTAIN_TEST_PG_URL")
    os.environ.setdefault("ATTAIN_PASSWORD_HASH", "fast")  # users are made here, not signed in
    print(f"{args.lines:,} order lines, {REGIONS} regions, {TEAMS} teams, {REPS:,} reps; plan FY{YEAR}, as of {AS_OF}; "
          f"{args.clients} clients × {args.requests} requests on GET /api/v1/dashboard, {args.workers} worker(s), "
          + (f"paced: one request per client every {args.interval:g} ms, " if args.interval else "closed loop, ")
          + f"ATTAIN_DASHBOARD_CACHE_SECONDS={os.environ.get('ATTAIN_DASHBOARD_CACHE_SECONDS', '(default)')}, "
          f"ATTAIN_DASHBOARD_REVISION_SECONDS={os.environ.get('ATTAIN_DASHBOARD_REVISION_SECONDS', '(default)')}")

    schema = f"attain_load_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(resolve_database_url(args.pg), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    server = None
    workdir = Path(tempfile.mkdtemp(prefix="attain-load-"))
    try:
        separator = "&" if "?" in args.pg else "?"
        url = resolve_database_url(f"{args.pg}{separator}options=-csearch_path%3D{schema}")
        started = time.perf_counter()
        orders = generate(args.lines)
        write_csv(orders, workdir / "orders.csv")
        load_postgresql(url, orders, workdir / "orders.csv")
        del orders
        add_rollup_cells(url)
        users = add_users(url)
        get_engine(url).dispose()
        print(f"  schema {schema} loaded in {time.perf_counter() - started:.1f} s "
              f"({sum(len(v) for v in users.values())} users with tokens)", flush=True)
        port = free_port()
        server = start_server(url, port, args.workers, workdir / "server.log")
        base = f"http://127.0.0.1:{port}"
        warm_up(base, users, args.warmup)
        failed, seen = 0, set()
        if args.cold_phase:
            results, elapsed = run_cold(base, users, args.clients, args.seed, args.interval / 1000)
            failed += report("Cold (each user's first request)", results, elapsed, args.clients)
            seen = {r.user for r in results}
        results, elapsed = run_clients(base, users, args.clients, args.requests, args.seed, seen, args.interval / 1000)
        failed += report("Steady state" if args.cold_phase else "Mixed", results, elapsed, args.clients)
        return 1 if failed else 0
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()


if __name__ == "__main__":
    sys.exit(main())
