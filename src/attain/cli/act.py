"""`attain funnel` and `attain actions`: from a money target to the activities of each working day."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any

import typer
from rich.table import Table

from attain.cli.data import DbOption, JsonOption, open_session, parse_day
from attain.cli.output import console, err_console, print_json
from attain.errors import InvalidInput
from attain.funnel import settings as _funnel_settings  # noqa: F401  (registers funnel_prior_weight for `attain config`)

actions_app = typer.Typer(
    help="Daily action list of a rep (行动清单): what to do today to stay on target, and what is done.",
    invoke_without_command=True,
)


def _yuan(fen: Fraction | int) -> str:
    """Fen as yuan with two decimals (exact values are rounded half-even only for display)."""
    value = Fraction(fen) / 100
    return str((Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01")))


def _split_list(text: str, label: str) -> list[str]:
    parts = [p.strip() for p in text.split(",")]
    if not parts or any(not p for p in parts):
        raise InvalidInput(f"--{label} '{text}' must be a comma-separated list without empty items")
    return parts


def funnel(
    target: Annotated[str | None, typer.Option(help="Money target in yuan, e.g. 250000")] = None,
    deal_size: Annotated[str | None, typer.Option("--deal-size", help="Average deal size in yuan")] = None,
    deals: Annotated[int | None, typer.Option(help="Number of deals instead of target / deal size")] = None,
    stages: Annotated[str, typer.Option(help="Stage names, deal first, e.g. deal,prospect,lead")] = "deal,prospect,lead",
    rates: Annotated[str | None, typer.Option(help="Conversion rate into each stage from the next, e.g. 0.2,0.1")] = None,
    days: Annotated[int, typer.Option(help="Spread the counts over this many working days")] = 5,
    plan: Annotated[str | None, typer.Option(help="Plan name: take the target from the rep's cells")] = None,
    rep: Annotated[str | None, typer.Option(help="Rep code (with --plan)")] = None,
    week: Annotated[str | None, typer.Option(help="ISO week, e.g. 2027-W10 (with --plan)")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Reverse funnel (倒推漏斗): the deals, prospects and leads a money target needs, rounded up."""
    if plan is not None or rep is not None or week is not None:
        if plan is None or rep is None or week is None:
            raise InvalidInput("the plan funnel needs all of --plan, --rep and --week")
        if any(v is not None for v in (target, deal_size, deals, rates)):
            raise InvalidInput("--plan takes target, deal size and rates from the database; leave out --target/--deal-size/--deals/--rates")
        _plan_funnel(plan, rep, week, db, json)
        return
    from attain.funnel.calc import reverse_funnel

    if target is None and deals is None:
        raise InvalidInput("give --target with --deal-size, or --deals, or --plan/--rep/--week")
    if deals is not None and deal_size is not None:
        raise InvalidInput("give either --deal-size or --deals, not both")
    if rates is None:
        raise InvalidInput("give the conversion rates with --rates, e.g. --rates 0.2,0.1")
    result = reverse_funnel(
        stages=_split_list(stages, "stages"), rates=_split_list(rates, "rates"),
        target=target if deals is None else None, deal_size=deal_size if deals is None else None,
        deals=deals, days=days,
    )
    payload = {
        "stages": [{"name": n, "count": c} for n, c in zip(result.stages, result.counts)],
        "per_day": [{"day": i + 1, "counts": dict(zip(result.stages, day))} for i, day in enumerate(result.per_day)],
    }
    if json:
        print_json(payload)
        return
    table = Table("阶段 / stage", "需要 / needed", *[f"D{i + 1}" for i in range(days)], title="倒推漏斗 / reverse funnel")
    for k, (name, count) in enumerate(zip(result.stages, result.counts)):
        table.add_row(name, str(count), *[str(day[k]) for day in result.per_day])
    console.print(table)


