"""The `attain` command's entry point: runs a command and turns user mistakes into one red line.

`attain split` takes a fast path: only the split commands are loaded (no database layer, no
other command's imports), as the split of a spec needs none of them; every other command loads
the whole app (`attain.cli.main`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from attain.cli.output import err_console
from attain.errors import AttainError, ImportRejected

FAST_COMMANDS = ("split",)


def split_app() -> typer.Typer:
    """An app of the split commands alone, named and shown as the main one."""
    from attain.cli import split as split_cli

    app = typer.Typer(name="attain", no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
    split_cli.register(app)
    return app


def main() -> None:
    """The console script: the fast path for `attain split`, else the whole app."""
    if len(sys.argv) > 1 and sys.argv[1] in FAST_COMMANDS:
        run(split_app())
        return
    from attain.cli.main import main as full

    full()


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


def _database_errors() -> tuple[type[Exception], ...]:
    """SQLAlchemy's errors for an unreachable database, when a command has loaded SQLAlchemy."""
    exc = sys.modules.get("sqlalchemy.exc")
    return () if exc is None else (exc.OperationalError, exc.InterfaceError)


def database_error_line(exc: Exception, url: str) -> str:
    """One line for a database that cannot be reached or opened (no traceback, no password)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
        shown = parsed.render_as_string(hide_password=True).replace("postgresql+psycopg://", "postgresql://", 1)
    except ArgumentError:
        parsed, shown = None, url
    orig = getattr(exc, "orig", None)
    reason = (str(orig) if orig is not None else str(exc)).strip().splitlines()
    detail = reason[0] if reason else type(exc).__name__
    if parsed is not None and parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).expanduser().absolute().parent
        if not folder.is_dir():
            detail = f"the folder {folder} does not exist"
        elif not os.access(folder, os.W_OK):
            detail = f"{detail} (is the folder {folder} writable?)"
    return f"cannot use the database {shown}: {detail}"


def run(app: typer.Typer) -> None:
    """Run `app`; user mistakes print a one-line message in red and exit 1, never a traceback."""
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
    except _database_errors() as exc:
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


