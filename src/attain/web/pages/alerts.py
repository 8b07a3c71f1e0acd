"""预警收件箱 alerts inbox: every alert (`attain alerts run`) of the nodes the user may see, newest
first, with "mark read" per entry and for all of them, and the unread count beside the menu link.

A rep reads their own node's alerts, a manager their team's, a director their region's or the
company's, an admin all (`AccessDep`); marking touches only those. Read state is per alert, not per
user: the inbox is shared by everyone who sees the node, as in `attain alerts inbox --mark-read`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from attain.org.models import OrgNode
from attain.tracking.alerts import (
    KIND_TEXT,
    inbox,
    mark_read,
    split_message,
    unread_count,
)
from attain.tracking.models import AlertEvent, AlertRule
from attain.web.deps import Access, AccessDep
from attain.web.pages.common import render_page

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_PAGE = 500
BIGINT_MAX = 2**63 - 1
Show = Literal["all", "unread"]
ShowForm = Annotated[Show, Form()]
NodeForm = Annotated[str | None, Form(max_length=64)]
# Answer header of a mark: the menu's unread badge listens for it and reloads itself.
READ_EVENT = {"HX-Trigger": "alerts-read"}


@dataclass(frozen=True)
class Entry:
    """One inbox row as the page shows it."""

    id: int
    created_at: datetime
    as_of: date
    node: OrgNode
    rule_code: str
    rule_text: tuple[str, str]  # zh, en
    period: str
    message: tuple[str, str]  # zh, en
    read: bool

    @classmethod
    def of(cls, event: AlertEvent, rule: AlertRule, node: OrgNode) -> Entry:
        return cls(event.id, event.created_at, event.as_of, node, rule.code, KIND_TEXT.get(rule.kind, (rule.kind, rule.kind)),
                   event.period, split_message(event.message), event.read_at is not None)


def _scope_node(access: Access, node: str | None) -> OrgNode | None:
    """The node filter, checked visible (404 otherwise); None for everything the user may see."""
    return access.node(node) if node else None


def _list_context(access: Access, show: Show, node: OrgNode | None, before: int | None, limit: int) -> dict[str, Any]:
    found = inbox(session=access.session, node=node.code if node else None, unread=show == "unread", limit=limit + 1,
                  before=before, scope=access.filter)
    entries = [Entry.of(*row) for row in found[:limit]]
    filters = {"show": show, **({"node": node.code} if node else {}), **({"limit": limit} if limit != PAGE_SIZE else {})}
    more = urlencode({**filters, "before": entries[-1].id}) if len(found) > limit else None
    return {"entries": entries, "show": show, "node": node, "before": before, "limit": limit, "more": more,
            "filters": urlencode(filters), "unread": unread_count(session=access.session, scope=access.filter)}


def _marked(request: Request, template: str, context: dict[str, Any], show: Show, node: OrgNode | None) -> Response:
    """HTMX gets the refreshed part and the badge trigger; a plain form post goes back to the inbox."""
    if request.headers.get("hx-request"):
        response = render_page(request, template, context)
        response.headers.update(READ_EVENT)
        return response
    query = urlencode({"show": show, **({"node": node.code} if node else {})})
    return RedirectResponse(f"/alerts?{query}", status_code=303)


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request, access: AccessDep, show: Show = "all",
    node: Annotated[str | None, Query(max_length=64)] = None,
    before: Annotated[int | None, Query(ge=1, le=BIGINT_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = PAGE_SIZE,
) -> Response:
    target = _scope_node(access, node)
    context = _list_context(access, show, target, before, limit)
    nodes = filter_nodes(access.nodes(), chosen=target, today=date.today())
    return render_page(request, "pages/alerts.html", {**context, "nodes": nodes if len(nodes) > 1 else []})


def filter_nodes(nodes: list[OrgNode], *, chosen: OrgNode | None, today: date) -> list[OrgNode]:
    """The node filter's choices: leavers (gone before `today`) are left out, except the one chosen."""
    return [n for n in nodes if n.end_date is None or n.end_date >= today or (chosen is not None and n.id == chosen.id)]


@router.get("/alerts/badge", response_class=HTMLResponse)
def alerts_badge(access: AccessDep) -> HTMLResponse:
    """The unread count for the menu link (one COUNT of the visible alerts); empty when none."""
    count = unread_count(session=access.session, scope=access.filter)
    return HTMLResponse(str(count) if count else "")


@router.post("/alerts/read-all", response_class=HTMLResponse)
def alerts_read_all(request: Request, access: AccessDep, show: ShowForm = "all", node: NodeForm = None) -> Response:
    """Mark every unread alert the user may see read (of `node` and below when given)."""
    target = _scope_node(access, node)
    mark_read(session=access.session, node=target.code if target else None, scope=access.filter)
    return _marked(request, "pages/_alerts_list.html", _list_context(access, show, target, None, PAGE_SIZE), show, target)


@router.post("/alerts/{event_id}/read", response_class=HTMLResponse)
def alert_read(
    request: Request, access: AccessDep, event_id: Annotated[int, Path(ge=1, le=BIGINT_MAX)], show: ShowForm = "all",
    node: NodeForm = None, before: Annotated[int | None, Form(ge=1, le=BIGINT_MAX)] = None,
    limit: Annotated[int, Form(ge=1, le=MAX_PAGE)] = PAGE_SIZE,
) -> Response:
    """Mark one alert read; 404 (nothing marked) when it is not one the user may see. HTMX gets the
    list again as the form showed it (so the count follows and an unread-only list drops the row)."""
    target = _scope_node(access, node)
    mark_read(session=access.session, ids=[event_id], scope=access.filter)
    return _marked(request, "pages/_alerts_list.html", _list_context(access, show, target, before, limit), show, target)
