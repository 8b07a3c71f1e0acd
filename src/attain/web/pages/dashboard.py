"""Home dashboard: attainment vs time progress, monthly bars, cumulative line with a forecast band,
status of the teams or reps below, alerts.

Every figure is tracking's (`attain.tracking.overview.node_overview`, built on `attainment()`, the
service behind `attain report attainment`); the page only lays them out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from attain.org.models import OrgNode
from attain.periods import Period
from attain.periods import year as year_period
from attain.plans.models import Plan
from attain.plans.service import pending_revision
from attain.tracking.attainment import resolve_plan
from attain.tracking.format import STATUS_LABELS, share
from attain.tracking.overview import NodeOverview, NodeRef, node_overview
from attain.web import cache
from attain.web.deps import AccessDep
from attain.web.i18n import chart_unit, request_locale
from attain.web.pages.common import (
    catalogue,
    chart_json,
    parse_as_of,
    render_page,
)

router = APIRouter(include_in_schema=False)

__all__ = ["NodeRef", "cached_dashboard_data", "dashboard_data", "dashboard_period", "router"]


def dashboard_period(as_of: date) -> Period:
    """The period a dashboard shows: the calendar year holding `as_of` (as `attain report attainment YYYY`)."""
    return year_period(as_of.year)


def dashboard_plan(*, session: Session, plan: str | None, as_of: date) -> Plan:
    """The plan of the dashboard: tracking's choice for its period (`resolve_plan`, as the CLI's)."""
    return resolve_plan(session, dashboard_period(as_of), plan)


def dashboard_data(*, session: Session, plan: Plan, plan_name: str | None, node: OrgNode, as_of: date) -> dict[str, Any]:
    """Everything the dashboard shows for `node` (already checked visible) at `as_of`: tracking's
    overview with the plan `plan_name` resolves to (`plan`, resolved by the caller the same way)."""
    overview = node_overview(session=session, node=node, period=dashboard_period(as_of), plan=plan_name,
                             as_of=as_of, parallel=True)
    return {"plan": plan, "node": node, "as_of": as_of, "overview": overview}


# The figures part of dashboard_data (all but the caller's plan and node objects), per process.
FIGURES_CACHE: cache.TtlLru[dict[str, Any]] = cache.TtlLru()
# Key of a figures entry holding the API's encoded answers for it ({fields shown beside the
# figures: JSON bytes}, `attain.web.api.dashboard`): they live and expire with the figures.
ENCODED = "encoded"


def cached_figures(*, session: Session, plan: Plan, plan_name: str | None, node: OrgNode, as_of: date) -> dict[str, Any]:
    """The shared cache entry for `node` (already checked visible): `dashboard_data` without the
    plan and node objects, plus an ENCODED memo. Shared between threads: read only, except ENCODED.
    Keyed by the plan `plan_name` resolved to (id and version), which `attainment()` resolves alike."""

    def compute_on(on: Session, the_plan: Plan, the_node: OrgNode) -> dict[str, Any]:
        data = dashboard_data(session=on, plan=the_plan, plan_name=plan_name, node=the_node, as_of=as_of)
        return {**{key: value for key, value in data.items() if key not in ("plan", "node")}, ENCODED: {}}

    def refresh(on: Session) -> dict[str, Any]:  # in the background, on a session of its own
        the_plan, the_node = on.get(Plan, plan.id), on.get(OrgNode, node.id)
        if the_plan is None or the_node is None:
            raise LookupError(f"plan {plan.id} or node {node.id} is gone")
        return compute_on(on, the_plan, the_node)

    return cache.cached(FIGURES_CACHE, session, ("dashboard", node.id, plan.id, plan.version, as_of),
                        lambda: compute_on(session, plan, node), refresh)


def cached_dashboard_data(*, session: Session, plan: Plan, plan_name: str | None, node: OrgNode,
                          as_of: date) -> dict[str, Any]:
    """`dashboard_data`, from the per-process cache when the same node, plan version, day and data
    revision were computed less than ATTAIN_DASHBOARD_CACHE_SECONDS ago (`attain.web.cache`).
    The caller has checked that the user may see `node`: the cache is per node, not per user."""
    figures = cached_figures(session=session, plan=plan, plan_name=plan_name, node=node, as_of=as_of)
    return {**{key: value for key, value in figures.items() if key != ENCODED}, "plan": plan, "node": node}


def _scaled(fen: int | Decimal | None, divisor: int) -> float | None:
    """Fen in the chart's unit (万 or 亿 yuan, ...), for drawing only; shown figures stay exact."""
    return None if fen is None else round(float(fen) / divisor, 4)


