"""Commands that manage the database: init, import, demo, status, serve."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from attain.cli.output import console, err_console, print_json, steps
from attain.db import get_engine, resolve_database_url, session_scope
from attain.errors import ImportRejected, InvalidInput

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: $ATTAIN_DATABASE_URL, else sqlite:///attain.db)", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def init(db: DbOption = None, json: JsonOption = False) -> None:
    """Create the database schema, or upgrade it to this version of Attain."""
    from attain.migrate import upgrade

    url = resolve_database_url(db)
    before, after = upgrade(get_engine(url))
    if json:
        print_json({"database": _safe_url(url), "from_revision": before, "revision": after})
    elif before == after:
        console.print(f"Schema of {_safe_url(url)} is up to date (revision {after}).")
    else:
        console.print(f"Schema of {_safe_url(url)} upgraded from {before or 'empty'} to revision {after}.")


def _require_schema(url: str) -> None:
    from attain.migrate import current_revision, head_revision

    current = current_revision(get_engine(url))
    if current is None:
        raise InvalidInput(f"{_safe_url(url)} has no Attain schema yet; run `attain init` first")
    if current != head_revision():
        raise InvalidInput(f"{_safe_url(url)} is at schema revision {current}; run `attain init` to upgrade it")


def open_session(db: str | None) -> AbstractContextManager[Session]:
    """A session on the chosen database (--db, $ATTAIN_DATABASE_URL or attain.db), schema checked first."""
    url = resolve_database_url(db)
    _require_schema(url)
    return session_scope(url)


def parse_day(text: str | None, option: str = "--as-of") -> date | None:
    """A YYYY-MM-DD option value; None stays None, anything else is a one-line error naming the option."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{option} '{text}' is not a date like 2027-03-15") from None


KINDS = ("orders", "customers", "reps", "products", "regions", "territories", "opportunities", "activities", "targets", "credits",
         "returns", "market-size", "market-shares", "competitor-events", "marketing-spend")


def import_(
    kind: Annotated[str, typer.Argument(help=f"What the file holds: {', '.join(KINDS)}")],
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8, UTF-16 or GBK) or Excel file", show_default=False)],
    map_: Annotated[list[str], typer.Option("--map", help="field=Column (or field=ColA+ColB); repeatable")] = [],  # noqa: B006
    sheet: Annotated[str | None, typer.Option(help="Excel sheet name (default: the first)")] = None,
    date_format: Annotated[str | None, typer.Option(help="strptime format of dates, e.g. %d/%m/%y")] = None,
    multiplier: Annotated[str, typer.Option(help="Multiply amounts, e.g. 1000 for a file in thousands")] = "1",
    plan: Annotated[str | None, typer.Option(help="targets: the plan to import into (created if missing)")] = None,
    metric: Annotated[str, typer.Option(help="targets: the plan's metric")] = "revenue",
    no_header: Annotated[bool, typer.Option("--no-header", help="The file has no header row; map fields to column1, column2 …")] = False,
    columns: Annotated[str | None, typer.Option("--columns", help="Names for the columns of a file without a header row, comma-separated (implies --no-header)")] = None,
    key: Annotated[str, typer.Option("--key", help="How the file names reps, customers, products: auto (code, external id, name), code, external_id or name")] = "auto",
    period_grain: Annotated[str | None, typer.Option("--period-grain", help="targets: a date in the period column means the month/quarter/year containing it")] = None,
    scale: Annotated[str | None, typer.Option("--scale", help="Same as --multiplier (e.g. 1000 for a sheet in thousands)")] = None,
    rep_from_region: Annotated[bool, typer.Option("--rep-from-region", help="orders: a line without a rep goes to the manager of its region")] = False,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for another import into the same database to finish", min=0)] = 300.0,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Import a CSV/Excel export. All or nothing: any bad row means nothing is written."""
    from attain.imports.fields import fields_for
    from attain.imports.service import ImportOptions, import_file

    fields_for(kind)  # unknown kind → one clear message listing the kinds
    if scale is not None and multiplier != "1":
        raise InvalidInput("--scale and --multiplier are the same option; give one")
    try:
        factor = Decimal(scale if scale is not None else multiplier)
    except InvalidOperation as exc:
        raise InvalidInput(f"--{'scale' if scale is not None else 'multiplier'} '{scale or multiplier}' is not a number") from exc
    if not factor.is_finite() or factor <= 0:
        raise InvalidInput(f"--{'scale' if scale is not None else 'multiplier'} must be a positive number, not '{scale or multiplier}'")
    options = ImportOptions(
        mapping=tuple(map_), sheet=sheet, date_format=date_format, multiplier=factor, plan=plan, metric=metric,
        has_header=not no_header, columns=tuple(columns.split(",")) if columns is not None else (), key=key,
        period_grain=period_grain, rep_from_region=rep_from_region, wait=wait,
    )
    url = resolve_database_url(db)
    _require_schema(url)
    try:
        with session_scope(url) as session, steps(quiet=json) as progress:
            result = import_file(session=session, kind=kind, path=file, options=options, progress=progress)
    except ImportRejected as exc:
        if json:
            print_json({"inserted": 0, "updated": 0, "unchanged": 0, "error": str(exc),
                        "errors": [e.as_dict() for e in exc.errors[:1000]], "error_count": len(exc.errors)})
            raise typer.Exit(1) from exc
        raise
    except InvalidInput as exc:
        if json:
            print_json({"inserted": 0, "updated": 0, "unchanged": 0, "error": str(exc), "errors": []})
            raise typer.Exit(1) from exc
        raise
    if json:
        print_json(result.as_dict())
        return
    console.print(
        f"[green]{result.source}[/green]: {result.rows:,} rows — {result.inserted:,} inserted, "
        f"{result.updated:,} updated, {result.unchanged:,} unchanged"
        + (f" (encoding {result.encoding})" if result.encoding else "")
    )
    for what, count in result.created.items():
        console.print(f"  created {count:,} {what.replace('_', ' ')}")
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {warning}")


