"""激励 incentives: the plan editor (list, upload a YAML/Excel definition, submit, approve, components),
statements (list by period, detail with every calculation line, .xlsx/.html download) and the
dashboard's what-if partial.

Every figure, every rule and every access check is `attain.incentives.service`'s: the pages pass
the signed-in user (row-level access: a rep sees their own statement, a manager their team's, a
director their region's or the company's) and lay out what comes back.
"""

from __future__ import annotations

import re
import tempfile
from datetime import date
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from attain.errors import InvalidInput
from attain.incentives import service
from attain.web.deps import AccessDep, require_role
from attain.web.pages.common import parse_as_of, render_page

router = APIRouter(include_in_schema=False)

PLANNERS = ("admin", "director", "manager")
PlanName = Annotated[str, Path(min_length=1, max_length=100)]
PeriodLabel = Annotated[str, Path(min_length=6, max_length=7, pattern=r"^\d{4}(Q[1-4]|-(0[1-9]|1[0-2]))$")]
RepCode = Annotated[str, Path(min_length=1, max_length=64)]
AsOf = Annotated[str | None, Query(max_length=10)]
# Extra sale for the what-if, in yuan (the form's unit); the service takes fen.
ExtraYuan = Annotated[int, Query(ge=0, le=10_000_000_000)]
DEFAULT_EXTRA_YUAN = 100_000
MAX_UPLOAD_BYTES = 2_000_000


def _plan_link(name: str) -> str:
    return f"/incentives/{quote(name, safe='')}"


@router.get("/incentives", response_class=HTMLResponse)
def incentives_page(request: Request, access: AccessDep) -> Response:
    """Every incentive plan; planners also get the upload form."""
    return _index(request, access, None, 200)


def _index(request: Request, access: Any, error: dict[str, str] | None, status: int) -> Response:
    plans = service.list_plans(session=access.session)
    return render_page(request, "incentives/index.html", {
        "plans": plans, "planner": access.user.role in PLANNERS, "error": error,
    }, status_code=status)


def split_error(message: str) -> dict[str, str]:
    """An importer message "line 14, components[1] 'commission'.bands[2].from: what is wrong" as its
    place (line, or sheet and row), field and message, shown apart on the page."""
    head, sep, text = message.partition(": ")
    if not sep:
        return {"place": "", "field": "", "message": message}
    place, comma, field = head.partition(", ")
    if not comma or not place.startswith(("line ", "sheet ")):
        place, field = (head, "") if head.startswith(("line ", "sheet ")) else ("", head)
    return {"place": place, "field": field, "message": text}


PLACE = re.compile(r"^(?:line (?P<line>\d+)|sheet (?P<sheet>\S+) row (?P<row>\d+))$")


def plan_error(request: Request, exc: InvalidInput) -> dict[str, str]:
    """The importer's coded error in the page's language: its place (line, or sheet and row), the
    field, and the message (`plan_file.*` in attain.messages); other errors as `split_error`."""
    from attain.web.i18n import request_locale
    from attain.web.messages import error_text, translate
    from attain.web.pages.common import catalogue

    params = dict(exc.params)
    if not (exc.code or "").startswith("plan_file.") or "field" not in params:
        return split_error(error_text(request, exc))
    gettext = catalogue(request_locale(request)).gettext
    place, field = str(params.pop("place", "")), str(params.pop("field", ""))
    found = PLACE.match(place)
    if found and found.group("line"):
        place = gettext("line %(line)s") % {"line": found.group("line")}
    elif found:
        place = gettext("sheet %(sheet)s row %(row)s") % {"sheet": found.group("sheet"), "row": found.group("row")}
    return {"place": place, "field": field, "message": translate(str(exc.code), params, gettext)}


