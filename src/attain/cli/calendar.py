"""`attain calendar`: the company's own holidays and make-up workdays on top of the official calendar."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from attain.calendars import settings as _calendar_settings  # noqa: F401  (registers `calendar` for `attain config`)
from attain.cli.data import DbOption, JsonOption, open_session
from attain.cli.output import console, err_console, print_json
from attain.errors import InvalidInput

calendar_app = typer.Typer(
    help="Company calendar: holidays and make-up workdays on top of the official calendar (`attain config set calendar`).",
    no_args_is_help=True,
)


def _day_json(row) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {"date": row.day.isoformat(), "kind": row.kind, "name": row.name, "created_by": row.created_by,
            "created_at": row.created_at.isoformat(sep=" ") if row.created_at else None}


@calendar_app.command("show")
def show(
    year: Annotated[int, typer.Option("--year", help="Calendar year, e.g. 2027.")] = date.today().year,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """The calendar setting, the company's days of a year and its working days per month."""
    from attain.calendars.service import calendar_year

    with open_session(db) as session:
        shown = calendar_year(session=session, year=year)
        days = [_day_json(row) for row in shown.days]
    if json:
        print_json({"year": shown.year, "calendar": shown.setting, "official_data": shown.official_data,
                    "days": days, "working_days_by_month": shown.working_days_by_month, "warnings": shown.warnings})
        return
    for warning in shown.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    if not shown.official_data:
        err_console.print(
            f"  add the company's {year} holidays and make-up workdays: "
            f"`attain calendar add {year}-MM-DD --holiday --name 春节` (or `--workday`), or `attain calendar import FILE`",
            highlight=False,
        )
    console.print(f"calendar {shown.setting} · {year} · official data: {'yes' if shown.official_data else 'no'}")
    table = Table("date", "kind", "name", "added by", title=f"company days {year}")
    for row in days:
        table.add_row(str(row["date"]), str(row["kind"]), str(row["name"]), str(row["created_by"] or ""))
    console.print(table)
    months = Table(*[f"{m:02d}" for m in range(1, 13)], "year", title=f"working days {year}")
    months.add_row(*[str(n) for n in shown.working_days_by_month], str(sum(shown.working_days_by_month)))
    console.print(months)


@calendar_app.command("add")
def add(
    day: Annotated[str, typer.Argument(help="The day, e.g. 2027-02-06.")],
    holiday: Annotated[bool, typer.Option("--holiday", help="Not worked (a company holiday).")] = False,
    workday: Annotated[bool, typer.Option("--workday", help="Worked (a make-up workday, e.g. 调休 Saturday).")] = False,
    name: Annotated[str, typer.Option("--name", help="What the day is, e.g. 春节 or 调休.")] = "",
    by: Annotated[str | None, typer.Option("--by", help="Who adds it (default: $USER).")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Add a company holiday or make-up workday."""
    import os

    from attain.calendars.models import HOLIDAY, WORKDAY
    from attain.calendars.service import add_day, parse_day

    if holiday == workday:
        raise InvalidInput("say which kind of day: --holiday or --workday")
    parsed = parse_day(day)
    with open_session(db) as session:
        row = add_day(session=session, day=parsed, kind=HOLIDAY if holiday else WORKDAY, name=name,
                      by=by or os.environ.get("USER"))
        shown = _day_json(row)
    if json:
        print_json(shown)
    else:
        console.print(f"{shown['date']} is now a company {shown['kind']}{f' ({name})' if name else ''}")


@calendar_app.command("remove")
def remove(
    day: Annotated[str, typer.Argument(help="The day, e.g. 2027-02-06.")],
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Remove a company day; the official calendar applies to it again."""
    from attain.calendars.service import parse_day, remove_day

    parsed = parse_day(day)
    with open_session(db) as session:
        row = remove_day(session=session, day=parsed)
        shown = {"date": row.day.isoformat(), "kind": row.kind, "name": row.name, "removed": True}
    if json:
        print_json(shown)
    else:
        console.print(f"{shown['date']} is no longer a company {shown['kind']}")


@calendar_app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="CSV or Excel file with columns date, kind (holiday/workday), name.")],
    by: Annotated[str | None, typer.Option("--by", help="Who imports it (default: $USER).")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Add many company days from a file. All or nothing: any bad row means nothing is added."""
    import os

    from attain.calendars.service import import_days

    with open_session(db) as session:
        rows = [_day_json(r) for r in import_days(session=session, path=path, by=by or os.environ.get("USER"))]
    if json:
        print_json({"imported": len(rows), "days": rows})
    else:
        console.print(f"imported {len(rows)} company day(s) from {path.name}")
