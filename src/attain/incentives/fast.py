"""Statements for many people and periods at once: the fast path behind `service.statements`.

A statement run reads each figure ONCE for all its settlement periods and people:

- credited actuals and targets per level (rep, team, region) from the attainment report itself
  (`tracking.attainment.attainment`, by "rep,month" over the plan year for monthly settlement, one
  report per period otherwise) — so a statement never disagrees with the report;
- slices, SPIFs and milestone days as one grouped SQL aggregate per component and period over
  `credit.sql.credited_lines()`, shared by everybody;

then pays every component for everybody with NumPy (`incentives.vector`: exact integers, the rounding
of `incentives.calc`). Totals, earned amounts and non-cash awards come from these arrays. The lines of a
statement (every step of the calculation) are built by the scalar reference path (`service._earned`)
on the same figures, only when somebody reads them (`Statement.lines`), and checked against the fast
total then: the two paths can never silently disagree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.auth.models import User
from attain.incentives import calc, service, vector
from attain.incentives.models import IncentiveComponent, IncentivePlan
from attain.org.models import OrgNode
from attain.periods import Grain, Period, year
from attain.plans.models import Plan


@dataclass
class _Level:
    """One level (rep, team or region) of one target plan over the run's periods."""

    nodes: NDArray[np.int64]  # ascending node ids
    actual: NDArray[np.int64]  # [node, period] credited fen
    target: NDArray[np.int64]  # [node, period] target fen (rounded as the report rounds it)
    has: NDArray[np.bool_]  # [node, period] whether the report has a target

    def lookup(self, ids: NDArray[np.int64], period: int) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
        if len(self.nodes) == 0:
            n = len(ids)
            return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
        at = np.clip(np.searchsorted(self.nodes, ids), 0, len(self.nodes) - 1)
        found = self.nodes[at] == ids
        return (np.where(found, self.actual[at, period], 0), np.where(found, self.target[at, period], 0),
                found & self.has[at, period])


@dataclass
class _Figures3:
    actual: NDArray[np.int64]
    target: NDArray[np.int64]
    has: NDArray[np.bool_]


