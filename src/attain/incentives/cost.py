"""The cost of an incentive plan at the P10/P50/P90 of the forecast.

For a settlement period that is under way, each rep's final credited revenue at the 10th, 50th
and 90th percentile comes from the Monte Carlo forecast the tracking layer already runs
(`tracking.pipeline.forecast`: actual to date + open pipeline won at learnt stage rates +
unpipelined run-rate). A scenario moves every rep to that percentile at once: the rep's figure
becomes actual + (Pk − actual), and each team, region and the company gain the sum of their reps'
moves (a sale of a rep is also their team's). The plan is then paid on those figures by the same
statement code (`service._earned`), exact to the fen:

- rate tables, payout curves (with their team/company blends) and team pools are paid on the
  projected full-period figures;
- slices, milestones and SPIFs depend on which sales happen and when, so they are counted as
  earned to `as_of` (a floor, said on every answer);
- adjustments of earlier closed periods are not part of the period's cost.

Row-level access: a manager sees the people and team of their team, a director their region's or
the company's; reps may not ask (NotAllowed). Totals are over the people shown.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.auth.models import User
from attain.errors import NotAllowed
from attain.incentives import calc
from attain.incentives import service as svc
from attain.org.models import OrgNode
from attain.periods import Period

SCENARIOS = ("p10", "p50", "p90")
COST_ROLES = ("admin", "director", "manager")
NOT_PROJECTED = ("slice_rate", "milestone", "spif")


@dataclass(frozen=True)
class PersonCost:
    code: str
    name: str
    role: str
    team: str | None  # code of the team the person is counted in (a manager measured on a region: the region)
    actual: int  # credited revenue to as_of, fen (of the person's own figure: a manager's is the team's)
    final: dict[str, int]  # scenario → projected final figure, fen
    earned: int  # earned to as_of, fen
    pay: dict[str, int]  # scenario → payout of the period, fen

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "role": self.role, "team": self.team, "actual": self.actual,
                "final": dict(self.final), "earned": self.earned, "pay": dict(self.pay)}


@dataclass(frozen=True)
class TeamCost:
    code: str | None
    name: str
    people: int
    earned: int
    pay: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "people": self.people, "earned": self.earned, "pay": dict(self.pay)}


@dataclass(frozen=True)
class PlanCost:
    plan: str
    version: int
    period: str
    as_of: date
    draws: int
    seed: int
    people: tuple[PersonCost, ...]
    teams: tuple[TeamCost, ...]
    earned: int
    total: dict[str, int]
    not_projected: tuple[str, ...]  # component codes counted as earned to as_of

    def as_dict(self) -> dict[str, Any]:
        return {"plan": self.plan, "version": self.version, "period": self.period, "as_of": self.as_of.isoformat(),
                "draws": self.draws, "seed": self.seed, "earned": self.earned, "total": dict(self.total),
                "not_projected": list(self.not_projected), "teams": [t.as_dict() for t in self.teams],
                "people": [p.as_dict() for p in self.people]}


def rep_percentiles(
    session: Session, period: Period, as_of: date, target_plan: str, draws: int, seed: int,
) -> dict[int, tuple[int, int, int, int]]:
    """Rep node id → (actual to as_of, P10, P50, P90) of the period's final credited revenue, fen:
    the tracking layer's Monte Carlo forecast (the one place it is computed)."""
    from attain.tracking.pipeline import forecast

    found = forecast(session=session, period=period, level="rep", as_of=as_of, plan=target_plan, draws=draws, seed=seed)
    return {row.node_id: (row.actual, row.p10, row.p50, row.p90) for row in found.rows}


class _Projected(svc._Context):
    """The period's figures with every rep moved to a forecast percentile: `moves[plan]` rep id →
    fen added; each team, region and the company gain the moves of the reps under them. The
    figures as they are come from `base`, read once for every scenario."""

    def __init__(self, base: svc._Context, moves: dict[str, dict[int, int]], ancestors: dict[int, list[int]]):
        super().__init__(base.session, base.period, base.as_of)
        self.base, self.moves, self.ancestors = base, moves, ancestors

    def figures(self, target_plan: str, levels: Any) -> svc._Figures:
        figures = self.base.figures(target_plan, levels)
        moves = self.moves.get(target_plan, {})
        extra: dict[int, int] = defaultdict(int)
        for rep, move in moves.items():
            extra[rep] += move
            for node in self.ancestors.get(rep, ()):
                extra[node] += move
        rows = {level: {node: (actual + extra.get(node, 0), target) for node, (actual, target) in found.items()}
                for level, found in figures.rows.items()}
        for rep, move in moves.items():  # a rep without a row so far may still sell in the scenario
            rows.setdefault("rep", {}).setdefault(rep, (move, None))
        actual, target = figures.company
        return svc._Figures(figures.plan, rows, (actual + sum(moves.values()), target))


