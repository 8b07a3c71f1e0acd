"""`attain report diagnosis`, `attain report pipeline` and `attain review` (diagnosis side of issue 6).

Registered on `report_app` at the end of cli/report.py and on the main app in cli/main.py.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from attain.cli.data import DbOption, JsonOption, open_session, parse_day
from attain.cli.output import console, print_json
from attain.errors import InvalidInput

PeriodOption = Annotated[str, typer.Option(help="2027, 2027Q1, 2027-03, 2027-W10, a day, FY2027 or FY2027Q1")]
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Count up to this day (default: today)")]
PlanOption = Annotated[str | None, typer.Option(help="Plan name (default: the newest approved plan covering the period)")]



def _yuan(fen: int | None) -> str:
    if fen is None:
        return ""
    return f"{Decimal(fen).scaleb(-2):,.2f}"



def diagnosis_command(
    period: PeriodOption,
    by: Annotated[str, typer.Option(help="rep | team | region")] = "rep",
    vs: Annotated[str, typer.Option(help="target (expected-to-date of the plan) | last-year (same period a year earlier)")] = "target",
    as_of: AsOfOption = None,
    plan: PlanOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Why behind: the gap split exactly into leads, conversion and deal size, with the main cause."""
    from attain.tracking.attainment import resolve_period
    from attain.tracking.diagnosis import diagnose

    with open_session(db) as session:
        span = resolve_period(session, period, today=parse_day(as_of))
        result = diagnose(session=session, period=span, level=by, reference=vs, as_of=parse_day(as_of), plan=plan)
    if json:
        print_json(result.as_dict())
        return
    reference = "目标 / target" if vs == "target" else "去年同期 / last year"
    table = Table(
        "对象 / node", "实际 / actual", "参照 / reference", "差距 / gap", "线索 / leads", "转化 / conversion",
        "客单价 / deal size", "主因 / main cause", "线索数 / leads", "成交 / deals",
        title=f"差距归因 / gap attribution · {span.label} · vs {reference} · 截至 / to {result.end} (元 / CNY)",
    )
    for row in result.rows:
        table.add_row(
            f"{row.code} {row.name}", _yuan(row.actual), _yuan(row.reference), _yuan(row.gap),
            _yuan(row.parts["leads"]), _yuan(row.parts["conversion"]), _yuan(row.parts["deal_size"]),
            row.cause_text, str(row.leads), str(row.deals), style="red" if row.cause else None,
        )
    console.print(table)


def pipeline_command(
    period: PeriodOption,
    by: Annotated[str, typer.Option(help="rep | team | region")] = "rep",
    as_of: AsOfOption = None,
    plan: PlanOption = None,
    draws: Annotated[int, typer.Option(help="Monte Carlo draws")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same figures)")] = 2026,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Probability of hitting the target: open pipeline × learnt stage win rates + run-rate, P10/P50/P90."""
    from attain.tracking.attainment import resolve_period
    from attain.tracking.pipeline import forecast

    with open_session(db) as session:
        span = resolve_period(session, period, today=parse_day(as_of))
        result = forecast(session=session, period=span, level=by, as_of=parse_day(as_of), plan=plan, draws=draws, seed=seed)
    if json:
        print_json(result.as_dict())
        return
    rates = ", ".join(f"{stage} {rate:.0%}" for stage, rate in result.stage_win_rates.items())
    table = Table(
        "对象 / node", "实际 / actual", "目标 / target", "在途商机 / open deals", "加权商机 / weighted",
        "自然流量 / run-rate", "P10", "P50", "P90", "达成概率 / P(hit)",
        title=(f"达成概率 / P(hit) · {span.label} · 截至 / as of {result.as_of} · {result.draws:,} draws · "
               f"剩余工作日 / working days left {result.working_days_left} (元 / CNY)"),
        caption=f"阶段赢率 / stage win rates: {rates}",
    )
    for row in result.rows:
        table.add_row(
            f"{row.code} {row.name}", _yuan(row.actual), _yuan(row.target), f"{row.open_deals} · {_yuan(row.open_amount)}",
            _yuan(row.weighted_pipeline), _yuan(row.run_rate_rest), _yuan(row.p10), _yuan(row.p50), _yuan(row.p90),
            "—" if row.p_hit is None else f"{row.p_hit:.0%}",
            style="red" if row.p_hit is not None and row.p_hit < 0.5 else None,
        )
    console.print(table)


def review_command(
    week: Annotated[str, typer.Option(help="ISO week, e.g. 2027-W10")],
    out: Annotated[Path, typer.Option(help="review.xlsx or review.html")],
    by: Annotated[str, typer.Option(help="rep | team: rows of the tables")] = "rep",
    plan: PlanOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Weekly review pack for the Monday meeting: attainment, leaderboard, diagnosis, alerts, charts."""
    from attain.tracking.review import build_review, write_review

    if out.suffix.lower() not in (".xlsx", ".html", ".htm"):
        raise InvalidInput(f"--out {out}: the review pack is written as .xlsx or .html")
    with open_session(db) as session:
        pack = build_review(session=session, week=week, by=by, plan=plan)
    write_review(pack, out)
    if json:
        print_json({"out": str(out), "week": pack.week.label, "month": pack.month.label, "as_of": pack.as_of,
                    "rows": len(pack.attainment.rows), "alerts": len(pack.alerts)})
        return
    console.print(f"Review pack for {pack.week.label} written to {out}")


def register_reports(report_app: typer.Typer) -> None:
    report_app.command("diagnosis")(diagnosis_command)
    report_app.command("pipeline")(pipeline_command)