class StatementRun:
    """The figures of one incentive plan version for a list of its settlement periods, read once."""

    def __init__(self, session: Session, plan: IncentivePlan, periods: Sequence[Period], as_of: date, parallel: bool = False):
        self.session, self.plan, self.periods, self.as_of = session, plan, list(periods), as_of
        self.parallel = parallel  # reports read the rollups on a connection of their own (committed data only)
        self.components = service._components(session, plan.id)
        self.nodes = {n.id: n for n in session.scalars(select(OrgNode))}
        self.participants = service._participants(session, plan)
        self.headed = service._headed(self.nodes)
        self.names = {n.id: (n.code, n.name) for n in self.nodes.values()}
        self._figure_of: dict[int, tuple[str, int | None, int | None]] = {}
        self._persons: dict[tuple[int, Fraction], service._Person] = {}  # shared by the periods (never given lines)
        self._levels: dict[tuple[str, str], _Level] = {}
        self._company: dict[tuple[str, int], tuple[int, Fraction | None]] = {}
        self._plans: dict[tuple[str, int], Plan] = {}
        self._people: dict[int, list[service._Person]] = {}

    # -- figures -----------------------------------------------------------------------------------

    def target_plan(self, name: str, index: int) -> Plan:
        key = (name, index)
        if key not in self._plans:
            self._plans[key] = service._target_plan(self.session, name, self.periods[index])
        return self._plans[key]

    def _yearly(self) -> Period | None:
        """The plan year when the run is its twelve months (one report by level and month serves all)."""
        months = [p for p in self.periods if p.grain == Grain.MONTH]
        if len(self.periods) > 1 and len(months) == len(self.periods) == 12:
            whole = year(self.plan.year)
            if all(p.start.year == self.plan.year for p in months):
                return whole
        return None

    def level(self, target_plan: str, level: str) -> _Level:
        """Actual and target of every node of `level` in every period: the attainment report by level
        (and month), read once per run."""
        key = (target_plan, level)
        found = self._levels.get(key)
        if found is not None:
            return found
        for i in range(len(self.periods)):
            self.target_plan(target_plan, i)  # the plan must cover every period (as the scalar path checks)
        found = self._levels[key] = self._read_level(self.session, target_plan, level)
        return found

    def prefetch(self) -> None:
        """With `parallel`: read the levels every component needs at once, each report on a session
        (connection) of its own — the database sums the rep and the team rollups side by side."""
        from concurrent.futures import ThreadPoolExecutor

        from sqlalchemy.engine import Engine

        bind = self.session.get_bind()
        if not self.parallel or not self.periods or not isinstance(bind, Engine) or bind.dialect.name == "sqlite":
            return
        people = self.people(0)
        wanted = sorted({(str(c.target_plan), level) for c in self.components
                         for level in service._levels(c, people) if level in ("rep", "team", "region")} - self._levels.keys())
        if len(wanted) < 2:
            return
        for target_plan, _level in wanted:
            for i in range(len(self.periods)):
                self.target_plan(target_plan, i)

        def read(key: tuple[str, str]) -> _Level:
            with Session(bind=bind) as own:
                return self._read_level(own, *key)

        with ThreadPoolExecutor(max_workers=len(wanted), thread_name_prefix="attain-statements") as pool:
            for key, level in zip(wanted, pool.map(read, wanted)):
                self._levels[key] = level

    def _read_level(self, session: Session, target_plan: str, level: str) -> _Level:
        from attain.tracking.attainment import attainment

        nodes: list[int] = []
        column: list[int] = []
        actuals: list[int] = []
        targets: list[int] = []
        whole = self._yearly()
        if whole is not None:
            index = {p.start.year * 100 + p.start.month: i for i, p in enumerate(self.periods)}
            report = attainment(session=session, period=whole, by=f"{level},month", plan=target_plan, as_of=self.as_of,
                                figures=False, parallel=self.parallel)
            for row in report.rows:
                if row.node_id is None or row.key[1] not in index:
                    continue
                nodes.append(row.node_id)
                column.append(index[row.key[1]])  # type: ignore[index]
                actuals.append(int(row.actual))
                targets.append(-1 if row.target is None else int(row.target))
        else:
            for i, period in enumerate(self.periods):
                report = attainment(session=session, period=period, by=level, plan=target_plan, as_of=self.as_of,
                                    figures=False, parallel=self.parallel)
                for row in report.rows:
                    if row.node_id is None:
                        continue
                    nodes.append(row.node_id)
                    column.append(i)
                    actuals.append(int(row.actual))
                    targets.append(-1 if row.target is None else int(row.target))
        ids = np.array(nodes, dtype=np.int64)
        unique = np.unique(ids)
        rows = np.searchsorted(unique, ids)
        shape = (len(unique), len(self.periods))
        actual = np.zeros(shape, dtype=np.int64)
        target = np.zeros(shape, dtype=np.int64)
        has = np.zeros(shape, dtype=bool)
        cols = np.array(column, dtype=np.int64)
        raw_targets = np.array(targets, dtype=np.int64)
        actual[rows, cols] = np.array(actuals, dtype=np.int64)
        target[rows, cols] = np.where(raw_targets < 0, 0, raw_targets)
        has[rows, cols] = raw_targets >= 0
        return _Level(unique, actual, target, has)

    def company(self, target_plan: str, index: int) -> tuple[int, Fraction | None]:
        """The company's actual and target of one period: the total of the report by rep, as the scalar path."""
        from attain.tracking.attainment import attainment

        key = (target_plan, index)
        if key not in self._company:
            report = attainment(session=self.session, period=self.periods[index], by="rep", plan=target_plan, as_of=self.as_of,
                                figures=False, parallel=self.parallel)
            self._company[key] = (int(report.total.actual), service._fraction(report.total.target))
        return self._company[key]

    def needs_company(self, people: list[service._Person]) -> bool:
        return any(p.figure_kind == "company" for p in people) or any(
            "company" in c.spec.get("attainment", {}) for c in self.components if c.kind == "payout_curve")

    def people(self, index: int) -> list[service._Person]:
        if index not in self._people:
            self._people[index] = service._people(self.session, self.plan, self.periods[index], self.nodes,
                                                  self.participants, self.headed, self._figure_of, self._persons)
        return self._people[index]

    # -- the arrays of one period -----------------------------------------------------------------

    def _of(self, target_plan: str, index: int, kinds: list[str], ids: list[int | None]) -> _Figures3:
        n = len(kinds)
        actual = np.zeros(n, dtype=np.int64)
        target = np.zeros(n, dtype=np.int64)
        has = np.zeros(n, dtype=bool)
        kind_array = np.array(kinds, dtype=object)
        id_array = np.array([-1 if i is None else i for i in ids], dtype=np.int64)
        for kind in set(kinds):
            mask = kind_array == kind
            if kind == "company":
                a, t = self.company(target_plan, index)
                actual[mask] = a
                if t is not None:
                    target[mask], has[mask] = int(t), True
                continue
            if kind not in ("rep", "team", "region"):
                continue
            a, t, h = self.level(target_plan, kind).lookup(id_array[mask], index)
            known = id_array[mask] >= 0
            actual[mask], target[mask], has[mask] = np.where(known, a, 0), t, h & known
        return _Figures3(actual, target, has)

    def _own(self, target_plan: str, index: int, people: list[service._Person]) -> _Figures3:
        return self._of(target_plan, index, [p.figure_kind for p in people], [p.figure_id for p in people])

    def _part(self, target_plan: str, index: int, people: list[service._Person], level: str) -> _Figures3:
        if level == "own":
            return self._own(target_plan, index, people)
        if level == "team":
            kinds = ["team" if p.team_id else p.figure_kind for p in people]
            ids = [p.team_id if p.team_id else p.figure_id for p in people]
            return self._of(target_plan, index, kinds, ids)
        return self._of(target_plan, index, ["company"] * len(people), [None] * len(people))

    def earned(self, index: int) -> tuple[list[service._Person], NDArray[np.int64], dict[int, list[str]]]:
        """Every participant of period `index`, what each earns (fen, before adjustments) and their
        non-cash awards — every component paid for everybody at once."""
        people = self.people(index)
        period = self.periods[index]
        as_of = self.as_of
        total = np.zeros(len(people), dtype=np.int64)
        awards: dict[int, list[str]] = defaultdict(list)  # position → non-cash awards (few people have any)
        roles = np.array([p.role for p in people], dtype=object)
        for component in self.components:
            applies = component.spec.get("applies_to", "all")  # service._applies, for everybody at once
            chosen = list(range(len(people))) if applies == "all" else np.flatnonzero(roles == applies).tolist()
            if not chosen:
                continue
            who = [people[i] for i in chosen]
            amounts = self._pay(component, index, period, as_of, who,
                                lambda at, award, chosen=chosen: awards[chosen[at]].append(award))
            if amounts is not None:
                total[chosen] += amounts
        return people, total, awards

    def _pay(self, component: IncentiveComponent, index: int, period: Period, as_of: date, people: list[service._Person],
             award: Callable[[int, str], None]) -> NDArray[np.int64] | None:
        tp = str(component.target_plan)
        kind = component.kind
        rep_kind = np.array([p.figure_kind == "rep" for p in people])
        node_ids = np.array([p.node_id for p in people], dtype=np.int64)
        if kind == "rate_table":
            own = self._own(tp, index, people)
            return vector.rate_table_amounts(service.rate_table(component), own.actual, own.target, own.has)
        if kind == "payout_curve":
            parts = []
            for level, weight in component.spec.get("attainment", {"own": "100"}).items():
                f = self._part(tp, index, people, level)
                parts.append((service._pct(weight), f.actual, f.target, f.has))
            incentive = (vector.exact([p.period_incentive.numerator for p in people]),
                         vector.exact([p.period_incentive.denominator for p in people]))
            return vector.curve_amounts(service.curve(component), vector.blended_attainment(parts),  # type: ignore[arg-type]
                                        incentive, Fraction(component.weight_bp or 0, 10_000))
        if kind == "slice_rate":
            key, value = next(iter(component.spec["slice"].items()))
            found = service._slice_amounts(self.session, self.target_plan(tp, index), str(component.metric), key, value,
                                           period.start, min(period.end, as_of))
            basis = np.array([found.get(p.node_id, 0) for p in people], dtype=np.int64)
            return vector.rated_amounts(np.where(rep_kind, basis, 0), service._pct(component.spec["rate"]))  # type: ignore[arg-type]
        if kind == "spif":
            spec = component.spec
            start = max(period.start, date.fromisoformat(spec["from"]))
            end = min(period.end, date.fromisoformat(spec["to"]), as_of)
            if end < start:
                return None
            counts = service._spif_counts(self.session, self.target_plan(tp, index), spec, start, end)
            share = np.array([counts.get(p.node_id, (0, 0))[1] for p in people], dtype=np.int64)
            return vector.spif_amounts(int(spec["amount"]), np.where(rep_kind, share, 0))
        if kind == "milestone":
            return self._milestones(component, tp, index, period, as_of, people, award, node_ids, rep_kind)
        if kind == "team_pool":
            return self._pools(component, tp, index, people)
        raise ValueError(f"unknown component kind {kind}")

    def _milestones(self, component: IncentiveComponent, tp: str, index: int, period: Period, as_of: date,
                    people: list[service._Person], award_to: Callable[[int, str], None], node_ids: NDArray[np.int64],
                    rep_kind: NDArray[np.bool_]) -> NDArray[np.int64] | None:
        spec = component.spec
        deadline = service.milestone_deadline(component, period)
        if deadline is None:
            return None
        team = spec.get("scope") == "team"
        rows = service._milestone_days(self.session, component, self.target_plan(tp, index), period, min(deadline, as_of))
        run_nodes, best = vector.best_running_totals(np.array([r[0] for r in rows], dtype=np.int64),
                                                     np.array([r[2] for r in rows], dtype=np.int64))
        ids = [p.team_id if team else (p.node_id if p.figure_kind == "rep" else p.figure_id) for p in people]
        kinds = ["team" if team else p.figure_kind for p in people]
        figures = self._of(tp, index, kinds, ids)
        goal = service._pct(spec["percent"])
        wanted = np.array([-1 if i is None else i for i in ids], dtype=np.int64)
        reached = np.zeros(len(people), dtype=bool)
        if len(run_nodes):
            at = np.clip(np.searchsorted(run_nodes, wanted), 0, len(run_nodes) - 1)
            found = (run_nodes[at] == wanted) & figures.has
            goal_num = vector.exact(figures.target) * goal.numerator  # type: ignore[union-attr]
            reached = found & np.asarray(best[at] * goal.denominator >= goal_num, dtype=bool)  # type: ignore[union-attr]
        award = spec.get("award")
        if award:
            for i in np.flatnonzero(reached):
                award_to(int(i), str(award))
        return np.where(reached, int(spec.get("amount") or 0), 0).astype(np.int64)

    def _pools(self, component: IncentiveComponent, tp: str, index: int, people: list[service._Person]) -> NDArray[np.int64]:
        spec = component.spec
        threshold = service._pct(spec["threshold"])
        own = self._own(tp, index, people)
        team = self._of(tp, index, ["team"] * len(people), [p.team_id for p in people])
        teams: dict[int | None, list[int]] = defaultdict(list)
        for i, person in enumerate(people):
            teams[person.team_id].append(i)
        amounts = np.zeros(len(people), dtype=np.int64)
        for team_id, members in teams.items():
            first = members[0]
            attained = calc.attainment(int(team.actual[first]), int(team.target[first])) if team.has[first] else None
            funded = team_id is not None and attained is not None and attained >= threshold  # type: ignore[operator]
            pool = int(spec["amount"]) if funded else 0
            if spec["share_by"] == "sales":
                weights = [max(int(own.actual[i]), 0) for i in members]
            else:
                weights = [calc.round_fen(people[i].period_incentive) for i in members]
            amounts[members] = calc.pool_shares(pool, weights)
        return amounts

    # -- the scalar lines, on the same figures -------------------------------------------------------

    def context(self, index: int) -> service._Context:
        return _RunContext(self, index)


