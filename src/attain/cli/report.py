"""`attain report`: Reports: actuals, attainment, leaderboard, customers (ABC, RFM) and diagnosis."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from attain.cli.data import DbOption, JsonOption, open_session, parse_day
from attain.cli.output import console, print_json
from attain.errors import InvalidInput

report_app = typer.Typer(help="Reports: actuals, attainment, leaderboard, customers and diagnosis.", no_args_is_help=True)

# --- tracking: actuals, attainment, leaderboard ---------------------------------------------------

PeriodOption = Annotated[str, typer.Option(help="2027, 2027Q1, 2027-03, 2027-W10, a day, FY2027 or FY2027Q1")]
ByOption = Annotated[str | None, typer.Option(help="region | team | rep | product_line | customer_type | month, or a customer attribute: segment | grade | industry | channel | city | customer_region | rfm | attr:NAME; comma-separated")]
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Count sales up to this day (default: today)")]
EngineOption = Annotated[str, typer.Option(help="db (the Attain database) or duckdb (with --orders FILE)")]
OrdersOption = Annotated[Path | None, typer.Option(help="Parquet or CSV order file for --engine duckdb")]
LangOption = Annotated[str, typer.Option(help="zh (万/亿) or en number formatting in tables")]

STATUS_ZH = {"ahead": "领先", "on track": "正常", "at risk": "有风险", "behind": "落后", "not started": "未开始"}
SOURCE_ZH = {"own": "本级", "own (manager)": "经理本人(不计入合计)", "sum of children": "下级合计", "sum of rows": "各行合计"}



@contextmanager
def _tracking(db: str | None, engine: str, orders: Path | None) -> Iterator[tuple]:  # type: ignore[type-arg]
    """(session, runner) for the chosen engine; the DuckDB connection is closed afterwards."""
    from attain.tracking.engine import SessionRunner, open_duckdb, tables_read_by
    from attain.tracking.query import Grouping, actuals_statement

    if engine not in ("db", "duckdb"):
        raise InvalidInput(f"--engine '{engine}' is not db or duckdb")
    if engine == "duckdb" and orders is None:
        raise InvalidInput("--engine duckdb needs --orders FILE.parquet|csv")
    if engine == "db" and orders is not None:
        raise InvalidInput("--orders FILE goes with --engine duckdb")
    with open_session(db) as session:
        if engine == "db":
            yield session, SessionRunner(session)
            return
        sample = actuals_statement(
            metric="new_customers", grouping=Grouping(("product_line", "customer_type")),
            start=date(2000, 1, 1), end=date(2000, 1, 1),
        )
        runner = open_duckdb(session=session, orders=orders, tables=tables_read_by([sample]))  # type: ignore[arg-type]
        try:
            yield session, runner
        finally:
            runner.close()


HEADERS = {
    "region": ("大区", "region"), "team": ("团队", "team"), "rep": ("销售", "rep"), "product_line": ("产品线", "product line"),
    "customer_type": ("客户类型", "customer type"), "month": ("月份", "month"), "total": ("合计", "total"),
    "actual": ("实际", "actual"), "target": ("目标", "target"), "source": ("目标来源", "target of"),
    "attainment": ("达成率", "attained"), "pace": ("进度差", "pace gap"), "expected": ("应达", "expected"),
    "forecast": ("季节预测", "forecast"), "daily": ("日均需", "per day"), "status": ("状态", "status"),
    "rank": ("名次", "rank"), "milestones": ("里程碑", "milestones"), "first": ("首单", "first deal"),
    "streak": ("连续出单", "streak"),
    "segment": ("客户细分", "segment"), "grade": ("客户等级", "grade"), "industry": ("行业", "industry"),
    "channel": ("渠道", "channel"), "city": ("城市", "city"), "customer_region": ("客户区域", "customer region"),
    "rfm": ("RFM 分群", "RFM class"),
}


def _word(value: str | None, zh: dict[str, str], lang: str) -> str:
    return "" if value is None else zh.get(value, value) if lang == "zh" else value


def _h(key: str, lang: str) -> str:
    zh, en = HEADERS.get(key, (key.removeprefix("attr:"), key.removeprefix("attr:")))
    return zh if lang == "zh" else en


def _total_labels(dimensions: tuple[str, ...], lang: str) -> list[str]:
    return [_h("total", lang)] + [""] * (len(dimensions) - 1) if dimensions else []


@report_app.command("actuals")
def actuals_command(
    period: PeriodOption,
    by: ByOption = None,
    metric: Annotated[str, typer.Option(help="revenue | gross_profit | quantity | orders | new_customers")] = "revenue",
    as_of: AsOfOption = None,
    engine: EngineOption = "db",
    orders: OrdersOption = None,
    lang: LangOption = "zh",
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Actual sales per row over a period; needs no plan (explore data, check imports)."""
    from attain.tracking.attainment import actuals, resolve_period
    from attain.tracking.format import actuals_payload, human

    with _tracking(db, engine, orders) as (session, runner):
        span = resolve_period(session, period, today=parse_day(as_of))
        result = actuals(session=session, period=span, by=by, metric=metric, as_of=parse_day(as_of), runner=runner)
    if json:
        print_json(actuals_payload(result))
        return
    money = result.metric.is_money
    name = (result.metric.name_zh or result.metric.name) if lang == "zh" else result.metric.name
    title = f"{name} · {span.label} ({result.start} – {result.end}) · {result.engine}"
    table = Table(*[_h(d, lang) for d in result.dimensions], f"{name} ({result.metric.unit})", title=title)
    for row in result.rows:
        table.add_row(*row.labels, human(row.value, result.metric.scale, lang=lang, money=money))
    table.add_row(*_total_labels(result.dimensions, lang), human(result.total, result.metric.scale, lang=lang, money=money),
                  style="bold")
    console.print(table)


