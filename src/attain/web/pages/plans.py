"""Plan editor pages: plan list, split wizard (preview → lock → apply), editable grid, strategy notes,
versions with diff, submit / approve / revise. Reps have no plan pages; a manager edits the grid of
the nodes they may see; a director or admin approves."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData
from starlette.responses import Response

from attain.auth.models import User
from attain.auth.permissions import allowed
from attain.errors import AttainError, InvalidInput
from attain.org.models import OrgNode
from attain.plans import edits
from attain.plans import service as plans
from attain.plans import wizard as plan_editor
from attain.plans.models import Plan
from attain.web.deps import AccessDep
from attain.web.i18n import N_
from attain.web.messages import error_text
from attain.web.pages.common import render_page
from attain.web.permissions import require_permission

INT32_MAX = 2**31 - 1  # plans.version is an INTEGER column: a larger number is a 422, never a database error
VersionForm = Annotated[int, Form(ge=1, le=INT32_MAX)]
VersionQuery = Annotated[int, Query(ge=1, le=INT32_MAX)]
router = APIRouter(include_in_schema=False, dependencies=[Depends(require_permission("plan_edit"))])


def _plan(access: Any, name: str) -> Plan:
    return plans.require_plan(session=access.session, name=name)


@router.get("/plans", response_class=HTMLResponse)
def plan_list(request: Request, access: AccessDep) -> Response:
    return render_page(request, "pages/plans.html", {"plans": plans.list_plans(session=access.session)})


# --- wizard ------------------------------------------------------------------------------------


def _spec(access: Any, form: FormData) -> plan_editor.WizardSpec:
    def get(key: str, default: str = "") -> str:
        value = form.get(key, default)
        return value if isinstance(value, str) else default

    try:
        year = int(get("year") or plans.current_day().year)
    except ValueError as exc:
        raise InvalidInput.coded("wizard.year", text=get("year")) from exc
    if not 2000 <= year <= 2100:
        raise InvalidInput.coded("wizard.year", text=str(year))
    name = get("name").strip()
    if not name or len(name) > 100:
        raise InvalidInput.coded("plan.name_length", name=name)
    scope = access.node(get("scope")) if get("scope") else access.home()
    level = get("org_level", "rep") or None
    if level == "none":
        level = None
    return plan_editor.WizardSpec(
        name=name, year=year,
        total=plan_editor.wizard_total(session=access.session, basis=get("basis", "total"), total=get("total"),
                                       growth=get("growth"), unit=get("unit", "10000"), year=year, scope=scope,
                                       today=plans.current_day()),
        unit=plan_editor.parse_yuan(get("unit", "10000"), N_("rounding unit")),
        scope=scope, org_level=level, org_method=get("org_method", "history"),
        time=get("time") == "month", time_method=get("time_method", "history"),
        product=get("product") == "line", product_method=get("product_method", "equal"),
        product_weights=get("product_weights"),
        customer_type=get("customer_type") == "yes", customer_method=get("customer_method", "weights"),
        customer_weights=get("customer_weights", "40,60"),
        locks={key[5:]: value for key, value in form.multi_items() if key.startswith("lock:") and isinstance(value, str)},
    )


def _wizard_context(access: Any) -> dict[str, Any]:
    home = access.home()
    scopes = [n for n in access.nodes() if n.kind in ("company", "region", "team")]
    defaults = plan_editor.wizard_defaults(session=access.session, scope=home, today=plans.current_day())
    return {"home": home, "scopes": scopes, "year": defaults.year, "defaults": defaults, "levels": plan_editor.ORG_LEVELS}


@router.get("/plans/new", response_class=HTMLResponse)
def wizard_page(request: Request, access: AccessDep) -> Response:
    return render_page(request, "pages/plan_wizard.html", _wizard_context(access))


def _calendar_notice(access: Any, year: int) -> dict[str, Any]:
    """Years of the plan without official holiday data, and the company days entered for them."""
    from attain.calendars.service import company_calendar

    calendar = company_calendar(session=access.session)
    missing = calendar.missing_years(date(year, 1, 1), date(year, 12, 31))
    return {"calendar_missing": missing, "calendar_days": calendar.company_days(year) if missing else []}


@router.post("/plans/new/preview", response_class=HTMLResponse)
async def wizard_preview(request: Request, access: AccessDep) -> Response:
    """The split as a table (HTMX partial); errors come back in the same place, in words."""
    form = await request.form()
    try:
        result = plan_editor.preview(session=access.session, spec=_spec(access, form))
    except AttainError as exc:
        return render_page(request, "pages/_wizard_preview.html", {"error": error_text(request, exc), "result": None})
    rows, columns, table = result.pivot()
    return render_page(request, "pages/_wizard_preview.html", {
        "error": None, "result": result, "rows": rows, "columns": columns, "table": table,
        "row_totals": table.sum(axis=1), "column_totals": table.sum(axis=0), "total": int(table.sum()),
        "locks": result.spec.locks, "cell_locks": len(result.axes) == 2,
        **_calendar_notice(access, result.spec.year),
    })


@router.post("/plans/new")
async def wizard_apply(request: Request, access: AccessDep) -> Response:
    form = await request.form()
    try:
        spec = _spec(access, form)
        plan = plan_editor.apply(session=access.session, spec=spec, by=access.user.username, role=access.user.role)
    except AttainError as exc:
        if not request.headers.get("hx-request"):
            raise
        # In place, where the preview is shown: a name that exists, a total off the unit, ...
        access.session.rollback()
        answer = render_page(request, "pages/_wizard_preview.html", {"error": error_text(request, exc), "result": None})
        answer.headers["HX-Retarget"] = "#preview"
        answer.headers["HX-Reswap"] = "innerHTML"
        return answer
    target = f"/plans/{quote(plan.name)}?node={quote(spec.scope.code)}"
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


# --- editor ------------------------------------------------------------------------------------


def _editor_context(access: Any, plan: Plan, node: OrgNode, error: str | None = None) -> dict[str, Any]:
    grid = plan_editor.load_grid(session=access.session, plan=plan, node=node)
    crumbs = [access.session.get(OrgNode, int(i)) for i in node.path.strip("/").split("/")]
    in_force = plans.plan_in_force(session=access.session, name=plan.name)
    smart_errors = 0
    if plan.status == "draft":
        from attain.plans.check import check_plan

        smart_errors = check_plan(session=access.session, name=plan.name, draws=2_000).count("error")
    return {
        "in_force": in_force, "smart_errors": smart_errors,
        "plan": plan, "grid": grid, "node": node, "error": error,
        "crumbs": [c for c in crumbs if c is not None and access.can_see(c)],
        "versions": plans.list_versions(session=access.session, plan=plan),
        "can_approve": allowed(session=access.session, role=access.user.role, permission="plan_approve"), "summary": plans.plan_summary(session=access.session, plan=plan),
    }


@router.get("/plans/{name}", response_class=HTMLResponse)
def editor_page(request: Request, access: AccessDep, name: str, node: str | None = None) -> Response:
    plan = _plan(access, name)
    target = access.node(node) if node else access.home()
    return render_page(request, "pages/plan_editor.html", _editor_context(access, plan, target))


def _grid_answer(request: Request, access: Any, plan: Plan, node: OrgNode, error: str | None,
                 changes: tuple[Any, ...] = ()) -> Response:
    """The grid again, the version list and header refreshed out of band, and the cells that moved."""
    access.session.expire_all()
    fresh = _plan(access, plan.name)
    context = _editor_context(access, fresh, node, error)
    context["changes"] = changes
    context["oob"] = True
    return render_page(request, "pages/_plan_grid.html", context)


@router.post("/plans/{name}/cell", response_class=HTMLResponse)
def edit_cell(
    request: Request, access: AccessDep, name: str, node: Annotated[str, Form(max_length=64)],
    row: Annotated[str, Form(max_length=64)], period: Annotated[str, Form(max_length=16)],
    value: Annotated[str, Form(max_length=40)], version: VersionForm,
) -> Response:
    """Set one cell; answers the re-split grid (or the grid with the reason it was refused)."""
    plan = _plan(access, name)
    parent = access.node(node)
    error = None
    changes: tuple[edits.CellChange, ...] = ()
    try:
        result = edits.set_cells(
            session=access.session, name=plan.name, values={edits.CellRef(access.node(row).code, period): plan_editor.parse_yuan(value, f"{period}")},
            by=access.user.username, expect=version, within=parent.code, actor=access.user, reason=f"{row} {period}",
        )
        changes = result.changes
    except AttainError as exc:
        access.session.rollback()
        error = error_text(request, exc)
    return _grid_answer(request, access, plan, parent, error, changes)


@router.post("/plans/{name}/unlock", response_class=HTMLResponse)
def unlock(request: Request, access: AccessDep, name: str, node: Annotated[str, Form(max_length=64)],
           version: VersionForm) -> Response:
    plan = _plan(access, name)
    parent = access.node(node)
    error = None
    try:
        edits.unlock_under(session=access.session, name=plan.name, node=parent.code, expect=version,
                           by=access.user.username, actor=access.user)
    except AttainError as exc:
        access.session.rollback()
        error = error_text(request, exc)
    return _grid_answer(request, access, plan, parent, error)


@router.post("/plans/{name}/note", response_class=HTMLResponse)
def note(request: Request, access: AccessDep, name: str, node: Annotated[str, Form(max_length=64)],
         row: Annotated[str, Form(max_length=64)], version: VersionForm,
         text: Annotated[str, Form(max_length=2000)] = "") -> Response:
    plan = _plan(access, name)
    parent = access.node(node)
    error = None
    try:
        edits.set_row_note(session=access.session, name=plan.name, node=access.node(row).code, note=text, expect=version,
                           by=access.user.username, actor=access.user)
    except AttainError as exc:
        access.session.rollback()
        error = error_text(request, exc)
    return _grid_answer(request, access, plan, parent, error)


@router.post("/plans/{name}/status")
def change_status(request: Request, access: AccessDep, name: str, action: Annotated[str, Form(max_length=16)],
                  version: VersionForm, node: Annotated[str, Form(max_length=64)] = "",
                  reason: Annotated[str, Form(max_length=1000)] = "",
                  override: Annotated[str, Form(max_length=1000)] = "") -> Response:
    """submit, approve, lock, revise: who may do which is decided in `plans.service.authorize`."""
    plan = _plan(access, name)
    user: User = access.user
    kwargs = {"session": access.session, "name": plan.name, "by": user.username, "expect": version}
    if action == "submit":
        plans.submit_plan(**kwargs, reason=reason or None, override=override or None)
    elif action == "approve":
        plans.approve_plan(**kwargs, reason=reason or None)
    elif action == "lock":
        plans.lock_plan(**kwargs, reason=reason or None)
    elif action == "revise":
        plans.revise_plan(**kwargs, reason=reason)
    else:
        raise InvalidInput.coded("web.pages.plans.unknown_action_submit_approve", action=action)
    return RedirectResponse(f"/plans/{quote(plan.name)}" + (f"?node={quote(node)}" if node else ""), status_code=303)


@router.get("/plans/{name}/diff", response_class=HTMLResponse)
def diff(request: Request, access: AccessDep, name: str, from_version: VersionQuery, to_version: VersionQuery) -> Response:
    plan = _plan(access, name)
    changes = plans.diff_versions(session=access.session, name=plan.name, from_version=from_version,
                                  to_version=to_version)
    visible = [c for c in changes if access.can_see(access.session.get(OrgNode, c.org_node_id))]
    return render_page(request, "pages/_plan_diff.html", {
        "plan": plan, "changes": visible, "from_version": from_version, "to_version": to_version,
    })
