"""Plan history (history splits, growth anchors, SMART checks) reads sales as credited: a split order
counts for each rep by their share, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.credit.service import set_split
from attain.metrics.models import Metric
from attain.plans import data
from tests.credit.test_crediting import Org, line, org  # noqa: F401 (the org fixture)


@pytest.fixture
def revenue(session: Session) -> Metric:
    return session.scalars(select(Metric).where(Metric.code == "revenue")).one()


def test_history_by_rep_credits_split_orders_by_share(session: Session, org: Org, revenue: Metric) -> None:  # noqa: F811
    line(session, "O1", "2025-03-10", org.a, 1000_00)
    line(session, "O2", "2025-04-02", org.b, 300_00)
    before = data.history_by_rep(session=session, metric=revenue, start=date(2025, 1, 1), end=date(2025, 12, 31), rep_ids=[org.a, org.b],
                                 product_lines=[None], types=["all"])
    assert before[:, 2, 0, 0].tolist() == [1000_00, 0] and before[:, 3, 0, 0].tolist() == [0, 300_00]

    set_split(session=session, order_id="O1", shares=[("A", 6000), ("B", 4000)])
    after = data.history_by_rep(session=session, metric=revenue, start=date(2025, 1, 1), end=date(2025, 12, 31), rep_ids=[org.a, org.b],
                                product_lines=[None], types=["all"])
    assert after[:, 2, 0, 0].tolist() == [600_00, 400_00]
    assert after.sum() == before.sum() == 1300_00  # a split moves credit, it does not add any

    labels, monthly = data.monthly_actuals(session=session, metric=revenue, rep_ids=[org.a, org.b],
                                           start=date(2025, 3, 1), end=date(2025, 4, 30))
    assert labels == ["2025-03", "2025-04"]
    np.testing.assert_array_equal(monthly, [[600_00, 0], [400_00, 300_00]])
    totals = data.actuals_by_rep(session=session, metric=revenue, rep_ids=[org.a, org.b, org.c],
                                 start=date(2025, 1, 1), end=date(2025, 12, 31))
    assert totals.tolist() == [600_00, 700_00, 0]
