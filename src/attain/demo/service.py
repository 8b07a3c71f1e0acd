"""Write the demo company through the same bulk paths as imports; running it twice changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import numpy as np
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from attain.catalog.models import Customer, ProductNode
from attain.catalog.service import create_product_node, refresh_first_order_dates
from attain.demo.generate import PRODUCT_LINES, REGIONS, DemoCompany, generate
from attain.facts.models import Activity, Opportunity, OpportunityStageChange
from attain.facts.rollups import upsert_order_lines
from attain.metrics.service import require_metric
from attain.org.models import OrgNode
from attain.org.service import create_node, ensure_root
from attain.periods import month
from attain.plans.models import PlanCell
from attain.plans.service import create_plan, get_plan
from attain.split.calc import Axis, Shares, split

DIRECTOR_CODE = "D001"
PLAN_UNIT = 10_000_00  # plan cells are whole multiples of 10,000 yuan (in fen)
GROWTH = Decimal("1.15")


def load_demo(
    *, session: Session, seed: int = 2026, year: int | None = None, as_of: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, object]:
    step = progress or (lambda _m: None)
    today = date.today()
    year = year or today.year
    cutoff = as_of or min(max(today, date(year, 1, 1)), date(year, 12, 31))
    step("generating the company")
    company = generate(seed=seed, year=year, as_of=cutoff)
    try:
        step("writing the organisation, products and customers")
        person_ids = _write_org(session, company)
        product_ids = _write_products(session, company)
        customer_ids = _write_customers(session, company, person_ids)
        step(f"writing {len(company.orders.line_ids):,} order lines")
        counts = _write_orders(session, company, person_ids, product_ids, customer_ids)
        if counts.inserted or counts.updated:
            refresh_first_order_dates(session=session)
        step(f"writing {len(company.opportunities):,} opportunities and {len(company.activities):,} activities")
        pipeline = _write_pipeline(session, company, person_ids, customer_ids)
        step("building the target plan")
        plan, cells = _write_plan(session, company, person_ids)
        session.commit()
        step("adding one sign-in user per role")
        from attain.auth.service import (
            ensure_demo_users,  # late: demo data stays usable without the web layer
        )

        ensure_demo_users(session=session)
    except BaseException:
        session.rollback()
        raise
    return {
        "seed": seed, "year": year, "as_of": cutoff, "reps": len(company.people), "customers": len(company.customers),
        "products": len(company.products),
        "order_lines": {"inserted": counts.inserted, "updated": counts.updated, "unchanged": counts.unchanged},
        "opportunities": pipeline["opportunities"], "activities": pipeline["activities"],
        "plan": plan, "plan_cells": cells,
    }


def _write_org(session: Session, company: DemoCompany) -> dict[str, int]:
    existing = dict(session.execute(select(OrgNode.code, OrgNode.id)).all())
    root = existing.get("DEMO") or existing.get("COMPANY") or ensure_root(session=session, name="演示科技有限公司")

    def node(code: str, name: str, kind: str, parent: int, **attrs: object) -> int:
        if code not in existing:
            existing[code] = create_node(session=session, code=code, name=name, kind=kind, parent_id=parent, **attrs)
        return existing[code]

    for region_code, region_name, cities in REGIONS:
        region_id = node(region_code, region_name, "region", root)
        for t, city in enumerate(cities):
            node(f"{region_code}-T{t + 1}", f"{city}团队", "team", region_id)
    for person in company.people:
        node(person.code, person.name, "rep", existing[person.team], title=person.title,
             start_date=person.start, end_date=person.end, email=f"{person.code.lower()}@demo.attain.local")
    for person in company.people:
        if person.manager:
            session.execute(update(OrgNode).where(OrgNode.code == person.code).values(manager_id=existing[person.manager]))
        else:  # the team's manager heads the team
            session.execute(update(OrgNode).where(OrgNode.code == person.team).values(manager_id=existing[person.code]))
    # The sales director heads the company; each region is headed by its first team's manager.
    director = node(DIRECTOR_CODE, "陈志远", "rep", root, title="销售总监", start_date=date(company.year - 6, 3, 1),
                    email="director@demo.attain.local")
    session.execute(update(OrgNode).where(OrgNode.id == root).values(manager_id=director))
    for region_code, _name, _cities in REGIONS:
        head = next(p for p in company.people if p.region == region_code and p.manager is None)
        session.execute(update(OrgNode).where(OrgNode.code == region_code).values(manager_id=existing[head.code]))
        session.execute(update(OrgNode).where(OrgNode.code == head.code).values(manager_id=director))
    return {p.code: existing[p.code] for p in company.people}


def _write_products(session: Session, company: DemoCompany) -> list[int]:
    existing = dict(session.execute(select(ProductNode.code, ProductNode.id)).all())
    for code, name, _price, _margin in PRODUCT_LINES:
        if code not in existing:
            existing[code] = create_product_node(session=session, code=code, name=name, kind="line", parent_id=None)
    for product in company.products:
        if product.code not in existing:
            existing[product.code] = create_product_node(
                session=session, code=product.code, name=product.name, kind="product",
                parent_id=existing[product.line], launched_on=product.launched_on,
            )
    return [existing[p.code] for p in company.products]


def _write_customers(session: Session, company: DemoCompany, person_ids: dict[str, int]) -> list[int]:
    regions = dict(session.execute(select(OrgNode.code, OrgNode.id).where(OrgNode.kind == "region")).all())
    existing = dict(session.execute(select(Customer.code, Customer.id)).all())
    missing = [c for c in company.customers if c.code not in existing]
    if missing:
        session.execute(
            insert(Customer),
            [{"code": c.code, "name": c.name, "grade": c.grade, "segment": c.segment, "industry": c.industry,
              "city": c.city, "region_id": regions[c.region], "owner_id": person_ids[c.owner]} for c in missing],
        )
        existing = dict(session.execute(select(Customer.code, Customer.id)).all())
    return [existing[c.code] for c in company.customers]


def _write_orders(session: Session, company: DemoCompany, person_ids: dict[str, int], product_ids: list[int], customer_ids: list[int]):  # type: ignore[no-untyped-def]
    orders = company.orders
    rep_ids = np.array([person_ids[p.code] for p in company.people])
    region_by_rep = dict(
        session.execute(
            select(OrgNode.id, func.coalesce(OrgNode.parent_id, 0)).where(OrgNode.kind == "rep")
        ).all()
    )
    team_region = dict(session.execute(select(OrgNode.id, OrgNode.parent_id).where(OrgNode.kind == "team")).all())
    line_reps = rep_ids[orders.reps].tolist()
    values = {
        "line_id": orders.line_ids,
        "order_id": orders.order_ids,
        "order_date": orders.dates.astype(object).tolist(),
        "rep_id": line_reps,
        "customer_id": np.array(customer_ids)[orders.customers].tolist(),
        "product_id": np.array(product_ids)[orders.products].tolist(),
        "region_id": [team_region.get(region_by_rep[r]) for r in line_reps],
        "quantity": [Decimal(q) for q in orders.quantities.tolist()],
        "amount": orders.amounts.tolist(),
        "cost": orders.costs.tolist(),
        "currency": ["CNY"] * len(orders.line_ids),
    }
    return upsert_order_lines(session=session, values=values)


def _write_pipeline(session: Session, company: DemoCompany, person_ids: dict[str, int], customer_ids: list[int]) -> dict[str, int]:
    """Opportunities with their stage history, and activities; only codes not there yet are written."""
    rep_ids = [person_ids[p.code] for p in company.people]
    known = set(session.scalars(select(Opportunity.code)))
    new = [o for o in company.opportunities if o.code not in known]
    if new:
        session.execute(insert(Opportunity), [
            {"code": o.code, "name": o.name, "rep_id": rep_ids[o.rep], "customer_id": customer_ids[o.customer],
             "amount": o.amount, "stage": o.stage, "created_on": o.created_on,
             "expected_close_on": o.expected_close_on, "closed_on": o.closed_on}
            for o in new
        ])
        ids = dict(session.execute(select(Opportunity.code, Opportunity.id)).all())
        session.execute(insert(OpportunityStageChange), [
            {"opportunity_id": ids[o.code], "stage": stage, "changed_on": day} for o in new for stage, day in o.history
        ])
    opportunity_ids = dict(session.execute(select(Opportunity.code, Opportunity.id)).all())
    known_activities = set(session.scalars(select(Activity.code)))
    new_activities = [a for a in company.activities if a.code not in known_activities]
    if new_activities:
        session.execute(insert(Activity), [
            {"code": a.code, "kind": a.kind, "activity_date": a.day, "rep_id": rep_ids[a.rep],
             "customer_id": customer_ids[a.customer], "opportunity_id": opportunity_ids.get(a.opportunity or ""),
             "note": a.note}
            for a in new_activities
        ])
    return {"opportunities": len(new), "activities": len(new_activities)}


def _write_plan(session: Session, company: DemoCompany, person_ids: dict[str, int]) -> tuple[str, int]:
    """An approved plan FY<year>: last year's revenue + 15 %, split over reps × months by history."""
    name = f"FY{company.year}"
    plan = get_plan(session=session, name=name)
    if plan is not None:
        count = session.scalar(select(func.count()).where(PlanCell.plan_id == plan.id)) or 0
        return name, count
    year = company.year
    orders = company.orders
    years = orders.dates.astype("datetime64[Y]").astype(np.int64) + 1970
    months = orders.dates.astype("datetime64[M]").astype(np.int64) % 12
    last = years == year - 1
    people = company.people
    active = [i for i, p in enumerate(people) if p.end is None or p.end >= date(year, 1, 1)]
    history = np.zeros((len(people), 12))
    np.add.at(history, (orders.reps[last], months[last]), orders.amounts[last])
    season = history.sum(axis=0) / history.sum()
    prior = history[active]
    # Reps without a full last year get their team's average, ramped 25/50/75/100 % from their start.
    typical = np.median(prior.sum(axis=1)[prior.sum(axis=1) > 0])
    for row, i in enumerate(active):
        start = people[i].start
        if start > date(year - 1, 1, 1):
            months_in = np.arange(12) - ((start.year - year) * 12 + start.month - 1)
            ramp = np.clip((months_in + 1) * 0.25, 0.0, 1.0) * (months_in >= 0)
            prior[row] = typical * season * ramp
    total_fen = int(Decimal(int(orders.amounts[last].sum())) * GROWTH)
    total_fen -= total_fen % PLAN_UNIT
    codes = [people[i].code for i in active]
    result = split(
        total_fen, PLAN_UNIT,
        [Axis("rep", tuple(codes), Shares.HISTORY), Axis("month", tuple(f"{m:02d}" for m in range(1, 13)), Shares.HISTORY)],
        prior=prior,
    )
    metric = require_metric(session=session, code="revenue")
    plan = create_plan(session=session, name=name, metric=metric, start=date(year, 1, 1), end=date(year, 12, 31), unit=PLAN_UNIT)
    plan.total = total_fen
    plan.note = f"{year} 年度销售目标：上年实际 × 1.15，按历史业绩拆分到人、按季节性拆分到月"
    rule = {"metric": "revenue", "achieved_at": "1.00", "review": "weekly"}
    nodes = {n.id: n for n in session.scalars(select(OrgNode))}
    cells: dict[tuple[str, int], int] = {}
    for r, code in enumerate(codes):
        rep_id = person_ids[code]
        chain = _ancestors(nodes, rep_id)
        for m in range(12):
            value = int(result.cells[r, m])
            for node_id in chain:
                for label in (month(year, m + 1).label, str(year)):
                    cells[(label, node_id)] = cells.get((label, node_id), 0) + value
    rows = []
    for (label, node_id), value in cells.items():
        period = month(year, int(label[5:])) if "-" in label else None
        node = nodes[node_id]
        rows.append({
            "plan_id": plan.id, "period": label,
            "period_start": period.start if period else date(year, 1, 1),
            "period_end": period.end if period else date(year, 12, 31),
            "org_node_id": node_id, "customer_type": "all", "value": value, "locked": False,
            "owner_id": node_id if node.kind == "rep" else node.manager_id,
            "strategy_note": _strategy(node.kind), "assessment_rule": rule,
        })
    session.execute(insert(PlanCell), rows)
    plan.status = "approved"
    plan.approved_at = datetime(year, 1, 5, 9, 0)
    return name, len(rows)


def _ancestors(nodes: dict[int, OrgNode], node_id: int) -> list[int]:
    return [int(part) for part in nodes[node_id].path.strip("/").split("/")]


def _strategy(kind: str) -> str:
    return {
        "rep": "深耕A类客户，每周拜访不少于8次，推动新一代产品",
        "team": "团队周会复盘漏斗，月中检查进度，落后者一对一辅导",
        "region": "聚焦重点行业，Q4冲刺年底目标",
        "company": "全年增长15%，新品占比提升至20%",
    }[kind]
