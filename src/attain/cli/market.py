"""`attain market`: market sizes and shares, competitor events, the market-anchored target and early warning."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.table import Table

from attain.cli.data import DbOption, JsonOption, open_session, parse_day
from attain.cli.output import console, print_json
from attain.errors import InvalidInput

market_app = typer.Typer(help="Market inputs: sizes, shares, competitor events; anchoring and early warning.", no_args_is_help=True)

HireOption = Annotated[list[str], typer.Option("--hire", help="A planned hire's start date (YYYY-MM-DD), or N@YYYY-MM-DD for N hires; repeatable")]


def _yuan(fen: int | None) -> str:
    return "" if fen is None else f"{Decimal(fen).scaleb(-2):,.2f}"


def _pct(value: Decimal | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def parse_hires(texts: list[str]) -> tuple[date, ...]:
    """'2027-03-01' or '2@2027-03-01' → start dates, one per hire."""
    days: list[date] = []
    for text in texts:
        count, _, day = text.rpartition("@")
        try:
            n = int(count) if count else 1
        except ValueError:
            raise InvalidInput(f"--hire '{text}' should look like 2027-03-01 or 2@2027-03-01") from None
        if not 1 <= n <= 1000:
            raise InvalidInput(f"--hire '{text}': between 1 and 1000 hires")
        start = parse_day(day, "--hire")
        assert start is not None
        days.extend([start] * n)
    return tuple(days)


def anchor_payload(report: Any) -> dict[str, Any]:
    a = report.anchor
    m = report.marketing
    return {
        "year": report.year, "market_size": _plain(a.market_size), "share": str(a.share), "market_target": _plain(a.market_target),
        "history": _plain(a.history), "headroom": str(a.headroom.quantize(Decimal("0.0001"))) if a.headroom is not None else None,
        "baseline": report.baseline.as_dict(),
        "capacity": {"total": _plain(a.capacity), "reps": _plain(a.rep_capacity), "headcount": report.capacity.headcount,
                     "hires": [d.isoformat() for d in report.hires], "hires_capacity": _plain(a.hires_capacity),
                     "marketing_capacity": _plain(a.marketing_capacity),
                     "productivity_per_month": _plain(a.productivity_per_month), "new_rep_output": _plain(a.new_rep_output)},
        "marketing": None if m is None else {
            "budget": _plain(m.budget), "change": str(m.change), "extra_budget": _plain(m.extra_budget),
            "lead_yield_per_10k": str(m.lead_yield), "lead_yield_basis": m.yield_basis, "extra_leads": str(m.extra_leads.quantize(Decimal("0.1"))),
            "win_rate": str(m.win_rate), "deal_size": _plain(m.deal_size)},
        "gap": _plain(a.gap), "extra_reps": a.extra_reps, "productivity_lift": str(a.productivity_lift),
        "words": {"zh": report.words_zh, "en": report.words_en},
    }


def _plain(fen: int | None) -> str | None:
    return None if fen is None else str(Decimal(fen).scaleb(-2))


def print_anchor(report: Any) -> None:
    """The market, capacity and history views side by side, then the gap in words."""
    a = report.anchor
    table = Table("视角 view", "值 value", "说明 basis", title=f"{report.year} 市场 · 产能 · 历史 / market · capacity · history")
    table.add_row("市场规模 market size", _yuan(a.market_size), "")
    table.add_row("市场目标 market target", _yuan(a.market_target), f"× 份额 share {_pct(a.share)}")
    table.add_row("历史 history (last year)", _yuan(a.history), report.baseline.label
                  + (f", 市场空间 headroom {_pct(a.headroom)}" if a.headroom is not None else ""))
    table.add_row("产能 capacity: 现有销售 reps", _yuan(a.rep_capacity), f"{report.capacity.headcount} reps × ramp × "
                  f"{_yuan(a.productivity_per_month)}/month")
    if report.hires:
        table.add_row("  + 新增销售 hires", _yuan(a.hires_capacity), ", ".join(sorted({d.isoformat() for d in report.hires}))
                      + f" ({len(report.hires)})")
    if report.marketing is not None:
        m = report.marketing
        table.add_row("  + 市场费用 marketing", _yuan(a.marketing_capacity),
                      f"{m.change * 100:+.0f}% of {_yuan(m.budget)} → {m.extra_leads:.1f} leads "
                      f"({m.lead_yield}/万, {m.yield_basis}) × win {_pct(m.win_rate)} × {_yuan(m.deal_size)}")
    table.add_row("产能合计 capacity total", _yuan(a.capacity), "")
    table.add_row("缺口 gap (market − capacity)", _yuan(a.gap), "")
    console.print(table)
    console.print(report.words_zh, highlight=False)
    console.print(report.words_en, highlight=False)


@market_app.command("list")
def list_command(
    year: Annotated[int | None, typer.Option("--year", help="Only periods of this year")] = None,
    region: Annotated[str | None, typer.Option("--region", help="Only this region (code or name)")] = None,
    db: DbOption = None, json: JsonOption = False,
) -> None:
    """Market sizes with growth, own share and the competitors' shares."""
    from attain.market.service import list_market

    with open_session(db) as session:
        rows = list_market(session=session, year=year, region=region)
    if json:
        print_json([{"id": r.id, "region": r.region, "product_line": r.product_line, "period": r.period, "size": _plain(r.size),
                     "previous_size": _plain(r.previous_size), "growth": str(r.growth) if r.growth is not None else None,
                     "own_share": str(r.own_share) if r.own_share is not None else None,
                     "competitors": {p: str(s) for p, s in r.competitors}, "source": r.source,
                     "source_date": r.source_date.isoformat() if r.source_date else None} for r in rows])
        return
    table = Table("区域 region", "产品线 line", "期间 period", "市场规模 size", "增长 growth", "本公司 own", "竞争对手 competitors", "来源 source")
    for r in rows:
        table.add_row(r.region, r.product_line or "*", r.period, _yuan(r.size), _pct(r.growth), _pct(r.own_share),
                      ", ".join(f"{p} {_pct(s)}" for p, s in r.competitors),
                      f"{r.source or ''} {r.source_date or ''}".strip())
    console.print(table)


