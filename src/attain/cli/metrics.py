"""`attain metric`: list, define and evaluate metrics."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from attain.cli.data import DbOption, JsonOption, _require_schema, open_session
from attain.cli.output import console, print_json
from attain.db import resolve_database_url, session_scope
from attain.periods import parse_period

metric_app = typer.Typer(help="Metrics: revenue, gross profit, quantity, orders, new customers and your own.", no_args_is_help=True)


@metric_app.command("list")
def list_(db: DbOption = None, json: JsonOption = False) -> None:
    """Every metric with its aggregation and unit."""
    from attain.metrics.service import list_metrics

    with open_session(db) as session:
        metrics = [
            {"code": m.code, "name": m.name, "name_zh": m.name_zh, "aggregation": m.aggregation, "source": m.source,
             "unit": m.unit, "scale": m.scale, "builtin": m.builtin}
            for m in list_metrics(session=session)
        ]
    if json:
        print_json(metrics)
        return
    table = Table("code", "名称 / name", "aggregation", "source", "unit")
    for m in metrics:
        table.add_row(m["code"], f"{m['name_zh'] or ''} {m['name']}".strip(), m["aggregation"], m["source"] or "ratio", m["unit"])
    console.print(table)


@metric_app.command("add")
def add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. avg_deal")],
    name: Annotated[str, typer.Option(help="Display name")],
    aggregation: Annotated[str, typer.Option(help="sum | count | distinct_count | average | ratio")],
    source: Annotated[str | None, typer.Option(help="amount | cost | gross_profit | quantity | line | order | customer | new_customer")] = None,
    numerator: Annotated[str | None, typer.Option(help="ratio: metric on top")] = None,
    denominator: Annotated[str | None, typer.Option(help="ratio: metric below")] = None,
    unit: Annotated[str, typer.Option(help="Unit shown to users")] = "CNY",
    scale: Annotated[int, typer.Option(help="Decimal places of the stored integers (2 for money in fen)")] = 2,
    name_zh: Annotated[str | None, typer.Option("--name-zh", help="Chinese name")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Define a metric of your own."""
    from attain.metrics.service import create_metric

    with open_session(db) as session:
        metric = create_metric(session=session, code=code, name=name, aggregation=aggregation, unit=unit, scale=scale,
                               source=source, numerator=numerator, denominator=denominator, name_zh=name_zh)
        payload = {"code": metric.code, "aggregation": metric.aggregation, "source": metric.source}
    if json:
        print_json(payload)
    else:
        console.print(f"Metric {code} added.")


@metric_app.command("value")
def value(
    code: Annotated[str, typer.Argument(help="Metric code")],
    period: Annotated[str, typer.Option(help="2026, 2026Q1, 2026-03, 2026-W10 or a day")],
    by: Annotated[str | None, typer.Option(help="rep | region | product | customer")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """A metric's actual value over a period (computed by the database)."""
    from attain.metrics.service import display, evaluate, require_metric

    url = resolve_database_url(db)
    _require_schema(url)
    span = parse_period(period)
    with session_scope(url) as session:
        metric = require_metric(session=session, code=code)
        rows = evaluate(session=session, metric=metric, start=span.start, end=span.end, group_by=by)
        payload = {
            "metric": metric.code, "period": span.label, "unit": metric.unit,
            "rows": [{"id": r.key, "name": r.label, "value": display(metric, r.value)} for r in rows],
        }
    if json:
        print_json(payload)
        return
    table = Table(by or "total", f"{metric.name_zh or metric.name} ({metric.unit})", title=f"{metric.code} · {span.label}")
    for row in payload["rows"]:
        table.add_row(str(row["name"] or row["id"] or "total"), row["value"])
    console.print(table)
