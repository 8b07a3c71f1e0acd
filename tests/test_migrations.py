"""The Alembic revisions build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

import attain.models  # noqa: F401
from attain.db import Base, get_engine
from attain.metrics.models import BUILTIN_METRICS, Metric
from attain.migrate import current_revision, head_revision, upgrade


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_migrations_match_models(database_url: str) -> None:
    with get_engine(database_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, Base.metadata) if not _is_expression_index(d)]
    assert diffs == []


def test_upgrade_twice_is_a_no_op(database_url: str) -> None:
    engine = get_engine(database_url)
    assert current_revision(engine) == head_revision()
    before, after = upgrade(engine)
    assert before == after == head_revision()


def test_builtin_metrics_are_seeded(session) -> None:  # type: ignore[no-untyped-def]
    codes = session.scalars(select(Metric.code).order_by(Metric.id)).all()
    assert codes == [m["code"] for m in BUILTIN_METRICS]


def _is_expression_index(diff: object) -> bool:
    # Alembic cannot reflect expression indexes (the COALESCE key of plan_cells) on every dialect.
    return isinstance(diff, tuple) and diff[0] in ("add_index", "remove_index") and diff[1].name in _EXPRESSION_INDEXES


_EXPRESSION_INDEXES = {"uq_plan_cells_key", "uq_market_sizes_key", "uq_market_shares_key", "uq_marketing_spend_key"}
