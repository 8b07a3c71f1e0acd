"""Incentives: the service behind `attain incentive …` and (later) the web pages.

Everything a caller needs is a plain function with keyword-only arguments, session first:

    import_plan / create_plan      a plan file → a new draft version (all or nothing)
    submit_plan / approve_plan     draft → submitted → approved (a real user; four eyes)
    plan_in_force / list_plans     what statements read / what exists
    statements                     every person's statement of a settlement period (open: computed
                                   live; closed: the frozen snapshot), filtered by row-level access
    close_period                   freeze a period's statements; later corrections become adjustments
    payroll_rows / export_payroll  closed totals for payroll (CSV or xlsx, formula-safe)
    export_statements              statements as .xlsx or .html
    what_if                        earned so far, the next band, what an extra sale pays

Figures come from the tracking layer: attainment per rep/team/region and the company total is
`tracking.attainment.attainment` on the target plan in force (`plans.service.resolve_plan`), and
every other sum (slices, milestones, SPIFs, returns, per-order amounts) is one SQL aggregate over
`credit.sql.credited_lines()` — so a statement can never disagree with the attainment report.
The money arithmetic is `incentives.calc` (pure, exact).
"""

from __future__ import annotations

import csv
import functools
import html
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, and_, cast, func, or_, select
from sqlalchemy.orm import Session, aliased

from attain.auth.models import User
from attain.catalog.models import Customer, ProductNode
from attain.credit.sql import credit_features, credited_lines
from attain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from attain.facts.models import OrderLine
from attain.incentives import calc
from attain.incentives import orders as order_lines
from attain.incentives.importers import (
    PlanDefinition,
    read_plan_file,
    validate_definition,
)
from attain.incentives.models import (
    IncentiveAdjustment,
    IncentiveClose,
    IncentiveComponent,
    IncentiveParticipant,
    IncentivePlan,
    IncentiveStatement,
)
from attain.org.models import OrgNode
from attain.periods import Grain, Period, month, quarter
from attain.plans.models import Plan
from attain.tracking.query import METRICS, Grouping, actuals_statement

APPROVER_ROLES = ("director", "admin")
PLANNER_ROLES = ("admin", "director", "manager")
PER_YEAR = {"month": 12, "quarter": 4}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _today() -> date:
    from attain.plans.service import current_day

    return current_day()


# -- plans -----------------------------------------------------------------------------------------


def get_plan(*, session: Session, name: str) -> IncentivePlan | None:
    """The newest version of the incentive plan with this name (draft, submitted or approved), or None."""
    return session.scalars(
        select(IncentivePlan).where(IncentivePlan.name == name).order_by(IncentivePlan.version.desc())
    ).first()


def require_plan(*, session: Session, name: str) -> IncentivePlan:
    plan = get_plan(session=session, name=name)
    if plan is None:
        names = session.scalars(select(IncentivePlan.name).distinct().order_by(IncentivePlan.name)).all()
        known = f"; incentive plans are {', '.join(names)}" if names else "; there are no incentive plans yet (attain incentive import-plan FILE)"
        raise NotFound(f"no incentive plan named '{name}'{known}")
    return plan


def plan_in_force(*, session: Session, name: str) -> IncentivePlan:
    """The approved version of the plan: the only one statements, closes and what-if read."""
    plan = session.scalars(
        select(IncentivePlan).where(IncentivePlan.name == name, IncentivePlan.status == "approved")
        .order_by(IncentivePlan.version.desc())
    ).first()
    if plan is None:
        found = require_plan(session=session, name=name)
        raise Conflict(f"incentive plan {name} has no approved version yet (v{found.version} is {found.status}); nothing is paid on it")
    return plan


@dataclass(frozen=True)
class PlanListing:
    name: str
    version: int
    status: str
    year: int
    settlement: str
    participants: int
    components: tuple[str, ...]
    in_force: int | None  # the approved version, if any


def list_plans(*, session: Session) -> list[PlanListing]:
    """Every incentive plan once: its newest version and the version in force."""
    listings = []
    for name in session.scalars(select(IncentivePlan.name).distinct().order_by(IncentivePlan.name)):
        newest = require_plan(session=session, name=name)
        approved = session.scalar(select(func.max(IncentivePlan.version)).where(
            IncentivePlan.name == name, IncentivePlan.status == "approved"))
        count = session.scalar(select(func.count()).where(IncentiveParticipant.plan_id == newest.id)) or 0
        codes = tuple(session.scalars(select(IncentiveComponent.code).where(IncentiveComponent.plan_id == newest.id)
                                      .order_by(IncentiveComponent.position)))
        listings.append(PlanListing(name, newest.version, newest.status, newest.year, newest.settlement, count, codes, approved))
    return listings


def plans_in_force(*, session: Session, year: int) -> list[str]:
    """Names of the incentive plans of `year` that have an approved version (those that pay)."""
    return list(session.scalars(select(IncentivePlan.name).distinct().where(
        IncentivePlan.year == year, IncentivePlan.status == "approved").order_by(IncentivePlan.name)))


@dataclass(frozen=True)
class ComponentView:
    code: str
    name: str
    kind: str
    weight_bp: int | None
    metric: str | None
    target_plan: str | None
    spec: dict[str, Any]


@dataclass(frozen=True)
class ParticipantView:
    code: str
    name: str
    role: str
    target_incentive: int  # fen per year
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True)
class VersionView:
    version: int
    status: str
    created_by: str
    created_at: datetime
    submitted_by: str | None
    approved_by: str | None


@dataclass(frozen=True)
class PlanDetail:
    """One incentive plan as an editor shows it: its newest version, what it holds, and every version."""

    name: str
    version: int
    status: str
    year: int
    settlement: str
    note: str | None
    in_force: int | None
    components: tuple[ComponentView, ...]
    participants: tuple[ParticipantView, ...]
    versions: tuple[VersionView, ...]
    periods: tuple[tuple[str, bool], ...]  # each settlement period of the year and whether it is closed


def plan_detail(*, session: Session, name: str, user: User | None = None) -> PlanDetail:
    """The newest version of plan `name` with its components, participants, versions and periods;
    `user` limits the participants to those the user may see (`auth.access.can_see`)."""
    from attain.auth.access import can_see

    plan = require_plan(session=session, name=name)
    versions = tuple(VersionView(v.version, v.status, v.created_by, v.created_at, v.submitted_by, v.approved_by)
                     for v in session.scalars(select(IncentivePlan).where(IncentivePlan.name == name)
                                              .order_by(IncentivePlan.version.desc())))
    in_force = next((v.version for v in versions if v.status == "approved"), None)
    components = tuple(ComponentView(c.code, c.name, c.kind, c.weight_bp, c.metric, c.target_plan, dict(c.spec))
                       for c in _components(session, plan.id))
    participants = tuple(
        ParticipantView(node.code, node.name, p.role, p.target_incentive, p.valid_from, p.valid_to)
        for p, node in session.execute(
            select(IncentiveParticipant, OrgNode).join(OrgNode, OrgNode.id == IncentiveParticipant.org_node_id)
            .where(IncentiveParticipant.plan_id == plan.id).order_by(OrgNode.path, IncentiveParticipant.valid_from))
        if user is None or can_see(session=session, user=user, node=node))
    return PlanDetail(plan.name, plan.version, plan.status, plan.year, plan.settlement, plan.note, in_force, components,
                      participants, versions, settlement_periods(session=session, name=name))


