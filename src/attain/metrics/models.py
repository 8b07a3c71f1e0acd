"""Metric definitions. Every stored figure of a metric is an integer count of 10**-scale of its unit
(scale 2 for CNY stores fen)."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from attain.db import Base
from attain.types import BigId

AGGREGATIONS = ("sum", "count", "distinct_count", "ratio", "average")
# What a metric aggregates over the order lines (see metrics.service.metric_expression).
SOURCES = ("amount", "cost", "gross_profit", "quantity", "line", "order", "customer", "new_customer")


class Metric(Base):
    __tablename__ = "metrics"
    __table_args__ = (
        CheckConstraint(f"aggregation IN {AGGREGATIONS}", name="aggregation"),
        CheckConstraint(
            "(aggregation = 'ratio' AND numerator_id IS NOT NULL AND denominator_id IS NOT NULL)"
            " OR (aggregation <> 'ratio' AND source IS NOT NULL)",
            name="definition",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str | None] = mapped_column(String(200))
    aggregation: Mapped[str] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(32))
    numerator_id: Mapped[int | None] = mapped_column(ForeignKey("metrics.id"))
    denominator_id: Mapped[int | None] = mapped_column(ForeignKey("metrics.id"))
    unit: Mapped[str] = mapped_column(String(16))
    scale: Mapped[int] = mapped_column(Integer, default=0)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)


# The built-in metrics, created by the first migration and by `ensure_builtin_metrics`.
BUILTIN_METRICS: tuple[dict[str, object], ...] = (
    {"code": "revenue", "name": "Revenue", "name_zh": "销售额", "aggregation": "sum", "source": "amount", "unit": "CNY", "scale": 2},
    {"code": "gross_profit", "name": "Gross profit", "name_zh": "毛利", "aggregation": "sum", "source": "gross_profit", "unit": "CNY", "scale": 2},
    {"code": "quantity", "name": "Quantity", "name_zh": "销量", "aggregation": "sum", "source": "quantity", "unit": "pcs", "scale": 0},
    {"code": "orders", "name": "Order count", "name_zh": "订单数", "aggregation": "distinct_count", "source": "order", "unit": "orders", "scale": 0},
    {"code": "new_customers", "name": "New customers", "name_zh": "新客户数", "aggregation": "distinct_count", "source": "new_customer", "unit": "customers", "scale": 0},
)