def _plan_funnel(plan: str, rep: str, week: str, db: str | None, json: bool) -> None:
    from attain.funnel.service import FUNNEL_STAGES, PIPELINE, week_funnel

    with open_session(db) as session:
        result = week_funnel(session=session, plan_name=plan, rep_code=rep, week=week)
    learned = result.learned
    steps = []
    for i, rate in enumerate(learned.rates):
        k = len(PIPELINE) - 2 - i  # pipeline step k: PIPELINE[k] → PIPELINE[k + 1]
        steps.append({
            "from": PIPELINE[k], "to": PIPELINE[k + 1], "rate": rate,
            "rep": {"moved_on": learned.rep.advanced[k], "decided": learned.rep.decided[k]},
            "team": {"moved_on": learned.team.advanced[k], "decided": learned.team.decided[k]},
            "company": {"moved_on": learned.company.advanced[k], "decided": learned.company.decided[k]},
        })
    payload: dict[str, Any] = {
        "plan": result.plan, "rep": result.rep_code, "rep_name": result.rep_name, "week": result.week.label,
        "target": _yuan(result.target),
        "target_cells": [{"period": c["period"], "value": _yuan(c["value"]),  # type: ignore[arg-type]
                          "working_days_in_week": c["working_days_in_week"],
                          "working_days_in_period": c["working_days_in_period"], "share": _yuan(c["share"])}  # type: ignore[arg-type]
                         for c in result.cells],
        "deal_size": _yuan(learned.deal_size),
        "rates": steps,
        "based_on": {"opportunities": learned.rep.opportunities, "deals": learned.rep.won,
                     "team_opportunities": learned.team.opportunities, "team_deals": learned.team.won,
                     "prior_weight": learned.prior_weight},
        "stages": [{"name": n, "count": c} for n, c in zip(FUNNEL_STAGES, result.counts)],
        "per_day": [{"date": d, "working": w, "counts": dict(zip(FUNNEL_STAGES, day))}
                    for d, w, day in zip(result.days, result.worked, result.per_day)],
        "warnings": list(result.warnings),
    }
    if json:
        print_json(payload)
        return
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    console.print(f"{result.rep_name} ({result.rep_code}) · {result.plan} · {result.week.label}: "
                  f"target 目标 {payload['target']} yuan, average deal 平均成交额 {payload['deal_size']} yuan")
    console.print(f"based on 基于 {learned.rep.opportunities} opportunities / {learned.rep.won} won deals of the rep "
                  f"(team {learned.team.opportunities} / {learned.team.won}; shrinkage weight {learned.prior_weight})")
    rates_table = Table("step 转化", "rate 转化率", "rep moved/decided", "team", "company", title="conversion rates used")
    for s in steps:
        rates_table.add_row(f"{s['from']}→{s['to']}", str(s["rate"]),
                            *[f"{s[lvl]['moved_on']}/{s[lvl]['decided']}" for lvl in ("rep", "team", "company")])
    console.print(rates_table)
    table = Table("阶段 / stage", "需要 / needed", *[d.strftime("%m-%d %a") for d in result.days], title="倒推漏斗 / reverse funnel")
    for k, (name, count) in enumerate(zip(FUNNEL_STAGES, result.counts)):
        table.add_row(name, str(count), *[str(day[k]) if w else "-" for day, w in zip(result.per_day, result.worked)])
    console.print(table)


@actions_app.callback()
def actions(
    ctx: typer.Context,
    rep: Annotated[str | None, typer.Option(help="Rep code")] = None,
    day: Annotated[str | None, typer.Option("--date", help="Working day, e.g. 2027-03-02")] = None,
    plan: Annotated[str | None, typer.Option(help="Plan name (default: the approved plan with a target for the rep that day)")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """The rep's action list for a day: planned, carried over from earlier days this week, done, left."""
    if ctx.invoked_subcommand is not None:
        return
    if rep is None or day is None:
        raise InvalidInput("give --rep and --date, e.g. attain actions --rep R001 --date 2027-03-02")
    from attain.actions.service import daily_actions

    when = parse_day(day, "--date")
    with open_session(db) as session:
        result = daily_actions(session=session, rep_code=rep, day=when, plan_name=plan)
    payload = {
        "rep": result.rep_code, "rep_name": result.rep_name, "date": result.day, "plan": result.plan, "week": result.week,
        "working_day": result.working, "reason": result.reason,
        "actions": [{"action": a.key, "label": a.label, "activity_kind": a.activity_kind, "planned": a.planned,
                     "carried": a.carried, "due": a.due, "done": a.done, "remaining": a.remaining} for a in result.lines],
        "visit_customers": [{"code": c.code, "name": c.name, "grade": c.grade, "last_visit": c.last_visit}
                            for c in result.visit_customers],
        "complete": result.complete, "streak": result.streak, "warnings": list(result.warnings),
    }
    if json:
        print_json(payload)
        return
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    title = f"{result.rep_name} ({result.rep_code}) · {result.day} · {result.week}"
    if not result.working:
        console.print(f"{title}: {result.reason}")
        return
    table = Table("行动 / action", "计划 planned", "顺延 carried", "应做 due", "已做 done", "剩余 left", title=f"{title} · {result.plan}")
    for a in result.lines:
        mark = "[green]✓[/green]" if a.remaining == 0 else str(a.remaining)
        table.add_row(a.label, str(a.planned), str(a.carried), str(a.due), str(a.done), mark)
    console.print(table)
    if result.visit_customers:
        visits = Table("客户 customer", "等级 grade", "上次拜访 last visit", title="建议拜访 / visit first")
        for c in result.visit_customers:
            visits.add_row(f"{c.code} {c.name}", c.grade or "", str(c.last_visit or "从未 never"))
        console.print(visits)
    state = "完成 / complete" if result.complete else "未完成 / open"
    console.print(f"今日 today: {state} · 连续完成 streak: {result.streak} working day(s)")


@actions_app.command("done")
def done(
    rep: Annotated[str, typer.Option(help="Rep code")],
    day: Annotated[str, typer.Option("--date", help="Day the activity took place")],
    kind: Annotated[str, typer.Option(help="visit | call | proposal | meeting | email | demo | other")],
    customer: Annotated[str | None, typer.Option(help="Customer code (required for a visit)")] = None,
    note: Annotated[str | None, typer.Option(help="Free text")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Record an activity as done; it checks off the matching line of the action list."""
    from attain.actions.service import record_activity

    when = parse_day(day, "--date")
    with open_session(db) as session:
        activity = record_activity(session=session, rep_code=rep, day=when, kind=kind, customer_code=customer, note=note)
        payload = {"code": activity.code, "kind": activity.kind, "date": activity.activity_date, "rep": rep, "customer": customer}
    if json:
        print_json(payload)
    else:
        console.print(f"Recorded {kind} by {rep} on {when} ({payload['code']}).")


def register(app: typer.Typer) -> None:
    """Add the funnel and actions commands to the main app."""
    app.command("funnel")(funnel)
    app.add_typer(actions_app, name="actions")