def settlement_periods(*, session: Session, name: str) -> tuple[tuple[str, bool], ...]:
    """Every settlement period label of plan `name`'s year (2026Q1 … or 2026-01 …) and whether it is closed."""
    plan = require_plan(session=session, name=name)
    closed = set(session.scalars(select(IncentiveClose.period).where(IncentiveClose.plan_name == name)))
    if plan.settlement == "quarter":
        labels = [quarter(plan.year, q).label for q in range(1, 5)]
    else:
        labels = [month(plan.year, m).label for m in range(1, 13)]
    return tuple((label, label in closed) for label in labels)


def _planner(session: Session, by: str, roles: tuple[str, ...], action: str) -> User:
    from attain.plans.service import require_user

    user = require_user(session=session, username=by)
    if user.role not in roles:
        raise NotAllowed(f"{user.username} is a {user.role}; only {' or '.join(roles)} may {action} an incentive plan")
    return user


def read_definition(*, session: Session, path: Path) -> PlanDefinition:
    """Read and validate a plan file against this database (target plans, metrics, org codes)."""
    from attain.plans.service import get_plan as get_target_plan

    def target_plan_metric(name: str) -> str | None:
        plan = get_target_plan(session=session, name=name)
        if plan is None:
            return None
        from attain.metrics.models import Metric

        return session.scalar(select(Metric.code).where(Metric.id == plan.metric_id))

    def node_exists(code: str) -> bool:
        return session.scalar(select(OrgNode.id).where(OrgNode.code == code)) is not None

    return validate_definition(read_plan_file(path), target_plan_metric=target_plan_metric, node_exists=node_exists,
                               metrics=METRICS)


def import_plan(*, session: Session, path: Path, by: str) -> IncentivePlan:
    """A plan file (YAML or xlsx) → a new draft version of the plan it names, all or nothing."""
    user = _planner(session, by, PLANNER_ROLES, "import")
    return create_plan(session=session, definition=read_definition(session=session, path=path), by=user.username)


def create_plan(*, session: Session, definition: PlanDefinition, by: str) -> IncentivePlan:
    """Store a validated definition as version 1, or as a new draft revising the approved version.
    A pending draft or submitted version is replaced rather than stacked."""
    previous = get_plan(session=session, name=definition.name)
    revision_of = None
    version = 1
    if previous is not None:
        if previous.status in ("draft", "submitted"):
            revision_of = previous.revision_of
            version = previous.version
            session.delete(previous)
            session.flush()
        else:
            approved = session.scalars(select(IncentivePlan).where(
                IncentivePlan.name == definition.name, IncentivePlan.status == "approved")).first()
            revision_of = approved.id if approved is not None else None
            version = previous.version + 1
    plan = IncentivePlan(
        name=definition.name, version=version, year=definition.year, start_date=date(definition.year, 1, 1),
        end_date=date(definition.year, 12, 31), settlement=definition.settlement, status="draft", note=definition.note,
        revision_of=revision_of, created_by=by, created_at=_now(),
    )
    session.add(plan)
    session.flush()
    codes = dict(session.execute(select(OrgNode.code, OrgNode.id).where(
        OrgNode.code.in_({p.node for p in definition.participants}))).all())
    for p in definition.participants:
        session.add(IncentiveParticipant(plan_id=plan.id, org_node_id=codes[p.node], role=p.role,
                                         target_incentive=p.target_incentive, valid_from=p.valid_from, valid_to=p.valid_to))
    for position, c in enumerate(definition.components):
        session.add(IncentiveComponent(plan_id=plan.id, position=position, code=c.code, name=c.name, kind=c.kind,
                                       weight_bp=c.weight_bp, metric=c.metric, target_plan=c.target_plan, spec=c.spec))
    session.commit()
    return plan


def submit_plan(*, session: Session, name: str, by: str) -> IncentivePlan:
    """draft → submitted, by a manager, director or admin."""
    user = _planner(session, by, PLANNER_ROLES, "submit")
    plan = require_plan(session=session, name=name)
    if plan.status != "draft":
        raise Conflict(f"incentive plan {name} v{plan.version} is {plan.status}; only a draft is submitted")
    plan.status, plan.submitted_by, plan.submitted_at = "submitted", user.username, _now()
    session.commit()
    return plan


def approve_plan(*, session: Session, name: str, by: str) -> IncentivePlan:
    """submitted → approved by a director or admin other than the submitter (four eyes, unless the
    company allows self-approval: setting plan_self_approval); the version it revises is superseded."""
    from attain.settings.service import get_setting

    user = _planner(session, by, APPROVER_ROLES, "approve")
    plan = require_plan(session=session, name=name)
    if plan.status != "submitted":
        raise Conflict(f"incentive plan {name} v{plan.version} is {plan.status}; submit it first")
    if plan.submitted_by == user.username and not get_setting(session, "plan_self_approval"):
        raise NotAllowed(f"{user.username} submitted incentive plan {name}; another director or admin approves it (four eyes)")
    for older in session.scalars(select(IncentivePlan).where(
            IncentivePlan.name == name, IncentivePlan.status == "approved", IncentivePlan.id != plan.id)):
        older.status = "superseded"
    plan.status, plan.approved_by, plan.approved_at = "approved", user.username, _now()
    session.commit()
    return plan


def settlement_period(plan: IncentivePlan, label: str) -> Period:
    """The settlement period `label` (2027Q1 or 2027-03) of the plan; InvalidInput otherwise."""
    from attain.periods import parse_period

    period = parse_period(label)
    wanted = Grain.QUARTER if plan.settlement == "quarter" else Grain.MONTH
    if period.grain != wanted or period.start.year != plan.year:
        example = f"{plan.year}Q1" if plan.settlement == "quarter" else f"{plan.year}-01"
        raise InvalidInput(f"incentive plan {plan.name} settles by {plan.settlement} in {plan.year}: use a period such as {example}, not {label}")
    return period


def period_containing(plan: IncentivePlan, day: date) -> Period:
    """The plan's settlement period that holds `day` (clamped to the plan year)."""
    day = min(max(day, plan.start_date), plan.end_date)
    return quarter(day.year, (day.month - 1) // 3 + 1) if plan.settlement == "quarter" else month(day.year, day.month)


# -- statements ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """One person's statement for one settlement period: the lines (see `incentives.calc`) and the total in fen."""

    node_id: int
    code: str
    name: str
    role: str
    period: str
    target_incentive: int  # the period's prorated target incentive, fen
    lines: tuple[dict[str, Any], ...]
    total: int
    earned: int  # the total before adjustments of earlier periods
    awards: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "role": self.role, "period": self.period,
                "target_incentive": self.target_incentive, "lines": list(self.lines), "earned": self.earned,
                "total": self.total, "awards": list(self.awards)}


