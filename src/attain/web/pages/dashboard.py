"""Home dashboard: attainment vs time progress, monthly bars, cumulative line with a forecast band,
status of the teams or reps below, alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from attain.org.models import OrgNode
from attain.periods import month
from attain.periods import year as year_period
from attain.plans.models import Plan
from attain.tracking.attainment import attainment
from attain.web import cache
from attain.web.deps import AccessDep
from attain.web.i18n import request_locale
from attain.web.pages import calc, queries
from attain.web.pages.common import (
    catalogue,
    chart_json,
    parse_as_of,
    render_page,
    yuan,
)

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class NodeRef:
    """What the dashboard shows of an org node. Unlike an OrgNode it belongs to no session, so
    cached figures can hold it across requests and threads."""

    id: int
    code: str
    name: str
    kind: str

    @classmethod
    def of(cls, node: OrgNode) -> NodeRef:
        return cls(node.id, node.code, node.name, node.kind)


@dataclass(frozen=True)
class StatusRow:
    node: NodeRef
    actual: int
    target: int  # whole plan period
    target_to_date: int  # months up to and including the current one
    attainment: float | None  # % of the whole target
    status: str


def time_share(plan: Plan, as_of: date) -> Fraction:
    """Share of the plan's calendar days elapsed at `as_of` (inclusive), exact."""
    days = (plan.end_date - plan.start_date).days + 1
    elapsed = (min(max(as_of, plan.start_date), plan.end_date) - plan.start_date).days + 1
    if as_of < plan.start_date:
        elapsed = 0
    return Fraction(elapsed, days)


def time_progress(plan: Plan, as_of: date) -> float:
    """Share of the plan's calendar days elapsed at `as_of` (inclusive), in percent (display)."""
    return 100.0 * float(time_share(plan, as_of))


def current_month_index(figures: queries.NodeFigures, as_of: date) -> tuple[int, float]:
    """Index of the month holding `as_of` (clipped to the plan) and the share of it elapsed."""
    label = f"{as_of.year:04d}-{as_of.month:02d}"
    if label in figures.months:
        return figures.months.index(label), as_of.day / month(as_of.year, as_of.month).days
    if figures.months and label > figures.months[-1]:
        return len(figures.months) - 1, 1.0
    return 0, 0.0


# attain.tracking's status names → the pages' keys (CSS classes and labels).
TRACKED_STATUS = {"ahead": "ahead", "on track": "on_track", "at risk": "at_risk", "behind": "behind",
                  "not started": "no_target"}


def tracked_statuses(*, session: Session, plan: Plan, node: OrgNode, below: list[OrgNode], as_of: date) -> dict[int, str]:
    """Status of `node` and the nodes `below` it from the tracking report (`attain report attainment`):
    actual against the seasonal expected-to-date, with its documented thresholds. One report per
    level below, limited to the node's subtree in SQL (`within`); its total is the node itself."""
    if plan.year is None or as_of < plan.start_date:
        return {}
    period = year_period(plan.year)
    found: dict[int, str] = {}
    levels = sorted({n.kind for n in below if n.kind in ("region", "team", "rep")})
    for level in levels or [None]:
        report = attainment(session=session, period=period, by=level, plan=plan.name, as_of=as_of,
                            metric="revenue", within=node.id)
        for row in (*report.rows, report.total):
            if row.node_id is not None and row.figures.status:
                found.setdefault(row.node_id, TRACKED_STATUS.get(row.figures.status, "no_target"))
    return {n.id: found[n.id] for n in (node, *below) if n.id in found}


def status_rows(figures: list[queries.NodeFigures], progress: float, current: int,
                tracked: dict[int, str]) -> list[StatusRow]:
    """Rows of the status table; the status comes from the tracking report when it has one for
    the node, else from the pace gap (attainment − calendar time progress)."""
    rows = []
    for f in figures:
        actual, target = sum(f.actual), sum(f.target)
        attainment_pct = calc.percent(actual, target)
        status = tracked.get(f.node.id) or calc.status_of(attainment_pct, progress)
        rows.append(StatusRow(NodeRef.of(f.node), actual, target, sum(f.target[: current + 1]), attainment_pct, status))
    return rows