@report_app.command("attainment")
def attainment_command(
    period: PeriodOption,
    by: ByOption = None,
    plan: Annotated[str | None, typer.Option(help="Plan name (default: the newest approved plan covering the period)")] = None,
    metric: Annotated[str | None, typer.Option(help="Expect a plan of this metric (error otherwise)")] = None,
    as_of: AsOfOption = None,
    engine: EngineOption = "db",
    orders: OrdersOption = None,
    lang: LangOption = "zh",
    draft: Annotated[bool, typer.Option("--draft", help="Preview the pending revision instead of the version in force")] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Actual vs target per row: attainment, time progress, pace gap, forecasts, required daily, status.
    Targets come from the plan version in force (--draft previews a pending revision)."""
    from attain.tracking.attainment import attainment_columns, resolve_period
    from attain.tracking.format import attainment_columns_payload, human, percent

    with _tracking(db, engine, orders) as (session, runner):
        span = resolve_period(session, period, today=parse_day(as_of))
        report = attainment_columns(session=session, period=span, by=by, plan=plan, metric=metric,
                                    as_of=parse_day(as_of), runner=runner, parallel=True, preview=draft)
    if json:  # from the columns, no row objects (a rep × month year is 60,000 rows)
        print_json({**attainment_columns_payload(report), "draft_preview": draft})
        return
    result = report.view()
    if draft:
        console.print("[yellow]草稿预览 draft preview:[/yellow] targets of the pending revision, not the version in force",
                      highlight=False)
    scale, money = result.metric.scale, result.metric.is_money
    progress = result.total.progress
    title = (f"{result.plan} · {span.label} · 截至 {result.as_of} · 时间进度 {percent(progress.calendar_share)}"
             f"（工作日 {percent(progress.working_share)}）" if lang == "zh" else
             f"{result.plan} · {span.label} · as of {result.as_of} · time {percent(progress.calendar_share)}"
             f" (working days {percent(progress.working_share)})")
    columns = ("actual", "target", "source", "attainment", "pace", "expected", "forecast", "daily", "status")
    table = Table(*[_h(d, lang) for d in result.dimensions], *[_h(c, lang) for c in columns], title=title)

    def cells(row) -> list[str]:  # type: ignore[no-untyped-def]
        f = row.figures
        return [
            human(row.actual, scale, lang=lang, money=money), human(row.target, scale, lang=lang, money=money),
            _word(row.target_source, SOURCE_ZH, lang), percent(f.attainment), percent(f.pace_gap),
            human(f.expected_to_date, scale, lang=lang, money=money),
            human(f.seasonal_forecast, scale, lang=lang, money=money), human(f.required_daily, scale, lang=lang, money=money),
            _word(f.status, STATUS_ZH, lang),
        ]

    for row in result.rows:
        table.add_row(*row.labels, *cells(row))
    table.add_row(*_total_labels(result.dimensions, lang), *cells(result.total), style="bold")
    console.print(table)
    for warning in result.warnings:
        console.print(f"[yellow]note:[/yellow] {warning}", highlight=False)


@report_app.command("leaderboard")
def leaderboard_command(
    period: PeriodOption,
    by: Annotated[str, typer.Option(help="rep | team")] = "rep",
    plan: Annotated[str | None, typer.Option(help="Plan name (default: the newest approved plan covering the period)")] = None,
    as_of: AsOfOption = None,
    engine: EngineOption = "db",
    orders: OrdersOption = None,
    lang: LangOption = "zh",
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """战报墙: reps or teams ranked by attainment, with milestones (25/50/75/100 %, first deal, streaks)."""
    from attain.tracking.attainment import resolve_period
    from attain.tracking.format import human, leaderboard_payload, percent
    from attain.tracking.leaderboard import leaderboard

    with _tracking(db, engine, orders) as (session, runner):
        span = resolve_period(session, period, today=parse_day(as_of))
        result = leaderboard(session=session, period=span, by=by, plan=plan, as_of=parse_day(as_of), runner=runner)
    if json:
        print_json(leaderboard_payload(result))
        return
    report = result.report
    scale, money = report.metric.scale, report.metric.is_money
    title = f"{'战报墙' if lang == 'zh' else 'Leaderboard'} · {report.plan} · {span.label} · {report.as_of}"
    table = Table(_h("rank", lang), _h(by, lang), _h("actual", lang), _h("target", lang), _h("attainment", lang),
                  _h("milestones", lang), _h("first", lang), _h("streak", lang), title=title)
    for leader in result.rows:
        row, marks = leader.row, leader.milestones
        reached = " ".join(f"{int(share * 100)}%" for share, day in marks.reached if day is not None)
        streak = (f"{marks.current_day_streak}天 / 最长{marks.longest_day_streak}天" if lang == "zh"
                  else f"{marks.current_day_streak}d (best {marks.longest_day_streak}d)")
        table.add_row(str(leader.rank), row.labels[0], human(row.actual, scale, lang=lang, money=money),
                      human(row.target, scale, lang=lang, money=money), percent(row.figures.attainment), reached,
                      marks.first_deal.isoformat() if marks.first_deal else "", streak)
    console.print(table)


# --- customers: ABC grades, RFM segments, lifecycle (attain.catalog.activity / grading) ------------

CUSTOMER_HEADERS = {
    "code": ("客户编码", "code"), "name": ("客户名称", "name"), "revenue": ("近12月销售额", "revenue 12m"),
    "orders": ("订单数", "orders"), "recency": ("距上次(天)", "recency (days)"), "rfm": ("R/F/M", "R/F/M"),
    "segment": ("RFM分群", "RFM segment"), "abc": ("ABC", "ABC"), "lifecycle": ("生命周期", "lifecycle"),
    "grade": ("等级", "grade"), "customers": ("客户数", "customers"), "share": ("销售额占比", "revenue share"),
    "count": ("客户数", "customers"),
}
DEFAULT_TABLE_ROWS = 50


def _ch(key: str, lang: str) -> str:
    zh, en = CUSTOMER_HEADERS[key]
    return zh if lang == "zh" else en


def _label(labels: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    zh, en = labels.get(key, (key, key))
    return zh if lang == "zh" else en


def _fen(value: int) -> str:
    """Fen as an exact yuan string for JSON: 123456 → '1234.56'."""
    return str(Decimal(value).scaleb(-2))


def customers_payload(result, shown) -> dict:  # type: ignore[no-untyped-def,type-arg]
    from attain.tracking.format import share

    return {
        "as_of": result.as_of, "since": result.since, "node": result.scope.code if result.scope else None,
        "abc": {"a": str(Decimal(result.thresholds.a_bp) / 100), "b": str(Decimal(result.thresholds.b_bp) / 100)},
        "customers": len(result.rows), "revenue": _fen(result.revenue),
        "summary": {
            "grades": {grade: {"customers": g.customers, "revenue": _fen(g.revenue),
                               "share": None if g.share is None else share(g.share)} for grade, g in result.grades.items()},
            "segments": result.segments, "lifecycle": result.lifecycle,
        },
        "rows": [{
            "code": row.activity.code, "name": row.activity.name, "revenue": _fen(row.activity.amount),
            "orders": row.activity.orders, "last_order": row.activity.last_order, "first_order": row.activity.first_order,
            "recency_days": row.recency_days, "r": row.r, "f": row.f, "m": row.m, "segment": row.segment,
            "abc": row.abc, "lifecycle": row.lifecycle,
        } for row in shown],
    }


@report_app.command("customers")
def customers_command(
    as_of: AsOfOption = None,
    node: Annotated[str | None, typer.Option(help="Only the customers of the reps under this org node (code or name)")] = None,
    abc: Annotated[str, typer.Option(help="Revenue shares of grades A and B in %, C is the rest")] = "80,15",
    limit: Annotated[int | None, typer.Option(help="Rows to show (default: 50 in the table, all in --json); 0 = all")] = None,
    lang: LangOption = "zh",
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Customer grading over the last 12 months: revenue, orders, recency, RFM scores and segment, ABC, lifecycle."""
    from attain.catalog.activity import grade_customers
    from attain.catalog.grading import GRADES, LIFECYCLE, RFM_SEGMENTS, AbcThresholds
    from attain.org.service import require_node
    from attain.tracking.format import human, percent

    if lang not in ("zh", "en"):
        raise InvalidInput(f"--lang '{lang}' is not zh or en")
    if limit is not None and limit < 0:
        raise InvalidInput(f"--limit {limit} must be 0 (all rows) or more")
    thresholds = AbcThresholds.parse(abc)
    day = parse_day(as_of) or date.today()
    with open_session(db) as session:
        scope = require_node(session=session, key=node) if node else None
        if scope is not None and scope.parent_id is None:
            scope = None  # the company: every line, those without a rep included
        result = grade_customers(session=session, scope=scope, as_of=day, thresholds=thresholds)
    count = limit or (len(result.rows) if json or limit == 0 else DEFAULT_TABLE_ROWS)
    shown = result.rows[:count]
    if json:
        print_json(customers_payload(result, shown))
        return
    segment_labels = RFM_SEGMENTS | {"prospect": ("潜在", "prospect")}
    where = result.scope.name if result.scope else ("全公司" if lang == "zh" else "company")
    title = (f"客户分级 · {where} · {result.since} – {result.as_of} · ABC {thresholds.label()}" if lang == "zh" else
             f"Customers · {where} · {result.since} – {result.as_of} · ABC {thresholds.label()}")
    table = Table(*[_ch(k, lang) for k in ("code", "name", "revenue", "orders", "recency", "rfm", "segment", "abc", "lifecycle")],
                  title=title)
    for row in shown:
        a = row.activity
        table.add_row(a.code, a.name, human(a.amount, 2, lang=lang), str(a.orders),
                      "" if row.recency_days is None else str(row.recency_days), f"{row.r}/{row.f}/{row.m}" if row.r else "",
                      _label(segment_labels, row.segment, lang), row.abc, _label(LIFECYCLE, row.lifecycle, lang))
    console.print(table)
    if len(shown) < len(result.rows):
        more = len(result.rows) - len(shown)
        console.print(f"… 另有 {more} 位客户（--limit 0 显示全部）" if lang == "zh" else f"… {more} more customers (--limit 0 shows all)",
                      highlight=False)
    grades = Table(_ch("grade", lang), _ch("customers", lang), _ch("revenue", lang), _ch("share", lang))
    for grade in GRADES:
        g = result.grades[grade]
        grades.add_row(grade, str(g.customers), human(g.revenue, 2, lang=lang), percent(g.share))
    grades.add_row(_h("total", lang), str(len(result.rows)), human(result.revenue, 2, lang=lang), "", style="bold")
    console.print(grades)
    segments = Table(_ch("segment", lang), _ch("count", lang))
    for key, n in result.segments.items():
        segments.add_row(_label(segment_labels, key, lang), str(n))
    console.print(segments)


# --- diagnosis: gap attribution and P(hit) (cli/diagnosis.py, owned by the diagnosis side of issue 6) ---

from attain.cli.diagnosis import register_reports

register_reports(report_app)