@dataclass(frozen=True)
class StatementSet:
    plan: str
    version: int
    period: str
    status: str  # "open" (computed now) or "closed" (frozen)
    as_of: date
    statements: tuple[Statement, ...]
    closed_at: datetime | None = None

    @property
    def total(self) -> int:
        return sum(s.total for s in self.statements)

    def as_dict(self) -> dict[str, Any]:
        return {"plan": self.plan, "version": self.version, "period": self.period, "status": self.status,
                "as_of": self.as_of.isoformat(), "closed_at": None if self.closed_at is None else self.closed_at.isoformat(),
                "total": self.total, "statements": [s.as_dict() for s in self.statements]}


@dataclass
class _Person:
    participant: IncentiveParticipant
    node: OrgNode
    figure_kind: str  # rep | team | region | company: whose attainment is the person's "own"
    figure_id: int | None
    team_id: int | None  # the team whose attainment a blend or pool reads
    period_incentive: Fraction
    lines: list[dict[str, Any]] = field(default_factory=list)
    awards: list[str] = field(default_factory=list)
    node_id: int = 0  # node.id and participant.role as plain values (a statement run reads them 60,000 times)
    role: str = "rep"

    @functools.cached_property
    def incentive_fen(self) -> int:
        """The period's target incentive rounded to the fen (as the statement shows it)."""
        return calc.round_fen(self.period_incentive)


@dataclass
class _Figures:
    """Attainment figures of one target plan for one period: node id → (actual fen, target fen or None)."""

    plan: Plan
    rows: dict[str, dict[int, tuple[int, Fraction | None]]]
    company: tuple[int, Fraction | None]

    def of(self, kind: str, node_id: int | None) -> tuple[int, Fraction | None]:
        if kind == "company":
            return self.company
        return self.rows.get(kind, {}).get(node_id, (0, None)) if node_id is not None else (0, None)  # type: ignore[arg-type]


class _Context:
    """The figures a period's statements read, each computed once (the attainment report per level)."""

    def __init__(self, session: Session, period: Period, as_of: date):
        self.session, self.period, self.as_of = session, period, as_of
        self._figures: dict[str, _Figures] = {}

    def figures(self, target_plan: str, levels: Iterable[str]) -> _Figures:
        from attain.tracking.attainment import attainment

        found = self._figures.get(target_plan)
        if found is None:
            report = attainment(session=self.session, period=self.period, by="rep", plan=target_plan, as_of=self.as_of)
            chosen = _target_plan(self.session, target_plan, self.period)
            found = _Figures(chosen, {"rep": _rows(report)}, (int(report.total.actual), _fraction(report.total.target)))
            self._figures[target_plan] = found
        for level in levels:
            if level not in found.rows and level in ("team", "region"):
                report = attainment(session=self.session, period=self.period, by=level, plan=target_plan, as_of=self.as_of)
                found.rows[level] = _rows(report)
        return found


def _fraction(value: Decimal | None) -> Fraction | None:
    return None if value is None else Fraction(value)


def _rows(report: Any) -> dict[int, tuple[int, Fraction | None]]:
    return {row.node_id: (int(row.actual), _fraction(row.target)) for row in report.rows if row.node_id is not None}


def _target_plan(session: Session, name: str, period: Period) -> Plan:
    from attain.plans.service import resolve_plan

    return resolve_plan(session=session, name=name, start=period.start, end=period.end, label=period.label)


def _components(session: Session, plan_id: int) -> list[IncentiveComponent]:
    return list(session.scalars(select(IncentiveComponent).where(IncentiveComponent.plan_id == plan_id)
                                .order_by(IncentiveComponent.position)))


def _participants(session: Session, plan: IncentivePlan) -> list[tuple[IncentiveParticipant, OrgNode]]:
    """Every participant row of the plan version with its org node, in org order."""
    return [(p, n) for p, n in session.execute(
        select(IncentiveParticipant, OrgNode).join(OrgNode, OrgNode.id == IncentiveParticipant.org_node_id)
        .where(IncentiveParticipant.plan_id == plan.id).order_by(OrgNode.path, IncentiveParticipant.valid_from))]


def _people(session: Session, plan: IncentivePlan, period: Period, nodes: dict[int, OrgNode] | None = None,
            participants: list[tuple[IncentiveParticipant, OrgNode]] | None = None,
            headed: dict[int, OrgNode] | None = None,
            figure_of: dict[int, tuple[str, int | None, int | None]] | None = None,
            persons: dict[tuple[int, Fraction], _Person] | None = None) -> list[_Person]:
    """The plan's participants in the period, with their figure node and prorated target incentive
    (`nodes`, `participants`, `headed`, `figure_of`: what a caller computing many periods has read
    or worked out already; `figure_of` keeps each participant's figure kind, node and team; `persons`
    hands back the same `_Person` for the same participant and target incentive, for a caller that
    never adds lines to them)."""
    nodes = {n.id: n for n in session.scalars(select(OrgNode))} if nodes is None else nodes
    headed = _headed(nodes) if headed is None else headed
    figure_of = {} if figure_of is None else figure_of
    per_year = PER_YEAR[plan.settlement]
    period_days = period.days
    people = []
    for participant, node in (_participants(session, plan) if participants is None else participants):
        known = figure_of.get(id(participant))
        if known is None:  # what does not change from period to period, read once
            kind, figure = node.kind, node.id
            if participant.role == "manager" and node.kind == "rep" and node.id in headed:
                figure_node = headed[node.id]
                kind, figure = figure_node.kind, figure_node.id
            team = _team_of(nodes, figure if kind != "company" else None)
            known = figure_of[id(participant)] = (kind, None if kind == "company" else figure, team, participant.valid_from,
                                                  participant.valid_to, participant.target_incentive, node.id, participant.role)
        kind, figure, team, valid_from, valid_to, annual, node_id, role = known
        if valid_from > period.end or (valid_to is not None and valid_to < period.start):
            continue
        whole = valid_from <= period.start and (valid_to is None or valid_to >= period.end)
        days = period_days if whole else calc.covered_days(period.start, period.end, valid_from, valid_to)
        incentive = calc.prorated_incentive(annual, per_year, days, period_days)
        if persons is None:
            people.append(_Person(participant, node, kind, figure, team, incentive, node_id=node_id, role=role))
            continue
        key = (id(participant), incentive)
        person = persons.get(key)
        if person is None:
            person = persons[key] = _Person(participant, node, kind, figure, team, incentive, node_id=node_id, role=role)
        people.append(person)
    return people


def _headed(nodes: dict[int, OrgNode]) -> dict[int, OrgNode]:
    """Manager (rep node id) → the lowest team, region or company node they head."""
    return {n.manager_id: n for n in sorted(nodes.values(), key=lambda n: n.depth, reverse=True)
            if n.manager_id is not None and n.kind in ("team", "region", "company")}


def _team_of(nodes: dict[int, OrgNode], node_id: int | None) -> int | None:
    node = nodes.get(node_id) if node_id is not None else None
    while node is not None and node.kind not in ("team", "region", "company"):
        node = nodes.get(node.parent_id) if node.parent_id is not None else None
    return node.id if node is not None and node.kind == "team" else None


def _applies(component: IncentiveComponent, person: _Person) -> bool:
    applies = component.spec.get("applies_to", "all")
    return applies == "all" or applies == person.participant.role


