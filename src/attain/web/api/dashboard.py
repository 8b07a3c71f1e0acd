"""The dashboard as JSON: what the home page shows for one node, from tracking's overview
(`attain.tracking.overview`, through the per-process figures cache, `attain.web.cache`).

The node's figures are those of `attain report attainment --json` for the same period, plan and
as-of, field for field (`attain.tracking.format.attainment_row_payload`): money as a string of yuan
with two decimals ("1234.50"), ratios as strings with four decimals ("0.8382" = 83.82 %), statuses
as tracking names them. The forecast band's P50 is the row's seasonal forecast.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from attain.org.models import OrgNode
from attain.plans.models import Plan
from attain.tracking.attainment import AttainmentRow
from attain.tracking.format import attainment_row_payload, in_units, progress_payload
from attain.tracking.overview import NodeOverview, NodeRef
from attain.web.api.common import ERROR_RESPONSES, AsOfParam, date_of, jsonable, node_of
from attain.web.deps import AccessDep
from attain.web.pages import dashboard as dashboard_page

router = APIRouter(tags=["dashboard"], responses=ERROR_RESPONSES)

NodeParam = Annotated[str | None, Query(max_length=64, description="Org node code (default: your own node)")]
PlanParam = Annotated[str | None, Query(max_length=100, description="Plan name (default: the approved plan covering as_of's year)")]


def _node(node: OrgNode | NodeRef) -> dict[str, Any]:
    return {"code": node.code, "name": node.name, "kind": node.kind}


def _plan(plan: Plan) -> dict[str, Any]:
    return {"name": plan.name, "version": plan.version, "status": plan.status, "year": plan.year,
            "start": plan.start_date, "end": plan.end_date}


def _figures(row: AttainmentRow, scale: int) -> dict[str, Any]:
    """A row's figures as `attain report attainment --json` writes them, without the report's key."""
    shown = attainment_row_payload(row, (), scale)
    del shown["key"], shown["labels"]
    return shown


def payload(overview: NodeOverview, plan: Plan, node: OrgNode, day: date) -> dict[str, Any]:
    """The API's answer for a node's cached overview (JSON-ready)."""
    report = overview.months
    scale = report.metric.scale
    band = overview.band
    return jsonable({  # type: ignore[no-any-return]
        "plan": _plan(plan), "node": _node(node), "as_of": day, "period": report.period.label,
        "metric": report.metric.code, "unit": report.metric.unit,
        "time_progress": progress_payload(overview.total.progress),
        "summary": _figures(overview.total, scale),
        "months": [{"month": row.labels[0], **_figures(row, scale)} for row in report.rows],
        "forecast": None if band is None else {
            "basis": "seasonal", "p10": in_units(band.p10, scale), "p50": in_units(band.p50, scale),
            "p90": in_units(band.p90, scale)},
        "rows": [{"node": _node(below.node), **_figures(below.row, scale)} for below in overview.below],
        "warnings": list(report.warnings),
    })


def encode(body: dict[str, Any]) -> bytes:
    """JSON as FastAPI's JSONResponse writes it (UTF-8, no NaN, compact)."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def cached_dashboard_json(*, session: Session, plan: Plan, plan_name: str | None, node: OrgNode, as_of: date) -> bytes:
    """The encoded answer, kept inside the node's figures entry of the per-process cache (so it
    expires with the figures, `attain.web.cache`): a cached request encodes nothing. It is kept per
    value of every plan and node field the answer shows, read fresh by this request, so a plan's
    status or a node's name changed in place shows at once, as before. The caller has checked
    access to `node`."""
    figures = dashboard_page.cached_figures(session=session, plan=plan, plan_name=plan_name, node=node, as_of=as_of)
    encoded: dict[tuple[Any, ...], bytes] = figures[dashboard_page.ENCODED]
    shown = (plan.id, plan.name, plan.version, plan.status, plan.year, plan.start_date, plan.end_date,
             node.id, node.code, node.name, node.kind, as_of)
    body = encoded.get(shown)
    if body is None:
        body = encode(payload(figures["overview"], plan, node, as_of))
        if len(encoded) >= 8:  # fields changed in place again and again: keep the memo small
            encoded.clear()
        encoded[shown] = body  # one dict store: safe between threads (two may encode the same)
    return body


@router.get("/dashboard", summary="Dashboard of a node (KPIs, monthly series, forecast, status below)",
            response_model=dict[str, Any])
def get_dashboard(access: AccessDep, node: NodeParam = None, plan: PlanParam = None,
                  as_of: AsOfParam = None) -> Response:
    """For the node (default yours), over the calendar year of as_of: the plan, time progress, the
    node's attainment figures and status, its months, the forecast band (P50 = seasonal forecast) and
    the nodes below — the figures of `attain report attainment --json`."""
    day = date_of(as_of) or date.today()
    target = node_of(access, node)  # every request: 404 for a node the caller may not see
    chosen = dashboard_page.dashboard_plan(session=access.session, plan=plan, as_of=day)
    body = cached_dashboard_json(session=access.session, plan=chosen, plan_name=plan, node=target, as_of=day)
    return Response(content=body, media_type="application/json")
