"""The dashboard as JSON: what the home page shows for one node, from `pages.dashboard.dashboard_data`
(through the per-process figures cache, `attain.web.cache`).

Money is exact, as in the tracking payloads: a string of yuan with two decimals ("1234.50"); ratios
(attainment, time progress) are strings with four decimals ("0.8382" = 83.82 %). The forecast band is
an estimate, rounded to whole fen before it is shown, like the page's KPI cards.
"""

from __future__ import annotations

import json
from datetime import date
from fractions import Fraction
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from attain.org.models import OrgNode
from attain.plans.models import Plan
from attain.tracking.format import in_units, share
from attain.web.api.common import ERROR_RESPONSES, date_of, jsonable, node_of
from attain.web.deps import AccessDep
from attain.web.pages import dashboard as dashboard_page
from attain.web.pages import queries
from attain.web.pages.dashboard import (
    NodeRef,
    StatusRow,
    time_share,
)

router = APIRouter(tags=["dashboard"], responses=ERROR_RESPONSES)

NodeParam = Annotated[str | None, Query(max_length=64, description="Org node code (default: your own node)")]
PlanParam = Annotated[str | None, Query(max_length=100, description="Plan name (default: the approved plan covering as_of)")]
AsOfParam = Annotated[str | None, Query(max_length=10, description="Count up to this date, YYYY-MM-DD (default today)")]
MONEY_SCALE = 2  # fen → yuan


def _money(fen: int) -> str:
    return in_units(fen, MONEY_SCALE)  # type: ignore[return-value]


def _ratio(part: int, whole: int) -> str | None:
    return None if whole <= 0 else share(Fraction(part, whole))


def _node(node: OrgNode | NodeRef) -> dict[str, Any]:
    return {"code": node.code, "name": node.name, "kind": node.kind}


def _plan(plan: Plan) -> dict[str, Any]:
    return {"name": plan.name, "version": plan.version, "status": plan.status, "year": plan.year,
            "start": plan.start_date, "end": plan.end_date}


def _row(row: StatusRow) -> dict[str, Any]:
    return {
        "node": _node(row.node), "actual": _money(row.actual), "target": _money(row.target),
        "target_to_date": _money(row.target_to_date), "attainment": _ratio(row.actual, row.target),
        "status": row.status,
    }


def payload(data: dict[str, Any], plan: Plan, node: OrgNode, day: date) -> dict[str, Any]:
    """The API's answer for a node's cached figures (JSON-ready)."""
    summary: StatusRow = data["summary"]
    return jsonable({  # type: ignore[no-any-return]
        "plan": _plan(plan), "node": _node(node), "as_of": day,
        "time_progress": share(time_share(plan, day)),
        "summary": {key: value for key, value in _row(summary).items() if key != "node"},
        "months": [{"month": label, "actual": _money(actual), "target": _money(monthly_target)}
                   for label, actual, monthly_target in zip(data["months"], data["actual"], data["target"])],
        "forecast": {"p10": _money(data["forecast_p10"]), "p50": _money(data["forecast_p50"]),
                     "p90": _money(data["forecast_p90"])},
        "rows": [_row(r) for r in data["rows"]],
    })


def encode(body: dict[str, Any]) -> bytes:
    """JSON as FastAPI's JSONResponse writes it (UTF-8, no NaN, compact)."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def cached_dashboard_json(*, session: Session, plan: Plan, node: OrgNode, as_of: date) -> bytes:
    """The encoded answer, kept inside the node's figures entry of the per-process cache (so it
    expires with the figures, `attain.web.cache`): a cached request encodes nothing. It is kept per
    value of every plan and node field the answer shows, read fresh by this request, so a plan's
    status or a node's name changed in place shows at once, as before. The caller has checked
    access to `node`."""
    figures = dashboard_page.cached_figures(session=session, plan=plan, node=node, as_of=as_of)
    encoded: dict[tuple[Any, ...], bytes] = figures[dashboard_page.ENCODED]
    shown = (plan.id, plan.name, plan.version, plan.status, plan.year, plan.start_date, plan.end_date,
             node.id, node.code, node.name, node.kind, as_of)
    body = encoded.get(shown)
    if body is None:
        body = encode(payload(figures, plan, node, as_of))
        if len(encoded) >= 8:  # fields changed in place again and again: keep the memo small
            encoded.clear()
        encoded[shown] = body  # one dict store: safe between threads (two may encode the same)
    return body


@router.get("/dashboard", summary="Dashboard of a node (KPIs, monthly series, forecast, status below)",
            response_model=dict[str, Any])
def get_dashboard(access: AccessDep, node: NodeParam = None, plan: PlanParam = None,
                  as_of: AsOfParam = None) -> Response:
    """For the node (default yours): the plan, time progress, actual vs target with status, monthly
    actual and target, the forecast P10/P50/P90 for the plan's end and the status of the nodes below."""
    day = date_of(as_of) or date.today()
    target = node_of(access, node)  # every request: 404 for a node the caller may not see
    chosen = queries.choose_plan(session=access.session, name=plan, on=day)
    body = cached_dashboard_json(session=access.session, plan=chosen, node=target, as_of=day)
    return Response(content=body, media_type="application/json")