def _pct(text: str | None) -> Fraction | None:
    return None if text is None else Fraction(Decimal(text)) / 100


def rate_table(component: IncentiveComponent) -> calc.RateTable:
    """The calc table of a rate_table component."""
    spec = component.spec
    bands = tuple(calc.Band(_pct(b["from"]), _pct(b["to"]), _pct(b["rate"])) for b in spec["bands"])  # type: ignore[arg-type]
    return calc.RateTable(bands, spec["mode"], spec.get("cap"))


def curve(component: IncentiveComponent) -> calc.Curve:
    """The calc curve of a payout_curve component."""
    spec = component.spec
    points = tuple((_pct(x), _pct(y)) for x, y in spec["points"])
    return calc.Curve(points, _pct(spec["threshold"]), _pct(spec.get("cap")))  # type: ignore[arg-type]


def _blend_parts(component: IncentiveComponent, figures: _Figures, person: _Person, extra: int = 0
                 ) -> list[tuple[str, Fraction, int, Fraction | None]]:
    """(level, weight, actual, target) of each part of the component's attainment; `extra` own sales
    count in every part (a rep's sale is also the team's and the company's)."""
    parts = []
    for level, weight in component.spec.get("attainment", {"own": "100"}).items():
        if level == "own":
            actual, target = figures.of(person.figure_kind, person.figure_id)
        elif level == "team":
            actual, target = figures.of("team", person.team_id) if person.team_id else figures.of(person.figure_kind, person.figure_id)
        else:
            actual, target = figures.company
        parts.append((level, _pct(weight), actual + extra, target))  # type: ignore[arg-type]
    return parts


def _own(figures: _Figures, person: _Person) -> tuple[int, Fraction | None]:
    return figures.of(person.figure_kind, person.figure_id)


def _credited_line(code: str, component: IncentiveComponent, actual: int, target: Fraction | None, who: str) -> dict[str, Any]:
    return calc.info_line(code, "credited", f"credited {component.metric} of {who} under {component.target_plan} "
                          f"(target {'—' if target is None else calc.money_text(calc.round_fen(target))}) / 计入业绩",
                          basis=actual, attained=calc.attainment(actual, target))


def _levels(component: IncentiveComponent, people: list[_Person]) -> set[str]:
    levels = {p.figure_kind for p in people}
    if component.kind in ("payout_curve",):
        levels |= {"team"} if "team" in component.spec.get("attainment", {}) else set()
    if component.kind in ("team_pool",) or component.spec.get("scope") == "team":
        levels.add("team")
    return levels


def _earned(
    session: Session, plan: IncentivePlan, period: Period, as_of: date, people: list[_Person] | None = None,
    context: _Context | None = None,
) -> list[_Person]:
    """Every participant's component lines for the period (no adjustments), computed live: the scalar
    reference path (`incentives.fast` computes the same totals for many people and periods at once).
    `context` supplies the attainment figures (default: the attainment report of the period)."""
    people = _people(session, plan, period) if people is None else people
    context = _Context(session, period, as_of) if context is None else context
    for component in _components(session, plan.id):
        figures = context.figures(component.target_plan, _levels(component, people))  # type: ignore[arg-type]
        _COMPUTE[component.kind](session, component, figures, [p for p in people if _applies(component, p)], period, as_of)
    for person in people:
        if person.participant.target_incentive:
            person.lines.insert(0, calc.info_line("", "target_incentive",
                f"target incentive {calc.money_text(person.participant.target_incentive)}/year, this period "
                f"{calc.money_text(calc.round_fen(person.period_incentive))} / 目标奖金", basis=calc.round_fen(person.period_incentive)))
    return people


def _rate_table_lines(session: Session, component: IncentiveComponent, figures: _Figures, people: list[_Person],
                      period: Period, as_of: date) -> None:
    table = rate_table(component)
    for person in people:
        actual, target = _own(figures, person)
        person.lines.append(_credited_line(component.code, component, actual, target, person.node.code))
        person.lines.extend(calc.rate_table_lines(component.code, table, actual, target))


def _curve_lines(session: Session, component: IncentiveComponent, figures: _Figures, people: list[_Person],
                 period: Period, as_of: date) -> None:
    shape = curve(component)
    weight = Fraction(component.weight_bp or 0, 10_000)
    for person in people:
        parts = _blend_parts(component, figures, person)
        for level, share, actual, target in parts:
            line = _credited_line(component.code, component, actual, target, level)
            line["label"] += f" · weight {calc.rate_text(share)}%"
            person.lines.append(line)
        attained = calc.blend([(share, calc.attainment(actual, target)) for _l, share, actual, target in parts])
        person.lines.extend(calc.curve_lines(component.code, shape, attained, person.period_incentive, weight))


def _slice_lines(session: Session, component: IncentiveComponent, figures: _Figures, people: list[_Person],
                 period: Period, as_of: date) -> None:
    key, value = next(iter(component.spec["slice"].items()))
    rate = _pct(component.spec["rate"])
    amounts = _slice_amounts(session, figures.plan, component.metric, key, value, period.start, min(period.end, as_of))  # type: ignore[arg-type]
    for person in people:
        basis = amounts.get(person.node.id, 0) if person.figure_kind == "rep" else 0
        person.lines.append(calc.pay_line(component.code, "slice", f"{component.metric} with {key} = {value} / 分类提成",
                                          basis=basis, rate=rate, amount=calc.round_fen(max(Fraction(basis), Fraction(0)) * rate)))  # type: ignore[operator]


def _slice_amounts(session: Session, plan: Plan, metric: str, key: str, value: str, start: date, end: date) -> dict[int, int]:
    """Credited metric per rep for one slice (customer type, product line or customer grade): one SQL aggregate."""
    if end < start:
        return {}
    features = credit_features(session, plan_id=plan.id)
    if key in ("customer_type", "product_line"):
        wanted: object = value
        if key == "product_line":
            wanted = session.scalar(select(ProductNode.id).where(ProductNode.code == value))
            if wanted is None:
                raise NotFound(f"no product line with code '{value}' (incentive slice)")
        statement = actuals_statement(metric=metric, grouping=Grouping(("rep", key)), start=start, end=end,
                                      plan_id=plan.id, features=features)
        return {int(rep): int(total) for rep, slice_value, total in session.execute(statement)
                if rep is not None and slice_value == wanted}
    credited = credited_lines(plan_id=plan.id, features=features, start=start, end=end).subquery()
    customer = aliased(Customer)
    value_column = credited.c.amount - credited.c.cost if metric == "gross_profit" else credited.c.amount
    statement = (
        select(credited.c.rep_id, cast(func.coalesce(func.sum(value_column), 0), BigInteger))
        .join(customer, customer.id == credited.c.customer_id)
        .where(customer.grade == value, credited.c.credit_date >= start, credited.c.credit_date <= end)
        .group_by(credited.c.rep_id)
    )
    return {int(rep): int(total) for rep, total in session.execute(statement) if rep is not None}


def milestone_deadline(component: IncentiveComponent, period: Period) -> date | None:
    """The day a milestone component must be reached by in `period` (None: it belongs to another period)."""
    spec = component.spec
    if spec.get("by"):
        deadline = date.fromisoformat(spec["by"])
        return deadline if period.contains(deadline) else None
    return min(period.end, date.fromordinal(period.start.toordinal() + int(spec["by_day"]) - 1))


