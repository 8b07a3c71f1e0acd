"""Diagnosis page: the gap to target (or last year) of each rep, team or region split exactly into
leads, conversion and deal size (attain.tracking.diagnosis), with a chart and the main cause in words.
Against the target each row also shows its status, tracking's (the same as `attain report attainment`
and the dashboard). Rows are limited to the nodes the user may see."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from attain.errors import InvalidInput
from attain.org.models import OrgNode
from attain.tracking.attainment import resolve_period
from attain.tracking.decompose import AHEAD, CAUSES, FACTORS
from attain.tracking.defaults import default_month
from attain.tracking.diagnosis import LEVELS, REFERENCES, diagnose
from attain.tracking.format import STATUS_LABELS
from attain.tracking.review import build_review, write_review
from attain.web.deps import AccessDep, Forbidden
from attain.web.i18n import chart_unit, request_locale
from attain.web.pages.common import (
    catalogue,
    chart_json,
    parse_as_of,
    render_page,
)
from attain.web.pages.dashboard import _scaled, render_labels

router = APIRouter(include_in_schema=False)


def chart(rows: list[Any], labels: dict[str, str], locale: str = "zh_CN") -> str:
    """Horizontal stacked bars: each row's gap as its three parts, in 万元/亿元 (the axis name says
    which). The value axis keeps few labels and hides the ones that would overlap, so a 390-px phone
    reads them; names are cut to the width of their column (the table below has them whole)."""
    names = [r.name for r in rows]
    divisor, unit = chart_unit([round(float(v)) for r in rows for v in (*r.parts.values(), r.gap)], locale)
    series = [
        {"name": labels[factor], "type": "bar", "stack": "gap",
         "data": [_scaled(r.parts[factor], divisor) for r in rows]}
        for factor in FACTORS
    ]
    series.append({"name": labels["gap"], "type": "scatter", "symbol": "diamond", "symbolSize": 10,
                   "data": [_scaled(r.gap, divisor) for r in rows]})
    return chart_json({
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}, "confine": True},
        "legend": {"data": [labels[f] for f in FACTORS] + [labels["gap"]], "top": 0, "type": "scroll"},
        "grid": {"left": 8, "right": 24, "bottom": 36, "top": 40, "containLabel": True},
        "xAxis": {"type": "value", "name": unit, "nameLocation": "middle", "nameGap": 24, "splitNumber": 4,
                  "axisLabel": {"hideOverlap": True, "fontSize": 11}},
        "yAxis": {"type": "category", "data": names, "inverse": True,
                  "axisLabel": {"width": 72, "overflow": "truncate", "fontSize": 11}},
        "unit": unit,
        "series": series,
    })


def whole_company(access: Any) -> bool:
    """The weekly review pack lists every rep: only users who see the whole company may take it."""
    return access.user.role == "admin" or access.home().parent_id is None


@router.get("/diagnosis/review")
def review_pack(access: AccessDep, week: str, format: str = "xlsx", as_of: str | None = None) -> Response:
    """The weekly review pack (attain.tracking.review) as an Excel download or an HTML page."""
    if not whole_company(access):
        raise Forbidden(code="access.whole_company")
    if format not in ("xlsx", "html"):
        raise InvalidInput.coded("web.pages.diagnosis.review_pack_comes_xlsx", format=format)
    pack = build_review(session=access.session, week=week, today=parse_as_of(as_of))  # this week: to today
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"review-{pack.week.label}.{format}"
        write_review(pack, out)
        body = out.read_bytes()
    media = "text/html; charset=utf-8" if format == "html" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    # The HTML pack opens in the browser (a page to read and print); the workbook is a download.
    disposition = "inline" if format == "html" else "attachment"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'{disposition}; filename="review-{pack.week.label}.{format}"'})


@router.get("/diagnosis", response_class=HTMLResponse)
def diagnosis_page(request: Request, access: AccessDep, period: str | None = None, by: str | None = None,
                   vs: str = "target", as_of: str | None = None) -> Response:
    day = parse_as_of(as_of)
    # Early in a month the previous, complete month first (tracking.defaults), the current one offered.
    opened = None if period else default_month(session=access.session, today=day)
    chosen = opened.period if opened else resolve_period(access.session, period or "", today=day)
    level = by or {"rep": "rep", "manager": "rep"}.get(access.user.role, "team")
    result = diagnose(session=access.session, period=chosen, level=level, reference=vs, as_of=day)
    rows = [r for r in result.rows if access.can_see(access.session.get_one(OrgNode, r.node_id))]
    gettext = catalogue(request_locale(request)).gettext
    labels = {f: gettext({"leads": "Leads", "conversion": "Conversion", "deal_size": "Deal size"}[f]) for f in FACTORS}
    labels["gap"] = gettext("Gap")
    return render_page(request, "pages/diagnosis.html", {
        "result": result, "rows": rows, "chart": chart(rows, labels, request_locale(request)) if rows else None, "labels": labels,
        "levels": LEVELS, "references": REFERENCES, "causes": CAUSES, "ahead_of_reference": AHEAD,
        "status_labels": STATUS_LABELS, "as_of": day, "by": level, "vs": vs,
        "period": chosen, "other_period": opened.other if opened else None,
        "common": render_labels(request), "review": whole_company(access),
        "week": f"{day.isocalendar().year}-W{day.isocalendar().week:02d}",
    })