class _RunContext(service._Context):
    """`service._Context` answering from the run's arrays instead of running the report again."""

    def __init__(self, run: StatementRun, index: int):
        super().__init__(run.session, run.periods[index], run.as_of)
        self.run, self.index = run, index

    def figures(self, target_plan: str, levels: Any) -> service._Figures:
        found = self._figures.get(target_plan)
        if found is None:
            people = self.run.people(self.index)
            company = self.run.company(target_plan, self.index) if self.run.needs_company(people) else (0, None)
            found = service._Figures(self.run.target_plan(target_plan, self.index), {}, company)
            self._figures[target_plan] = found
        for level in {"rep", *levels}:
            if level in found.rows or level not in ("rep", "team", "region"):
                continue
            figures = self.run.level(target_plan, level)
            found.rows[level] = {int(node): (int(a), Fraction(int(t)) if h else None) for node, a, t, h in zip(
                figures.nodes, figures.actual[:, self.index], figures.target[:, self.index], figures.has[:, self.index])}
        return found


class LazyLines(Sequence[dict[str, Any]]):
    """A statement's lines, built when first read (see `_Batch`)."""

    def __init__(self, batch: _Batch, position: int):
        self._batch, self._position = batch, position

    def _lines(self) -> tuple[dict[str, Any], ...]:
        return self._batch.lines(self._position)

    def __getitem__(self, item):  # type: ignore[no-untyped-def, override]
        return self._lines()[item]

    def __len__(self) -> int:
        return len(self._lines())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._lines())

    def __eq__(self, other: object) -> bool:
        return tuple(self) == tuple(other) if isinstance(other, Sequence) else NotImplemented

    def __repr__(self) -> str:
        return f"LazyLines({self._position})"