def _milestone_days(session: Session, component: IncentiveComponent, plan: Plan, period: Period, end: date
                    ) -> list[tuple[int, date, int]]:
    """(node, day, credited amount) of the milestone's level (rep or team) from the period start to
    `end`, ordered by node and day: one SQL aggregate over the credited lines."""
    if end < period.start:
        return []
    level = "team" if component.spec.get("scope") == "team" else "rep"
    statement = actuals_statement(metric=component.metric, grouping=Grouping((level,)), start=period.start, end=end,  # type: ignore[arg-type]
                                  by_day=True, plan_id=plan.id, features=credit_features(session, plan_id=plan.id))
    found = [(int(node), day if isinstance(day, date) else date.fromisoformat(str(day)[:10]), int(amount))
             for node, day, amount in session.execute(statement) if node is not None]
    found.sort(key=lambda row: (row[0], row[1]))
    return found


def _milestone_lines(session: Session, component: IncentiveComponent, figures: _Figures, people: list[_Person],
                     period: Period, as_of: date) -> None:
    spec = component.spec
    found = milestone_deadline(component, period)
    if found is None:
        return  # the milestone belongs to another period
    deadline = found
    goal_share = _pct(spec["percent"])
    level = "team" if spec.get("scope") == "team" else "rep"
    daily: dict[int, tuple[list[date], list[int]]] = defaultdict(lambda: ([], []))
    for node, day, amount in _milestone_days(session, component, figures.plan, period, min(deadline, as_of)):
        daily[node][0].append(day)
        daily[node][1].append(amount)
    for person in people:
        node_id = person.team_id if level == "team" else (person.node.id if person.figure_kind == "rep" else person.figure_id)
        _actual, target = figures.of("team" if level == "team" else person.figure_kind, node_id)
        label = f"milestone {spec['percent']}% of the period target by {deadline}"
        if target is None:
            person.lines.append(calc.info_line(component.code, "milestone", f"{label}: no target / 无目标"))
            continue
        days, amounts = daily.get(node_id, ([], [])) if node_id is not None else ([], [])  # type: ignore[call-overload]
        reached = calc.first_day_reaching(np.array(days, dtype="datetime64[D]"), np.array(amounts, dtype=np.int64), goal_share * target)  # type: ignore[operator]
        if reached is None:
            words = "not reached / 未达成" if as_of >= deadline else f"not yet reached (as of {as_of}) / 尚未达成"
            person.lines.append(calc.pay_line(component.code, "milestone", f"{label}: {words}",
                                              basis=calc.round_fen(goal_share * target), amount=0))  # type: ignore[operator]
            continue
        award = spec.get("award")
        person.lines.append(calc.pay_line(component.code, "milestone", f"{label}: reached {reached} / 里程碑达成"
                                          + (f" · award: {award}" if award else ""),
                                          basis=calc.round_fen(goal_share * target), amount=int(spec.get("amount") or 0)))  # type: ignore[operator]
        if award:
            person.awards.append(str(award))


def _spif_lines(session: Session, component: IncentiveComponent, figures: _Figures, people: list[_Person],
                period: Period, as_of: date) -> None:
    spec = component.spec
    start = max(period.start, date.fromisoformat(spec["from"]))
    end = min(period.end, date.fromisoformat(spec["to"]), as_of)
    counts = _spif_counts(session, figures.plan, spec, start, end) if end >= start else {}
    unit = "order" if spec["per"] == "order" else "new customer"
    for person in people:
        count, share_bp = counts.get(person.node.id, (0, 0)) if person.figure_kind == "rep" else (0, 0)
        if end < start:
            continue
        person.lines.append(calc.pay_line(
            component.code, "spif", f"{calc.money_text(spec['amount'])} per {unit} {spec['from']}..{spec['to']}: "
            f"{count} qualifying, credited share {calc.rate_text(Fraction(share_bp, 10_000))} of one / 专项奖励",
            basis=count, amount=calc.spif_amount(spec["amount"], share_bp)))


def _spif_counts(session: Session, plan: Plan, spec: dict[str, Any], start: date, end: date) -> dict[int, tuple[int, int]]:
    """Per rep: qualifying orders (or new customers) in [start, end] and the sum of the rep's credited
    share of each, in basis points — one SQL aggregate over the credited lines."""
    credited = credited_lines(plan_id=plan.id, features=credit_features(session, plan_id=plan.id), start=start, end=end).subquery()
    conditions = [credited.c.kind == "direct", credited.c.amount > 0, credited.c.rule != "return",
                  credited.c.credit_date >= start, credited.c.credit_date <= end]
    if spec.get("product_line"):
        line_id = session.scalar(select(ProductNode.id).where(ProductNode.code == spec["product_line"]))
        if line_id is None:
            raise NotFound(f"no product line with code '{spec['product_line']}' (SPIF)")
        product = aliased(ProductNode)
        conditions.append(credited.c.product_id.in_(select(product.id).where(or_(product.id == line_id, product.parent_id == line_id))))
    if spec.get("min_order"):
        totals = select(OrderLine.order_id).group_by(OrderLine.order_id).having(func.sum(OrderLine.amount) >= spec["min_order"])
        conditions.append(credited.c.order_id.in_(totals))
    if spec["per"] == "order":
        key = credited.c.order_id
    else:
        customer = aliased(Customer)
        conditions.append(credited.c.customer_id.in_(select(customer.id).where(
            customer.first_order_date >= date.fromisoformat(spec["from"]), customer.first_order_date <= date.fromisoformat(spec["to"]))))
        key = credited.c.customer_id
    per_key = (select(credited.c.rep_id.label("rep_id"), func.max(credited.c.share_bp).label("share"))
               .where(and_(*conditions)).group_by(credited.c.rep_id, key).subquery())
    statement = select(per_key.c.rep_id, func.count(), func.sum(per_key.c.share)).group_by(per_key.c.rep_id)
    return {int(rep): (int(n), int(share)) for rep, n, share in session.execute(statement) if rep is not None}


def _pool_lines(session: Session, component: IncentiveComponent, figures: _Figures, people: list[_Person],
                period: Period, as_of: date) -> None:
    spec = component.spec
    threshold = _pct(spec["threshold"])
    teams: dict[int | None, list[_Person]] = defaultdict(list)
    for person in people:
        teams[person.team_id].append(person)
    for team_id, members in teams.items():
        actual, target = figures.of("team", team_id)
        attained = calc.attainment(actual, target)
        funded = team_id is not None and attained is not None and attained >= threshold  # type: ignore[operator]
        pool = int(spec["amount"]) if funded else 0
        if spec["share_by"] == "sales":
            weights = [max(_own(figures, m)[0], 0) for m in members]
        else:
            weights = [calc.round_fen(m.period_incentive) for m in members]
        for member, share, weight in zip(members, calc.pool_shares(pool, weights), weights):
            words = (f"team pool {calc.money_text(pool)} (team at {calc.percent_text(attained)}%) shared by {spec['share_by']} / 团队奖池"
                     if funded else f"team pool not funded: team at {calc.percent_text(attained) or '—'}%, threshold {spec['threshold']}% / 奖池未达门槛")
            member.lines.append(calc.pay_line(component.code, "pool", words, basis=weight, amount=share))


