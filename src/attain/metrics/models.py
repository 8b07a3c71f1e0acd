"""Metric definitions. Every stored figure of a metric is an integer count of 10**-scale of its unit
(scale 2 for CNY stores fen)."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from attain.db import Base
from attain.types import BigId

AGGREGATIONS = ("sum", "count", "distinct_count", "ratio", "average")
# What a metric aggregates over the order lines (see metrics.service.metric_expression).
SOURCES = ("amount", "cost", "gross_profit", "quantity", "line", "order", "customer", "new_customer",
           # customers who bought in the period and before it (repurchase), then the customer
           # lifecycle sources over activities and opportunities (see metrics.lifecycle).
           "repeat_customer", "reached_customer", "interest", "interest_to_proposal", "proposal_closed",
           "proposal_won", "won_deal", "referral_won",
           # customers who bought in the previous period of the same length (last year's customers),
           # and of those the ones who bought again in the period (the seed's repurchase).
           "prior_customer", "retained_customer")


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
    # Customer lifecycle (seeded by migration 0004); ratios name their numerator and denominator.
    {"code": "reach", "name": "Customers reached", "name_zh": "触达客户数", "aggregation": "distinct_count", "source": "reached_customer", "unit": "customers", "scale": 0},
    {"code": "opportunities_created", "name": "New opportunities (interest)", "name_zh": "新增意向商机数", "aggregation": "count", "source": "interest", "unit": "opportunities", "scale": 0},
    {"code": "opportunities_to_proposal", "name": "New opportunities reaching proposal", "name_zh": "进入方案阶段的新商机数", "aggregation": "count", "source": "interest_to_proposal", "unit": "opportunities", "scale": 0},
    {"code": "interest_to_proposal_rate", "name": "Interest → proposal rate", "name_zh": "意向→方案转化率", "aggregation": "ratio", "numerator": "opportunities_to_proposal", "denominator": "opportunities_created", "unit": "%", "scale": 0},
    {"code": "proposals_closed", "name": "Proposals closed (won or lost)", "name_zh": "已关闭方案数", "aggregation": "count", "source": "proposal_closed", "unit": "opportunities", "scale": 0},
    {"code": "proposals_won", "name": "Proposals won", "name_zh": "方案成交数", "aggregation": "count", "source": "proposal_won", "unit": "opportunities", "scale": 0},
    {"code": "proposal_to_close_rate", "name": "Proposal → close rate", "name_zh": "方案→成交率", "aggregation": "ratio", "numerator": "proposals_won", "denominator": "proposals_closed", "unit": "%", "scale": 0},
    {"code": "active_customers", "name": "Customers buying", "name_zh": "成交客户数", "aggregation": "distinct_count", "source": "customer", "unit": "customers", "scale": 0},
    {"code": "repeat_customers", "name": "Repeat customers", "name_zh": "复购客户数", "aggregation": "distinct_count", "source": "repeat_customer", "unit": "customers", "scale": 0},
    # Last period's customers who bought again in the period ÷ last period's customers (6/10 = 60 %);
    # numerator and denominator as migration 0016 sets them (0004 made it the repeat buyers' share).
    {"code": "repurchase_rate", "name": "Repurchase rate", "name_zh": "复购率", "aggregation": "ratio", "numerator": "retained_customers", "denominator": "prior_customers", "unit": "%", "scale": 0},
    {"code": "won_deals", "name": "Deals won", "name_zh": "成交商机数", "aggregation": "count", "source": "won_deal", "unit": "opportunities", "scale": 0},
    {"code": "referral_deals", "name": "Deals won from referrals", "name_zh": "转介绍成交数", "aggregation": "count", "source": "referral_won", "unit": "opportunities", "scale": 0},
    {"code": "referral_share", "name": "Referral share of deals", "name_zh": "转介绍占比", "aggregation": "ratio", "numerator": "referral_deals", "denominator": "won_deals", "unit": "%", "scale": 0},
    # Migration 0016: the seed's repurchase rate, and the old measure under its own name.
    {"code": "prior_customers", "name": "Customers of the previous period", "name_zh": "上期成交客户数", "aggregation": "distinct_count", "source": "prior_customer", "unit": "customers", "scale": 0},
    {"code": "retained_customers", "name": "Previous period's customers who bought again", "name_zh": "上期客户再购数", "aggregation": "distinct_count", "source": "retained_customer", "unit": "customers", "scale": 0},
    {"code": "repeat_buyer_share", "name": "Repeat buyers' share of buyers", "name_zh": "老客户成交占比", "aggregation": "ratio", "numerator": "repeat_customers", "denominator": "active_customers", "unit": "%", "scale": 0},
)
