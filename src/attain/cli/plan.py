"""`attain plan`: Target plans: create, check, split, show, export, edit, reconcile, version and approve."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from attain.cli.data import DbOption, JsonOption, open_session
from attain.cli.output import console, print_json
from attain.errors import InvalidInput

plan_app = typer.Typer(help="Target plans: create, check, split, show, export, edit, reconcile, version and approve.", no_args_is_help=True)

PlanArg = Annotated[str, typer.Argument(help="Plan name, e.g. FY2027")]
ByOption = Annotated[str, typer.Option("--by", help="Who makes the change (user name), recorded in the version")]
AsOption = Annotated[str, typer.Option("--as", "--by", help="The user account that acts (checked against the users: role and scope)")]
ExpectOption = Annotated[int | None, typer.Option("--expect", help="The plan version your change is based on; a newer one is a conflict")]
ReasonOption = Annotated[str | None, typer.Option("--reason", help="Why: recorded in the version")]
NodeOption = Annotated[str, typer.Option("--node", help="Org node code (rep, team, region, company)")]
PeriodOption = Annotated[str, typer.Option("--period", help="2027, 2027Q1, 2027-03 or 2027-W10")]
ProductOption = Annotated[str | None, typer.Option("--product", help="Product line code (default: all products)")]
TypeOption = Annotated[str, typer.Option("--customer-type", help="all | new | existing")]
BaselineOption = Annotated[str, typer.Option(
    "--baseline", help="'Last year' for growth, capacity, history and seasonal shares: last-fiscal-year (the last "
                       "complete one) | trailing-12 (the 12 complete months before the plan or today)")]
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Today for the baseline, YYYY-MM-DD (default: today)")]



def _scale(session: Any, name: str) -> int:
    from attain.metrics.models import Metric
    from attain.plans.service import require_plan

    plan = require_plan(session=session, name=name)
    return session.get(Metric, plan.metric_id).scale


def _yuan(value: int | None, scale: int) -> str:
    return "" if value is None else f"{Decimal(value).scaleb(-scale):,.{scale}f}"


def _plain(value: int | None, scale: int) -> str | None:
    return None if value is None else str(Decimal(value).scaleb(-scale))


def _money(session: Any, name: str, text: str, what: str) -> int:
    from attain.plans.setting import parse_money

    return parse_money(text, _scale(session, name), what)


def _create_from_market(*, name: str, year: int, metric: str, share: str | None, unit: str | None, hire: list[str],
                        db: str | None, json: bool, by: str, reason: str | None, other: tuple[Any, ...], **options: Any) -> None:
    from attain.cli.market import anchor_payload, parse_hires, print_anchor
    from attain.market.service import create_from_market

    if share is None:
        raise InvalidInput("--from-market needs --share (e.g. 0.3 or 30%)")
    total, growth, from_capacity = other
    if total is not None or growth is not None or from_capacity:
        raise InvalidInput("give --from-market alone, not with --total, --growth or --from-capacity")
    with open_session(db) as session:
        created, report = create_from_market(session=session, name=name, year=year, share=share, by=by, metric_code=metric,
                                             unit=unit, reason=reason, hires=parse_hires(hire), **options)
    if json:
        print_json({"name": created.name, "version": created.version, "year": created.year, "metric": created.metric,
                    "total": _plain(created.total, 2), "basis": f"market × share {report.anchor.share}",
                    "anchor": anchor_payload(report)})
        return
    console.print(f"Plan [bold]{created.name}[/bold] v{created.version} created (draft): {created.metric} "
                  f"{_yuan(created.total, 2)} for {created.year} — market × share {report.anchor.share}", highlight=False)
    print_anchor(report)


@plan_app.command("list")
def list_(db: DbOption = None, json: JsonOption = False) -> None:
    """Every plan once: the version in force, a pending revision (and from when it applies), the total in force."""
    from attain.plans.service import list_plans

    with open_session(db) as session:
        listing = list_plans(session=session)
        scales = {p.name: _scale(session, p.name) for p in listing}
    rows = [{**asdict(p), "total": _plain(p.total, scales[p.name])} for p in listing]
    if json:
        print_json(rows)
        return
    table = Table("计划 plan", "年 year", "指标 metric", "生效版本 in force", "待审修订 pending", "状态 status", "目标 total")
    for r in rows:
        pending = f"v{r['pending_version']} (from {r['effective_from']})" if r["pending_version"] else ""
        table.add_row(r["name"], str(r["year"] or ""), r["metric"], f"v{r['in_force_version']}" if r["in_force_version"] else "",
                      pending, f"v{r['version']} {r['status']}", r["total"] or "")
    console.print(table)


@plan_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Plan name, e.g. FY2027")],
    year: Annotated[int, typer.Option("--year", help="Calendar year of the plan")],
    metric: Annotated[str, typer.Option("--metric", help="Metric code")] = "revenue",
    total: Annotated[str | None, typer.Option("--total", help="Total in the metric's unit (yuan): 12000000, 1200万")] = None,
    growth: Annotated[str | None, typer.Option("--growth", help="Growth on last year's actual: 0.18 or 18%")] = None,
    from_capacity: Annotated[bool, typer.Option("--from-capacity", help="Build the total from reps × ramp × productivity")] = False,
    productivity: Annotated[str | None, typer.Option("--productivity", help="Output of a fully ramped rep per month (default: learned per rep)")] = None,
    cost_per_rep: Annotated[str | None, typer.Option("--cost-per-rep", help="Yearly cost of one rep, for the budget")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Rounding unit of the split in the metric's unit, e.g. 100 or 10000")] = None,
    from_market: Annotated[bool, typer.Option("--from-market", help="Total = market size of the year × --share (attain market)")] = False,
    share: Annotated[str | None, typer.Option("--share", help="--from-market: target share of the market, e.g. 0.3 or 30%")] = None,
    hire: Annotated[list[str], typer.Option("--hire", help="--from-market: planned hire start date (N@YYYY-MM-DD for N); repeatable")] = [],  # noqa: B006
    budget: Annotated[str | None, typer.Option("--budget", help="--from-market: marketing budget before the change (default: last year's spend)")] = None,
    budget_change: Annotated[str | None, typer.Option("--budget-change", help="--from-market: marketing budget change, e.g. 30%")] = None,
    lead_yield: Annotated[str | None, typer.Option("--lead-yield", help="--from-market: leads per 10,000 yuan (default: learned)")] = None,
    win_rate: Annotated[str | None, typer.Option("--win-rate", help="--from-market: won / closed (default: learned)")] = None,
    deal_size: Annotated[str | None, typer.Option("--deal-size", help="--from-market: yuan per won deal (default: learned)")] = None,
    baseline: BaselineOption = "last-fiscal-year",
    as_of: AsOfOption = None,
    by: ByOption = "cli",
    reason: ReasonOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Create a draft plan; its total is given, grown from last year, built from capacity, or market × share."""
    from attain.cli.data import parse_day
    from attain.plans.setting import create_target

    if from_market:
        _create_from_market(name=name, year=year, metric=metric, share=share, unit=unit, hire=hire, productivity=productivity,
                            budget=budget, budget_change=budget_change, lead_yield=lead_yield, win_rate=win_rate,
                            deal_size=deal_size, baseline=baseline, as_of=parse_day(as_of), by=by, reason=reason, db=db,
                            json=json, other=(total, growth, from_capacity))
        return
    if share is not None or hire or budget_change is not None:
        raise InvalidInput("--share, --hire and --budget-change go with --from-market")
    with open_session(db) as session:
        created = create_target(session=session, name=name, year=year, metric_code=metric, by=by, total=total, growth=growth,
                                from_capacity=from_capacity, productivity=productivity, cost_per_rep=cost_per_rep, unit=unit,
                                reason=reason, baseline=baseline, as_of=parse_day(as_of))
        scale = _scale(session, name)
    window = created.baseline
    payload: dict[str, Any] = {
        "name": created.name, "version": created.version, "year": created.year, "metric": created.metric,
        "total": _plain(created.total, scale), "unit": _plain(created.unit, scale), "basis": created.basis,
        "last_year": _plain(created.base, scale), "baseline": window.as_dict() if window is not None else None,
    }
    if created.capacity is not None:
        cap = created.capacity
        payload["capacity"] = {
            "headcount": cap.headcount, "capacity": _plain(cap.capacity, scale),
            "productivity_per_month": _plain(cap.productivity_per_month, scale), "new_rep_output": _plain(cap.new_rep_output, scale),
            "gap": _plain(cap.gap, scale), "extra_reps": cap.extra_reps, "budget": _plain(cap.budget, scale),
            "extra_budget": _plain(cap.extra_budget, scale),
        }
    if json:
        print_json(payload)
        return
    console.print(f"Plan [bold]{created.name}[/bold] v{created.version} created (draft): {created.metric} "
                  f"{_yuan(created.total, scale)} for {created.year} — {created.basis}"
                  + (f", last year {_yuan(created.base, scale)}" if created.base is not None else ""), highlight=False)
    if window is not None:
        console.print(f"last year = {window.description}", highlight=False)
        if window.note:
            console.print(f"[yellow]warning:[/yellow] {window.note}", highlight=False)
    if created.capacity is not None:
        cap = created.capacity
        table = Table("资源 resources", "值 value", title="产能 Capacity")
        table.add_row("在岗销售 headcount", str(cap.headcount))
        table.add_row("产能 capacity", _yuan(cap.capacity, scale))
        table.add_row("人均月产出 productivity / month", _yuan(cap.productivity_per_month, scale))
        table.add_row("新人年产出 new rep output", _yuan(cap.new_rep_output, scale))
        table.add_row("缺口 gap", _yuan(cap.gap, scale))
        table.add_row("需增销售 extra reps", str(cap.extra_reps))
        if cap.budget is not None:
            table.add_row("人力预算 budget", _yuan(cap.budget, scale))
            table.add_row("新增预算 extra budget", _yuan(cap.extra_budget, scale))
        console.print(table)