def _anchored(path: tuple[Decimal | None, ...], current: int, start: int | Decimal) -> list[int | Decimal | None]:
    """A forecast path drawn from the end of the month before as-of (where the actual stands), so a
    band that starts in the last month is still an area, not a single point."""
    drawn: list[int | Decimal | None] = list(path)
    if current > 0:
        drawn[current - 1] = start
    return drawn


def charts(overview: NodeOverview, labels: dict[str, str], locale: str = "zh_CN") -> dict[str, str]:
    """ECharts options (JSON) for the gauge, the monthly bars and the cumulative line, from tracking's
    figures (floats in 万/亿 yuan for the chart only; the unit is in each axis name)."""
    month_rows = overview.months.rows
    months = [row.labels[0][5:] for row in month_rows]
    total = overview.total
    attainment = round(float(total.figures.attainment or 0) * 100, 1)
    progress = round(float(total.progress.calendar_share) * 100, 1)
    top = max(120, int(attainment) + 10)
    axis = {"min": 0, "max": top, "splitNumber": 4, "startAngle": 200, "endAngle": -20, "radius": "82%",
            "center": ["50%", "50%"]}
    # The needle is time progress and starts at the centre: every text sits below the centre, each on a line of its own.
    gauge = {
        "series": [{
            "type": "gauge", **axis,
            "progress": {"show": True, "width": 12}, "axisLine": {"lineStyle": {"width": 12}},
            "axisTick": {"show": False}, "splitLine": {"length": 8, "distance": 2},
            "axisLabel": {"distance": 16, "fontSize": 10, "formatter": "{value}%"},
            "pointer": {"show": False}, "anchor": {"show": False},
            "title": {"offsetCenter": [0, "22%"], "fontSize": 12},
            "detail": {"formatter": "{value}%", "fontSize": 22, "offsetCenter": [0, "46%"], "fontWeight": 600},
            "data": [{"value": attainment, "name": labels["attainment"]}],
        }, {
            "type": "gauge", **axis,
            "axisLine": {"show": False}, "axisTick": {"show": False}, "splitLine": {"show": False},
            "axisLabel": {"show": False}, "progress": {"show": False},
            "pointer": {"width": 4, "length": "60%", "itemStyle": {"color": "#374151"}},
            "anchor": {"show": True, "size": 8, "itemStyle": {"color": "#374151"}},
            "title": {"offsetCenter": [0, "74%"], "fontSize": 11, "color": "#374151"},
            "detail": {"formatter": "{value}%", "fontSize": 13, "offsetCenter": [0, "92%"], "color": "#374151"},
            "data": [{"value": progress, "name": labels["needle"]}],
        }],
        "tooltip": {"show": True},
    }
    bar_values = [v for r in month_rows for v in (r.actual, r.target) if v is not None]
    divisor, unit = chart_unit(bar_values, locale)
    bars = {
        "tooltip": {"trigger": "axis"}, "legend": {"data": [labels["actual"], labels["target"]], "top": 0},
        "grid": {"left": 60, "right": 10, "bottom": 30, "top": 50},
        "xAxis": {"type": "category", "data": months},
        "yAxis": {"type": "value", "name": unit, "nameTextStyle": {"align": "right"}},
        "unit": unit,
        "series": [
            {"name": labels["actual"], "type": "bar", "data": [_scaled(r.actual, divisor) for r in month_rows]},
            {"name": labels["target"], "type": "bar", "data": [_scaled(r.target, divisor) for r in month_rows]},
        ],
    }
    band = overview.band
    series: list[dict[str, Any]] = []
    line_unit = unit
    if band is not None:
        line_values = [v for v in (*band.cumulative_target, *band.path_p90, *band.cumulative_actual) if v is not None]
        divisor, line_unit = chart_unit(line_values, locale)
        current = band.current
        start = band.cumulative_actual[current - 1] if current > 0 else 0
        actual_line = [_scaled(v, divisor) for v in band.cumulative_actual]
        actual_line += [None] * (len(months) - len(actual_line))
        low = _anchored(band.path_p10, current, start)
        high = _anchored(band.path_p90, current, start)
        # ECharts fills a band by stacking its width on its lower edge: the width is drawing, not a figure.
        width = [None if a is None or b is None else _scaled(b - a, divisor) for a, b in zip(low, high)]
        series = [
            {"name": labels["cum_target"], "type": "line", "data": [_scaled(v, divisor) for v in band.cumulative_target],
             "lineStyle": {"type": "dashed"}, "symbol": "none"},
            {"name": labels["cum_actual"], "type": "line", "data": actual_line},
            {"name": "p10", "type": "line", "data": [_scaled(v, divisor) for v in low], "stack": "band", "symbol": "none",
             "lineStyle": {"width": 1, "color": "#f59e0b"}, "tooltip": {"show": False}, "legendHoverLink": False},
            {"name": labels["band"], "type": "line", "data": width, "stack": "band", "symbol": "none",
             "lineStyle": {"width": 1, "color": "#f59e0b"}, "areaStyle": {"opacity": 0.25, "color": "#f59e0b"},
             "itemStyle": {"color": "#f59e0b"}, "tooltip": {"show": False}},
            {"name": labels["forecast"], "type": "line",
             "data": [_scaled(v, divisor) for v in _anchored(band.path_p50, current, start)],
             "lineStyle": {"type": "dotted"}},
        ]
    line = {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [labels["cum_actual"], labels["cum_target"], labels["forecast"], labels["band"]], "top": 0},
        "grid": {"left": 60, "right": 10, "bottom": 30, "top": 50},
        "xAxis": {"type": "category", "data": months, "boundaryGap": False},
        "yAxis": {"type": "value", "name": line_unit, "nameTextStyle": {"align": "right"}},
        "unit": line_unit,
        "series": series,
    }
    return {"gauge": chart_json(gauge), "bars": chart_json(bars), "line": chart_json(line)}


