"""Weekly review pack (`attain review --week 2027-W10 --out review.xlsx|review.html`).

One pack for the Monday meeting, counted to the last day of the week: attainment and leaderboard
of the week's month (the month of its Thursday) to date, the week's gap attribution (vs target), the month's probability of hitting the
target, the alerts raised during the week, and charts. Excel gets native XlsxWriter charts; HTML is
one self-contained file with inline SVG bars (no script, no CDN).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.errors import InvalidInput
from attain.org.models import OrgNode
from attain.periods import Grain, Period, parse_period, period_of
from attain.spreadsheets import new_workbook, write_cell
from attain.tracking.attainment import Attainment, attainment
from attain.tracking.diagnosis import Diagnosis, diagnose
from attain.tracking.leaderboard import Leaderboard, leaderboard
from attain.tracking.models import AlertEvent, AlertRule
from attain.tracking.pipeline import Forecast, forecast

REVIEW_DRAWS = 5_000


@dataclass(frozen=True)
class AlertLine:
    as_of: str
    node: str
    rule: str
    period: str
    message: str


@dataclass(frozen=True)
class ReviewPack:
    week: Period
    month: Period
    as_of: object
    attainment: Attainment
    leaderboard: Leaderboard
    diagnosis: Diagnosis
    forecast: Forecast
    alerts: tuple[AlertLine, ...]


def build_review(*, session: Session, week: str, by: str = "rep", plan: str | None = None,
                 today: date | None = None) -> ReviewPack:
    """Gather every table of the pack for the ISO week `week`, counted to its Sunday or, for the
    week under way, to `today` (default: the real today) — never to a day that has not come."""
    span = parse_period(week)
    if span.grain is not Grain.WEEK:
        raise InvalidInput(f"--week '{week}' is not an ISO week; use e.g. 2027-W10", code="period.not_week",
                           params={"text": week})
    if by not in ("rep", "team"):
        raise InvalidInput.coded("tracking.review.review_pack_lists_rep", by=by)
    today = today or date.today()
    if today < span.start:
        raise InvalidInput.coded("review.future_week", week=span.label, today=today)
    as_of = min(span.end, today)
    # The month the week belongs to is the month of its Thursday (ISO rule): W44 of 2026 (26 Oct –
    # 1 Nov) reviews October, complete at as-of, not the single Sunday of November.
    month = period_of(span.start + timedelta(days=3), Grain.MONTH)
    report = attainment(session=session, period=month, by=by, plan=plan, as_of=as_of, metric="revenue")
    board = leaderboard(session=session, period=month, by=by, plan=report.plan, as_of=as_of)
    diagnosis = diagnose(session=session, period=span, level=by, reference="target", as_of=as_of, plan=report.plan)
    outlook = forecast(session=session, period=month, level=by, as_of=as_of, plan=report.plan, draws=REVIEW_DRAWS)
    alert_rows = session.execute(
        select(AlertEvent, AlertRule.code, OrgNode.code, OrgNode.name)
        .join(AlertRule, AlertRule.id == AlertEvent.rule_id).join(OrgNode, OrgNode.id == AlertEvent.org_node_id)
        .where(AlertEvent.as_of >= span.start, AlertEvent.as_of <= span.end).order_by(AlertEvent.id)
    ).all()
    alerts = tuple(AlertLine(str(e.as_of), f"{code} {name}", rule, e.period, e.message) for e, rule, code, name in alert_rows)
    return ReviewPack(span, month, as_of, report, board, diagnosis, outlook, alerts)


# --- tables (shared by both formats) ----------------------------------------------------------------


def _yuan(fen: int | Decimal | None) -> float | None:
    # Display only: the figures are exact integers of fen until here.
    return None if fen is None else float(Decimal(fen).scaleb(-2))


def _pct(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def _status(status: str | None) -> str:
    """Tracking's status word in both languages, as the pack's headers ("落后 / behind")."""
    from attain.tracking.format import STATUS_LABELS

    if not status:
        return ""
    zh, en = STATUS_LABELS.get(status, (status, status))
    return f"{zh} / {en}"


def tables(pack: ReviewPack) -> list[tuple[str, list[str], list[list[object]], list[str]]]:
    """(sheet title, headers, rows, column kinds) per table; kinds: text, money, pct, int."""
    attainment_rows = [
        [" ".join(r.labels), _yuan(r.actual), _yuan(r.target), _pct(r.figures.attainment), _pct(r.figures.pace_gap),
         _yuan(r.figures.seasonal_forecast), _status(r.figures.status)]
        for r in pack.attainment.rows
    ]
    total = pack.attainment.total
    attainment_rows.append(["合计 / total", _yuan(total.actual), _yuan(total.target), _pct(total.figures.attainment),
                            _pct(total.figures.pace_gap), _yuan(total.figures.seasonal_forecast), _status(total.figures.status)])
    board_rows = [
        [leader.rank, " ".join(leader.row.labels), _yuan(leader.row.actual), _pct(leader.row.figures.attainment),
         ", ".join(f"{int(share * 100)}%" for share, _day in leader.milestones.reached),
         leader.milestones.current_day_streak]
        for leader in pack.leaderboard.rows
    ]
    diagnosis_rows = [
        [f"{r.code} {r.name}", _yuan(r.actual), _yuan(r.reference), _yuan(r.gap), _yuan(r.parts["leads"]),
         _yuan(r.parts["conversion"]), _yuan(r.parts["deal_size"]), r.cause_text]
        for r in pack.diagnosis.rows
    ]
    forecast_rows = [
        [f"{r.code} {r.name}", _yuan(r.actual), _yuan(r.target), _yuan(r.p10), _yuan(r.p50), _yuan(r.p90), r.p_hit]
        for r in pack.forecast.rows
    ]
    alert_rows = [[a.as_of, a.node, a.rule, a.period, a.message] for a in pack.alerts]
    return [
        (f"达成 Attainment {pack.month.label}",
         ["对象 / node", "实际 / actual", "目标 / target", "达成率 / attainment", "进度差 / pace gap", "季节预测 / seasonal forecast", "状态 / status"],
         attainment_rows, ["text", "money", "money", "pct", "pct", "money", "text"]),
        (f"排行 Leaderboard {pack.month.label}",
         ["名次 / rank", "对象 / node", "实际 / actual", "达成率 / attainment", "里程碑 / milestones", "连续出单天数 / day streak"],
         board_rows, ["int", "text", "money", "pct", "text", "int"]),
        (f"诊断 Diagnosis {pack.week.label}",
         ["对象 / node", "实际 / actual", "目标 / target", "差距 / gap", "线索 / leads", "转化 / conversion", "客单价 / deal size", "主因 / main cause"],
         diagnosis_rows, ["text", "money", "money", "money", "money", "money", "money", "text"]),
        (f"预测 Forecast {pack.month.label}",
         ["对象 / node", "实际 / actual", "目标 / target", "P10", "P50", "P90", "达成概率 / P(hit)"],
         forecast_rows, ["text", "money", "money", "money", "money", "money", "pct"]),
        (f"预警 Alerts {pack.week.label}",
         ["日期 / as of", "对象 / node", "规则 / rule", "周期 / period", "内容 / message"],
         alert_rows, ["text", "text", "text", "text", "text"]),
    ]


def write_review(pack: ReviewPack, out: Path) -> None:
    suffix = out.suffix.lower()
    if suffix == ".xlsx":
        write_xlsx(pack, out)
    elif suffix in (".html", ".htm"):
        out.write_text(render_html(pack), encoding="utf-8")
    else:
        raise InvalidInput.coded("tracking.review.out_review_pack_written", out=out)


# --- Excel --------------------------------------------------------------------------------------------


SHEET_NAMES = ("达成 Attainment", "排行 Leaderboard", "诊断 Diagnosis", "预测 Forecast", "预警 Alerts")


def write_xlsx(pack: ReviewPack, out: Path) -> None:
    workbook = new_workbook(out)
    try:
        bold = workbook.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1, "text_wrap": True})
        formats = {
            "money": workbook.add_format({"num_format": "#,##0.00"}),
            "pct": workbook.add_format({"num_format": "0.0%"}),
            "int": workbook.add_format({"num_format": "0"}),
            "text": workbook.add_format({}),
        }
        title_format = workbook.add_format({"bold": True, "font_size": 13})
        for sheet_name, (title, headers, rows, kinds) in zip(SHEET_NAMES, tables(pack)):
            sheet = workbook.add_worksheet(sheet_name)
            write_cell(sheet, 0, 0, f"{title} · 截至 / as of {pack.as_of}", title_format)
            for column, header in enumerate(headers):
                write_cell(sheet, 2, column, header, bold)
                sheet.set_column(column, column, 40 if kinds[column] == "text" and column == len(headers) - 1 else 16)
            for r, row in enumerate(rows, start=3):
                for column, value in enumerate(row):
                    if value is None:
                        continue
                    write_cell(sheet, r, column, value, formats[kinds[column]])
            sheet.freeze_panes(3, 1)
            _chart(workbook, sheet, sheet_name, rows, len(headers))
    finally:
        workbook.close()


def _chart(workbook, sheet, sheet_name: str, rows: list[list[object]], width: int) -> None:  # type: ignore[no-untyped-def]
    """A native chart beside the table: attainment %, diagnosis parts stacked, P(hit)."""
    if not rows:
        return
    first, last = 3, 3 + len(rows) - 1
    if sheet_name.startswith("达成"):
        last -= 1  # leave the total row out of the bars
        chart = workbook.add_chart({"type": "bar"})
        chart.add_series({"name": "达成率 / attainment", "categories": [sheet_name, first, 0, last, 0],
                          "values": [sheet_name, first, 3, last, 3], "data_labels": {"value": True, "num_format": "0%"}})
        chart.set_title({"name": "达成率 / attainment"})
    elif sheet_name.startswith("诊断"):
        chart = workbook.add_chart({"type": "bar", "subtype": "stacked"})
        for column, name in ((4, "线索 / leads"), (5, "转化 / conversion"), (6, "客单价 / deal size")):
            chart.add_series({"name": name, "categories": [sheet_name, first, 0, last, 0],
                              "values": [sheet_name, first, column, last, column]})
        chart.set_title({"name": "差距归因 / gap attribution (元)"})
    elif sheet_name.startswith("预测"):
        chart = workbook.add_chart({"type": "bar"})
        chart.add_series({"name": "达成概率 / P(hit)", "categories": [sheet_name, first, 0, last, 0],
                          "values": [sheet_name, first, 6, last, 6], "data_labels": {"value": True, "num_format": "0%"}})
        chart.set_title({"name": "达成概率 / P(hit)"})
    else:
        return
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 640, "height": max(320, 22 * len(rows) + 120)})
    sheet.insert_chart(2, width + 1, chart)


# --- HTML ---------------------------------------------------------------------------------------------


def _cell(value: object, kind: str) -> str:
    if value is None:
        return ""
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "pct":
        return f"{float(value):.1%}"  # type: ignore[arg-type]
    return html.escape(str(value))


def svg_bars(labels: list[str], values: list[float], *, percent: bool, title: str) -> str:
    """Horizontal bars as inline SVG; negative values grow to the left of the zero line."""
    if not values:
        return ""
    row_height, label_width, bar_width = 22, 180, 420
    low, high = min(0.0, *values), max(0.0, *values)
    span = (high - low) or 1.0
    zero = label_width + bar_width * (-low / span)
    height = row_height * len(values) + 30
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_width + bar_width + 90}" height="{height}" '
             f'role="img" aria-label="{html.escape(title)}">'),
             f'<text x="0" y="14" font-weight="bold">{html.escape(title)}</text>']
    for i, (label, value) in enumerate(zip(labels, values)):
        y = 24 + i * row_height
        length = bar_width * abs(value) / span
        x = zero if value >= 0 else zero - length
        colour = "#3b7dd8" if value >= 0 else "#d8553b"
        shown = f"{value:.0%}" if percent else f"{value:,.0f}"
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{html.escape(label[:24])}</text>')
        parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{max(length, 0.5):.1f}" height="{row_height - 6}" fill="{colour}"/>')
        parts.append(f'<text x="{zero + (length if value >= 0 else 0) + 4:.1f}" y="{y + 14}" font-size="11">{shown}</text>')
    parts.append(f'<line x1="{zero:.1f}" y1="20" x2="{zero:.1f}" y2="{height}" stroke="#555"/></svg>')
    return "".join(parts)


def render_html(pack: ReviewPack) -> str:
    sections = []
    for title, headers, rows, kinds in tables(pack):
        head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
        body = "".join(
            "<tr>" + "".join(f'<td class="{k}">{_cell(v, k)}</td>' for v, k in zip(row, kinds)) + "</tr>" for row in rows
        ) or f'<tr><td colspan="{len(headers)}">无 / none</td></tr>'
        chart = ""
        labels = [str(r[0]) if not title.startswith("排行") else str(r[1]) for r in rows]
        if title.startswith("达成"):
            chart = svg_bars(labels[:-1], [float(r[3] or 0) for r in rows[:-1]], percent=True, title="达成率 / attainment")
        elif title.startswith("诊断"):
            chart = svg_bars(labels, [float(r[3] or 0) for r in rows], percent=False, title="差距 / gap (元)")
        elif title.startswith("预测"):
            chart = svg_bars(labels, [float(r[6] or 0) for r in rows], percent=True, title="达成概率 / P(hit)")
        sections.append(f"<section><h2>{html.escape(title)}</h2>{chart}<table><thead><tr>{head}</tr></thead>"
                        f"<tbody>{body}</tbody></table></section>")
    style = ("body{font-family:-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;margin:2em;color:#222}"
             "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px}"
             "th{background:#e8eef7}td.money,td.pct,td.int{text-align:right}section{margin-bottom:2em}")
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>周报 / weekly review {pack.week.label}</title>'
            f"<style>{style}</style></head><body><h1>销售周报 / weekly sales review · {pack.week.label}</h1>"
            f"<p>计划 / plan {html.escape(pack.attainment.plan)} · 截至 / as of {pack.as_of} · 月 / month {pack.month.label}</p>"
            + "".join(sections) + "</body></html>")