@plan_app.command("check")
def check(name: PlanArg, baseline: BaselineOption = "last-fiscal-year", as_of: AsOfOption = None, db: DbOption = None,
          json: JsonOption = False) -> None:
    """SMART check: measurable, owner, deadline, realistic (bootstrap probability), relevant."""
    from attain.cli.data import parse_day
    from attain.plans.check import check_plan

    with open_session(db) as session:
        report = check_plan(session=session, name=name, baseline=baseline, as_of=parse_day(as_of))
    payload = {"plan": report.plan, "version": report.version, "passed": report.passed,
               "counts": {s: report.count(s) for s in ("error", "warning", "info")},
               "findings": [asdict(f) for f in report.findings]}
    if json:
        print_json(payload)
        return
    table = Table("级别 severity", "检查 check", "单元格 cell", "问题 finding", "依据 figure", title=f"SMART · {report.plan} v{report.version}")
    colour = {"error": "red", "warning": "yellow", "info": "cyan"}
    for f in report.findings:
        table.add_row(f"[{colour[f.severity]}]{f.severity}[/]", f.check, f.cell, f.message, f.figure or "")
    console.print(table)
    console.print(f"{report.count('error')} errors, {report.count('warning')} warnings, {report.count('info')} notes")


def _weights(items: list[str]) -> dict[str, dict[str, str]]:
    weights: dict[str, dict[str, str]] = {}
    for item in items:
        axis, _, rest = item.partition("=")
        if not rest:
            raise InvalidInput(f"--weights '{item}' should look like customer_type=new:40,existing:60")
        for part in rest.split(","):
            member, _, weight = part.partition(":")
            if not weight:
                raise InvalidInput(f"--weights '{item}': '{part}' should be MEMBER:WEIGHT")
            weights.setdefault(axis.strip(), {})[member.strip()] = weight.strip()
    return weights