def status(db: DbOption = None, json: JsonOption = False) -> None:
    """What the database holds: counts, order date range and revenue by year, plans."""
    from attain.status import database_status

    url = resolve_database_url(db)
    _require_schema(url)
    with session_scope(url) as session:
        report = database_status(session=session)
    if json:
        print_json(report)
        return
    table = Table(title=f"Attain — {_safe_url(url)}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, count in report["counts"].items():  # type: ignore[union-attr]
        table.add_row(name, f"{count:,}")
    console.print(table)
    if report["orders"]["first_date"]:  # type: ignore[index]
        console.print(f"Orders from {report['orders']['first_date']} to {report['orders']['last_date']}")  # type: ignore[index]
        years = Table("year", "revenue (元)", "lines", title="Revenue by year")
        for row in report["revenue_by_year"]:  # type: ignore[union-attr]
            years.add_row(str(row["year"]), f"{Decimal(row['revenue']):,.2f}", f"{row['lines']:,}")
        console.print(years)
    for plan in report["plans"]:  # type: ignore[union-attr]
        console.print(f"Plan {plan['name']} v{plan['version']} ({plan['status']}, {plan['metric']}): {plan['cells']:,} cells")
    console.print(f"Rollups: {report['rollups']['note']}")  # type: ignore[index]


def rollups(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Recompute them from every order line")] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """The order-line rollups reports read (per rep × month and per day): whether they cover every
    line, and --rebuild to recompute them (after lines were loaded or edited outside `attain import`)."""
    import time

    from attain.facts import rollups as derived

    url = resolve_database_url(db)
    _require_schema(url)
    seconds = None
    with session_scope(url) as session:
        if rebuild:
            started = time.perf_counter()
            derived.rebuild(session.connection())
            session.commit()
            seconds = round(time.perf_counter() - started, 3)
        report = derived.status(session.connection())
    if seconds is not None:
        report["rebuilt_in_seconds"] = seconds
    if json:
        print_json(report)
        return
    if seconds is not None:
        console.print(f"Rebuilt in {seconds:.2f} s.")
    console.print(f"Rollups: {report['note']} — {report['rep_month_rows']:,} rep × month rows, "
                  f"{report['day_rows']:,} day rows, order lines up to id {report['newest_line_id']:,}.")


def demo(
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same company")] = 2026,
    year: Annotated[int | None, typer.Option(help="The plan year (default: this year); orders cover the two years before and this year to --as-of")] = None,
    as_of: Annotated[str | None, typer.Option(help="Last order date, YYYY-MM-DD (default: today, within the plan year)")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Load the demo company (华东/华南/华北, ~30 reps, ~100,000 order lines, an approved plan)."""
    from datetime import date

    from attain.demo.service import load_demo

    url = resolve_database_url(db)
    _require_schema(url)
    try:
        cutoff = date.fromisoformat(as_of) if as_of else None
    except ValueError as exc:
        raise InvalidInput(f"--as-of '{as_of}' is not a date (YYYY-MM-DD)") from exc
    with session_scope(url) as session, steps(quiet=json) as progress:
        summary = load_demo(session=session, seed=seed, year=year, as_of=cutoff, progress=progress)
    if json:
        print_json(summary)
        return
    console.print(
        f"Demo company loaded: {summary['reps']} reps, {summary['customers']:,} customers, "
        f"{summary['order_lines']['inserted']:,} new order lines ({summary['order_lines']['unchanged']:,} unchanged), "
        f"{summary['opportunities']:,} new opportunities, {summary['activities']:,} new activities, "
        f"plan {summary['plan']} with {summary['plan_cells']:,} cells."
    )


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    db: DbOption = None,
    scheduler: Annotated[bool, typer.Option(help="Run the daily alert check in this process")] = True,
    workers: Annotated[int, typer.Option(min=1, help="Web worker processes (each with its own caches)")] = 1,
) -> None:
    """Run the web app (migrations are applied first)."""
    import uvicorn

    from attain.db import session_scope
    from attain.migrate import upgrade
    from attain.web import cache, jobs
    from attain.web.app import create_app

    url = resolve_database_url(db)
    try:
        cache.ttl_seconds()
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    upgrade(get_engine(url))
    with session_scope(url) as session:
        jobs.fail_interrupted(session=session)  # in-process jobs of a previous run cannot finish any more
    if scheduler:
        jobs.start_scheduler(url)  # in this (supervising) process only, however many workers
    console.print(f"Attain on http://{host}:{port}  (database {_safe_url(url)}; jobs: {jobs.backend_name()}"
                  f"{f'; {workers} workers' if workers > 1 else ''})")
    if workers == 1:
        # No --proxy-headers: X-Forwarded-For is read by client_ip, only from ATTAIN_TRUSTED_PROXIES.
        uvicorn.run(create_app(url), host=host, port=port, log_level="info", proxy_headers=False)
        return
    # Several processes need the app as an import string; each worker builds it from the environment.
    os.environ["ATTAIN_DATABASE_URL"] = url
    uvicorn.run("attain.web.app:create_app", factory=True, workers=workers, host=host, port=port, log_level="info",
                proxy_headers=False)


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command("import")(import_)
    app.command()(status)
    app.command()(rollups)
    app.command()(demo)
    app.command()(serve)
