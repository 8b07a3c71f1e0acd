"""`attain credit`: Crediting rules: who gets credit for a sale, when and for how much."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from rich.table import Table

from attain.cli.data import (
    DbOption,
    JsonOption,
    _require_schema,
    open_session,
    parse_day,
)
from attain.cli.output import console, print_json
from attain.db import resolve_database_url, session_scope
from attain.errors import InvalidInput
from attain.periods import parse_period

credit_app = typer.Typer(help="Crediting rules: who gets credit for a sale, when and for how much.", no_args_is_help=True)

PlanOption = Annotated[str | None, typer.Option("--plan", help="Plan name (default: the company rule)")]



def _yuan(fen: int) -> str:
    return f"{Decimal(fen).scaleb(-2):,.2f}"


@credit_app.command("rules")
def rules(
    plan: PlanOption = None,
    event: Annotated[str | None, typer.Option(help="booked | shipped | invoiced | paid: the event whose date puts a sale in a period")] = None,
    basis: Annotated[str | None, typer.Option(help="net | gross_profit: the amount credited")] = None,
    returns_in: Annotated[str | None, typer.Option("--returns-in", help="return | sale: the period a return reduces")] = None,
    reassign: Annotated[bool | None, typer.Option("--reassign/--owner-at-sale", help="credit the current owner instead of the owner at the sale")] = None,
    base_currency: Annotated[str | None, typer.Option("--base-currency", help="currency of the credited amounts, e.g. CNY")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Show the crediting rule of a plan (or the company default); options change it."""
    from attain.credit.service import get_rule, set_rule
    from attain.plans.service import resolve_plan
    from attain.settings.service import get_setting

    with open_session(db) as session:
        chosen = resolve_plan(session=session, name=plan) if plan else None
        if any(v is not None for v in (event, basis, returns_in, reassign, base_currency)):
            rule = set_rule(session=session, plan=chosen, event=event, basis=basis, returns_in=returns_in,
                            reassign=reassign, base_currency=base_currency)
        else:
            rule = get_rule(session=session, plan=chosen)
        payload = {**rule.as_dict(), "exclude_returns": bool(get_setting(session, "exclude_returns"))}
    if json:
        print_json(payload)
        return
    table = Table("setting / 设置", "value / 值", title=f"crediting rule · {payload['plan'] or 'company default / 公司默认'}")
    labels = {"event": "计入事件 event", "basis": "金额口径 basis", "returns_in": "退货计入期间 returns in",
              "reassign": "按现负责人 reassign", "base_currency": "本位币 base currency",
              "exclude_returns": "排除退货 exclude_returns (company setting)", "inherited": "继承公司默认 inherited"}
    for key, label in labels.items():
        table.add_row(label, str(payload[key]))
    console.print(table)


