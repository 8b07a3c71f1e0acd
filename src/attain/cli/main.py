"""Entry point of the `attain` command. Commands live in sibling modules and register here."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError

from attain.cli import act as act_cli
from attain.cli import data as data_cli
from attain.cli import split as split_cli
from attain.cli.alerts import alerts_app
from attain.cli.calendar import calendar_app
from attain.cli.config import config_app
from attain.cli.credit import credit_app
from attain.cli.customers import customers_app
from attain.cli.diagnosis import review_command
from attain.cli.incentive import incentive_app
from attain.cli.market import market_app
from attain.cli.metrics import metric_app
from attain.cli.output import err_console
from attain.cli.plan import plan_app
from attain.cli.report import report_app
from attain.cli.user import user_app
from attain.errors import AttainError, ImportRejected

app = typer.Typer(
    name="attain",
    help="Attain: set, split, act on and track sales targets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

data_cli.register(app)
app.add_typer(metric_app, name="metric")
split_cli.register(app)
app.add_typer(config_app, name="config")
app.add_typer(calendar_app, name="calendar")
app.add_typer(plan_app, name="plan")
act_cli.register(app)
app.add_typer(credit_app, name="credit")
app.add_typer(report_app, name="report")
app.add_typer(customers_app, name="customers")
app.add_typer(alerts_app, name="alerts")
app.command("review")(review_command)
app.add_typer(user_app, name="user")
app.add_typer(incentive_app, name="incentive")
app.add_typer(market_app, name="market")


def _click_exceptions():  # type: ignore[no-untyped-def]
    """Click's exception module: vendored by typer since 0.2x (`typer._click`), click before."""
    try:
        from typer._click import exceptions  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # pragma: no cover - typer versions that use click itself
        from click import exceptions  # type: ignore[no-redef,unused-ignore]
    return exceptions


def _database_in(argv: list[str]) -> str:
    """The database the command line names (`--db URL` or `--db=URL`), else the default one."""
    from attain.db import resolve_database_url

    named = None
    for i, arg in enumerate(argv):
        if arg == "--db" and i + 1 < len(argv):
            named = argv[i + 1]
        elif arg.startswith("--db="):
            named = arg[len("--db="):]
    return resolve_database_url(named)


def database_error_line(exc: OperationalError | InterfaceError, url: str) -> str:
    """One line for a database that cannot be reached or opened (no traceback, no password)."""
    try:
        parsed = make_url(url)
        shown = parsed.render_as_string(hide_password=True).replace("postgresql+psycopg://", "postgresql://", 1)
    except ArgumentError:
        parsed, shown = None, url
    reason = (str(exc.orig) if exc.orig is not None else str(exc)).strip().splitlines()
    detail = reason[0] if reason else type(exc).__name__
    if parsed is not None and parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).expanduser().absolute().parent
        if not folder.is_dir():
            detail = f"the folder {folder} does not exist"
        elif not os.access(folder, os.W_OK):
            detail = f"{detail} (is the folder {folder} writable?)"
    return f"cannot use the database {shown}: {detail}"


def main() -> None:
    """Run the CLI; user mistakes print a one-line message in red and exit 1, never a traceback."""
    click = _click_exceptions()
    try:
        # Outside standalone mode click returns the code of a typer.Exit instead of exiting.
        exit_code = app(standalone_mode=False)
        if isinstance(exit_code, int) and exit_code:
            sys.exit(exit_code)
    except click.ClickException as exc:
        # A missing or unknown option, a bad value: click's usage message, not a traceback.
        exc.show()
        sys.exit(exc.exit_code)
    except tuple(a for a in (getattr(click, "Abort", None),) if a is not None):  # Ctrl-C at a prompt
        err_console.print("[red]aborted[/red]")
        sys.exit(1)
    except AttainError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        if isinstance(exc, ImportRejected):
            for row_error in exc.errors[:50]:
                err_console.print(
                    f"  line {row_error.line}, {row_error.column}: {row_error.message}", highlight=False
                )
            if len(exc.errors) > 50:
                err_console.print(f"  ... and {len(exc.errors) - 50} more", highlight=False)
        sys.exit(1)
    except (OperationalError, InterfaceError) as exc:
        # Unreachable server, refused login, a SQLite file that cannot be opened: say so in one line.
        err_console.print(f"[red]error:[/red] {database_error_line(exc, _database_in(sys.argv[1:]))}",
                          highlight=False, soft_wrap=True)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("[red]aborted[/red]")
        sys.exit(1)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
