"""`attain customers`: grade customers (ABC, RFM) and write the grades back with their history."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from attain.cli.data import DbOption, JsonOption, open_session, parse_day
from attain.cli.output import console, print_json

customers_app = typer.Typer(help="Customers: grading (ABC, RFM) written back with history.", no_args_is_help=True)


@customers_app.command("grade")
def grade_command(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Grade on this day (default: today); the new grades hold from it")] = None,
    abc: Annotated[str, typer.Option(help="Revenue shares of grades A and B in %, C is the rest")] = "80,15",
    apply: Annotated[bool, typer.Option("--apply", help="Write the ABC grades and RFM segments back (with history)")] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Grade every customer over the last 12 months; with --apply, store the ABC grade in the customer
    (what the potential split and the visit list read) and both ABC and RFM in the customer's history
    from the as-of day, so figures by grade for earlier days keep the grades of their time."""
    from attain.catalog.activity import apply_grades, grade_customers
    from attain.catalog.grading import AbcThresholds

    thresholds = AbcThresholds.parse(abc)
    day = parse_day(as_of) or date.today()
    with open_session(db) as session:
        result = grade_customers(session=session, scope=None, as_of=day, thresholds=thresholds)
        stored = {row.activity.customer_id: row.activity.grade for row in result.rows}
        applied = apply_grades(session=session, grading_result=result) if apply else None
    moves = Counter((stored[row.activity.customer_id] or "—", row.abc) for row in result.rows
                    if stored[row.activity.customer_id] != row.abc)
    if json:
        print_json({
            "as_of": day, "abc": thresholds.label(), "customers": len(result.rows), "applied": apply,
            "grades": {g: s.customers for g, s in result.grades.items()}, "segments": result.segments,
            "grade_changes": [{"from": a, "to": b, "customers": n} for (a, b), n in sorted(moves.items())],
            "written": None if applied is None else {"grade": len(applied.grade_changes), "rfm": len(applied.rfm_changes)},
        })
        return
    table = Table("stored grade → new", "customers", title=f"ABC {thresholds.label()} on {day}: {len(result.rows):,} customers")
    for (before, after), n in sorted(moves.items()):
        table.add_row(f"{before} → {after}", f"{n:,}")
    console.print(table)
    if applied is None:
        console.print(f"{sum(moves.values()):,} stored grades differ; nothing written (add --apply to store the grades with history)")
    else:
        console.print(f"written from {day}: {len(applied.grade_changes):,} ABC grades and {len(applied.rfm_changes):,} RFM "
                      "segments changed (the previous values kept as history)")
