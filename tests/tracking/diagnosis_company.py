"""A small hand-made company for diagnosis, pipeline and alert tests (figures chosen to check by hand).

COMPANY > R1 > T1 > A, B ; R1 > T2 > C. Plan P2027 (approved), March 2027 targets:
A 1,000,000 yuan, B 500,000 yuan, C none.

Year before March 2027 (2026-03-01 .. 2027-02-28), all A's: June 2026 10 leads, 4 won, orders
2,000,000 yuan; March 2026 4 leads, 2 won, orders 800,000 yuan → 14 leads, 6 deals, 2,800,000
yuan: conversion 3/7, revenue per won deal 466,666.67, per lead 200,000 (implied leads for A's
target: 5).

March 2027: A created 5 leads and won 2 (M-W on 03-08, OPP-W on 03-20); three orders of 100,000
yuan (03-02, 03-09, 03-16). B: 2 leads, nothing won, no orders. C: nothing.
Open at 2027-03-15: A's negotiation deal M-N of 200,000 yuan closing 03-25, and OPP-W (150,000,
in proposal on 03-15, won 03-20); A's lead M-L expected in June and B's leads expected in
September fall outside March.
Closed by 2027-03-15, by furthest stage: 7 won through negotiation; lost 6 at lead, 3 at proposal
→ won per stage [7, 7, 7, 7], lost [9, 3, 3, 0].
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from attain.facts.models import Opportunity, OpportunityStageChange, OrderLine
from attain.metrics.service import require_metric
from attain.org.service import create_node, ensure_root
from attain.plans.models import PlanCell
from attain.plans.service import create_plan

YUAN = 100  # fen per yuan
MARCH = (date(2027, 3, 1), date(2027, 3, 31))


def make_company(session: Session) -> dict[str, int]:
    ids: dict[str, int] = {}
    root = ensure_root(session=session, name="公司")
    ids["R1"] = create_node(session=session, code="R1", name="大区一", kind="region", parent_id=root)
    ids["T1"] = create_node(session=session, code="T1", name="一组", kind="team", parent_id=ids["R1"])
    ids["T2"] = create_node(session=session, code="T2", name="二组", kind="team", parent_id=ids["R1"])
    for code, name, team in (("A", "甲", "T1"), ("B", "乙", "T1"), ("C", "丙", "T2")):
        ids[code] = create_node(session=session, code=code, name=name, kind="rep", parent_id=ids[team],
                                start_date=date(2024, 1, 1))
    _orders(session, ids)
    _opportunities(session, ids)
    _plan(session, ids)
    session.commit()
    return ids


def _orders(session: Session, ids: dict[str, int]) -> None:
    rows = []
    history = [date(2026, 6, 10), date(2026, 6, 12), date(2026, 6, 20), date(2026, 6, 25)]
    for k, day in enumerate(history):
        rows.append(("H", k, day, ids["A"], 500_000))
    for k, day in enumerate([date(2027, 3, 2), date(2027, 3, 9), date(2027, 3, 16)]):
        rows.append(("M", k, day, ids["A"], 100_000))
    for k, day in enumerate([date(2026, 3, 5), date(2026, 3, 20)]):
        rows.append(("L", k, day, ids["A"], 400_000))
    session.execute(insert(OrderLine), [
        {"line_id": f"{tag}{k}", "order_id": f"O-{tag}{k}", "order_date": day, "rep_id": rep, "amount": yuan * YUAN,
         "quantity": 1, "currency": "CNY"}
        for tag, k, day, rep, yuan in rows
    ])


def _opportunities(session: Session, ids: dict[str, int]) -> None:
    stages = ("lead", "qualified", "proposal", "negotiation")
    opportunities: list[tuple[str, int, int, str, date, date | None, date | None, tuple[str, ...]]] = []
    start = date(2026, 6, 1)
    for k in range(4):
        opportunities.append((f"H-W{k}", ids["A"], 500_000, "won", start, date(2026, 6, 10 + k), None, stages + ("won",)))
    for k in range(3):
        opportunities.append((f"H-LL{k}", ids["A"], 300_000, "lost", start, date(2026, 6, 15), None, ("lead", "lost")))
    for k in range(3):
        opportunities.append((f"H-LP{k}", ids["A"], 300_000, "lost", start, date(2026, 6, 15), None,
                              ("lead", "qualified", "proposal", "lost")))
    # March 2027: five leads of A (one won, the open ones below are among them), two of B.
    opportunities.append(("M-W", ids["A"], 100_000, "won", date(2027, 3, 1), date(2027, 3, 8), None, stages + ("won",)))
    opportunities.append(("M-N", ids["A"], 200_000, "negotiation", date(2027, 3, 2), None, date(2027, 3, 25), stages))
    opportunities.append(("M-L", ids["A"], 80_000, "lead", date(2027, 3, 3), None, date(2027, 6, 30), ("lead",)))
    opportunities.append(("OPP-W", ids["A"], 150_000, "won", date(2027, 3, 4), date(2027, 3, 20), date(2027, 3, 20),
                          stages + ("won",)))
    opportunities.append(("M-X", ids["A"], 60_000, "lost", date(2027, 3, 5), date(2027, 3, 6), None, ("lead", "lost")))
    for k in range(2):
        opportunities.append((f"M-B{k}", ids["B"], 90_000, "lead", date(2027, 3, 10), None, date(2027, 9, 1), ("lead",)))
    # March 2026: four leads of A, two won.
    for k in range(4):
        won = k < 2
        opportunities.append((f"L-{k}", ids["A"], 400_000, "won" if won else "lost", date(2026, 3, 2),
                              date(2026, 3, 5) + timedelta(days=15 * k), None, stages + ("won",) if won else ("lead", "lost")))
    session.execute(insert(Opportunity), [
        {"code": code, "rep_id": rep, "amount": yuan * YUAN, "stage": stage, "created_on": created, "closed_on": closed,
         "expected_close_on": expected}
        for code, rep, yuan, stage, created, closed, expected, _history in opportunities
    ])
    from sqlalchemy import select

    opportunity_ids = dict(session.execute(select(Opportunity.code, Opportunity.id)).all())
    changes = []
    for code, _rep, _yuan, _stage, created, closed, _expected, history in opportunities:
        last = closed or date(2027, 3, 12)
        for k, stage in enumerate(history):
            day = last if stage in ("won", "lost") else min(created + timedelta(days=k), last)
            if code == "OPP-W" and stage == "negotiation":
                day = date(2027, 3, 18)  # still in proposal on 2027-03-15
            changes.append({"opportunity_id": opportunity_ids[code], "stage": stage, "changed_on": day})
    session.execute(insert(OpportunityStageChange), changes)


def _plan(session: Session, ids: dict[str, int]) -> None:
    plan = create_plan(session=session, name="P2027", metric=require_metric(session=session, code="revenue"),
                       start=date(2027, 1, 1), end=date(2027, 12, 31), status="approved")
    session.flush()
    session.execute(insert(PlanCell), [
        {"plan_id": plan.id, "period": "2027-03", "period_start": MARCH[0], "period_end": MARCH[1], "org_node_id": ids[code],
         "product_node_id": None, "customer_type": "all", "value": yuan * YUAN, "locked": False}
        for code, yuan in (("A", 1_000_000), ("B", 500_000))
    ])
