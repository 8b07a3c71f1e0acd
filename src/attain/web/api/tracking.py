"""Actuals, attainment, leaderboard and diagnosis, each limited to what the caller may see.

Tracking computes for the whole company; the API asks for the caller's node as an extra grouping
dimension (e.g. rep R002 → `by=rep,month`) and keeps only that node's rows, so a rep never
receives another rep's figures. The leaderboard is the one place where a rep sees other names:
ranks and attainment %, without amounts.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from attain.errors import InvalidInput
from attain.org.models import OrgNode
from attain.tracking.query import METRICS
from attain.web.api.common import (
    ERROR_RESPONSES,
    AsOfParam,
    PeriodParam,
    date_of,
    jsonable,
    node_of,
    period_of,
    refusals,
)
from attain.web.deps import Access, AccessDep

router = APIRouter(tags=["tracking"], responses=ERROR_RESPONSES)

NodeParam = Annotated[str | None, Query(max_length=64, description="Org node code (default: your own node)")]
_DIMENSION = r"(region|team|rep|product_line|customer_type|month|segment|grade|industry|channel|city|customer_region|rfm|attr:[^,]{1,64})"
BY_PATTERN = rf"^{_DIMENSION}(,{_DIMENSION})*$"
ByParam = Annotated[str | None, Query(max_length=100, json_schema_extra={"pattern": BY_PATTERN},
                                      description="Comma-separated: region, team, rep, product_line, customer_type, month, "
                                                  "or a customer attribute: segment, grade, industry, channel, city, "
                                                  "customer_region, rfm, attr:NAME")]
PlanParam = Annotated[str | None, Query(max_length=100, description="Plan name (default: the approved plan covering the period)")]
ORG_LEVELS = ("region", "team", "rep")
Metric = Literal[METRICS]  # type: ignore[valid-type]
# `by` may name customer attributes: schema-valid, refused for reasons no pattern can express.
BY_REFUSALS = {
    "catalog.dimensions.customer_attribute_known_attributes": "attr:NAME that no customer carries",
    "tracking.query.report_most_two_customer": "more than two customer attributes in `by`",
}


def _grouping(node: OrgNode, by: str | None) -> tuple[str, ...]:
    from attain.tracking.query import parse_by

    asked = parse_by(by).dimensions
    if node.kind == "company":
        return asked
    if node.kind not in ORG_LEVELS:
        raise InvalidInput.coded("web.api.tracking.cannot_report", kind=node.kind)
    return tuple(dict.fromkeys((node.kind, *asked)))


def _keep(access: Access, node: OrgNode, dimensions: tuple[str, ...], key: tuple[object, ...]) -> bool:
    """A row belongs to the node asked for, and every org node in its key is visible to the caller."""
    if node.kind != "company" and key[dimensions.index(node.kind)] != node.id:
        return False
    for level in ORG_LEVELS:
        if level in dimensions:
            value = key[dimensions.index(level)]
            if value is None:
                continue
            if not isinstance(value, int) or not access.can_see(access.session.get(OrgNode, value)):  # type: ignore[arg-type]
                return False
    return True


@router.get("/actuals", summary="Actual sales (credited)", responses=refusals(BY_REFUSALS))
def get_actuals(access: AccessDep, period: PeriodParam = None, node: NodeParam = None, by: ByParam = None,
                metric: Annotated[Metric, Query()] = "revenue", as_of: AsOfParam = None) -> dict[str, Any]:
    """The metric's actual per row of `by` for the node (default yours), in the metric's unit."""
    from attain.tracking.attainment import actuals
    from attain.tracking.format import actuals_payload
    from attain.tracking.query import check_metric

    session = access.session
    check_metric(metric)
    chosen_period = period_of(session, period)
    target = node_of(access, node)
    dimensions = _grouping(target, by)
    result = actuals(session=session, period=chosen_period, by=dimensions or None, metric=metric, as_of=date_of(as_of))
    payload = actuals_payload(result)
    kept = [r for r, raw in zip(payload["rows"], result.rows) if _keep(access, target, result.dimensions, raw.key)]
    if target.kind != "company":
        node_total = sum((raw.value for raw in result.rows if raw.key[result.dimensions.index(target.kind)] == target.id), 0)
        from attain.tracking.format import in_units

        payload["total"] = in_units(node_total, result.metric.scale)
    payload["rows"] = kept
    payload["node"] = target.code
    return jsonable(payload)


@router.get("/attainment", summary="Attainment vs target", responses=refusals(BY_REFUSALS))
def get_attainment(access: AccessDep, period: PeriodParam = None, node: NodeParam = None, by: ByParam = None,
                   plan: PlanParam = None, as_of: AsOfParam = None) -> dict[str, Any]:
    """Actual vs target with time progress, forecasts and status, for the node (default yours)."""
    from attain.tracking.attainment import attainment, attainment_columns
    from attain.tracking.format import (
        attainment_columns_payload,
        attainment_row_payload,
    )

    session = access.session
    chosen_period = period_of(session, period)
    target = node_of(access, node)
    day = date_of(as_of)
    dimensions = _grouping(target, by)
    result = attainment_columns(session=session, period=chosen_period, by=dimensions or None, plan=plan, as_of=day)
    payload = attainment_columns_payload(result)  # from the columns: no row objects
    payload["rows"] = [p for p, key in zip(payload["rows"], result.keys)
                       if _keep(access, target, result.dimensions, key)]
    if target.kind != "company":
        # The node's own row: among the rows already when `by` added nothing, else one more (cheaper) call.
        own = result.view() if dimensions == (target.kind,) else attainment(
            session=session, period=chosen_period, by=target.kind, plan=plan, as_of=day)
        mine = next((r for r in own.rows if r.key[0] == target.id), None)
        payload["total"] = attainment_row_payload(mine, own.dimensions, own.metric.scale) if mine else None
    payload["node"] = target.code
    return jsonable(payload)


# Fields of a leaderboard row that a rep may see for other people.
PUBLIC_FIELDS = ("rank", "labels", "attainment", "status")


@router.get("/leaderboard", summary="战报墙 leaderboard",
            responses=refusals({"dimension.unknown_value": "a segment no customer has"}))
def get_leaderboard(access: AccessDep, period: PeriodParam = None,
                    by: Annotated[str, Query(pattern="^(rep|team)$")] = "rep",
                    plan: PlanParam = None, as_of: AsOfParam = None,
                    segment: Annotated[str | None, Query(max_length=200, description="Rank on sales to this customer segment only (e.g. 大客户)")] = None,
                    ) -> dict[str, Any]:
    """Ranked by attainment. Rows the caller may not see carry rank, name, attainment and status only."""
    from attain.tracking.format import leaderboard_payload
    from attain.tracking.leaderboard import leaderboard

    session = access.session
    result = leaderboard(session=session, period=period_of(session, period), by=by, plan=plan, as_of=date_of(as_of),
                         customers=("segment", segment) if segment else None)
    payload = leaderboard_payload(result)
    rows = []
    for row, leader in zip(payload["rows"], result.rows):
        node_id = leader.row.key[0]
        node = session.get(OrgNode, node_id) if isinstance(node_id, int) else None
        if node is not None and access.can_see(node):
            rows.append({**row, "mine": True})
        else:
            rows.append({**{k: row[k] for k in PUBLIC_FIELDS if k in row}, "mine": False})
    payload["rows"] = rows
    return jsonable(payload)


@router.get("/diagnosis", summary="Gap attribution (leads / conversion / deal size)",
            responses=refusals({"tracking.diagnosis.starts_after_nothing_diagnose": "the period starts after as_of (nothing to diagnose yet)"}))
def get_diagnosis(access: AccessDep, period: PeriodParam = None,
                  level: Annotated[str, Query(pattern="^(rep|team|region)$")] = "rep",
                  vs: Annotated[str, Query(pattern="^(target|last-year)$")] = "target",
                  plan: PlanParam = None, as_of: AsOfParam = None) -> dict[str, Any]:
    """Per node of `level`: gap to the reference split into leads, conversion and deal size."""
    from attain.tracking.diagnosis import diagnose

    session = access.session
    result = diagnose(session=session, period=period_of(session, period), level=level, reference=vs,
                      as_of=date_of(as_of), plan=plan)
    visible = {n.id for n in access.nodes()}
    payload = jsonable(result)
    payload["rows"] = [jsonable(r) for r in result.rows if r.node_id in visible]
    return payload