_COMPUTE = {"rate_table": _rate_table_lines, "payout_curve": _curve_lines, "slice_rate": _slice_lines,
            "milestone": _milestone_lines, "spif": _spif_lines, "team_pool": _pool_lines}


def _returns(session: Session, plan: Plan, period: Period, as_of: date) -> dict[int, list[tuple[str, int, date | None]]]:
    """Returns credited in the period per rep: (order, credited amount, date of the sale) — the
    clawbacks the period's credited sales already hold, named by order."""
    end = min(period.end, as_of)
    if end < period.start:
        return {}
    credited = credited_lines(plan_id=plan.id, features=credit_features(session, plan_id=plan.id), start=period.start, end=end).subquery()
    statement = (
        select(credited.c.rep_id, credited.c.order_id, func.sum(credited.c.amount), func.min(credited.c.sale_date))
        .where(credited.c.credit_date >= period.start, credited.c.credit_date <= end,
               or_(credited.c.rule == "return", credited.c.amount < 0))
        .group_by(credited.c.rep_id, credited.c.order_id).order_by(credited.c.rep_id, credited.c.order_id)
    )
    found: dict[int, list[tuple[str, int, date | None]]] = defaultdict(list)
    for rep, order, amount, sold in session.execute(statement):
        if rep is not None:
            found[int(rep)].append((str(order), int(amount), sold))
    return found


def _primary_plan(session: Session, plan: IncentivePlan, period: Period) -> Plan | None:
    first = session.scalar(select(IncentiveComponent.target_plan).where(IncentiveComponent.plan_id == plan.id)
                           .order_by(IncentiveComponent.position).limit(1))
    return None if first is None else _target_plan(session, first, period)


def _closes_before(session: Session, plan: IncentivePlan, period: Period) -> list[IncentiveClose]:
    return list(session.scalars(select(IncentiveClose).where(
        IncentiveClose.plan_name == plan.name, IncentiveClose.period_end < period.start,
        IncentiveClose.period_start >= plan.start_date).order_by(IncentiveClose.period_start)))


def _adjustments(session: Session, plan: IncentivePlan, period: Period, people: list[_Person]) -> list[tuple[int, str, int, str, dict[str, int]]]:
    """Corrections of earlier closed periods, due in `period`: (node, period corrected, fen, reason,
    orders changed → fen). Each closed period is recomputed on today's data with the plan version it
    was closed with; what differs from what was paid (frozen + adjustments since) is due now."""
    due = []
    wanted = {p.node.id for p in people}
    for close in _closes_before(session, plan, period):
        closed_plan = session.get(IncentivePlan, close.plan_id)
        closed_period = settlement_period(closed_plan, close.period)  # type: ignore[arg-type]
        frozen = {s.org_node_id: s for s in session.scalars(select(IncentiveStatement).where(IncentiveStatement.close_id == close.id))}
        adjusted: dict[int, int] = defaultdict(int)
        adjusted_orders: dict[int, dict[str, int]] = defaultdict(dict)
        later = select(IncentiveAdjustment).join(IncentiveClose, IncentiveClose.id == IncentiveAdjustment.close_id).where(
            IncentiveClose.plan_name == plan.name, IncentiveAdjustment.for_period == close.period)
        for adjustment in session.scalars(later):
            adjusted[adjustment.org_node_id] += adjustment.amount
            for order, delta in adjustment.orders.items():
                adjusted_orders[adjustment.org_node_id][order] = adjusted_orders[adjustment.org_node_id].get(order, 0) + delta
        live = _earned(session, closed_plan, closed_period, closed_period.end)  # type: ignore[arg-type]
        changed = []
        for person in live:
            node_id = person.node.id
            if node_id not in wanted:
                continue
            paid = (frozen[node_id].earned if node_id in frozen else 0) + adjusted[node_id]
            now = calc.total_of(person.lines)
            if now != paid:
                changed.append((person, paid, now))
        if not changed:
            continue
        primary = _primary_plan(session, closed_plan, closed_period)  # type: ignore[arg-type]
        # The order lines of each changed person now (a manager's: their team's), against the snapshot.
        orders_now = order_lines.person_lines(session, primary, closed_period, closed_period.end,
                                              [p for p, _paid, _now in changed]) if primary is not None else {}
        for person, paid, now in changed:
            node_id = person.node.id
            before = dict(frozen[node_id].orders) if node_id in frozen else {}
            for order, delta in adjusted_orders[node_id].items():
                before[order] = before.get(order, 0) + delta
            moved = order_lines.moved(before, orders_now.get(node_id, {}))
            named = order_lines.describe(moved)
            reason = (f"correction of {close.period} (closed): {named or 'figures changed'}; "
                      f"{close.period} recomputed {calc.money_text(paid)} → {calc.money_text(now)}")
            due.append((node_id, close.period, now - paid, reason, moved))
    return due


def _finish(session: Session, plan: IncentivePlan, period: Period, as_of: date, people: list[_Person],
            due: list[tuple[int, str, int, str, dict[str, int]]] | None = None) -> list[Statement]:
    """Add the named returns and the adjustments of earlier closed periods (`due`: already computed);
    total each statement."""
    primary = _primary_plan(session, plan, period)
    returns = _returns(session, primary, period, as_of) if primary is not None else {}
    adjustments: dict[int, list[tuple[int, str, int, str, dict[str, int]]]] = defaultdict(list)
    for item in (_adjustments(session, plan, period, people) if due is None else due):
        adjustments[item[0]].append(item)
    statements = []
    for person in people:
        earned = calc.total_of(person.lines)
        lines = list(person.lines)
        if person.figure_kind == "rep":
            for order, amount, sold in returns.get(person.node.id, []):
                lines.append(calc.info_line("", "clawback", f"return of order {order} (sold {sold}) already in credited sales above / 退货冲减",
                                            basis=amount))
        for _node, for_period, amount, reason, _orders_moved in adjustments.get(person.node.id, []):
            lines.append(calc.pay_line("", "adjustment", reason, amount=amount))
        total = calc.total_of(lines)
        lines.append(calc.info_line("", "total", "total / 合计", basis=total))
        statements.append(Statement(person.node.id, person.node.code, person.node.name, person.participant.role, period.label,
                                    calc.round_fen(person.period_incentive), tuple(lines), total, earned, tuple(person.awards)))
    return statements


def _visible(session: Session, user: User | None, rep: str | None, people: list[_Person]) -> list[_Person]:
    from attain.auth.access import can_see

    chosen = [p for p in people if user is None or can_see(session=session, user=user, node=p.node)]
    if rep is not None:
        chosen = [p for p in chosen if p.node.code == rep]
        if not chosen:
            raise NotFound(f"no participant '{rep}' in this period that you can see")
    return chosen


def _default_as_of(period: Period) -> date:
    return min(period.end, _today())