def plan_cost(
    *, session: Session, name: str, period: str | None = None, as_of: date | None = None, user: User | None = None,
    draws: int | None = None, seed: int | None = None,
) -> PlanCost:
    """The payout of plan `name` in `period` (default: the one holding `as_of`) if every rep ends it
    at the P10, P50 or P90 of the forecast, per person, per team and in total (exact fen)."""
    from attain.auth.access import can_see
    from attain.tracking.pipeline import DRAWS, SEED

    if user is not None and user.role not in COST_ROLES:
        raise NotAllowed.coded("incentive.cost_role", role=user.role)
    draws, seed = draws or DRAWS, SEED if seed is None else seed
    plan = svc.plan_in_force(session=session, name=name)
    as_of = as_of or svc._today()
    span = svc.settlement_period(plan, period) if period else svc.period_containing(plan, as_of)
    as_of = min(as_of, span.end)
    components = svc._components(session, plan.id)
    target_plans = sorted({c.target_plan for c in components if c.kind not in NOT_PROJECTED and c.target_plan})
    nodes = {n.id: n for n in session.scalars(select(OrgNode))}
    ancestors: dict[int, list[int]] = {}
    for node in nodes.values():
        if node.kind == "rep":
            chain, parent = [], node.parent_id
            while parent is not None and parent in nodes:
                chain.append(parent)
                parent = nodes[parent].parent_id
            ancestors[node.id] = chain
    # One forecast per target plan the paying components read (usually one).
    percentiles = {p: rep_percentiles(session, span, as_of, p, draws, seed) for p in target_plans}

    base = svc._Context(session, span, as_of)
    levels = {"rep", "team", "region"}

    def run(scenario: int | None) -> tuple[list[svc._Person], svc._Figures | None]:
        people = svc._people(session, plan, span)
        context: svc._Context = base if scenario is None else _Projected(
            base, {p: {rep: row[scenario] - row[0] for rep, row in found.items()} for p, found in percentiles.items()}, ancestors)
        figures = context.figures(target_plans[0], levels) if target_plans else None
        return svc._earned(session, plan, span, as_of, people, context=context), figures

    now, figures_now = run(None)
    scenarios = {label: run(i + 1) for i, label in enumerate(SCENARIOS)}
    shown: list[PersonCost] = []
    teams: dict[int | None, list[PersonCost]] = defaultdict(list)
    for i, person in enumerate(now):
        if user is not None and not can_see(session=session, user=user, node=person.node):
            continue
        actual = svc._own(figures_now, person)[0] if figures_now is not None else 0
        final = {label: svc._own(figures, person)[0] if figures is not None else 0 for label, (_p, figures) in scenarios.items()}
        # A person counts in their team; a manager measured on a region, in that region.
        group = person.team_id if person.team_id is not None else (
            person.figure_id if person.figure_kind in ("team", "region") else None)
        team = nodes.get(group) if group is not None else None
        cost = PersonCost(person.node.code, person.node.name, person.role, team.code if team else None, actual, final,
                          calc.total_of(person.lines), {label: calc.total_of(scenarios[label][0][i].lines) for label in SCENARIOS})
        shown.append(cost)
        teams[group].append(cost)
    team_rows = tuple(
        TeamCost(nodes[t].code if t is not None else None, nodes[t].name if t is not None else "—", len(members),
                 sum(m.earned for m in members), {label: sum(m.pay[label] for m in members) for label in SCENARIOS})
        for t, members in sorted(teams.items(), key=lambda item: nodes[item[0]].path if item[0] is not None else "~"))
    return PlanCost(plan.name, plan.version, span.label, as_of, draws, seed, tuple(shown), team_rows,
                    sum(p.earned for p in shown), {label: sum(p.pay[label] for p in shown) for label in SCENARIOS},
                    tuple(c.code for c in components if c.kind in NOT_PROJECTED))
