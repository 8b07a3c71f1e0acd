"""A small sales world with hand-computable funnel figures, shared by the funnel and actions tests.

Team T1 = reps R100 (A) and R200 (B); team T2 = rep R300 (C). Rep A's opportunities, created in
2026 but one (stage index reached: lead 0 … won 4):
  4 won (100,000 yuan on average), 2 lost after negotiation, 2 lost after proposal, 2 lost at lead,
  1 open at qualified (created 2027-01-04, no stage history: its current stage counts).
So A's steps: lead→qualified 9/11, qualified→proposal 8/8, proposal→negotiation 6/8, negotiation→won 4/6.
Plan P (2027, approved): A has 2,000,000 yuan in 2027-02, 2,300,000 in 2027-03, 2,420,000 in 2027-04;
plan SMALL: a tenth of that. With Monday–Friday working days (no official 2027 data): 20 in Feb,
23 in March, 22 in April.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.catalog.models import Customer
from attain.facts.models import Opportunity, OpportunityStageChange
from attain.metrics.models import Metric
from attain.org.service import create_node, ensure_root
from attain.plans.models import Plan, PlanCell
from attain.split.calendar import WorkCalendar

WEEKDAYS = WorkCalendar(official=False)
PIPELINE = ("lead", "qualified", "proposal", "negotiation", "won")


@dataclass(frozen=True)
class World:
    reps: dict[str, int]
    teams: dict[str, int]
    customers: dict[str, int]


def add_opportunity(session: Session, code: str, rep_id: int, amount_fen: int, reached: int, final: str,
                    created: date, customer_id: int | None = None, history: bool = True, source: str | None = None,
                    closed: date | None = None) -> Opportunity:
    """An opportunity that went through PIPELINE[0..reached] and ended `final` (won/lost/an open stage)."""
    closed_on = closed or (created + timedelta(days=40) if final in ("won", "lost") else None)
    opportunity = Opportunity(code=code, rep_id=rep_id, customer_id=customer_id, amount=amount_fen, stage=final,
                              created_on=created, closed_on=closed_on, source=source)
    session.add(opportunity)
    session.flush()
    if history:
        for k, stage in enumerate(PIPELINE[: reached + 1]):
            session.add(OpportunityStageChange(opportunity_id=opportunity.id, stage=stage, changed_on=created + timedelta(days=5 * k)))
        if final == "lost":
            session.add(OpportunityStageChange(opportunity_id=opportunity.id, stage="lost", changed_on=closed_on))
    return opportunity


def build(session: Session) -> World:
    root = ensure_root(session=session)
    region = create_node(session=session, code="RG1", name="华东", kind="region", parent_id=root)
    t1 = create_node(session=session, code="T1", name="一组", kind="team", parent_id=region)
    t2 = create_node(session=session, code="T2", name="二组", kind="team", parent_id=region)
    reps = {
        "R100": create_node(session=session, code="R100", name="甲", kind="rep", parent_id=t1, start_date=date(2025, 1, 1)),
        "R200": create_node(session=session, code="R200", name="乙", kind="rep", parent_id=t1, start_date=date(2025, 1, 1)),
        "R300": create_node(session=session, code="R300", name="丙", kind="rep", parent_id=t2, start_date=date(2025, 1, 1)),
    }
    customers = {}
    for code, grade, owner in (("C1", "B", "R100"), ("C2", "A", "R100"), ("C3", "A", "R100"), ("C4", "C", "R100"), ("C5", "A", "R200")):
        customer = Customer(code=code, name=f"客户{code}", grade=grade, owner_id=reps[owner], first_order_date=date(2025, 6, 1))
        session.add(customer)
        session.flush()
        customers[code] = customer.id
    a = reps["R100"]
    day = date(2026, 1, 5)
    n = 0

    def opp(rep: int, amount_yuan: int, reached: int, final: str, history: bool = True) -> None:
        nonlocal n
        n += 1
        add_opportunity(session, f"O{n:03d}", rep, amount_yuan * 100, reached, final, day + timedelta(days=7 * n), history=history)

    for amount in (80_000, 100_000, 120_000, 100_000):
        opp(a, amount, 4, "won")
    for _ in range(2):
        opp(a, 90_000, 3, "lost")
    for _ in range(2):
        opp(a, 90_000, 2, "lost")
    for _ in range(2):
        opp(a, 90_000, 0, "lost")
    # Still in play: created early in 2027, well within `funnel_stale_days` (90) of the weeks asked
    # about, so it is not yet counted as lost (an opportunity idle longer would be).
    n += 1
    add_opportunity(session, f"O{n:03d}", a, 70_000 * 100, 1, "qualified", date(2027, 1, 4), history=False)
    # Rep B (same team): 2 won of 50,000, 2 lost at lead.
    for _ in range(2):
        opp(reps["R200"], 50_000, 4, "won")
    for _ in range(2):
        opp(reps["R200"], 50_000, 0, "lost")
    # Rep C (other team): 1 won of 200,000, 1 lost at proposal.
    opp(reps["R300"], 200_000, 4, "won")
    opp(reps["R300"], 60_000, 2, "lost")
    # An opportunity created after the weeks asked about must not count.
    add_opportunity(session, "LATE", a, 1_000, 0, "lost", date(2027, 6, 1))

    revenue = session.scalar(select(Metric).where(Metric.code == "revenue"))
    for name, scale in (("P", 1), ("SMALL", 10)):
        plan = Plan(name=name, version=1, year=2027, start_date=date(2027, 1, 1), end_date=date(2027, 12, 31),
                    metric_id=revenue.id, status="approved", unit=100)
        session.add(plan)
        session.flush()
        for period, start, end, yuan in (("2027-02", date(2027, 2, 1), date(2027, 2, 28), 2_000_000),
                                         ("2027-03", date(2027, 3, 1), date(2027, 3, 31), 2_300_000),
                                         ("2027-04", date(2027, 4, 1), date(2027, 4, 30), 2_420_000)):
            session.add(PlanCell(plan_id=plan.id, period=period, period_start=start, period_end=end, org_node_id=a,
                                 customer_type="all", value=yuan * 100 // scale))
    session.commit()
    return World(reps, {"T1": t1, "T2": t2}, customers)