class _Batch:
    """The statements of one period shown together. The first statement read builds its own lines
    (a statement page); reading a second builds all the others at once (an export, a list with lines)."""

    def __init__(self, run: StatementRun, index: int, shown: list[int], totals: list[int],
                 due: list[tuple[int, str, int, str, dict[str, int]]]):
        self.run, self.index, self.shown, self.totals, self.due = run, index, shown, totals, due
        self._lines: dict[int, tuple[dict[str, Any], ...]] = {}

    def lines(self, position: int) -> tuple[dict[str, Any], ...]:
        if position not in self._lines:
            wanted = [position] if not self._lines else [i for i in range(len(self.shown)) if i not in self._lines]
            self._lines.update(self._build(wanted))
        return self._lines[position]

    def _build(self, positions: list[int]) -> dict[int, tuple[dict[str, Any], ...]]:
        """The lines of the shown statements at `positions`, by the scalar path on the run's figures,
        each checked against its fast total."""
        run, period = self.run, self.run.periods[self.index]
        everybody = run.people(self.index)
        chosen = {self.shown[i] for i in positions}  # positions in `everybody`
        needed = set(chosen)
        if any(c.kind == "team_pool" for c in run.components):  # a pool share needs the whole team
            teams = {everybody[i].team_id for i in chosen}
            needed |= {i for i, p in enumerate(everybody) if p.team_id in teams}
        fresh = {i: service._Person(p.participant, p.node, p.figure_kind, p.figure_id, p.team_id, p.period_incentive,
                                    node_id=p.node_id, role=p.role)
                 for i, p in enumerate(everybody) if i in needed}
        service._earned(run.session, run.plan, period, run.as_of, people=list(fresh.values()), context=run.context(self.index))
        shown = [fresh[self.shown[i]] for i in positions]
        built = service._finish(run.session, run.plan, period, run.as_of, shown, due=self.due)
        found = {}
        for position, statement in zip(positions, built):
            if statement.total != self.totals[position]:
                raise RuntimeError(f"incentive statement of {statement.code} for {period.label}: lines add up to "
                                   f"{statement.total} fen, the fast path says {self.totals[position]}")
            found[position] = statement.lines
        return found


