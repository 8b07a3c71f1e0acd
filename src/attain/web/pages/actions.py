"""每日行动看板: a rep's actions for the day from the reverse funnel (attain.actions), check-off,
streak, and the shortfall rolled forward from earlier days. A rep sees their own board; a manager or
director picks any rep they may see.

Made for a phone: a check-off answers the board with an undo for a mis-tap (`undo_activity`), and each
check-off form carries a key so that a retry after a lost answer counts once (static/pages/actions.js
shows the retry when the network fails)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from attain.actions.calc import ACTIONS
from attain.actions.service import daily_actions, record_activity, undo_activity
from attain.errors import InvalidInput
from attain.org import lookups as queries
from attain.org.models import OrgNode
from attain.web.deps import AccessDep
from attain.web.pages.common import parse_as_of, render_page

router = APIRouter(include_in_schema=False)


def _rep(access: Any, code: str | None) -> OrgNode:
    """The rep whose board to show: the given code (if visible), else the user's own rep node, else
    the first rep under their node."""
    if code:
        node: OrgNode = access.node(code)
    else:
        node = access.home()
    if node.kind == "rep" and (code or node.id == access.user.org_node_id):
        return node
    teams = {t.id for t in queries.nodes_of_kind(session=access.session, kind="team")}
    # Sales reps sit in teams; a director attached straight to the company has no daily funnel.
    reps = [r for r in queries.reps_under(session=access.session, node=node) if r.end_date is None and r.parent_id in teams]
    if not reps:
        raise InvalidInput.coded("web.pages.actions.reps_show_board", name=node.name)
    return reps[0]


ACTION_OF_KIND = {a.activity_kind: a.key for a in ACTIONS}


def _context(access: Any, rep: OrgNode, day: date, **shown: Any) -> dict[str, Any]:
    """The board and what the page around it needs; `shown` adds recorded= or undone= (the last tap)."""
    board = daily_actions(session=access.session, rep_code=rep.code, day=day)
    home = access.home()
    choices = [] if access.user.role == "rep" else [
        r for r in queries.reps_under(session=access.session, node=home) if r.end_date is None or r.end_date >= day
    ]
    return {"board": board, "rep": rep, "day": day, "choices": choices,
            "previous_day": day - timedelta(days=1), "next_day": day + timedelta(days=1),
            # A fresh key per rendered board: each tap is a new activity, a retry of the same tap is not.
            "key": uuid.uuid4().hex[:16], "labels": {a.key: a.label for a in ACTIONS}, **shown}


def _board_rep(access: Any, rep: str) -> OrgNode:
    node: OrgNode = access.node(rep)
    if node.kind != "rep":
        raise InvalidInput.coded("web.pages.actions.rep", code=node.code)
    return node


@router.get("/actions", response_class=HTMLResponse)
def actions_page(request: Request, access: AccessDep, rep: str | None = None, day: str | None = None) -> HTMLResponse:
    chosen = _rep(access, rep)
    return render_page(request, "pages/actions.html", _context(access, chosen, parse_as_of(day)))  # type: ignore[return-value]


@router.post("/actions/done", response_class=HTMLResponse)
def action_done(
    request: Request, access: AccessDep, rep: Annotated[str, Form(max_length=64)],
    day: Annotated[str, Form(max_length=10)], kind: Annotated[str, Form(max_length=16)],
    customer: Annotated[str | None, Form(max_length=64)] = None, key: Annotated[str | None, Form(max_length=40)] = None,
) -> HTMLResponse:
    """Check one action off (an activity entered for the rep and day); answers the refreshed board
    with an undo for this check-off. The same `key` again (a retry) counts once."""
    node = _board_rep(access, rep)
    when = parse_as_of(day)
    activity = record_activity(session=access.session, rep_code=node.code, day=when, kind=kind,
                               customer_code=customer or None, key=key or None, visible_to=node)
    recorded = {"code": activity.code, "action": ACTION_OF_KIND.get(activity.kind, activity.kind)}
    return render_page(request, "pages/_actions_board.html", _context(access, node, when, recorded=recorded))  # type: ignore[return-value]


@router.post("/actions/undo", response_class=HTMLResponse)
def action_undo(
    request: Request, access: AccessDep, rep: Annotated[str, Form(max_length=64)],
    day: Annotated[str, Form(max_length=10)], code: Annotated[str, Form(max_length=64)],
) -> HTMLResponse:
    """Take back a check-off (attain.actions.service.undo_activity); answers the refreshed board."""
    node = _board_rep(access, rep)
    activity = undo_activity(session=access.session, rep_code=node.code, code=code)
    undone = ACTION_OF_KIND.get(activity.kind, activity.kind)
    return render_page(request, "pages/_actions_board.html", _context(access, node, parse_as_of(day), undone=undone))  # type: ignore[return-value]
