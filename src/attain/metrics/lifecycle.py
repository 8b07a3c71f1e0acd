"""Customer lifecycle metrics over activities and opportunities (one SQL aggregate each).

Sources (the `source` of a count or distinct_count metric):
- reached_customer: customers with an activity dated in the period (reach 触达).
- interest: opportunities created in the period (interest 意向).
- interest_to_proposal: opportunities created in the period that reached the proposal stage
  (their stage history or current stage is proposal, negotiation or won), by the time of asking.
- proposal_closed / proposal_won: opportunities closed (won or lost) in the period that had reached
  proposal / of those, the won ones.
- won_deal / referral_won: opportunities won in the period / of those, the ones whose source is a
  referral (转介绍, 推荐, 介绍, referral …; see REFERRAL_PATTERNS).
The order-line source repeat_customer (bought in the period and before it) lives with the other
order-line sources in metrics.service.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, and_, distinct, exists, func, or_, select
from sqlalchemy.orm import Session

from attain.catalog.models import Customer
from attain.errors import InvalidInput
from attain.facts.models import Activity, Opportunity, OpportunityStageChange
from attain.org.models import OrgNode

LIFECYCLE_SOURCES = (
    "reached_customer", "interest", "interest_to_proposal", "proposal_closed", "proposal_won", "won_deal", "referral_won",
)
LIFECYCLE_GROUPINGS = ("rep", "customer")
PROPOSAL_OR_LATER = ("proposal", "negotiation", "won")
# Lower-cased `opportunities.source` values matching any of these LIKE patterns count as referrals.
REFERRAL_PATTERNS = ("%referr%", "%介绍%", "%推荐%", "%转介%")


def _reached_proposal() -> ColumnElement[bool]:
    in_history = exists().where(
        OpportunityStageChange.opportunity_id == Opportunity.id, OpportunityStageChange.stage.in_(PROPOSAL_OR_LATER)
    )
    return or_(Opportunity.stage.in_(PROPOSAL_OR_LATER), in_history)


def is_referral() -> ColumnElement[bool]:
    source = func.lower(Opportunity.source)
    return or_(*[source.like(pattern) for pattern in REFERRAL_PATTERNS])


def _closed_in(start: date, end: date) -> ColumnElement[bool]:
    return and_(Opportunity.stage.in_(("won", "lost")), Opportunity.closed_on.between(start, end))


def _won_in(start: date, end: date) -> ColumnElement[bool]:
    return and_(Opportunity.stage == "won", Opportunity.closed_on.between(start, end))


def _definition(source: str, start: date, end: date) -> tuple[type, ColumnElement, ColumnElement[bool]]:  # type: ignore[type-arg]
    """(table, counted column, condition) of a lifecycle source."""
    if source == "reached_customer":
        return Activity, Activity.customer_id, Activity.activity_date.between(start, end)
    conditions = {
        "interest": Opportunity.created_on.between(start, end),
        "interest_to_proposal": and_(Opportunity.created_on.between(start, end), _reached_proposal()),
        "proposal_closed": and_(_closed_in(start, end), _reached_proposal()),
        "proposal_won": and_(_won_in(start, end), _reached_proposal()),
        "won_deal": _won_in(start, end),
        "referral_won": and_(_won_in(start, end), is_referral()),
    }
    return Opportunity, Opportunity.id, conditions[source]


def evaluate_lifecycle(
    *, session: Session, source: str, aggregation: str, start: date, end: date, group_by: str | None
) -> list[tuple[int | None, str | None, int]]:
    """(key, label, value) rows of a count / distinct_count over a lifecycle source."""
    if source not in LIFECYCLE_SOURCES:
        raise InvalidInput.coded("metrics.lifecycle.lifecycle_source", source=source, items=', '.join(LIFECYCLE_SOURCES))
    if aggregation not in ("count", "distinct_count"):
        raise InvalidInput.coded("metrics.lifecycle.lifecycle_source_counted_count", aggregation=aggregation)
    if group_by is not None and group_by not in LIFECYCLE_GROUPINGS:
        raise InvalidInput.coded("metrics.lifecycle.lifecycle_metrics_group", items=' or '.join(LIFECYCLE_GROUPINGS), group_by=group_by)
    table, column, condition = _definition(source, start, end)
    value = func.count(distinct(column)) if aggregation == "distinct_count" else func.count(column)
    if group_by is None:
        return [(None, None, int(session.scalar(select(value).select_from(table).where(condition)) or 0))]
    key = table.rep_id if group_by == "rep" else table.customer_id  # type: ignore[attr-defined]
    label_table = OrgNode if group_by == "rep" else Customer
    query = (
        select(key, label_table.name, value)
        .select_from(table)
        .outerjoin(label_table, label_table.id == key)
        .where(condition)
        .group_by(key, label_table.name)
        .order_by(key)
    )
    return [(k, label, int(count)) for k, label, count in session.execute(query)]