@market_app.command("set")
def set_command(
    region: Annotated[str, typer.Option("--region", help="Region (or company) code or name")],
    period: Annotated[str, typer.Option("--period", help="2027, 2027Q1 or 2027-03")],
    size: Annotated[str, typer.Option("--size", help="Market size in yuan: 7333333 or 733.33万")],
    line: Annotated[str | None, typer.Option("--line", help="Product line (default: all lines)")] = None,
    growth: Annotated[str | None, typer.Option("--growth", help="Industry growth, e.g. 8%")] = None,
    own_share: Annotated[str | None, typer.Option("--own-share", help="The company's share estimate, e.g. 20%")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Where the figure comes from")] = None,
    source_date: Annotated[str | None, typer.Option("--source-date", help="Date of the source, YYYY-MM-DD")] = None,
    db: DbOption = None, json: JsonOption = False,
) -> None:
    """Record (or correct) one market size; a lower figure than before is a market change."""
    from attain.market.models import OWN
    from attain.market.service import parse_rate, parse_share, put_market_size, put_share, require_line, require_region
    from attain.periods import parse_period
    from attain.plans.setting import parse_money

    with open_session(db) as session:
        node = require_region(session=session, key=region)
        line_id = require_line(session=session, key=line).id if line else None
        when = parse_period(period)
        amount = parse_money(size, 2, "--size")
        inserted = put_market_size(session=session, region_id=node.id, product_node_id=line_id, period=when, size=amount,
                                   growth=parse_rate(growth, "--growth") if growth else None, source=source,
                                   source_date=parse_day(source_date, "--source-date"), commit=False)
        if own_share:
            put_share(session=session, region_id=node.id, product_node_id=line_id, period=when, player=OWN,
                      share=parse_share(own_share, "--own-share"), source=source, commit=False)
        session.commit()
    if json:
        print_json({"inserted": inserted, "region": node.code, "period": when.label, "size": _plain(amount)})
        return
    console.print(f"Market {node.code} {line or '*'} {when.label}: {_yuan(amount)} ({'recorded' if inserted else 'updated'})")


@market_app.command("events")
def events_command(
    region: Annotated[str | None, typer.Option("--region", help="Only this region")] = None,
    start: Annotated[str | None, typer.Option("--from", help="From YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option("--to", help="To YYYY-MM-DD")] = None,
    db: DbOption = None, json: JsonOption = False,
) -> None:
    """Competitor events, oldest first."""
    from attain.market.service import list_events

    with open_session(db) as session:
        rows = list_events(session=session, start=parse_day(start, "--from"), end=parse_day(end, "--to"), region=region)
    if json:
        print_json([{"id": r.id, "date": r.day.isoformat(), "region": r.region, "product_line": r.product_line,
                     "competitor": r.competitor, "kind": r.kind, "severity": r.severity, "note": r.note} for r in rows])
        return
    table = Table("#", "日期 date", "区域 region", "产品线 line", "对手 competitor", "类型 kind", "严重度 severity", "备注 note")
    for r in rows:
        table.add_row(str(r.id), r.day.isoformat(), r.region, r.product_line or "*", r.competitor or "", r.kind, str(r.severity), r.note or "")
    console.print(table)


def _warn(session: Any, plan: str | None, by: str | None, as_of: date) -> list[Any]:
    from attain.market.service import early_warning, in_force_plans

    if by is None:
        return []
    names = [plan] if plan else sorted({p.name for p in in_force_plans(session=session, day=as_of)})
    return [early_warning(session=session, plan=name, by=by, as_of=as_of) for name in names]


def _print_warnings(warnings: list[Any]) -> None:
    for w in warnings:
        p = w.proposal
        if w.repeated:
            console.print(f"{p.plan}: these market signals were proposed already (see attain alerts inbox)")
            continue
        if not p.moves:
            console.print(f"{p.plan}: no open cell is affected; nothing proposed")
            continue
        table = Table("区域 region", "期间 period", "产品线 line", "原目标 before", "建议 after", "变化 delta", "原因 why",
                      title=f"{p.plan} 草稿 draft v{w.draft_version}: 重新分配 re-weighting from {p.open_from}")
        for m in p.moves:
            table.add_row(p.region_codes[m.region_id], m.period, p.line_codes.get(m.product_node_id, "*") if m.product_node_id else "*",
                          _yuan(m.before), _yuan(m.after), _yuan(m.delta), ", ".join(m.why))
        console.print(table)
        for s in p.signals:
            if any(s.key in m.why for m in p.moves):
                console.print(f"  {s.key}: {s.why_zh} / {s.why_en}", highlight=False)
        console.print(f"{_yuan(p.moved)} moved to the other regions' open cells of the same months; "
                      f"{w.alerts} alert(s) carry the proposal; approve the draft to put it in force.", highlight=False)


def _warnings_payload(warnings: list[Any]) -> list[dict[str, Any]]:
    return [{"plan": w.proposal.plan, "draft_version": w.draft_version, "alerts": w.alerts, "repeated": w.repeated,
             "moved": _plain(w.proposal.moved),
             "regions": [w.proposal.details(r) for r in sorted({m.region_id for m in w.proposal.moves})]} for w in warnings]


@market_app.command("event")
def event_command(
    region: Annotated[str, typer.Option("--region", help="Region code or name")],
    kind: Annotated[str, typer.Option("--kind", help="price_cut | new_product | campaign")],
    severity: Annotated[int, typer.Option("--severity", help="1 low, 2 medium, 3 high")],
    day: Annotated[str, typer.Option("--date", help="When, YYYY-MM-DD")],
    line: Annotated[str | None, typer.Option("--line", help="Product line (default: all lines)")] = None,
    competitor: Annotated[str | None, typer.Option("--competitor", help="Who")] = None,
    note: Annotated[str | None, typer.Option("--note", help="What happened")] = None,
    by: Annotated[str | None, typer.Option("--by", help="User recording it; with it, the early warning opens a draft revision of the plans in force")] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="Only this plan (default: every plan in force on the date)")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Today, YYYY-MM-DD (default: the event's date)")] = None,
    db: DbOption = None, json: JsonOption = False,
) -> None:
    """Record a competitor event; with --by, propose the re-weighting as a draft revision and an alert."""
    from attain.market.service import add_event, require_line, require_region

    when = parse_day(day, "--date")
    assert when is not None
    with open_session(db) as session:
        node = require_region(session=session, key=region)
        event = add_event(session=session, day=when, region_id=node.id, kind=kind, severity=severity,
                          product_node_id=require_line(session=session, key=line).id if line else None,
                          competitor=competitor, note=note)
        warnings = _warn(session, plan, by, parse_day(as_of) or when)
    if json:
        print_json({"id": event.id, "warnings": _warnings_payload(warnings)})
        return
    console.print(f"Competitor event #{event.id} recorded: {node.code} {when} {kind} (severity {severity})")
    _print_warnings(warnings)


@market_app.command("event-edit")
def event_edit_command(
    event_id: Annotated[int, typer.Argument(help="Event number (attain market events)")],
    kind: Annotated[str | None, typer.Option("--kind")] = None,
    severity: Annotated[int | None, typer.Option("--severity")] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
    day: Annotated[str | None, typer.Option("--date")] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Remove the event")] = False,
    db: DbOption = None,
) -> None:
    """Correct or remove a competitor event."""
    from attain.market.service import delete_event, update_event

    with open_session(db) as session:
        if delete:
            delete_event(session=session, event_id=event_id)
            console.print(f"Competitor event #{event_id} deleted")
            return
        update_event(session=session, event_id=event_id, kind=kind, severity=severity, note=note, day=parse_day(day, "--date"))
    console.print(f"Competitor event #{event_id} updated")


@market_app.command("warn")
def warn_command(
    by: Annotated[str, typer.Option("--by", help="User the draft revision is opened by")],
    plan: Annotated[str | None, typer.Option("--plan", help="Only this plan (default: every plan in force)")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Today, YYYY-MM-DD")] = None,
    db: DbOption = None, json: JsonOption = False,
) -> None:
    """Early warning: propose the re-weighting of the open periods that the recorded market signals call
    for, as a draft revision (the approved version stays in force) and an alert per region."""
    day = parse_day(as_of) or date.today()
    with open_session(db) as session:
        warnings = _warn(session, plan, by, day)
    if json:
        print_json(_warnings_payload(warnings))
        return
    if not warnings:
        console.print("no plan in force on " + day.isoformat())
    _print_warnings(warnings)


@market_app.command("anchor")
def anchor_command(
    year: Annotated[int, typer.Option("--year", help="Plan year")],
    share: Annotated[str, typer.Option("--share", help="Target share of the market, e.g. 0.3 or 30%")],
    hire: HireOption = [],  # noqa: B006
    productivity: Annotated[str | None, typer.Option("--productivity", help="Output of a fully ramped rep per month (default: learned)")] = None,
    budget: Annotated[str | None, typer.Option("--budget", help="Marketing budget of the year before the change (default: last year's spend)")] = None,
    budget_change: Annotated[str | None, typer.Option("--budget-change", help="Change of the marketing budget, e.g. 30%")] = None,
    lead_yield: Annotated[str | None, typer.Option("--lead-yield", help="Leads per 10,000 yuan (default: learned from spend and leads)")] = None,
    win_rate: Annotated[str | None, typer.Option("--win-rate", help="Won / closed (default: learned)")] = None,
    deal_size: Annotated[str | None, typer.Option("--deal-size", help="Yuan per won deal (default: learned)")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Today for the baseline, YYYY-MM-DD")] = None,
    db: DbOption = None, json: JsonOption = False,
) -> None:
    """Market × share next to capacity and history, with the gap in words (writes nothing)."""
    from attain.market.service import anchor

    with open_session(db) as session:
        report = anchor(session=session, year=year, share=share, hires=parse_hires(hire), productivity=productivity,
                        budget=budget, budget_change=budget_change, lead_yield=lead_yield, win_rate=win_rate,
                        deal_size=deal_size, as_of=parse_day(as_of))
    if json:
        print_json(anchor_payload(report))
        return
    print_anchor(report)
