"""`attain incentive`: commission and bonus plans paid on the target plans in force."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from attain.cli.data import DbOption, JsonOption, open_session, parse_day
from attain.cli.output import console, print_json
from attain.errors import InvalidInput

incentive_app = typer.Typer(help="Incentive plans: commission, bonuses, statements, payroll, what-if.", no_args_is_help=True)

AsOption = Annotated[str, typer.Option("--as", "--by", help="The user account that acts (see attain user list)")]
PlanOption = Annotated[str, typer.Option("--plan", help="Incentive plan name")]
PeriodOption = Annotated[str, typer.Option("--period", help="Settlement period: 2027Q1 (quarterly) or 2027-03 (monthly)")]
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Count sales up to this day, YYYY-MM-DD (default: today or the period end)")]
UserOption = Annotated[str | None, typer.Option("--user", help="Show only what this user may see (row-level access)")]


def _yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:,.2f}"


def _viewer(session, username: str | None):  # type: ignore[no-untyped-def]
    if username is None:
        return None
    from attain.plans.service import require_user

    return require_user(session=session, username=username)


@incentive_app.command("import-plan")
def import_plan(
    file: Annotated[Path, typer.Argument(help="FILE.yaml or FILE.xlsx (see docs/incentives.md)")],
    by: AsOption,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Import an incentive plan as a new draft version, all or nothing."""
    from attain.incentives.service import import_plan as run

    with open_session(db) as session:
        plan = run(session=session, path=file, by=by)
        payload = {"name": plan.name, "version": plan.version, "status": plan.status, "year": plan.year,
                   "settlement": plan.settlement}
    if json:
        print_json(payload)
        return
    console.print(f"incentive plan {payload['name']} v{payload['version']} imported as {payload['status']} "
                  f"({payload['year']}, settled by {payload['settlement']})")


@incentive_app.command("submit")
def submit(name: Annotated[str, typer.Argument(help="Incentive plan name")], by: AsOption, db: DbOption = None) -> None:
    """draft → submitted."""
    from attain.incentives.service import submit_plan

    with open_session(db) as session:
        plan = submit_plan(session=session, name=name, by=by)
        console.print(f"incentive plan {plan.name} v{plan.version} submitted by {plan.submitted_by}")


@incentive_app.command("approve")
def approve(name: Annotated[str, typer.Argument(help="Incentive plan name")], by: AsOption, db: DbOption = None) -> None:
    """submitted → approved (a director or admin other than the submitter)."""
    from attain.incentives.service import approve_plan

    with open_session(db) as session:
        plan = approve_plan(session=session, name=name, by=by)
        console.print(f"incentive plan {plan.name} v{plan.version} approved by {plan.approved_by}; statements read it now")


@incentive_app.command("list")
def list_(db: DbOption = None, json: JsonOption = False) -> None:
    """Incentive plans with their newest version and the version in force."""
    from attain.incentives.service import list_plans

    with open_session(db) as session:
        plans = list_plans(session=session)
    if json:
        print_json([p.__dict__ for p in plans])
        return
    table = Table("plan", "version", "status", "in force", "year", "settlement", "participants", "components")
    for p in plans:
        table.add_row(p.name, str(p.version), p.status, "—" if p.in_force is None else f"v{p.in_force}", str(p.year),
                      p.settlement, str(p.participants), ", ".join(p.components))
    console.print(table)


