"""Issue 19 alerts, on SQLite and PostgreSQL: no "no new lead" alert for a director (a rep-level
person outside a team) or a leaver; the year-to-date rule flags a rep at 47 % of the YTD target in
December even when December itself is on target, and reads tracking's attainment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from diagnosis_company import make_company
from sqlalchemy import insert
from sqlalchemy.orm import Session

from attain.errors import InvalidInput
from attain.facts.models import OrderLine
from attain.metrics.service import require_metric
from attain.org.service import create_node, ensure_root
from attain.periods import Grain, Period
from attain.plans.models import PlanCell
from attain.plans.service import create_plan
from attain.tracking.alerts import create_rule, list_rules, run_rules, set_rule_enabled
from attain.tracking.attainment import attainment

YUAN = 100
END = date(2027, 3, 31)
DECEMBER = date(2027, 12, 31)


def _only(session: Session, code: str) -> None:
    for rule in list_rules(session=session):
        set_rule_enabled(session=session, code=rule.code, enabled=rule.code == code)


def test_no_lead_alert_skips_a_director_and_leavers(session: Session) -> None:
    ids = make_company(session)
    director = create_node(session=session, code="D", name="总监", kind="rep", parent_id=ids["R1"], start_date=date(2024, 1, 1))
    leaver = create_node(session=session, code="L", name="离职", kind="rep", parent_id=ids["T1"], start_date=date(2024, 1, 1),
                         end_date=date(2027, 3, 25))
    leaving = create_node(session=session, code="N", name="待离职", kind="rep", parent_id=ids["T2"],
                          start_date=date(2024, 1, 1), end_date=date(2027, 4, 30))
    session.commit()
    _only(session, "no_new_lead")
    flagged = {e.org_node_id for e in run_rules(session=session, as_of=END).new_events}
    assert flagged == {ids["A"], ids["B"], ids["C"]}  # none of them has a lead in the last 5 working days
    assert not flagged & {director, leaver, leaving}


def _ytd_company(session: Session) -> dict[str, int]:
    """Reps A and B, 100,000 yuan a month each in FY2027. A sells 100,000 every month; B sells 42,000 a
    month to November and 102,000 in December: 564,000 of 1,200,000 = 47 % for the year, 102 % for December."""
    root = ensure_root(session=session, name="公司")
    region = create_node(session=session, code="R", name="大区", kind="region", parent_id=root)
    team = create_node(session=session, code="T", name="一组", kind="team", parent_id=region)
    ids = {code: create_node(session=session, code=code, name=code, kind="rep", parent_id=team, start_date=date(2024, 1, 1))
           for code in ("A", "B")}
    plan = create_plan(session=session, name="FY2027", metric=require_metric(session=session, code="revenue"),
                       start=date(2027, 1, 1), end=date(2027, 12, 31), status="approved")
    session.flush()
    months = [(date(2027, m, 1), (date(2027, m + 1, 1) if m < 12 else date(2028, 1, 1))) for m in range(1, 13)]
    session.execute(insert(PlanCell), [
        {"plan_id": plan.id, "period": f"2027-{start.month:02d}", "period_start": start,
         "period_end": date.fromordinal(end.toordinal() - 1), "org_node_id": ids[code], "product_node_id": None,
         "customer_type": "all", "value": 100_000 * YUAN, "locked": False}
        for code in ("A", "B") for start, end in months
    ])
    session.execute(insert(OrderLine), [
        {"line_id": f"{code}{start.month}", "order_id": f"O-{code}{start.month}", "order_date": start.replace(day=10),
         "rep_id": ids[code], "amount": yuan * YUAN, "quantity": 1, "currency": "CNY"}
        for code in ("A", "B") for start, _end in months
        for yuan in [100_000 if code == "A" else (102_000 if start.month == 12 else 42_000)]
    ])
    session.commit()
    return ids


def test_ytd_rule_flags_a_rep_at_47_percent_in_december(session: Session) -> None:
    ids = _ytd_company(session)
    _only(session, "pace_gap")
    assert run_rules(session=session, as_of=DECEMBER).new_events == ()  # December alone is on target for both
    _only(session, "ytd_low")
    found = run_rules(session=session, as_of=DECEMBER).new_events
    assert [e.org_node_id for e in found] == [ids["B"]]
    event = found[0]
    assert event.details["attainment"] == "0.4700" and event.condition.startswith("ytd<0.8") and event.period == "2027-12"
    assert "47%" in event.message and "2027-01-01" in event.message
    # The figure is tracking's: the attainment report over the year to date says the same.
    report = attainment(session=session, period=Period(date(2027, 1, 1), DECEMBER, Grain.DAY, "YTD"), by="rep",
                        as_of=DECEMBER, metric="revenue")
    assert {r.node_id: r.figures.attainment for r in report.rows}[ids["B"]] == Decimal("0.4700")
    again = run_rules(session=session, as_of=date(2027, 12, 30))
    assert again.new_events == () and again.repeated == 1  # once a month


def test_ytd_rule_waits_for_the_working_day_and_validates(session: Session) -> None:
    _ytd_company(session)
    _only(session, "ytd_low")
    assert run_rules(session=session, as_of=date(2027, 1, 20)).new_events == ()  # 14th working day < 20
    assert len(run_rules(session=session, as_of=date(2027, 2, 26)).new_events) == 1
    with pytest.raises(InvalidInput, match="between 0 and 2"):
        create_rule(session=session, code="ytd_x", kind="ytd_below_pct", threshold="5")
    rule = create_rule(session=session, code="ytd_team", kind="ytd_below_pct", threshold="0.9", level="team")
    assert rule.kind == "ytd_below_pct"