def alerts_for(session: Session, node: OrgNode) -> list[Any]:
    """The newest inbox entries (6b's alerts) for the node and everything under it."""
    from attain.tracking.alerts import inbox

    return [event for event, _rule, _node in inbox(session=session, node=node.code, limit=10)]


@router.get("/", response_class=HTMLResponse)
@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, access: AccessDep, node: str | None = None, plan: str | None = None,
              as_of: str | None = None) -> HTMLResponse:
    """The signed-in user's dashboard; `node` (code) drills down to a node they may see."""
    day = parse_as_of(as_of)
    target = access.node(node) if node else access.home()
    chosen = dashboard_plan(session=access.session, plan=plan, as_of=day)
    data = cached_dashboard_data(session=access.session, plan=chosen, plan_name=plan, node=target, as_of=day)
    overview: NodeOverview = data["overview"]
    messages = render_labels(request)
    data["summary"] = overview.total
    data["progress"] = Decimal(share(overview.total.progress.calendar_share))
    data["charts"] = charts(overview, messages, request_locale(request))
    data["alerts"] = alerts_for(access.session, target)
    data["status_labels"] = STATUS_LABELS
    data["crumbs"] = breadcrumbs(access, target)
    data["pending"] = pending_revision(session=access.session, plan=chosen)
    return render_page(request, "pages/dashboard.html", data)  # type: ignore[return-value]


def breadcrumbs(access: Any, node: OrgNode) -> list[OrgNode]:
    ids = [int(part) for part in node.path.strip("/").split("/") if part]
    nodes = [access.session.get(OrgNode, i) for i in ids]
    return [n for n in nodes if n is not None and access.can_see(n)]


def render_labels(request: Request) -> dict[str, str]:
    gettext = catalogue(request_locale(request)).gettext
    return {key: gettext(text) for key, text in {
        "attainment": "Attainment", "time": "Time progress", "actual": "Actual", "target": "Target",
        "cum_actual": "Cumulative actual", "cum_target": "Cumulative target", "forecast": "Forecast",
        "band": "Forecast P10–P90", "needle": "Needle: time progress",
    }.items()}