_FIELDS = tuple(f.name for f in fields(service.Statement))


def _statement(*values: object) -> service.Statement:
    """A `service.Statement` without the frozen dataclass's per-field __setattr__ (60,000 of them a run)."""
    statement = object.__new__(service.Statement)
    statement.__dict__.update(zip(_FIELDS, values))
    return statement


def statement_sets(
    session: Session, plan: IncentivePlan, periods: Sequence[Period], as_of: date, *, rep: str | None = None,
    user: User | None = None, detail: bool = True, shown_as_of: Sequence[date] | None = None, parallel: bool = False,
) -> list[service.StatementSet]:
    """The open statements of `periods` (of plan version `plan`) up to `as_of`, figures read once for
    all of them. `detail` builds every shown statement's lines now (False: when first read, while the
    session is open). `rep`/`user` choose who is shown (NotFound when `rep` is nobody the user sees)."""
    run = StatementRun(session, plan, periods, as_of, parallel)
    run.prefetch()
    found = []
    for index, period in enumerate(run.periods):
        people, earned, awards = run.earned(index)
        visible = service._visible(session, user, rep, people)
        shown = [i for i, p in enumerate(people) if p in visible] if len(visible) != len(people) else list(range(len(people)))
        due = service._adjustments(session, plan, period, visible)
        adjusted: dict[int, int] = defaultdict(int)
        for node_id, _for, amount, _reason, _orders in due:
            adjusted[node_id] += amount
        totals = [int(earned[i]) + adjusted[people[i].node_id] for i in shown] if adjusted else earned[shown].tolist()
        batch = _Batch(run, index, shown, totals, due)
        statements = []
        names = run.names
        earned_list = earned.tolist()
        for position, i in enumerate(shown):
            p = people[i]
            code, name = names[p.node_id]
            statements.append(_statement(
                p.node_id, code, name, p.role, period.label, p.incentive_fen, LazyLines(batch, position), totals[position],
                earned_list[i], tuple(awards.get(i, ()))))
        if detail and statements:
            batch.lines(0)
            if len(statements) > 1:
                batch.lines(1)
        day = shown_as_of[index] if shown_as_of is not None else as_of
        found.append(service.StatementSet(plan.name, plan.version, period.label, "open", day, tuple(statements)))
    return found
