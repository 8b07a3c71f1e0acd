"""The data revision: one cheap SELECT that changes whenever a row is added to a table that
reports read. Caches of derived figures (dashboards, seasonal weights) key on it, so that a new
order line, import, plan version, cell change, crediting row, opportunity, activity or org node is
seen on the very next read; an UPDATE in place is not, which is why those caches also expire.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from attain.catalog.models import Customer, ProductNode
from attain.credit.models import (
    Assignment,
    CreditRule,
    CreditSplit,
    CurrencyRate,
    RepPosition,
    ReturnedOrder,
    TeamOverlay,
)
from attain.facts.models import Activity, Opportunity, OrderLine
from attain.imports.models import ImportRun
from attain.metrics.models import Metric
from attain.org.models import OrgNode, RepTerritory
from attain.plans.models import Plan, PlanCell, PlanCellChange, PlanVersion
from attain.settings.models import Setting

# Tables the reports read, with an integer primary key `id`: an INSERT into any of them raises its
# max(id) (one index lookup). Deleting the newest row lowers it: a change too.
REVISION_TABLES: tuple[Table, ...] = tuple(model.__table__ for model in (  # type: ignore[misc]
    OrderLine, ImportRun, Plan, PlanVersion, PlanCell, PlanCellChange,
    CreditRule, CreditSplit, TeamOverlay, RepPosition, Assignment, CurrencyRate,
    Opportunity, Activity, OrgNode, RepTerritory, Customer, ProductNode, Metric,
))
# Small tables keyed by text (returned orders by order_id, settings by key): counted instead.
COUNTED_TABLES: tuple[Table, ...] = (ReturnedOrder.__table__, Setting.__table__)  # type: ignore[assignment]


def data_revision(session: Session) -> tuple[Any, ...]:
    """max(id) per table, the row count of the small text-keyed ones, and the newest setting's
    `updated_at` (set on every change of a setting, to the second), in one SELECT (~1 ms)."""
    columns = [select(func.max(table.c.id)).scalar_subquery() for table in REVISION_TABLES]
    columns += [select(func.count()).select_from(table).scalar_subquery() for table in COUNTED_TABLES]
    columns.append(select(func.max(Setting.__table__.c.updated_at)).scalar_subquery())
    return tuple(session.execute(select(*columns)).one())