@plan_app.command("split")
def split(
    name: PlanArg,
    by_dims: Annotated[str, typer.Option("--by", help="Dimensions: org[,time][,product][,customer_type]")] = "org,time",
    method: Annotated[str, typer.Option("--method", help="equal | history | potential | capacity")] = "equal",
    time_method: Annotated[str | None, typer.Option("--time-method", help="equal | working-days | seasonal (history: seasonal)")] = None,
    grain: Annotated[str, typer.Option("--grain", help="month | quarter | week")] = "month",
    weights: Annotated[list[str], typer.Option("--weights", help="AXIS=MEMBER:W,... e.g. product=LA:60,LB:40; repeatable")] = [],  # noqa: B006
    baseline: BaselineOption = "last-fiscal-year",
    as_of: AsOfOption = None,
    user: Annotated[str, typer.Option("--user", help="Who splits (here --by names the dimensions)")] = "cli",
    expect: ExpectOption = None,
    reason: ReasonOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Split the plan total over every org level (company, region, team, rep) and the chosen dimensions."""
    from attain.cli.data import parse_day
    from attain.plans.splitting import SplitOptions, split_plan

    options = SplitOptions(by=tuple(d.strip() for d in by_dims.split(",") if d.strip()), method=method,
                           time_method=time_method, grain=grain, weights=_weights(weights), baseline=baseline)
    with open_session(db) as session:
        report = split_plan(session=session, name=name, options=options, by=user, expect=expect, reason=reason,
                            as_of=parse_day(as_of))
        scale = _scale(session, name)
    payload = {**asdict(report), "total": _plain(report.total, scale)}
    if json:
        print_json(payload)
        return
    console.print(f"Plan {report.plan} split by {','.join(report.by)} ({report.method}): {report.cells:,} cells, "
                  f"{report.changed:,} changed, {report.locked} locked kept; now version {report.version}.", highlight=False)
    if report.baseline is not None:
        console.print(f"history from {report.baseline['description']}", highlight=False)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")


@plan_app.command("show")
def show(
    name: PlanArg,
    level: Annotated[str | None, typer.Option("--level", help="company | region | team | rep")] = None,
    period: Annotated[str | None, typer.Option("--period", help="year | quarter | month | week")] = None,
    product: Annotated[str | None, typer.Option("--product", help="Product line code, or * for every line")] = None,
    customer_type: Annotated[str, typer.Option("--customer-type", help="all | new | existing | *")] = "all",
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """The responsibility matrix: owner, target, lock, strategy note and assessment rule per cell."""
    from attain.plans.matrix import show_matrix

    with open_session(db) as session:
        matrix = show_matrix(session=session, name=name, level=level, period=period, product=product,
                             customer_type=None if customer_type == "*" else customer_type)
    rows = [{**asdict(r), "value": _plain(r.value, matrix.scale)} for r in matrix.rows]
    if json:
        print_json({"plan": matrix.plan, "version": matrix.version, "status": matrix.status, "metric": matrix.metric,
                    "unit": matrix.unit, "rows": rows})
        return
    table = Table("组织 org", "期间 period", "产品/客户 slice", f"目标 target ({matrix.unit})", "负责人 owner", "锁 lock",
                  "策略 note", "考核 rule", title=f"{matrix.plan} v{matrix.version} · {matrix.status}")
    table.columns[3].no_wrap = True
    table.columns[3].justify = "right"
    for r in matrix.rows:
        rule = r.rule or {}
        table.add_row(f"{r.code} {r.name}", r.period, f"{r.product or 'all'}/{r.customer_type}", _yuan(r.value, matrix.scale),
                      r.owner_name or "", "🔒" if r.locked else "", r.note or "",
                      f"{rule.get('metric', '')}≥{rule.get('achieved_at', '')} {rule.get('review', '')}".strip())
    console.print(table)


@plan_app.command("export")
def export(
    name: PlanArg,
    out: Annotated[Path, typer.Option("--out", help="Excel file to write (.xlsx)")],
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Write the matrix to Excel: one sheet per org level, values (not formulas), zh/en headers."""
    from attain.plans.matrix import export_matrix

    with open_session(db) as session:
        counts = export_matrix(session=session, name=name, out=out)
    if json:
        print_json({"file": str(out), "rows": counts})
    else:
        console.print(f"Wrote {out}: " + ", ".join(f"{level} {n:,} rows" for level, n in counts.items()), highlight=False)


@plan_app.command("import-edits")
def import_edits(
    name: PlanArg,
    file: Annotated[Path, typer.Argument(help="An edited export (.xlsx)")],
    by: ByOption = "cli",
    expect: ExpectOption = None,
    reason: ReasonOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Read edited cells back (all or nothing): edited rep cells roll up, locked cells must not change."""
    from attain.plans.matrix import import_edits as run

    with open_session(db) as session:
        result = run(session=session, name=name, path=file, by=by, expect=expect, reason=reason)
    if json:
        print_json(asdict(result))
    else:
        console.print(f"Plan {result.plan}: {result.values_changed} targets and {result.notes_changed} notes/owners edited, "
                      f"{result.cells_changed} cells changed in all; now version {result.version}.", highlight=False)


def _print_edit(result: Any, scale: int, json: bool, shown: int = 30) -> None:
    changes = [{"node": c.node, "name": c.name, "period": c.period, "product": c.product, "customer_type": c.customer_type,
                "before": _plain(c.before, scale), "after": _plain(c.after, scale), "delta": _plain(c.delta, scale)}
               for c in getattr(result, "changes", ())]
    payload = {**asdict(result), "total": _plain(result.total, scale), "changes": changes}
    if json:
        print_json(payload)
        return
    console.print(f"Plan {result.plan} v{result.version}: {result.action}, {result.cells_changed} cells changed, "
                  f"total {_yuan(result.total, scale)}.", highlight=False)
    moved = getattr(result, "changes", ())
    if moved:
        table = Table("组织 org", "期间 period", "产品 product", "客户 customers", "之前 before", "之后 after", "变化 change",
                      title="变动的目标 targets that moved")
        for c in moved[:shown]:
            table.add_row(f"{c.node} {c.name}", c.period, c.product or "all", c.customer_type, _yuan(c.before, scale),
                          _yuan(c.after, scale), _yuan(c.delta, scale))
        console.print(table)
        if len(moved) > shown:
            console.print(f"… and {len(moved) - shown} more (--json lists every one).")


@plan_app.command("set-cell")
def set_cell(
    name: PlanArg, node: NodeOption, period: PeriodOption,
    value: Annotated[str, typer.Option("--value", help="New target in the metric's unit (yuan)")],
    product: ProductOption = None, customer_type: TypeOption = "all",
    change_total: Annotated[bool, typer.Option("--change-total", help="Let the difference go up to the plan total (default: redistribute within)")] = False,
    within: Annotated[str | None, typer.Option("--within", help="Org node whose targets stay as they are (default: the plan's top node)")] = None,
    by: ByOption = "cli", expect: ExpectOption = None, reason: ReasonOption = None, db: DbOption = None, json: JsonOption = False,
) -> None:
    """Set one cell (it is locked at the new value). By default the change is taken from the other
    open cells under the plan's top node (or --within NODE) in the same period; --change-total lets it
    move the totals above instead. Closed periods of a revision never change. Lists every cell that moved."""
    from sqlalchemy import select

    from attain.auth.models import User
    from attain.plans.edits import CellRef, set_cells

    with open_session(db) as session:
        amount = _money(session, name, value, "--value")
        actor = session.scalars(select(User).where(User.username == by)).first()
        result = set_cells(session=session, name=name, values={CellRef(node, period, product, customer_type): amount},
                           by=by, expect=expect, reason=reason, within=within, change_total=change_total, actor=actor)
        scale = _scale(session, name)
    _print_edit(result, scale, json)


def _lock(name: str, node: str | None, period: str | None, product: str | None, customer_type: str, locked: bool,
          by: str, expect: int | None, reason: str | None, db: str | None, json: bool) -> None:
    from attain.plans.edits import CellRef, set_lock
    from attain.plans.service import lock_plan

    with open_session(db) as session:
        if node is None and period is None:
            if not locked:
                raise InvalidInput("a locked plan is reopened with `attain plan revise PLAN --reason ...`")
            info = lock_plan(session=session, name=name, by=by, expect=expect, reason=reason)
            payload = {"plan": name, **asdict(info)}
            if json:
                print_json(payload)
            else:
                console.print(f"Plan {name} is locked (version {info.version}).")
            return
        if node is None or period is None:
            raise InvalidInput("a cell needs both --node and --period")
        result = set_lock(session=session, name=name, ref=CellRef(node, period, product, customer_type), locked=locked,
                          by=by, expect=expect, reason=reason)
        scale = _scale(session, name)
    _print_edit(result, scale, json)


@plan_app.command("lock")
def lock(
    name: PlanArg,
    node: Annotated[str | None, typer.Option("--node", help="Lock this cell; without --node the approved plan is locked")] = None,
    period: Annotated[str | None, typer.Option("--period")] = None,
    product: ProductOption = None, customer_type: TypeOption = "all",
    by: Annotated[str, typer.Option("--as", "--by", help="Who: a director or admin user account when locking the plan")] = "cli",
    expect: ExpectOption = None, reason: ReasonOption = None, db: DbOption = None, json: JsonOption = False,
) -> None:
    """Lock a cell at its value (re-splits keep it), or lock an approved plan (no --node; --as a director or admin)."""
    _lock(name, node, period, product, customer_type, True, by, expect, reason, db, json)


@plan_app.command("unlock")
def unlock(
    name: PlanArg, node: NodeOption, period: PeriodOption, product: ProductOption = None, customer_type: TypeOption = "all",
    by: ByOption = "cli", expect: ExpectOption = None, reason: ReasonOption = None, db: DbOption = None, json: JsonOption = False,
) -> None:
    """Unlock a cell so re-splits may move it again."""
    _lock(name, node, period, product, customer_type, False, by, expect, reason, db, json)


@plan_app.command("note")
def note(
    name: PlanArg, node: NodeOption, period: PeriodOption,
    text: Annotated[str | None, typer.Option("--note", help="Strategy note")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Owner's org code")] = None,
    rule_metric: Annotated[str | None, typer.Option("--rule-metric", help="Assessment metric")] = None,
    achieved_at: Annotated[str | None, typer.Option("--achieved-at", help="Achieved at this share of target, e.g. 1.00")] = None,
    review: Annotated[str | None, typer.Option("--review", help="daily | weekly | monthly | quarterly")] = None,
    product: ProductOption = None, customer_type: TypeOption = "all",
    by: ByOption = "cli", expect: ExpectOption = None, reason: ReasonOption = None, db: DbOption = None, json: JsonOption = False,
) -> None:
    """Change a cell's strategy note, owner or assessment rule."""
    from attain.plans.edits import CellRef, set_note

    rule = {"metric": rule_metric, "achieved_at": achieved_at, "review": review}
    with open_session(db) as session:
        result = set_note(session=session, name=name, ref=CellRef(node, period, product, customer_type), note=text, owner=owner,
                          rule={k: v for k, v in rule.items() if v is not None} or None, by=by, expect=expect, reason=reason)
        scale = _scale(session, name)
    _print_edit(result, scale, json)


@plan_app.command("commit")
def commit(
    name: PlanArg, node: NodeOption, period: PeriodOption,
    value: Annotated[str, typer.Option("--value", help="The committed number in the metric's unit")],
    text: Annotated[str | None, typer.Option("--note", help="Why this number")] = None,
    by: ByOption = "cli", expect: ExpectOption = None, db: DbOption = None, json: JsonOption = False,
) -> None:
    """Record a bottom-up commitment of a rep or manager."""
    from attain.plans.edits import commit_number

    with open_session(db) as session:
        amount = _money(session, name, value, "--value")
        result = commit_number(session=session, name=name, node=node, period=period, value=amount, by=by, note=text, expect=expect)
        scale = _scale(session, name)
    _print_edit(result, scale, json)


@plan_app.command("reconcile")
def reconcile(
    name: PlanArg,
    rule: Annotated[str, typer.Option("--rule", help="scale (commitments' shares of the top-down total) | max (keep commitments above top-down)")] = "scale",
    period: Annotated[str | None, typer.Option("--period", help="Period of the commitments (default: the plan year)")] = None,
    apply: Annotated[bool, typer.Option("--apply", help="Set the reconciled targets and re-split below them")] = False,
    by: ByOption = "cli", expect: ExpectOption = None, reason: ReasonOption = None, db: DbOption = None, json: JsonOption = False,
) -> None:
    """Top-down targets against bottom-up commitments per node, and a reconciled plan."""
    from attain.plans.edits import reconcile_plan

    with open_session(db) as session:
        report = reconcile_plan(session=session, name=name, rule=rule, period=period, apply=apply, by=by, expect=expect, reason=reason)
        scale = _scale(session, name)
    gaps = [{**asdict(g), "top_down": _plain(g.top_down, scale), "bottom_up": _plain(g.bottom_up, scale),
             "gap": _plain(g.gap, scale), "reconciled": _plain(g.reconciled, scale)} for g in report.gaps]
    if json:
        print_json({"plan": report.plan, "rule": report.rule, "period": report.period, "gaps": gaps,
                    "warnings": list(report.warnings), "applied_version": report.applied_version})
        return
    table = Table("组织 node", "上级 parent", "自上而下 top-down", "自下而上 bottom-up", "差距 gap", "协调后 reconciled",
                  title=f"{report.plan} {report.period} · rule {report.rule}")
    for g in report.gaps:
        table.add_row(f"{g.node} {g.name}", g.parent, _yuan(g.top_down, scale), _yuan(g.bottom_up, scale), _yuan(g.gap, scale),
                      _yuan(g.reconciled, scale))
    console.print(table)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    if report.applied_version:
        console.print(f"Applied: plan {report.plan} is now version {report.applied_version}.")


@plan_app.command("resplit")
def resplit(
    name: PlanArg,
    start: Annotated[str, typer.Option("--from", help="First open period, e.g. 2027-07")],
    rule: Annotated[str, typer.Option("--rule", help="keep-total | leaver")] = "keep-total",
    rep: Annotated[str | None, typer.Option("--rep", help="The leaver's code (rule leaver)")] = None,
    by: ByOption = "cli", expect: ExpectOption = None, reason: ReasonOption = None, db: DbOption = None, json: JsonOption = False,
) -> None:
    """Re-split the remaining periods after a market event or a leaver; closed periods stay as they are."""
    from attain.plans.edits import resplit_from

    with open_session(db) as session:
        result = resplit_from(session=session, name=name, start=start, rule=rule, rep=rep, by=by, expect=expect, reason=reason)
        scale = _scale(session, name)
    _print_edit(result, scale, json)


@plan_app.command("versions")
def versions(name: PlanArg, db: DbOption = None, json: JsonOption = False) -> None:
    """Every version of the plan: who changed what, when and why."""
    from attain.plans.service import list_versions, require_plan

    with open_session(db) as session:
        rows = list_versions(session=session, plan=require_plan(session=session, name=name))
    if json:
        print_json([asdict(v) for v in rows])
        return
    table = Table("版本 version", "操作 action", "状态 status", "人 by", "角色 role", "时间 when", "原因 why", "单元格 cells", title=name)
    for v in rows:
        table.add_row(str(v.version), v.action, v.status, v.changed_by, v.role or "", v.changed_at.strftime("%Y-%m-%d %H:%M"),
                      v.reason or "", str(v.cells_changed))
    console.print(table)


@plan_app.command("diff")
def diff(
    name: PlanArg,
    from_version: Annotated[int, typer.Option("--from", help="Older version")],
    to_version: Annotated[int, typer.Option("--to", help="Newer version")],
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Cells whose targets differ between two versions."""
    from attain.plans.service import diff_versions, revisions_between

    with open_session(db) as session:
        rows = diff_versions(session=session, name=name, from_version=from_version, to_version=to_version)
        revisions = revisions_between(session=session, name=name, from_version=from_version, to_version=to_version)
        scale = _scale(session, name)
    payload = [{"period": d.period, "org": d.org_code, "name": d.org_name, "product": d.product, "customer_type": d.customer_type,
                "from": _plain(d.before, scale), "to": _plain(d.after, scale), "delta": _plain(d.delta, scale)} for d in rows]
    if json:
        print_json({"plan": name, "from": from_version, "to": to_version, "cells": payload,
                    "revisions": [{"version": v, "effective_from": d} for v, d in revisions]})
        return
    for v, d in revisions:
        console.print(f"v{v} revised the plan from {d} on; periods that ended before it did not change.", highlight=False)
    table = Table("组织 org", "期间 period", "产品 product", "客户 customers", f"v{from_version}", f"v{to_version}", "变化 change",
                  title=f"{name}: v{from_version} → v{to_version}")
    for d in rows:
        table.add_row(f"{d.org_code} {d.org_name}", d.period, d.product or "all", d.customer_type, _yuan(d.before, scale),
                      _yuan(d.after, scale), _yuan(d.delta, scale))
    console.print(table)
    console.print(f"{len(rows)} cells differ.")


def _status_change(info: Any, name: str, json: bool) -> None:
    if json:
        print_json({"plan": name, **asdict(info)})
    else:
        console.print(f"Plan {name} is {info.status} (version {info.version}, by {info.changed_by}).", highlight=False)


@plan_app.command("submit")
def submit(name: PlanArg, by: AsOption, expect: ExpectOption = None, reason: ReasonOption = None,
           override: Annotated[str | None, typer.Option("--override", help="Submit despite SMART errors; the reason is kept in the version")] = None,
           db: DbOption = None, json: JsonOption = False) -> None:
    """draft → submitted (for approval), as a user who plans the whole plan; SMART errors block it unless overridden."""
    from attain.plans.service import submit_plan

    with open_session(db) as session:
        info = submit_plan(session=session, name=name, by=by, expect=expect, reason=reason, override=override)
    _status_change(info, name, json)


@plan_app.command("approve")
def approve(
    name: PlanArg, by: AsOption,
    expect: ExpectOption = None, reason: ReasonOption = None, db: DbOption = None, json: JsonOption = False,
) -> None:
    """submitted → approved, as a director or admin user other than the submitter; an approved revision goes into force."""
    from attain.plans.service import approve_plan

    with open_session(db) as session:
        info = approve_plan(session=session, name=name, by=by, expect=expect, reason=reason)
    _status_change(info, name, json)


@plan_app.command("revise")
def revise(name: PlanArg, reason: Annotated[str, typer.Option("--reason", help="Why the plan is reopened")], by: AsOption,
           effective_from: Annotated[str | None, typer.Option("--effective-from", help="First day the revision changes (default: start of this month)")] = None,
           expect: ExpectOption = None, db: DbOption = None, json: JsonOption = False) -> None:
    """Open a revision: an approved plan stays in force while the revision is a separate draft;
    periods before --effective-from are frozen. A submitted plan goes back to draft."""
    from attain.periods import parse_period
    from attain.plans.service import revise_plan

    with open_session(db) as session:
        start = parse_period(effective_from).start if effective_from else None
        info = revise_plan(session=session, name=name, by=by, reason=reason, expect=expect, effective_from=start)
    _status_change(info, name, json)