def statements(
    *, session: Session, name: str, period: str, rep: str | None = None, as_of: date | None = None, user: User | None = None,
    detail: bool = True,
) -> StatementSet:
    """Every participant's statement of one settlement period (`rep`: one person's). A closed period
    answers its frozen snapshot; an open one is computed now, up to `as_of` (default: today or the
    period end). `user` applies row-level access: a rep sees their own, a manager their team's.
    Totals come from the fast path (`incentives.fast`); `detail=False` builds the lines only when
    a statement's lines are read (while the session is open)."""
    newest = require_plan(session=session, name=name)
    close = session.scalars(select(IncentiveClose).where(IncentiveClose.plan_name == name, IncentiveClose.period == period)).first()
    if close is not None:
        return _frozen(session, close, rep, user)
    plan = plan_in_force(session=session, name=newest.name)
    span = settlement_period(plan, period)
    as_of = as_of or _default_as_of(span)
    from attain.incentives.fast import statement_sets

    # Pools and teams need everyone; what is shown is limited afterwards.
    return statement_sets(session, plan, [span], as_of, rep=rep, user=user, detail=detail)[0]


def year_statements(
    *, session: Session, name: str, as_of: date | None = None, user: User | None = None, detail: bool = False,
    parallel: bool = False,
) -> list[StatementSet]:
    """The statements of every settlement period of plan `name`'s year: closed periods their frozen
    snapshot, the open ones computed together (each figure read once for all periods and people, see
    `incentives.fast`), up to `as_of` (default today). `detail=False` builds the lines of a statement
    only when it is read (the totals are there at once). `parallel` reads the attainment figures on
    connections of their own, side by side (committed data only; as `attainment(parallel=True)`)."""
    newest = require_plan(session=session, name=name)
    closes = {c.period: c for c in session.scalars(select(IncentiveClose).where(IncentiveClose.plan_name == name))}
    plan = plan_in_force(session=session, name=newest.name)
    as_of = as_of or _today()
    labels = [label for label, _closed in settlement_periods(session=session, name=name)]
    spans = [settlement_period(plan, label) for label in labels if label not in closes]
    from attain.incentives.fast import statement_sets

    computed = {s.period: s for s in statement_sets(session, plan, spans, as_of, user=user, detail=detail, parallel=parallel,
                                                     shown_as_of=[min(as_of, span.end) for span in spans])} if spans else {}
    return [_frozen(session, closes[label], None, user) if label in closes else computed[label] for label in labels]


def _frozen(session: Session, close: IncentiveClose, rep: str | None, user: User | None) -> StatementSet:
    from attain.auth.access import can_see

    plan = session.get(IncentivePlan, close.plan_id)
    found = []
    for statement, node in session.execute(
        select(IncentiveStatement, OrgNode).join(OrgNode, OrgNode.id == IncentiveStatement.org_node_id)
        .where(IncentiveStatement.close_id == close.id).order_by(OrgNode.path)
    ):
        if (user is not None and not can_see(session=session, user=user, node=node)) or (rep is not None and node.code != rep):
            continue
        lines = tuple(line for line in statement.lines if line.get("step") != "role")
        role = next((str(line.get("role")) for line in statement.lines if line.get("step") == "role"), "rep")
        target = next((int(line["basis"]) for line in lines if line.get("step") == "target_incentive"), 0)  # type: ignore[call-overload]
        awards = tuple(str(line["label"]).split("award: ", 1)[1] for line in lines
                       if line.get("step") == "milestone" and "award: " in str(line.get("label")) and line.get("amount") is not None
                       and "reached" in str(line.get("label")))
        found.append(Statement(node.id, node.code, node.name, role, close.period, target, lines, statement.total,
                               statement.earned, awards))
    if rep is not None and not found:
        raise NotFound(f"no participant '{rep}' in this period that you can see")
    return StatementSet(close.plan_name, plan.version if plan else 0, close.period, "closed", close.as_of, tuple(found), close.closed_at)


# -- closing and payroll ---------------------------------------------------------------------------


def close_period(*, session: Session, name: str, period: str, by: str, as_of: date | None = None) -> StatementSet:
    """Freeze the period's statements (a director or admin). Later corrections of this period are
    paid as adjustment lines in the next period that is computed, naming the orders."""
    user = _planner(session, by, APPROVER_ROLES, "close a period of")
    plan = plan_in_force(session=session, name=name)
    span = settlement_period(plan, period)
    if session.scalar(select(IncentiveClose.id).where(IncentiveClose.plan_name == name, IncentiveClose.period == span.label)):
        raise Conflict(f"{span.label} of incentive plan {name} is already closed; corrections go into a later period")
    as_of = as_of or _default_as_of(span)
    people = _earned(session, plan, span, as_of)
    computed = _finish(session, plan, span, as_of, people)
    primary = _primary_plan(session, plan, span)
    orders = order_lines.person_lines(session, primary, span, as_of, people) if primary else {}
    close = IncentiveClose(plan_name=name, plan_id=plan.id, period=span.label, period_start=span.start, period_end=span.end,
                           as_of=as_of, closed_by=user.username, closed_at=_now())
    session.add(close)
    session.flush()
    due = {(a[0], a[1]): a for a in _adjustments(session, plan, span, people)}
    for statement in computed:
        lines = [{"component": "", "step": "role", "label": statement.role, "basis": None, "attainment": None,
                  "rate": None, "amount": None, "role": statement.role}, *statement.lines]
        session.add(IncentiveStatement(close_id=close.id, org_node_id=statement.node_id, total=statement.total,
                                       earned=statement.earned, lines=lines, orders=orders.get(statement.node_id, {})))
    for node_id, for_period, amount, reason, moved in due.values():
        session.add(IncentiveAdjustment(close_id=close.id, org_node_id=node_id, for_period=for_period, amount=amount,
                                        reason=reason, orders=moved))
    session.commit()
    return statements(session=session, name=name, period=span.label)


@dataclass(frozen=True)
class PayrollRow:
    code: str
    external_id: str | None
    name: str
    plan: str
    period: str
    amount: int  # fen
    awards: str


def payroll_rows(*, session: Session, period: str) -> list[PayrollRow]:
    """The closed totals of every incentive plan for `period`, one row per person and plan."""
    closes = list(session.scalars(select(IncentiveClose).where(IncentiveClose.period == period).order_by(IncentiveClose.plan_name)))
    if not closes:
        raise NotFound(f"no incentive plan has closed {period}; close it first: attain incentive close --plan NAME --period {period}")
    rows = []
    for close in closes:
        for s in _frozen(session, close, None, None).statements:
            node = session.get(OrgNode, s.node_id)
            rows.append(PayrollRow(s.code, node.external_id if node else None, s.name, close.plan_name, close.period,
                                   s.total, "; ".join(s.awards)))
    return rows


PAYROLL_HEADER = ("工号 code", "外部编号 external_id", "姓名 name", "激励方案 plan", "期间 period", "金额 amount (CNY)", "非现金奖励 awards")


def export_payroll(*, session: Session, period: str, out: Path) -> int:
    """Write the payroll file (.csv UTF-8 with BOM, or .xlsx); text cells never become formulas."""
    rows = payroll_rows(session=session, period=period)
    values = [(r.code, r.external_id or "", r.name, r.plan, r.period, f"{Decimal(r.amount) / 100:.2f}", r.awards) for r in rows]
    _write_table(out, PAYROLL_HEADER, values, numeric=(5,))
    return len(rows)