@credit_app.command("set")
def set_(
    order: Annotated[str, typer.Option("--order", help="Order id")],
    rep: Annotated[list[str], typer.Option("--rep", help="REP:PERCENT, repeatable; direct shares sum to 100")] = [],  # noqa: B006
    line: Annotated[str | None, typer.Option("--line", help="Only this line of the order")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the split: the lines go back to their owner")] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Split the direct credit of an order (or one line) between reps."""
    from attain.credit.calc import parse_share
    from attain.credit.service import clear_split, list_splits, set_split

    with open_session(db) as session:
        if clear:
            clear_split(session=session, order_id=order, line_id=line)
            rows = list_splits(session=session, order_id=order)
        else:
            if not rep:
                raise InvalidInput("give the shares with --rep CODE:PERCENT (repeatable), or --clear")
            shares = []
            for text in rep:
                key, bp = parse_share(text, what=f"order {order}")
                if bp is None:
                    raise InvalidInput(f"order {order}: --rep {text} needs a percentage, e.g. {text}:50")
                shares.append((key, bp))
            rows = set_split(session=session, order_id=order, line_id=line, shares=shares)
    _print_splits(rows, order, json)


def _print_splits(rows: list[dict[str, object]], order: str, json: bool) -> None:
    if json:
        print_json({"order": order, "splits": rows})
        return
    table = Table("line", "kind", "rep", "%", "source", title=f"credit of order {order}")
    for row in rows:
        table.add_row(str(row["line"] or "all"), str(row["kind"]), str(row["rep"]), str(row["percent"]), str(row["source"]))
    if not rows:
        console.print(f"Order {order} is credited to its owner (100 %).")
        return
    console.print(table)


@credit_app.command("show")
def show(
    order: Annotated[str, typer.Option("--order", help="Order id")],
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """The split and overlay credit stored for an order."""
    from attain.credit.service import list_splits

    with open_session(db) as session:
        rows = list_splits(session=session, order_id=order)
    _print_splits(rows, order, json)


@credit_app.command("overlay")
def overlay(
    rep: Annotated[str, typer.Option("--rep", help="The rep credited on top (manager, specialist)")],
    order: Annotated[str | None, typer.Option("--order", help="Order id")] = None,
    line: Annotated[str | None, typer.Option("--line", help="Only this line of the order")] = None,
    team: Annotated[str | None, typer.Option("--team", help="Every direct sale of this team or region")] = None,
    percent: Annotated[str, typer.Option("--percent", help="Overlay share in percent")] = "100",
    from_: Annotated[str | None, typer.Option("--from", help="Team overlay: first day (YYYY-MM-DD)")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Team overlay: first day no longer covered")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Overlay credit: 100 % (or --percent) on top of the direct credit, never summed into team totals."""
    from attain.credit.calc import percent_to_bp
    from attain.credit.service import add_overlay

    share = percent_to_bp(percent, what="--percent")
    with open_session(db) as session:
        payload = add_overlay(session=session, rep=rep, order_id=order, line_id=line, team=team, share_bp=share,
                              valid_from=parse_day(from_, "--from"), valid_to=parse_day(to, "--to"))
    if json:
        print_json(payload)
    else:
        target = f"team {payload['team']}" if "team" in payload else f"order {payload['order']}"
        console.print(f"{payload['rep']} gets {payload['share_percent']} % overlay credit on {target}.")


@credit_app.command("move-rep")
def move_rep(
    code: Annotated[str, typer.Argument(help="Rep code")],
    team: Annotated[str, typer.Option("--team", help="The new team (or region)")],
    from_: Annotated[str, typer.Option("--from", help="First day in the new team (YYYY-MM-DD)")],
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Move a rep to another team from a date; earlier sales stay with the old team."""
    from attain.credit.service import move_rep as move

    with open_session(db) as session:
        rows = move(session=session, rep=code, team=team, from_date=parse_day(from_, "--from"))  # type: ignore[arg-type]
    if json:
        print_json(rows)
        return
    table = Table("node", "from", "to", title=f"positions of {code}")
    for row in rows:
        table.add_row(str(row["node"]), str(row["valid_from"]), str(row["valid_to"] or ""))
    console.print(table)


@credit_app.command("assign")
def assign(
    rep: Annotated[str, typer.Option("--rep", help="The new owner")],
    from_: Annotated[str, typer.Option("--from", help="First day of the new owner (YYYY-MM-DD)")],
    customer: Annotated[str | None, typer.Option("--customer", help="Customer code or name")] = None,
    region: Annotated[str | None, typer.Option("--region", help="Territory (region) code or name")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Hand a customer or territory to a rep from a date (credit follows the owner at the sale)."""
    from attain.credit.service import assign as give

    with open_session(db) as session:
        payload = give(session=session, rep=rep, from_date=parse_day(from_, "--from"), customer=customer, region=region)  # type: ignore[arg-type]
    if json:
        print_json(payload)
    else:
        console.print(f"{payload.get('customer') or payload.get('region')} belongs to {payload['rep']} from {payload['valid_from']}.")


@credit_app.command("rate")
def rate(
    currency: Annotated[str, typer.Argument(help="Currency code, e.g. USD")],
    value: Annotated[str, typer.Argument(help="Units of the base currency per unit, e.g. 7.1")],
    from_: Annotated[str, typer.Option("--from", help="First day the rate applies (YYYY-MM-DD)")],
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Record a conversion rate, in force until the next rate of the same currency."""
    from attain.credit.service import set_rate

    try:
        number = Decimal(value)
    except InvalidOperation:
        raise InvalidInput(f"rate '{value}' is not a number") from None
    with open_session(db) as session:
        rows = set_rate(session=session, currency=currency, valid_from=parse_day(from_, "--from"), rate=number)  # type: ignore[arg-type]
    if json:
        print_json(rows)
        return
    table = Table("currency", "from", "to", "rate", title="currency rates")
    for row in rows:
        table.add_row(str(row["currency"]), str(row["valid_from"]), str(row["valid_to"] or ""), str(row["rate"]))
    console.print(table)


@credit_app.command("explain")
def explain(
    rep: Annotated[str, typer.Option("--rep", help="Rep code or name")],
    period: Annotated[str, typer.Option("--period", help="2027, 2027Q1, 2027-03, 2027-W10 or a day")],
    plan: PlanOption = None,
    reassign: Annotated[bool | None, typer.Option("--reassign/--owner-at-sale", help="override the rule")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Every line behind a rep's actual, with the rule that credited it."""
    from attain.credit.service import explain as explain_rep

    url = resolve_database_url(db)
    _require_schema(url)
    span = parse_period(period)
    with session_scope(url) as session:
        payload = explain_rep(session=session, rep=rep, period=span, plan=plan, reassign=reassign)
    if json:
        print_json(payload)
        return
    table = Table("date", "order", "line", "kind", "rule", "%", "line amount", "credited", "note",
                  title=f"{payload['rep']} {payload['name']} · {payload['period']}")
    for row in payload["lines"]:  # type: ignore[attr-defined]
        table.add_row(str(row["credit_date"]), str(row["order"]), str(row["line"]), row["kind"], row["rule"],
                      str(row["share_percent"]), f"{row['line_amount'] / 100:,.2f} {row['currency']}", _yuan(row["amount"]), row["note"])
    console.print(table)
    console.print(f"direct 直接业绩 {_yuan(payload['direct'])}  overlay 叠加业绩 {_yuan(payload['overlay'])}  "  # type: ignore[arg-type]
                  f"total 合计 {_yuan(payload['total'])}")  # type: ignore[arg-type]
    for row in payload["excluded_returns"]:  # type: ignore[attr-defined]
        console.print(f"[yellow]excluded return 排除退货: order {row['order']} line {row['line']} {row['line_amount'] / 100:,.2f} ({row['reason']})[/yellow]")


@credit_app.command("rollup")
def rollup(
    node: Annotated[str, typer.Argument(help="Manager (rep), team, region or company code")],
    period: Annotated[str, typer.Option("--period", help="2027, 2027Q1, 2027-03 …")],
    plan: PlanOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Credited direct sales of everyone under a node at the time, and the node's own overlay credit."""
    from attain.credit.service import rollup as node_rollup

    url = resolve_database_url(db)
    _require_schema(url)
    span = parse_period(period)
    with session_scope(url) as session:
        payload = node_rollup(session=session, node=node, period=span, plan=plan)
    if json:
        print_json(payload)
        return
    console.print(f"{payload['node']} {payload['name']} ({payload['kind']}) · {payload['period']}: "
                  f"direct 下属直接业绩 {_yuan(payload['direct'])} over {payload['lines']:,} rows; "  # type: ignore[arg-type]
                  f"own overlay 本人叠加业绩 {_yuan(payload['own_overlay'])}")  # type: ignore[arg-type]
