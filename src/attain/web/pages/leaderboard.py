"""战报墙 leaderboard: reps or teams ranked by attainment (attain.tracking.leaderboard, the same
figures as `attain report leaderboard`), with milestones and streaks.

Everyone signed in sees the ranking (names, attainment, milestones); amounts only on the rows of
nodes they may see, so a rep sees their own amounts and nobody else's. `?tv=1` is the full-screen
office-TV layout: it pages through every row (`?seconds=` per page, static/pages/tv.js), shows when it
was last refreshed, refreshes itself every 60 s through HTMX and celebrates the 50 % / 100 % marks
tracking says were first reached on the day (`tracking.leaderboard.crossings`) with a short banner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.catalog.dimensions import members
from attain.org.models import OrgNode
from attain.periods import Period
from attain.plans.models import Plan
from attain.plans.service import pending_revision
from attain.tracking.attainment import resolve_period, resolve_plan
from attain.tracking.defaults import default_month
from attain.tracking.leaderboard import crossings, leaderboard
from attain.web.deps import AccessDep
from attain.web.pages.common import parse_as_of, render_page

router = APIRouter(include_in_schema=False)

PAGE_SECONDS = 10  # TV mode: seconds each page of the ranking stays on screen (?seconds=3..120)
MILESTONE_LABELS = {25: ("25%", "25%"), 50: ("过半", "halfway"), 75: ("75%", "75%"), 100: ("达标", "target hit")}


@dataclass(frozen=True)
class Standing:
    rank: int | None
    node: OrgNode
    team: str
    actual: int
    target: int | None
    attainment: float | None  # percent, for display
    milestones: list[int]  # 25 / 50 / 75 / 100 marks reached
    opened: bool  # a sale in the period (开单)
    streak: int  # ISO weeks in a row with a sale, up to now
    visible: bool  # may the viewer see this row's amounts
    crossed: tuple[int, ...] = ()  # 50 / 100 marks first reached on the as-of day (tracking.leaderboard.crossings)


def standings(
    *, session: Session, plan: str | None, period: Period, by: str, as_of: date, visible: Any, segment: str | None = None,
) -> list[Standing]:
    """The 战报墙 rows from the tracking leaderboard (`attain report leaderboard`), ranked by attainment;
    `plan` as the CLI's --plan (None: tracking's default plan for the period); `segment`: on the sales
    to that customer segment only."""
    board = leaderboard(session=session, period=period, by=by, plan=plan, as_of=as_of,
                        customers=("segment", segment) if segment else None)
    crossed: dict[int | None, list[int]] = {}
    for crossing in crossings(board, on=as_of):
        crossed.setdefault(crossing.leader.row.node_id, []).append(int(crossing.share * 100))
    ids = [r.row.node_id for r in board.rows if r.row.node_id is not None]
    nodes = {n.id: n for n in session.scalars(select(OrgNode).where(OrgNode.id.in_(ids)))}
    parents = {n.parent_id for n in nodes.values() if n.parent_id is not None} if by == "rep" else set()
    teams = dict(session.execute(select(OrgNode.id, OrgNode.name).where(
        OrgNode.id.in_(parents), OrgNode.kind == "team")).all()) if parents else {}
    rows = []
    for leader in board.rows:
        node = nodes.get(leader.row.node_id or 0)
        if node is None:
            continue
        attained = leader.row.figures.attainment
        target = leader.row.target
        rows.append(Standing(
            rank=leader.rank, node=node, team=teams.get(node.parent_id or 0, "") if by == "rep" else "",
            actual=int(leader.row.actual), target=None if target is None else int(target),
            attainment=None if attained is None else float(attained * 100),
            milestones=[int(share * 100) for share, day in leader.milestones.reached if day is not None],
            opened=leader.milestones.first_deal is not None, streak=leader.milestones.current_week_streak,
            visible=visible(node), crossed=tuple(crossed.get(node.id, ())),
        ))
    return rows


def _context(request: Request, access: Any, period: str | None, by: str, as_of: str | None, tv: bool,
             plan: str | None, seconds: int = PAGE_SECONDS, segment: str | None = None) -> dict[str, Any]:
    day = parse_as_of(as_of)
    # Early in a month the previous, complete month first (tracking.defaults), the current one offered.
    opened = None if period else default_month(session=access.session, today=day)
    chosen_period = opened.period if opened else resolve_period(access.session, period or "", today=day)
    chosen = resolve_plan(access.session, chosen_period, plan)  # tracking's choice, as the CLI's
    clipped = min(max(day, chosen.start_date), chosen.end_date)
    rows = standings(session=access.session, plan=plan, period=chosen_period, by=by, as_of=day,
                     visible=access.can_see, segment=segment or None)
    me = access.user.org_node_id
    return {
        "plan": chosen, "pending": pending_revision(session=access.session, plan=chosen), "period": chosen_period, "by": by, "as_of": day, "tv": tv, "rows": rows, "me": me,
        "milestone_labels": MILESTONE_LABELS,
        "query": f"period={chosen_period.label}&by={by}&as_of={as_of or ''}&seconds={seconds}&tv={1 if tv else 0}"
                 + (f"&segment={quote(segment)}" if segment else ""),
        "segment": segment or "", "segments": members(access.session, "segment"),
        "seconds": seconds, "refreshed": datetime.now().strftime("%H:%M:%S"),
        "celebrations": [(r, mark) for r in rows for mark in r.crossed],
        "periods": _period_choices(chosen, clipped), "other_period": opened.other if opened else None,
    }


def _period_choices(plan: Plan, day: date) -> list[str]:
    quarter = (day.month - 1) // 3 + 1
    return [f"{day.year:04d}-{day.month:02d}", f"{day.year}Q{quarter}", str(plan.start_date.year)]


@router.get("/leaderboard", response_class=HTMLResponse)
def leaderboard_page(request: Request, access: AccessDep, period: str | None = None, by: str = "rep",
                     as_of: str | None = None, tv: bool = False, plan: str | None = None,
                     seconds: Annotated[int, Query(ge=3, le=120)] = PAGE_SECONDS,
                     segment: Annotated[str | None, Query(max_length=200)] = None) -> HTMLResponse:
    context = _context(request, access, period, by, as_of, tv, plan, seconds, segment)
    return render_page(request, "pages/leaderboard.html", context)  # type: ignore[return-value]


@router.get("/leaderboard/board", response_class=HTMLResponse)
def leaderboard_board(request: Request, access: AccessDep, period: str | None = None, by: str = "rep",
                      as_of: str | None = None, tv: bool = False, plan: str | None = None,
                      seconds: Annotated[int, Query(ge=3, le=120)] = PAGE_SECONDS,
                      segment: Annotated[str | None, Query(max_length=200)] = None) -> HTMLResponse:
    """The board alone, for the 60-second HTMX refresh."""
    context = _context(request, access, period, by, as_of, tv, plan, seconds, segment)
    return render_page(request, "pages/_board.html", context)  # type: ignore[return-value]
