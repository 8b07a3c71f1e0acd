"""Plans and their cells: list, read, and edit one cell with optimistic concurrency (409 on conflict)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from attain.catalog.models import ProductNode
from attain.errors import Conflict, InvalidInput, NotFound
from attain.metrics.models import Metric
from attain.org.models import OrgNode
from attain.plans import service as plans
from attain.plans.models import Plan, PlanCell
from attain.web.api.common import ERROR_RESPONSES, jsonable
from attain.web.deps import Access, AccessDep, Forbidden

router = APIRouter(tags=["plans"], responses=ERROR_RESPONSES)
EDITOR_ROLES = ("admin", "director", "manager")
NameParam = Annotated[str, Path(min_length=1, max_length=100, description="Plan name, e.g. FY2027")]


class CellPatch(BaseModel):
    """Change one cell. `expect` is the plan version you read; a newer version answers 409."""

    model_config = ConfigDict(extra="forbid")
    expect: int = Field(ge=1, le=2**31, description="Plan version the change is based on")
    value: int | None = Field(default=None, ge=0, le=10**17, description="New target, in the metric's minor unit")
    locked: bool | None = None
    owner: str | None = Field(default=None, max_length=64, description="Org node code of the cell's owner")
    strategy_note: str | None = Field(default=None, max_length=4000)
    reason: str | None = Field(default=None, max_length=500)


def _plan(session: Session, name: str, version: int | None) -> Plan:
    if version is None:
        return plans.require_plan(session=session, name=name)
    found = session.scalars(select(Plan).where(Plan.name == name, Plan.version == version)).first()
    if found is None:
        raise NotFound(f"no plan '{name}' version {version}")
    return found


def _plan_dict(session: Session, plan: Plan, access: Access) -> dict[str, Any]:
    metric = session.get(Metric, plan.metric_id)
    payload = {
        "name": plan.name, "version": plan.version, "status": plan.status, "year": plan.year,
        "start": plan.start_date, "end": plan.end_date, "metric": metric.code if metric else None,
        "unit": plan.unit, "note": plan.note, "approved_at": plan.approved_at,
    }
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
             version: Annotated[int | None, Query(ge=1, le=2**31)] = None) -> dict[str, Any]:
    """The plan with the number and sum of the cells the caller may see."""
    plan = _plan(access.session, name, version)
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
        "customer_type": cell.customer_type, "value": cell.value, "locked": cell.locked,
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
    version: Annotated[int | None, Query(ge=1, le=2**31)] = None,
    period: Annotated[str | None, Query(max_length=16, description="Cell period label, e.g. 2027-03")] = None,
    node: Annotated[str | None, Query(max_length=64, description="Org node code: that node and below")] = None,
    product: Annotated[str | None, Query(max_length=64, description="Product or line code")] = None,
    customer_type: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> dict[str, Any]:
    """Cells the caller may see, filtered; `total` counts all matches, `cells` is one page."""
    session = access.session
    plan = _plan(session, name, version)
    where = [PlanCell.plan_id == plan.id, access.filter(PlanCell.org_node_id)]
    if period:
        where.append(PlanCell.period == period)
    if node:
        root = access.node(node)
        where.append(PlanCell.org_node_id.in_(select(OrgNode.id).where(OrgNode.path.startswith(root.path, autoescape=True))))
    if product:
        product_id = session.scalar(select(ProductNode.id).where(ProductNode.code == product))
        if product_id is None:
            raise NotFound(f"no product or product line '{product}'")
        where.append(PlanCell.product_node_id == product_id)
    if customer_type:
        where.append(PlanCell.customer_type == customer_type)
    total = session.scalar(select(func.count(PlanCell.id)).where(*where)) or 0
    cells = list(session.scalars(select(PlanCell).where(*where).order_by(PlanCell.id).limit(limit).offset(offset)))
    codes, products = _names(session, cells)
    return {"plan": plan.name, "version": plan.version, "total": total, "offset": offset,
            "cells": [_cell_dict(c, codes, products) for c in cells]}


@router.patch("/plans/{name}/cells/{cell_id}", summary="Edit one cell",
              responses={409: {"description": "The plan moved on since `expect`, is not a draft, or the cell is locked"}})
def patch_cell(access: AccessDep, name: NameParam, cell_id: Annotated[int, Path(ge=1, le=2**62)],
               patch: CellPatch) -> dict[str, Any]:
    """Change a cell's value, lock, owner or strategy note; the plan's version goes up by one."""
    session, user = access.session, access.user
    if user.role not in EDITOR_ROLES:
        raise Forbidden(f"this needs the role {' or '.join(EDITOR_ROLES)}; you are {user.role}")
    plan = plans.require_plan(session=session, name=name)
    cell = session.get(PlanCell, cell_id)
    if cell is None or cell.plan_id != plan.id or not access.can_see(session.get(OrgNode, cell.org_node_id)):  # type: ignore[arg-type]
        raise NotFound(f"no cell {cell_id} in plan {name} that you can see")
    plans.ensure_editable(plan)
    if patch.value is not None and cell.locked and patch.locked is not False and patch.value != cell.value:
        raise Conflict(f"cell {cell_id} ({cell.period}) is locked at {cell.value}; unlock it first")
    owner_id = cell.owner_id
    if patch.owner is not None:
        owner_id = access.node(patch.owner).id if patch.owner else None
    key = (cell.period, cell.org_node_id, cell.product_node_id, cell.customer_type)
    before = {key: (cell.value, cell.locked)}
    version = plans.begin_change(session=session, plan=plan, expect=patch.expect, by=user.username, action="edited",
                                 reason=patch.reason, role=user.role)
    if patch.value is not None:
        cell.value = patch.value
    if patch.locked is not None:
        cell.locked = patch.locked
    if patch.strategy_note is not None:
        cell.strategy_note = patch.strategy_note or None
    cell.owner_id = owner_id
    plans.record_cell_changes(session=session, version=version, before=before, after={key: (cell.value, cell.locked)})
    session.commit()
    codes, products = _names(session, [cell])
    session.refresh(plan)
    return {"plan": plan.name, "version": plan.version, "cell": _cell_dict(cell, codes, products)}


__all__ = ["CellPatch", "InvalidInput", "router"]
