"""Plans and their cells: list, read, and edit one cell with optimistic concurrency (409 on conflict)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from attain.catalog.models import ProductNode
from attain.errors import InvalidInput, NotFound
from attain.metrics.models import Metric
from attain.org.models import OrgNode
from attain.plans import edits
from attain.plans import service as plans
from attain.plans.models import IN_FORCE, Plan, PlanCell
from attain.web.api.common import ERROR_RESPONSES, given, jsonable, refusals
from attain.web.deps import Access, AccessDep

router = APIRouter(tags=["plans"], responses=ERROR_RESPONSES)
EDITOR_ROLES = ("admin", "director", "manager")
NameParam = Annotated[str, Path(min_length=1, max_length=100, description="Plan name, e.g. FY2027")]


class CellPatch(BaseModel):
    """Change one cell. `expect` is the plan version you read; a newer version answers 409."""

    # At least one of value, locked, owner and strategy_note is given (else: nothing to change).
    model_config = ConfigDict(extra="forbid", json_schema_extra=lambda schema: schema.update(anyOf=[
        {"required": [field], "properties": {field: given(schema, field)}} for field in ("value", "locked", "owner", "strategy_note")]))
    expect: int = Field(ge=1, le=2**31 - 1, description="Plan version the change is based on")
    value: int | None = Field(default=None, ge=0, le=10**17, description="New target, in the metric's minor unit")
    locked: bool | None = None
    owner: str | None = Field(default=None, max_length=64, description="Org node code of the cell's owner")
    strategy_note: str | None = Field(default=None, max_length=2000)
    reason: str | None = Field(default=None, max_length=500)


def _plan(session: Session, name: str, version: int | None, draft: bool = False) -> Plan:
    """The version in force (or, with `draft`, the pending revision), or one stored version row."""
    if version is None:
        return plans.resolve_plan(session=session, name=name, preview=draft)
    found = session.scalars(select(Plan).where(Plan.name == name, Plan.version == version)).first()
    if found is None:
        raise NotFound.coded("web.api.plans.plan_version", name=name, version=version)
    return found


def _plan_dict(session: Session, plan: Plan, access: Access) -> dict[str, Any]:
    metric = session.get(Metric, plan.metric_id)
    payload = {
        "name": plan.name, "version": plan.version, "status": plan.status, "year": plan.year,
        "start": plan.start_date, "end": plan.end_date, "metric": metric.code if metric else None,
        "unit": plan.unit, "note": plan.note, "approved_at": plan.approved_at,
        "in_force": plan.status in IN_FORCE, "revision_of_version": None, "effective_from": plan.effective_from,
        "pending_version": None,
    }
    if plan.revision_of is not None:
        revised = session.get(Plan, plan.revision_of)
        payload["revision_of_version"] = revised.version if revised else None
    if plan.status in IN_FORCE:
        pending = plans.pending_revision(session=session, plan=plan)
        payload["pending_version"] = pending.version if pending else None
    # The plan total is a company figure: only for those who see the company.
    if access.user.role in ("admin", "director"):
        payload["total"] = plan.total
    return jsonable(payload)


@router.get("/plans", summary="List plans")
def list_plans(access: AccessDep) -> list[dict[str, Any]]:
    """Every plan (latest version per name first), with status and dates."""
    rows = access.session.scalars(select(Plan).order_by(Plan.name, Plan.version.desc())).all()
    return [_plan_dict(access.session, p, access) for p in rows]


@router.get("/plans/{name}", summary="One plan")
def get_plan(access: AccessDep, name: NameParam,
             version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
             draft: Annotated[bool, Query(description="The pending revision instead of the version in force")] = False,
             ) -> dict[str, Any]:
    """The version in force (or the pending revision with `draft=true`), with the number and sum of
    the cells the caller may see."""
    plan = _plan(access.session, name, version, draft)
    count, total = access.session.execute(
        select(func.count(PlanCell.id), func.coalesce(func.sum(PlanCell.value), 0))
        .where(PlanCell.plan_id == plan.id, access.filter(PlanCell.org_node_id))
    ).one()
    return {**_plan_dict(access.session, plan, access), "visible_cells": count, "visible_cell_sum": int(total)}


def _cell_dict(cell: PlanCell, codes: dict[int, str], products: dict[int, str]) -> dict[str, Any]:
    return {
        "id": cell.id, "period": cell.period, "period_start": cell.period_start.isoformat(),
        "period_end": cell.period_end.isoformat(), "org_node": codes.get(cell.org_node_id),
        "product": products.get(cell.product_node_id) if cell.product_node_id else None,
        "customer_type": cell.customer_type, "customer_axis": cell.customer_axis or None,
        "customer_value": cell.customer_value if cell.customer_axis else None, "value": cell.value, "locked": cell.locked,
        "owner": codes.get(cell.owner_id) if cell.owner_id else None, "strategy_note": cell.strategy_note,
    }


def _names(session: Session, cells: list[PlanCell]) -> tuple[dict[int, str], dict[int, str]]:
    node_ids = {c.org_node_id for c in cells} | {c.owner_id for c in cells if c.owner_id}
    product_ids = {c.product_node_id for c in cells if c.product_node_id}
    codes = dict(session.execute(select(OrgNode.id, OrgNode.code).where(OrgNode.id.in_(node_ids))).all()) if node_ids else {}
    products = dict(session.execute(select(ProductNode.id, ProductNode.code).where(
        ProductNode.id.in_(product_ids))).all()) if product_ids else {}
    return codes, products


@router.get("/plans/{name}/cells", summary="List plan cells")
def list_cells(
    access: AccessDep, name: NameParam,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    draft: Annotated[bool, Query(description="The pending revision instead of the version in force")] = False,
    period: Annotated[str | None, Query(max_length=16, description="Cell period label, e.g. 2027-03")] = None,
    node: Annotated[str | None, Query(max_length=64, description="Org node code: that node and below")] = None,
    product: Annotated[str | None, Query(max_length=64, description="Product or line code")] = None,
    customer_type: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> dict[str, Any]:
    """Cells the caller may see, filtered; `total` counts all matches, `cells` is one page."""
    session = access.session
    plan = _plan(session, name, version, draft)
    where = [PlanCell.plan_id == plan.id, access.filter(PlanCell.org_node_id)]
    if period:
        where.append(PlanCell.period == period)
    if node:
        root = access.node(node)
        where.append(PlanCell.org_node_id.in_(select(OrgNode.id).where(OrgNode.path.startswith(root.path, autoescape=True))))
    if product:
        product_id = session.scalar(select(ProductNode.id).where(ProductNode.code == product))
        if product_id is None:
            raise NotFound.coded("web.api.plans.product_product_line", product=product)
        where.append(PlanCell.product_node_id == product_id)
    if customer_type:
        where.append(PlanCell.customer_type == customer_type)
    total = session.scalar(select(func.count(PlanCell.id)).where(*where)) or 0
    cells = list(session.scalars(select(PlanCell).where(*where).order_by(PlanCell.id).limit(limit).offset(offset)))
    codes, products = _names(session, cells)
    return {"plan": plan.name, "version": plan.version, "total": total, "offset": offset,
            "cells": [_cell_dict(c, codes, products) for c in cells]}


@router.patch("/plans/{name}/cells/{cell_id}", summary="Edit one cell of the draft",
              responses={409: {"description": "The plan moved on since `expect`, is not a draft, the cell is locked or its period is closed"},
                         **refusals({"cell.off_unit": "the value is not a multiple of the plan's rounding unit",
                                     "cell.top": "the cell is the top of the part being redistributed",
                                     "plan.attribute_cell_edit": "the cell is a customer segment's (the plan is split by it)"})})
def patch_cell(access: AccessDep, name: NameParam, cell_id: Annotated[int, Path(ge=1, le=2**62)],
               patch: CellPatch) -> dict[str, Any]:
    """Change a cell's value, lock, owner or strategy note in the plan's draft (a new version each).

    A new value goes through the one edit rule of the plan editor and the CLI: it must be a
    multiple of the plan's unit; the difference is taken from the other open cells of the same
    periods under the part of the plan you manage; `changes` lists every cell that moved."""
    session, user = access.session, access.user
    plans.require_planner(session=session, user=user)  # the company's plan_edit permission
    plan = plans.require_plan(session=session, name=name)
    cell = session.get(PlanCell, cell_id)
    if cell is None or cell.plan_id != plan.id or not access.can_see(session.get(OrgNode, cell.org_node_id)):  # type: ignore[arg-type]
        raise NotFound.coded("web.api.plans.cell_draft_plan_you", cell_id=cell_id, name=name)
    plans.ensure_editable(plan)
    if cell.customer_axis:
        raise InvalidInput.coded("plan.attribute_cell_edit", axis=cell.customer_axis, value=cell.customer_value)
    if patch.value is None and patch.locked is None and patch.owner is None and patch.strategy_note is None:
        raise InvalidInput.coded("web.api.plans.nothing_change_give_value")
    codes, products = _names(session, [cell])
    ref = edits.CellRef(codes[cell.org_node_id], cell.period,
                        products.get(cell.product_node_id) if cell.product_node_id else None, cell.customer_type)
    expect = patch.expect
    moved: tuple[edits.CellChange, ...] = ()
    if patch.locked is False and cell.locked:
        expect = edits.set_lock(session=session, name=name, ref=ref, locked=False, by=user.username, expect=expect,
                                reason=patch.reason, actor=user).version
    if patch.value is not None and patch.value != cell.value:
        result = edits.set_cells(session=session, name=name, values={ref: patch.value}, by=user.username, expect=expect,
                                 reason=patch.reason, actor=user)
        expect, moved = result.version, result.changes
    elif patch.locked is True and not cell.locked:
        expect = edits.set_lock(session=session, name=name, ref=ref, locked=True, by=user.username, expect=expect,
                                reason=patch.reason, actor=user).version
    if patch.owner is not None or patch.strategy_note is not None:
        if patch.owner:
            access.node(patch.owner)  # an owner the caller can see
        edits.set_note(session=session, name=name, ref=ref, note=patch.strategy_note, owner=patch.owner,
                       by=user.username, expect=expect, reason=patch.reason, actor=user)
    session.expire_all()
    fresh = plans.require_plan(session=session, name=name)
    stored = session.scalars(select(PlanCell).where(
        PlanCell.plan_id == fresh.id, PlanCell.period == cell.period, PlanCell.org_node_id == cell.org_node_id,
        PlanCell.customer_type == cell.customer_type,
        PlanCell.product_node_id.is_(None) if cell.product_node_id is None else PlanCell.product_node_id == cell.product_node_id,
    )).one()
    codes, products = _names(session, [stored])
    seen = {n.code for n in access.nodes()} if moved else set()
    visible = [c for c in moved if c.node in seen]
    return {"plan": fresh.name, "version": fresh.version, "cell": _cell_dict(stored, codes, products),
            "changes": [{"node": c.node, "period": c.period, "product": c.product, "customer_type": c.customer_type,
                         "before": c.before, "after": c.after} for c in visible]}


__all__ = ["CellPatch", "InvalidInput", "router"]