def dashboard_data(*, session: Session, plan: Plan, node: OrgNode, as_of: date) -> dict[str, Any]:
    """Everything the dashboard shows for `node` (already checked visible) in `plan` at `as_of`."""
    kids = queries.children(session=session, node=node)
    figures = queries.node_figures(session=session, plan=plan, nodes=[node, *kids], as_of=as_of)
    own, below = figures[0], [f for f in figures[1:] if sum(f.target) or sum(f.actual)]
    progress = time_progress(plan, as_of)
    current, elapsed = current_month_index(own, as_of)
    tracked = tracked_statuses(session=session, plan=plan, node=node, below=[f.node for f in below], as_of=as_of)
    (summary,) = status_rows([own], progress, current, tracked)
    band = calc.forecast_band(own.actual, own.target, current, elapsed)
    rows = sorted(status_rows(below, progress, current, tracked), key=lambda r: (r.attainment is None, -(r.attainment or 0)))
    return {
        "plan": plan, "node": node, "as_of": as_of, "progress": progress, "summary": summary,
        "forecast_p50": round(float(band.p50[-1])), "forecast_p10": round(float(band.p10[-1])),
        "forecast_p90": round(float(band.p90[-1])),
        "rows": rows, "months": own.months, "actual": own.actual, "target": own.target, "band": band,
        "current": current,
    }


# The figures part of dashboard_data (all but the caller's plan and node objects), per process.
FIGURES_CACHE: cache.TtlLru[dict[str, Any]] = cache.TtlLru()
# Key of a figures entry holding the API's encoded answers for it ({fields shown beside the
# figures: JSON bytes}, `attain.web.api.dashboard`): they live and expire with the figures.
ENCODED = "encoded"


def cached_figures(*, session: Session, plan: Plan, node: OrgNode, as_of: date) -> dict[str, Any]:
    """The shared cache entry for `node` (already checked visible): `dashboard_data` without the
    plan and node objects, plus an ENCODED memo. Shared between threads: read only, except ENCODED."""

    def compute_on(on: Session, the_plan: Plan, the_node: OrgNode) -> dict[str, Any]:
        data = dashboard_data(session=on, plan=the_plan, node=the_node, as_of=as_of)
        band: calc.ForecastBand = data["band"]
        for values in (band.cumulative_actual, band.p10, band.p50, band.p90):
            values.setflags(write=False)  # shared by every request that hits the cache
        return {**{key: value for key, value in data.items() if key not in ("plan", "node")}, ENCODED: {}}

    def refresh(on: Session) -> dict[str, Any]:  # in the background, on a session of its own
        the_plan, the_node = on.get(Plan, plan.id), on.get(OrgNode, node.id)
        if the_plan is None or the_node is None:
            raise LookupError(f"plan {plan.id} or node {node.id} is gone")
        return compute_on(on, the_plan, the_node)

    return cache.cached(FIGURES_CACHE, session, ("dashboard", node.id, plan.id, plan.version, as_of),
                        lambda: compute_on(session, plan, node), refresh)


def cached_dashboard_data(*, session: Session, plan: Plan, node: OrgNode, as_of: date) -> dict[str, Any]:
    """`dashboard_data`, from the per-process cache when the same node, plan version, day and data
    revision were computed less than ATTAIN_DASHBOARD_CACHE_SECONDS ago (`attain.web.cache`).
    The caller has checked that the user may see `node`: the cache is per node, not per user."""
    figures = cached_figures(session=session, plan=plan, node=node, as_of=as_of)
    return {**{key: value for key, value in figures.items() if key != ENCODED}, "plan": plan, "node": node}


