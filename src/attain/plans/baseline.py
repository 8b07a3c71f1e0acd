"""Honest baselines: which twelve months count as 'last year' for a plan, in one place.

Growth (`plan create --growth`), capacity learnt from last year (`--from-capacity`), the history and
seasonal splits (CLI and web wizard) and the SMART realism check all read the same window:

- `last-fiscal-year` (default): the last fiscal year (`fiscal_year_start_month`) that ends before
  the plan starts *and* is over on `as_of`. Planning 2027 on 2026-12-02 takes 2025, not the eleven
  months of 2026 so far, and says so in `Baseline.note`.
- `trailing-12`: the twelve complete calendar months before the plan starts, or before the month of
  `as_of` if that is earlier (Dec 2025 – Nov 2026 on 2026-12-02). A running month never counts.

A window is `complete` when the sales history reaches back to its first month; when it does not (a
company with less than a year of sales), growth is refused and the other consumers warn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from attain.catalog.models import ProductNode
from attain.errors import InvalidInput
from attain.facts.models import OrderLine
from attain.org.models import OrgNode
from attain.periods import Grain, Period, fiscal_year, periods_between

LAST_FISCAL_YEAR = "last-fiscal-year"
TRAILING_12 = "trailing-12"
BASES = (LAST_FISCAL_YEAR, TRAILING_12)


@dataclass(frozen=True)
class Baseline:
    """The twelve months a plan is compared with, and what to tell the user about them."""

    start: date
    end: date
    basis: str  # last-fiscal-year | trailing-12
    label: str  # '2025', 'FY2026' or '2025-12..2026-11'
    complete: bool  # the sales history covers the whole window
    note: str | None  # a warning to show when the window is not the year right before the plan, or not complete
    as_of: date

    @property
    def months(self) -> list[Period]:
        return periods_between(self.start, self.end, Grain.MONTH)

    @property
    def description(self) -> str:
        kind = "trailing 12 complete months" if self.basis == TRAILING_12 else "last complete fiscal year"
        return f"{self.label} ({kind}, {self.start} to {self.end})"

    def as_dict(self) -> dict[str, Any]:
        return {"basis": self.basis, "label": self.label, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "complete": self.complete, "note": self.note}

    def to_calendar_order(self, by_window_month: NDArray[Any], axis: int = 0) -> NDArray[Any]:
        """Values indexed by month of the window (0 = its first month) → indexed by calendar month (0 = January)."""
        return np.roll(by_window_month, self.start.month - 1, axis=axis)


def month_start(day: date) -> date:
    return date(day.year, day.month, 1)


def add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def last_complete_month_end(*, before: date, as_of: date) -> date:
    """The last day of the last calendar month that ends before `before` and is over on `as_of`."""
    return min(month_start(before), month_start(as_of)) - timedelta(days=1)


def _fiscal_label(period: Period, start_month: int) -> str:
    return str(period.end.year) if start_month == 1 else period.label


def window_for(
    *, target_start: date, basis: str, as_of: date, fiscal_start_month: int = 1, first_sale: date | None = None,
) -> Baseline:
    """The baseline window of a plan starting `target_start` (pure: no database)."""
    if basis not in BASES:
        raise InvalidInput.coded("plans.baseline.unknown_baseline_choose", basis=basis, items=' or '.join(BASES))
    note = None
    if basis == LAST_FISCAL_YEAR:
        fy = target_start.year + 1
        while fiscal_year(fy, fiscal_start_month).end >= target_start:
            fy -= 1
        natural = fiscal_year(fy, fiscal_start_month)
        chosen = natural
        while chosen.end >= as_of:  # not over yet: its last days (or months) are still to come
            fy -= 1
            chosen = fiscal_year(fy, fiscal_start_month)
        start, end = chosen.start, chosen.end
        label = _fiscal_label(chosen, fiscal_start_month)
        if chosen != natural:
            note = (f"{_fiscal_label(natural, fiscal_start_month)} is not complete on {as_of} (it runs to {natural.end}); "
                    f"last year is {label}, the last complete fiscal year — or use the trailing 12 complete months")
    else:
        end = last_complete_month_end(before=target_start, as_of=as_of)
        start = add_months(month_start(end), -11)
        label = f"{start:%Y-%m}..{end:%Y-%m}"
    complete = first_sale is not None and month_start(first_sale) <= start
    if first_sale is not None and not complete:
        gap = f"the sales history starts on {first_sale}, after the start of {label} ({start}): less than one complete year"
        note = f"{note}; {gap}" if note else gap
    return Baseline(start, end, basis, label, complete, note, as_of)


def first_sale(*, session: Session) -> date | None:
    """The first order date in the database (an index read)."""
    return session.scalar(select(func.min(OrderLine.order_date)))


def fiscal_start_month(session: Session) -> int:
    from attain.settings.service import get_setting

    return int(get_setting(session, "fiscal_year_start_month"))


def baseline_window(
    *, session: Session, target_start: date, basis: str = LAST_FISCAL_YEAR, as_of: date | None = None,
) -> Baseline:
    """The baseline of a plan starting `target_start` as of `as_of` (default today); see the module doc."""
    return window_for(target_start=target_start, basis=basis, as_of=as_of or date.today(),
                      fiscal_start_month=fiscal_start_month(session), first_sale=first_sale(session=session))


def history_by_member(
    *, session: Session, window: Baseline, group: str, keys: Sequence[Any], under_path: str,
) -> NDArray[np.float64]:
    """Credited revenue of the window under the org node at `under_path`, one SQL GROUP BY per axis:
    per org node in `keys` (its subtree), per product line in `keys`, or (group 'time') per calendar
    month, January first (12 values; `keys` unused)."""
    from attain.plans.data import _credited

    lines = _credited(session, window.start, window.end)
    rep = OrgNode.__table__.alias("rep")
    base = select().select_from(lines).join(rep, rep.c.id == lines.c.rep_id).where(
        lines.c.credit_date >= window.start, lines.c.credit_date <= window.end, lines.c.kind == "direct",
        rep.c.path.startswith(under_path, autoescape=True),
    )
    if group == "time":
        m = func.extract("month", lines.c.credit_date)
        found = {int(k): int(v or 0) for k, v in session.execute(base.add_columns(m, func.sum(lines.c.amount)).group_by(m)).all()}
        return np.array([found.get(month, 0) for month in range(1, 13)], dtype=np.float64)
    if group == "org":
        node = OrgNode.__table__.alias("grp")
        query = base.join(node, rep.c.path.startswith(node.c.path)).where(node.c.id.in_(list(keys))).add_columns(
            node.c.id, func.sum(lines.c.amount)).group_by(node.c.id)
    elif group == "product":
        product = ProductNode.__table__.alias("product")
        line = ProductNode.__table__.alias("line")
        query = base.join(product, product.c.id == lines.c.product_id).join(
            line, product.c.path.startswith(line.c.path)).where(line.c.id.in_(list(keys))).add_columns(
            line.c.id, func.sum(lines.c.amount)).group_by(line.c.id)
    else:
        raise InvalidInput.coded("plans.baseline.history_choose_org_time", group=group)
    found = {int(k): int(v or 0) for k, v in session.execute(query).all()}
    return np.array([found.get(k, 0) for k in keys], dtype=np.float64)


__all__ = ["BASES", "LAST_FISCAL_YEAR", "TRAILING_12", "Baseline", "baseline_window", "history_by_member",
           "last_complete_month_end", "window_for"]