@router.post("/incentives/upload", response_class=HTMLResponse, dependencies=[Depends(require_role(*PLANNERS))])
def incentives_upload(request: Request, access: AccessDep, file: Annotated[UploadFile, File()]) -> Response:
    """A .yaml/.xlsx plan file → a new draft through the service's importer (all or nothing); the
    first problem is shown above the form with its line or sheet row and field, nothing written."""
    name = FilePath(file.filename or "plan.yaml").name
    suffix = FilePath(name).suffix.lower()
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    try:
        if suffix not in (".yaml", ".yml", ".xlsx"):
            raise InvalidInput.coded("web.pages.incentives.incentive_plan_yaml_xlsx", name=name)
        if len(data) > MAX_UPLOAD_BYTES:
            raise InvalidInput.coded("web.pages.incentives.larger_mb_plan_file", name=name, value=MAX_UPLOAD_BYTES // 1_000_000)
        with tempfile.TemporaryDirectory(prefix="attain-incentive-") as folder:
            path = FilePath(folder) / (re.sub(r"[^\w.\-]", "_", FilePath(name).stem) + suffix)
            path.write_bytes(data)
            plan = service.import_plan(session=access.session, path=path, by=access.user.username)
    except InvalidInput as exc:
        access.session.rollback()
        return _index(request, access, plan_error(request, exc), 422)
    return RedirectResponse(_plan_link(plan.name), status_code=303)


@router.get("/incentives/{name}", response_class=HTMLResponse, dependencies=[Depends(require_role(*PLANNERS))])
def incentive_plan_page(request: Request, access: AccessDep, name: PlanName) -> Response:
    """One plan: status and versions, components, the participants the user may see, periods."""
    detail = service.plan_detail(session=access.session, name=name, user=access.user)
    return render_page(request, "incentives/plan.html", {
        "detail": detail, "link": _plan_link(detail.name), "approver": access.user.role in service.APPROVER_ROLES,
    })


@router.post("/incentives/{name}/submit", dependencies=[Depends(require_role(*PLANNERS))])
def incentive_submit(access: AccessDep, name: PlanName) -> Response:
    service.submit_plan(session=access.session, name=name, by=access.user.username)
    return RedirectResponse(_plan_link(name), status_code=303)


@router.post("/incentives/{name}/approve", dependencies=[Depends(require_role(*PLANNERS))])
def incentive_approve(access: AccessDep, name: PlanName) -> Response:
    """Four eyes: the service refuses the submitter (403) unless the company allows self-approval."""
    service.approve_plan(session=access.session, name=name, by=access.user.username)
    return RedirectResponse(_plan_link(name), status_code=303)


def _period_or_current(access: Any, name: str, period: str | None, day: date) -> str:
    if period:
        return period
    plan = service.plan_in_force(session=access.session, name=name)
    return service.period_containing(plan, day).label


@router.get("/incentives/{name}/statements", response_class=HTMLResponse)
def statements_page(
    request: Request, access: AccessDep, name: PlanName, as_of: AsOf = None,
    period: Annotated[str | None, Query(max_length=7)] = None,
) -> Response:
    """The statements of one settlement period the user may see, with their total."""
    day = parse_as_of(as_of)
    label = _period_or_current(access, name, period, day)
    result = service.statements(session=access.session, name=name, period=label, as_of=day, user=access.user)
    return render_page(request, "incentives/statements.html", {
        "result": result, "link": _plan_link(name), "as_of": day,
        "periods": service.settlement_periods(session=access.session, name=name),
        "planner": access.user.role in PLANNERS,
    })


@router.get("/incentives/{name}/statements/{period}/download")
def statements_download(
    access: AccessDep, name: PlanName, period: PeriodLabel, as_of: AsOf = None,
    format: Literal["xlsx", "html", "pdf"] = "xlsx", rep: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The statements (or one person's) as the service writes them: .xlsx, a self-contained .html or
    a .pdf (embedded CJK font)."""
    result = service.statements(session=access.session, name=name, period=period, rep=rep or None,
                                as_of=parse_as_of(as_of), user=access.user)
    filename = f"statements-{period}{'-' + rep if rep else ''}.{format}"
    with tempfile.TemporaryDirectory(prefix="attain-statements-") as folder:
        out = FilePath(folder) / filename
        service.export_statements(result=result, out=out)
        body = out.read_bytes()
    media = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "html": "text/html; charset=utf-8", "pdf": "application/pdf"}[format]
    return Response(body, media_type=media, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


@router.get("/incentives/{name}/statements/{period}/{rep}", response_class=HTMLResponse)
def statement_page(
    request: Request, access: AccessDep, name: PlanName, period: PeriodLabel, rep: RepCode, as_of: AsOf = None,
) -> Response:
    """One person's statement, every line of the calculation; 404 for a person the user may not see."""
    day = parse_as_of(as_of)
    result = service.statements(session=access.session, name=name, period=period, rep=rep, as_of=day, user=access.user)
    return render_page(request, "incentives/statement.html", {
        "result": result, "statement": result.statements[0], "link": _plan_link(name), "as_of": day,
        "label_of": _labeller(request),
    })


def _labeller(request: Request) -> Any:
    """Statement line label → the page's language (`web.statement_labels`)."""
    from attain.web.i18n import request_locale
    from attain.web.pages.common import catalogue
    from attain.web.statement_labels import translate_label

    gettext = catalogue(request_locale(request)).gettext
    return lambda label: translate_label(str(label or ""), gettext)


@router.get("/incentives/{name}/cost", response_class=HTMLResponse, dependencies=[Depends(require_role(*PLANNERS))])
def cost_page(
    request: Request, access: AccessDep, name: PlanName, as_of: AsOf = None,
    period: Annotated[str | None, Query(max_length=7)] = None,
) -> Response:
    """The plan's payout if every rep ends the period at the P10/P50/P90 of the forecast, per team
    and person the user may see (`incentives.cost.plan_cost`)."""
    from attain.incentives.cost import SCENARIOS, plan_cost

    day = parse_as_of(as_of)
    result = plan_cost(session=access.session, name=name, period=period or None, as_of=day, user=access.user)
    return render_page(request, "incentives/cost.html", {
        "result": result, "scenarios": SCENARIOS, "link": _plan_link(name), "as_of": day,
        "periods": service.settlement_periods(session=access.session, name=name),
    })


@router.get("/dashboard/what-if", response_class=HTMLResponse)
def dashboard_what_if(
    request: Request, access: AccessDep, as_of: AsOf = None, extra: ExtraYuan = DEFAULT_EXTRA_YUAN,
    sale: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The dashboard's what-if panel (HTMX): for each plan in force this year, what the user — or,
    for a manager or director, each person they see — has earned, what the next band needs and
    pays, and what `extra` yuan more sales pay."""
    day = parse_as_of(as_of)
    panels = []
    for name in service.plans_in_force(session=access.session, year=day.year):
        found = service.team_what_if(session=access.session, name=name, extra=extra * 100, as_of=day, user=access.user,
                                     sale=sale or None)
        if found:
            panels.append((name, found))
    return render_page(request, "incentives/_what_if.html", {
        "panels": panels, "as_of": day, "extra": extra, "sale": sale or "", "link_of": _plan_link,
        "planner": access.user.role in PLANNERS,
    })