@incentive_app.command("statement")
def statement(
    plan: PlanOption,
    period: PeriodOption,
    rep: Annotated[str | None, typer.Option("--rep", help="Only this participant (code)")] = None,
    as_of: AsOfOption = None,
    user: UserOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write statements.xlsx, statements.html or statements.pdf (embedded CJK font)")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Statements of a settlement period: every line of the calculation, exact to the fen."""
    from attain.incentives.service import export_statements, statements

    with open_session(db) as session:
        result = statements(session=session, name=plan, period=period, rep=rep, as_of=parse_day(as_of),
                            user=_viewer(session, user))
    if out is not None:
        export_statements(result=result, out=out)
        console.print(f"{len(result.statements)} statements written to {out}")
        return
    if json:
        print_json(result.as_dict())
        return
    console.print(f"[bold]{result.plan}[/bold] v{result.version} · {result.period} · {result.status} · as of {result.as_of}")
    for s in result.statements:
        table = Table("component", "line", "basis", "attain %", "rate %", "amount",
                      title=f"{s.code} {s.name} ({s.role}) — {_yuan(s.total)} 元", title_justify="left")
        for line in s.lines:
            basis = line.get("basis")
            amount = line.get("amount")
            money = line.get("step") != "spif"
            table.add_row(str(line.get("component") or ""), str(line.get("label")),
                          "" if basis is None else (_yuan(int(basis)) if money else str(basis)),  # type: ignore[call-overload]
                          str(line.get("attainment") or ""), str(line.get("rate") or ""),
                          "" if amount is None else _yuan(int(amount)))  # type: ignore[call-overload]
        console.print(table)
    console.print(f"total / 合计: {_yuan(result.total)} 元 for {len(result.statements)} people")


@incentive_app.command("close")
def close(plan: PlanOption, period: PeriodOption, by: AsOption, as_of: AsOfOption = None, db: DbOption = None,
          json: JsonOption = False) -> None:
    """Freeze the period's statements; later corrections become adjustments in a later period."""
    from attain.incentives.service import close_period

    with open_session(db) as session:
        result = close_period(session=session, name=plan, period=period, by=by, as_of=parse_day(as_of))
    if json:
        print_json(result.as_dict())
        return
    console.print(f"{result.plan} {result.period} closed: {len(result.statements)} statements, total {_yuan(result.total)} 元")


@incentive_app.command("export-payroll")
def export_payroll(
    period: PeriodOption,
    out: Annotated[Path, typer.Option("--out", help="payroll.csv or payroll.xlsx")],
    db: DbOption = None,
) -> None:
    """The closed totals of every incentive plan for a period, for payroll."""
    from attain.incentives.service import export_payroll as run

    with open_session(db) as session:
        count = run(session=session, period=period, out=out)
    console.print(f"{count} payroll rows written to {out}")


@incentive_app.command("what-if")
def what_if(
    plan: PlanOption,
    rep: Annotated[str | None, typer.Option("--rep", help="Participant code")] = None,
    team: Annotated[str | None, typer.Option("--team", help="A team (or region) code: every participant under it")] = None,
    extra: Annotated[str, typer.Option("--extra", help="An extra sale in yuan, e.g. 100000")] = "0",
    sale: Annotated[str | None, typer.Option("--sale", help="Which sale: customer_type=new, product_line=CODE, customer_grade=A (comma-separated)")] = None,
    period: Annotated[str | None, typer.Option("--period", help="Settlement period (default: the one holding --as-of)")] = None,
    as_of: AsOfOption = None,
    user: UserOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Earned so far, the next band, milestone or team pool and what it pays, and what an extra sale
    pays with every component (rate tables, curves, slices, milestones, SPIFs, team pools)."""
    from attain.incentives.service import team_what_if
    from attain.incentives.service import what_if as run

    if (rep is None) == (team is None):
        raise InvalidInput.coded("whatif.rep_or_team")
    try:
        extra_fen = Decimal(extra.replace(",", "")) * 100
    except InvalidOperation as exc:
        raise InvalidInput(f"--extra: '{extra}' is not an amount in yuan") from exc
    if extra_fen != extra_fen.to_integral_value() or extra_fen < 0:
        raise InvalidInput(f"--extra: {extra} is negative or finer than a fen")
    with open_session(db) as session:
        if rep is not None:
            results = [run(session=session, name=plan, rep=rep, extra=int(extra_fen), period=period, as_of=parse_day(as_of),
                           user=_viewer(session, user), sale=sale)]
        else:
            results = team_what_if(session=session, name=plan, extra=int(extra_fen), period=period, as_of=parse_day(as_of),
                                   user=_viewer(session, user), sale=sale, team=team)
    if json:
        print_json(results[0].as_dict() if rep is not None else [r.as_dict() for r in results])
        return
    for result in results:
        who = f"{result.rep} {result.name}" + (" (manager)" if result.role == "manager" else "")
        console.print(f"{who} · {result.period} · as of {result.as_of}{' · sale ' + result.sale if result.sale else ''}: "
                      f"earned so far {_yuan(result.earned)} 元")
        console.print(f"  {result.message}")
        console.print(f"  {result.message_en}")


@incentive_app.command("cost")
def cost(
    plan: PlanOption,
    period: Annotated[str | None, typer.Option("--period", help="Settlement period (default: the one holding --as-of)")] = None,
    as_of: AsOfOption = None,
    user: UserOption = None,
    draws: Annotated[int | None, typer.Option("--draws", help="Monte Carlo draws of the forecast (default 10,000)")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the forecast (default: the forecast's)")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """What the plan pays in the period if every rep ends it at the P10/P50/P90 of the forecast."""
    from attain.incentives.cost import SCENARIOS, plan_cost

    with open_session(db) as session:
        result = plan_cost(session=session, name=plan, period=period, as_of=parse_day(as_of), user=_viewer(session, user),
                           draws=draws, seed=seed)
    if json:
        print_json(result.as_dict())
        return
    console.print(f"[bold]{result.plan}[/bold] v{result.version} · {result.period} · as of {result.as_of} · "
                  f"forecast {result.draws:,} draws, seed {result.seed}")
    table = Table("team", "people", "earned so far", *(s.upper() for s in SCENARIOS), title="cost by team / 按团队", title_justify="left")
    for team in result.teams:
        table.add_row(f"{team.code or '—'} {team.name}", str(team.people), _yuan(team.earned), *(_yuan(team.pay[s]) for s in SCENARIOS))
    table.add_row("[bold]total / 合计[/bold]", str(len(result.people)), _yuan(result.earned), *(_yuan(result.total[s]) for s in SCENARIOS))
    console.print(table)
    people = Table("person", "team", "sales so far", "final P50", "earned so far", *(f"pays {s.upper()}" for s in SCENARIOS),
                   title="by person / 按人 (final: own figure; a manager's is the team's)", title_justify="left")
    for p in result.people:
        people.add_row(f"{p.code} {p.name}" + (" (manager)" if p.role == "manager" else ""), p.team or "—", _yuan(p.actual),
                       _yuan(p.final["p50"]), _yuan(p.earned), *(_yuan(p.pay[s]) for s in SCENARIOS))
    console.print(people)
    if result.not_projected:
        console.print(f"slices, milestones and SPIFs ({', '.join(result.not_projected)}) are counted as earned to {result.as_of}")
