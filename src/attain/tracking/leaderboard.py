"""Leaderboard (战报墙): reps or teams ranked by attainment, with the milestones they reached.

Actuals and targets come from `attainment()`; milestones from daily sums per row computed by the
database (one GROUP BY row, day), accumulated by the pure `calc.milestones`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction

import numpy as np
from sqlalchemy.orm import Session

from attain.calendars.service import company_calendar
from attain.catalog.dimensions import NAMED, is_customer_dimension, members
from attain.errors import InvalidInput
from attain.periods import Period
from attain.split.calendar import day_range, working_day_mask
from attain.tracking import calc
from attain.tracking.attainment import Attainment, AttainmentRow, _number, attainment
from attain.tracking.engine import Runner, SessionRunner
from attain.tracking.query import Grouping, actuals_statement

LEADERBOARD_DIMENSIONS = ("rep", "team")


@dataclass(frozen=True)
class LeaderRow:
    rank: int
    row: AttainmentRow
    milestones: calc.Milestones


@dataclass(frozen=True)
class Leaderboard:
    report: Attainment
    rows: tuple[LeaderRow, ...]


def _ranking_key(row: AttainmentRow) -> tuple[int, Decimal, Decimal]:
    attained = row.figures.attainment
    return (attained is None, -(attained or Decimal(0)), -Decimal(row.actual))


def leaderboard(
    *, session: Session, period: Period, by: str = "rep", plan: str | None = None, as_of: date | None = None,
    runner: Runner | None = None, customers: tuple[str, str] | None = None,
) -> Leaderboard:
    """Rows ranked by attainment (rows without a target last, by actual); equal attainment shares a rank.

    `customers` = (attribute, value), e.g. ("segment", "大客户"): rank on the sales to those customers
    only (the attribute in force on each sale's day), against the targets of a plan split by that
    attribute (rows without one rank by actual)."""
    if by not in LEADERBOARD_DIMENSIONS:
        raise InvalidInput.coded("tracking.leaderboard.leaderboard_ranks_rep_team", by=by)
    runner = runner or SessionRunner(session)
    grouping = (by,) if customers is None else (by, _checked_filter(session, customers))
    report = attainment(session=session, period=period, by=grouping, plan=plan, as_of=as_of, runner=runner)
    if customers is not None:
        report = replace(report, rows=tuple(r for r in report.rows if r.key[1] == customers[1]))
    last = min(period.end, report.as_of)
    daily: dict[object, tuple[np.ndarray, np.ndarray]] = {}
    workdays = np.array([], dtype="datetime64[D]")
    if last >= period.start:
        statement = actuals_statement(metric=report.metric.code, grouping=Grouping(grouping), start=period.start,
                                      end=last, by_day=True, plan_id=report.plan_id)
        rows = runner.rows(statement)
        if customers is not None:
            rows = [(key, day, value) for key, member, day, value in rows if member == customers[1]]
        daily = _daily_by_key(rows)
        days = day_range(period.start, last)
        mask, _warnings = working_day_mask(days, company_calendar(session=session))
        workdays = days[mask]
    ordered = sorted(report.rows, key=_ranking_key)
    leaders: list[LeaderRow] = []
    for position, row in enumerate(ordered, start=1):
        rank = leaders[-1].rank if leaders and _ranking_key(leaders[-1].row)[:2] == _ranking_key(row)[:2] else position
        sale_days, amounts = daily.get(row.key[0], (np.array([], dtype="datetime64[D]"), np.array([], dtype=object)))
        target = None if row.target is None else Fraction(row.target)
        leaders.append(LeaderRow(rank, row, calc.milestones(sale_days, amounts, target, workdays)))
    return Leaderboard(report, tuple(leaders))


def _checked_filter(session: Session, customers: tuple[str, str]) -> str:
    """The attribute of a customer filter, checked: a customer dimension and one of its values."""
    name, value = customers
    if not is_customer_dimension(name):
        raise InvalidInput.coded("dimension.unknown", name=name, choices=", ".join(NAMED))
    known = members(session, name)
    if value not in known:
        raise InvalidInput.coded("dimension.unknown_value", name=name, value=value, values=", ".join(known) or "—")
    return name


def _daily_by_key(rows: list[tuple[object, ...]]) -> dict[object, tuple[np.ndarray, np.ndarray]]:
    """{key: (sorted days, amounts)} from (key, day, value) rows."""
    grouped: dict[object, list[tuple[object, object]]] = {}
    for key, day, value in rows:
        grouped.setdefault(None if key is None else int(key), []).append((day, _number(value)))  # type: ignore[call-overload]
    result = {}
    for key, pairs in grouped.items():
        pairs.sort(key=lambda p: p[0])  # type: ignore[arg-type,return-value]
        result[key] = (np.array([p[0] for p in pairs], dtype="datetime64[D]"), np.array([p[1] for p in pairs], dtype=object))
    return result


CELEBRATED = (Decimal("0.50"), Decimal("1.00"))  # the marks a 战报墙 celebrates: halfway and target hit


@dataclass(frozen=True)
class Crossing:
    """A row that reached a share of its target on a given day (a milestone to celebrate)."""

    leader: LeaderRow
    share: Decimal
    day: date


def crossings(board: Leaderboard, *, on: date, shares: tuple[Decimal, ...] = CELEBRATED) -> tuple[Crossing, ...]:
    """The milestones of `shares` first reached on `on`, best share first, then by rank."""
    found = [Crossing(leader, share, day) for leader in board.rows for share, day in leader.milestones.reached
             if share in shares and day == on]
    return tuple(sorted(found, key=lambda c: (-c.share, c.leader.rank)))
