"""战报墙 leaderboard: reps or teams ranked by attainment, with milestones and streaks.

Everyone signed in sees the ranking (names, attainment, milestones); amounts only on the rows of
nodes they may see, so a rep sees their own amounts and nobody else's. `?tv=1` is the full-screen
office-TV layout; the board refreshes itself every 60 s through HTMX.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from attain.errors import InvalidInput
from attain.org.models import OrgNode
from attain.periods import Period, parse_period
from attain.plans.models import Plan
from attain.web.deps import AccessDep
from attain.web.pages import calc, queries
from attain.web.pages.common import parse_as_of, render_page

router = APIRouter(include_in_schema=False)

MILESTONE_LABELS = {25: ("25%", "25%"), 50: ("过半", "halfway"), 75: ("75%", "75%"), 100: ("达标", "target hit")}


@dataclass(frozen=True)
class Standing:
    rank: int | None
    node: OrgNode
    team: str
    actual: int
    target: int
    attainment: float | None
    milestones: list[int]
    opened: bool  # a sale in the period (开单)
    streak: int  # months in a row at or above target, up to the last closed month
    visible: bool  # may the viewer see this row's amounts


def leaderboard(
    *, session: Session, plan: Plan, period: Period, by: str, as_of: date, visible: Any
) -> list[Standing]:
    """Rows of the 战报墙 for `period` (within `plan`), ranked by attainment, highest first."""
    if by not in ("rep", "team"):
        raise InvalidInput(f"rank by 'rep' or 'team', not '{by}'")
    nodes = queries.nodes_of_kind(session=session, kind=by)
    figures = queries.node_figures(session=session, plan=plan, nodes=nodes, as_of=as_of)
    labels = {p.label for p in queries.plan_months(plan) if p.start >= period.start and p.end <= period.end}
    if not labels:
        raise InvalidInput(f"period {period.label} is outside plan {plan.name} ({plan.start_date} – {plan.end_date})")
    closed = [m for m in figures[0].months if m < f"{as_of.year:04d}-{as_of.month:02d}"] if figures else []
    parents = {n.id: n for n in queries.nodes_of_kind(session=session, kind="team")}
    rows = []
    for f in figures:
        actual, target = f.total(f.actual, labels), f.total(f.target, labels)
        if target == 0 and actual == 0:
            continue
        hits = [a >= t > 0 for m, a, t in zip(f.months, f.actual, f.target) if m in closed]
        team = parents.get(f.node.parent_id or 0)
        rows.append(Standing(
            rank=None, node=f.node, team=team.name if team and by == "rep" else "",
            actual=actual, target=target, attainment=calc.percent(actual, target),
            milestones=calc.milestones_reached(actual, target), opened=actual > 0, streak=calc.streak(hits),
            visible=visible(f.node),
        ))
    ranked = calc.ranks([r.attainment for r in rows])
    rows = [Standing(**{**r.__dict__, "rank": k}) for r, k in zip(rows, ranked)]
    return sorted(rows, key=lambda r: (r.rank is None, r.rank or 0, r.node.code))


def _context(request: Request, access: Any, period: str | None, by: str, as_of: str | None, tv: bool,
             plan: str | None) -> dict[str, Any]:
    day = parse_as_of(as_of)
    chosen = queries.choose_plan(session=access.session, name=plan, on=day)
    clipped = min(max(day, chosen.start_date), chosen.end_date)
    chosen_period = parse_period(period) if period else parse_period(f"{clipped.year:04d}-{clipped.month:02d}")
    rows = leaderboard(session=access.session, plan=chosen, period=chosen_period, by=by, as_of=day,
                       visible=access.can_see)
    me = access.user.org_node_id
    return {
        "plan": chosen, "period": chosen_period, "by": by, "as_of": day, "tv": tv, "rows": rows, "me": me,
        "milestone_labels": MILESTONE_LABELS,
        "query": f"period={chosen_period.label}&by={by}&as_of={as_of or ''}&tv={1 if tv else 0}",
        "periods": _period_choices(chosen, clipped),
    }


def _period_choices(plan: Plan, day: date) -> list[str]:
    quarter = (day.month - 1) // 3 + 1
    return [f"{day.year:04d}-{day.month:02d}", f"{day.year}Q{quarter}", str(plan.start_date.year)]


@router.get("/leaderboard", response_class=HTMLResponse)
def leaderboard_page(request: Request, access: AccessDep, period: str | None = None, by: str = "rep",
                     as_of: str | None = None, tv: bool = False, plan: str | None = None) -> HTMLResponse:
    context = _context(request, access, period, by, as_of, tv, plan)
    return render_page(request, "pages/leaderboard.html", context)  # type: ignore[return-value]


@router.get("/leaderboard/board", response_class=HTMLResponse)
def leaderboard_board(request: Request, access: AccessDep, period: str | None = None, by: str = "rep",
                      as_of: str | None = None, tv: bool = False, plan: str | None = None) -> HTMLResponse:
    """The board alone, for the 60-second HTMX refresh."""
    context = _context(request, access, period, by, as_of, tv, plan)
    return render_page(request, "pages/_board.html", context)  # type: ignore[return-value]
