"""The one place that says which sales count toward whose target.

`credited_lines()` returns a SQLAlchemy Core SELECT with one row per (order line, credited rep).
Every figure of attainment, leaderboard, diagnosis and incentives reads sales through it, on every
engine (SQLite, PostgreSQL, DuckDB), so the crediting rule is applied once and the same way.

Columns (stable contract, extend but do not rename):
    line_id      order_lines.id
    order_id     order number
    credit_date  the date that puts the credit in a period
    rep_id       the credited rep (org_nodes.id)
    customer_id, product_id, region_id
    amount       credited amount in minor units (fen), exact integers
    cost         credited cost in minor units
    quantity     credited quantity
    team_id      the credited rep's team (org node of kind team) at credit_date
    org_region_id  the credited rep's region (org node of kind region) at credit_date
    kind         'direct' (sums to the line over all reps) or 'overlay' (extra, never summed into teams)
    rule         short text naming the rule that produced the row

This first version credits every line 100 % to its own rep on its order date, and takes the team
and region from the rep's current place in the org tree (company > region > team > rep).
"""

from __future__ import annotations

from sqlalchemy import Select, literal, select
from sqlalchemy.orm import aliased

from attain.facts.models import OrderLine
from attain.org.models import OrgNode


def credited_lines() -> Select:  # type: ignore[type-arg]
    rep = aliased(OrgNode, name="credit_rep")
    team = aliased(OrgNode, name="credit_team")
    region = aliased(OrgNode, name="credit_region")
    return select(
        OrderLine.id.label("line_id"),
        OrderLine.order_id.label("order_id"),
        OrderLine.order_date.label("credit_date"),
        OrderLine.rep_id.label("rep_id"),
        OrderLine.customer_id.label("customer_id"),
        OrderLine.product_id.label("product_id"),
        OrderLine.region_id.label("region_id"),
        OrderLine.amount.label("amount"),
        OrderLine.cost.label("cost"),
        OrderLine.quantity.label("quantity"),
        team.id.label("team_id"),
        region.id.label("org_region_id"),
        literal("direct").label("kind"),
        literal("order_rep").label("rule"),
    ).select_from(OrderLine).outerjoin(rep, rep.id == OrderLine.rep_id).outerjoin(
        team, (team.id == rep.parent_id) & (team.kind == "team")
    ).outerjoin(region, (region.id == team.parent_id) & (region.kind == "region"))