def charts(data: dict[str, Any], labels: dict[str, str]) -> dict[str, str]:
    """ECharts options (JSON) for the gauge, the monthly bars and the cumulative line."""
    months = [m[5:] for m in data["months"]]
    summary: StatusRow = data["summary"]
    attainment = round(summary.attainment or 0.0, 1)
    gauge = {
        "series": [{
            "type": "gauge", "min": 0, "max": max(120, int(attainment) + 10), "splitNumber": 6,
            "progress": {"show": True, "width": 14}, "axisLine": {"lineStyle": {"width": 14}},
            "pointer": {"show": False}, "detail": {"formatter": "{value}%", "fontSize": 26, "offsetCenter": [0, "10%"]},
            "title": {"offsetCenter": [0, "45%"]},
            "data": [{"value": attainment, "name": labels["attainment"]}],
            "markLine": {},
        }, {
            "type": "gauge", "min": 0, "max": max(120, int(attainment) + 10), "splitNumber": 6,
            "axisLine": {"show": False}, "axisTick": {"show": False}, "splitLine": {"show": False},
            "axisLabel": {"show": False}, "pointer": {"width": 4, "length": "70%"},
            "detail": {"show": False}, "title": {"show": False},
            "data": [{"value": round(data["progress"], 1), "name": labels["time"]}],
        }],
        "tooltip": {"show": True},
    }
    bars = {
        "tooltip": {"trigger": "axis"}, "legend": {"data": [labels["actual"], labels["target"]], "top": 0},
        "grid": {"left": 70, "right": 10, "bottom": 30, "top": 40},
        "xAxis": {"type": "category", "data": months}, "yAxis": {"type": "value"},
        "series": [
            {"name": labels["actual"], "type": "bar", "data": [yuan(v) for v in data["actual"]]},
            {"name": labels["target"], "type": "bar", "data": [yuan(v) for v in data["target"]]},
        ],
    }
    band: calc.ForecastBand = data["band"]
    current = data["current"]
    cumulative_target = np.cumsum(data["target"])
    actual_line: list[float | None] = [yuan(v) for v in band.cumulative_actual] + [None] * (len(months) - current - 1)
    low = [None if np.isnan(v) else yuan(v) for v in band.p10]
    spread = [None if np.isnan(a) else yuan(b - a) for a, b in zip(band.p10, band.p90)]
    mid = [None if np.isnan(v) else yuan(v) for v in band.p50]
    line = {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [labels["cum_actual"], labels["cum_target"], labels["forecast"], labels["band"]], "top": 0},
        "grid": {"left": 70, "right": 10, "bottom": 30, "top": 40},
        "xAxis": {"type": "category", "data": months, "boundaryGap": False}, "yAxis": {"type": "value"},
        "series": [
            {"name": labels["cum_target"], "type": "line", "data": [yuan(v) for v in cumulative_target],
             "lineStyle": {"type": "dashed"}, "symbol": "none"},
            {"name": labels["cum_actual"], "type": "line", "data": actual_line},
            {"name": "p10", "type": "line", "data": low, "stack": "band", "symbol": "none",
             "lineStyle": {"opacity": 0}, "tooltip": {"show": False}},
            {"name": labels["band"], "type": "line", "data": spread, "stack": "band", "symbol": "none",
             "lineStyle": {"opacity": 0}, "areaStyle": {"opacity": 0.2}},
            {"name": labels["forecast"], "type": "line", "data": mid, "lineStyle": {"type": "dotted"}},
        ],
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
    chosen = queries.choose_plan(session=access.session, name=plan, on=day)
    data = cached_dashboard_data(session=access.session, plan=chosen, node=target, as_of=day)
    messages = render_labels(request)
    data["charts"] = charts(data, messages)
    data["alerts"] = alerts_for(access.session, target)
    data["status_labels"] = calc.STATUS_LABELS
    data["crumbs"] = breadcrumbs(access, target)
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
        "band": "Forecast P10–P90",
    }.items()}