def _write_table(out: Path, header: tuple[str, ...], rows: list[tuple[object, ...]], numeric: tuple[int, ...] = ()) -> None:
    from attain.spreadsheets import csv_row, new_workbook, write_cells_in_row

    suffix = out.suffix.lower()
    if suffix == ".csv":
        with out.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(csv_row(header))
            for row in rows:
                writer.writerow(csv_row(row, numeric=numeric))
    elif suffix == ".xlsx":
        book = new_workbook(out)
        sheet = book.add_worksheet("incentives")
        write_cells_in_row(sheet, 0, 0, header)
        for i, row in enumerate(rows, start=1):
            write_cells_in_row(sheet, i, 0, [Decimal(str(v)) if j in numeric and v != "" else v for j, v in enumerate(row)])
        book.close()
    else:
        raise InvalidInput(f"{out.name}: write .csv or .xlsx")


STATEMENT_HEADER = ("code", "name", "period", "component", "step", "label", "basis", "attainment %", "rate %", "amount (CNY)")


def _statement_rows(result: StatementSet) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for s in result.statements:
        for line in s.lines:
            amount = line.get("amount")
            rows.append((s.code, s.name, s.period, line.get("component") or "", line.get("step") or "", line.get("label") or "",
                         "" if line.get("basis") is None else line["basis"], line.get("attainment") or "", line.get("rate") or "",
                         "" if amount is None else f"{Decimal(amount) / 100:.2f}"))
    return rows


def export_statements(*, result: StatementSet, out: Path) -> None:
    """Write statements as .xlsx (one row per line, formula-safe), a self-contained .html page or a
    .pdf with an embedded CJK font (`incentives.pdf`)."""
    suffix = out.suffix.lower()
    if suffix == ".xlsx":
        _write_table(out, STATEMENT_HEADER, _statement_rows(result), numeric=(9,))
        return
    if suffix == ".pdf":
        from attain.incentives.pdf import write_statements_pdf

        write_statements_pdf(result, out)
        return
    if suffix != ".html":
        raise InvalidInput.coded("statement.out_suffix", name=out.name)
    parts = [f"<!doctype html><html lang='zh-CN'><meta charset='utf-8'><title>{html.escape(result.plan)} {html.escape(result.period)}</title>",
             ("<style>body{font-family:sans-serif}table{border-collapse:collapse;margin-bottom:2em}"
             "td,th{border:1px solid #ccc;padding:2px 6px}td.n{text-align:right}</style>"),
             f"<h1>{html.escape(result.plan)} v{result.version} · {html.escape(result.period)} · {result.status} · as of {result.as_of}</h1>"]
    for s in result.statements:
        parts.append(f"<h2>{html.escape(s.code)} {html.escape(s.name)} — {calc.money_text(s.total)} 元</h2><table>"
                     "<tr><th>component</th><th>step</th><th>line</th><th>basis</th><th>attainment %</th><th>rate %</th><th>amount</th></tr>")
        for line in s.lines:
            amount = line.get("amount")
            basis = line.get("basis")
            parts.append("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (line.get("component") or "", line.get("step") or "", line.get("label") or ""))
                         + f"<td class=n>{'' if basis is None else html.escape(str(basis))}</td><td class=n>{line.get('attainment') or ''}</td>"
                         f"<td class=n>{line.get('rate') or ''}</td><td class=n>{'' if amount is None else calc.money_text(int(amount))}</td></tr>")  # type: ignore[call-overload]
        parts.append("</table>")
    out.write_text("".join(parts), encoding="utf-8")


# -- what-if ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatIf:
    rep: str
    period: str
    as_of: date
    earned: int  # fen earned so far in the period
    extra: int  # the extra sale asked about, fen
    extra_pays: int  # what it adds, fen
    next_step: calc.NextStep | None
    message: str
    name: str = ""
    role: str = "rep"
    message_en: str = ""
    sale: str = ""  # which sale: its slice ("customer_type=new"), "" for any sale

    def as_dict(self) -> dict[str, Any]:
        step = self.next_step
        return {"rep": self.rep, "name": self.name, "role": self.role, "period": self.period, "as_of": self.as_of.isoformat(), "earned": self.earned,
                "extra": self.extra, "extra_pays": self.extra_pays, "message": self.message, "message_en": self.message_en,
                "sale": self.sale,
                "next_step": None if step is None else {"component": step.component, "kind": step.kind, "name": step.name,
                                                        "attainment": calc.percent_text(step.goal), "needed": step.needed, "gain": step.gain}}


def what_if(
    *, session: Session, name: str, rep: str, extra: int, period: str | None = None, as_of: date | None = None,
    user: User | None = None, sale: str | None = None,
) -> WhatIf:
    """What `rep` has earned so far, the next step (band or curve point, milestone, team pool) and
    what it pays, and what `extra` fen more credited sales would pay with every component
    (`incentives.whatif`); `sale` says which sale it is: 'customer_type=new,product_line=P-01'."""
    from attain.incentives.whatif import parse_sale, what_if_of

    chosen = parse_sale(sale)
    plan, span, as_of, people = _what_if_setup(session, name, period, as_of)
    person = next(iter(_visible(session, user, rep, people)))
    return what_if_of(session, plan, span, as_of, people, person, extra, _Context(session, span, as_of), chosen)


def team_what_if(
    *, session: Session, name: str, extra: int, period: str | None = None, as_of: date | None = None,
    user: User | None = None, sale: str | None = None, team: str | None = None,
) -> list[WhatIf]:
    """`what_if` for every participant `user` may see (a rep: themselves; a manager: their team;
    a director: their region or the company), in org order, reading the figures once; `team` (a
    team or region code) keeps the participants under it (NotFound when `user` may not see it)."""
    from attain.incentives.whatif import parse_sale, what_if_of

    chosen = parse_sale(sale)
    plan, span, as_of, people = _what_if_setup(session, name, period, as_of)
    visible = _visible(session, user, None, people)
    if team is not None:
        visible = _under_team(session, user, team, visible)
    context = _Context(session, span, as_of)
    return [what_if_of(session, plan, span, as_of, people, person, extra, context, chosen) for person in visible]


def _under_team(session: Session, user: User | None, code: str, people: list[_Person]) -> list[_Person]:
    from attain.auth.access import can_see

    node = session.scalar(select(OrgNode).where(OrgNode.code == code))
    if node is None or node.kind not in ("team", "region", "company") or (user is not None and not can_see(session=session, user=user, node=node)):
        raise NotFound.coded("whatif.no_team", code=code)
    return [p for p in people if p.node.path.startswith(node.path) or p.figure_id == node.id]


def _what_if_setup(session: Session, name: str, period: str | None, as_of: date | None
                   ) -> tuple[IncentivePlan, Period, date, list[_Person]]:
    plan = plan_in_force(session=session, name=name)
    as_of = as_of or _today()
    span = settlement_period(plan, period) if period else period_containing(plan, as_of)
    as_of = min(as_of, span.end)
    return plan, span, as_of, _earned(session, plan, span, as_of)
