"""The rep's week funnel from the plan and the rep's own history (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pytest
from sqlalchemy.orm import Session

from attain.errors import InvalidInput, NotFound
from attain.funnel.service import FUNNEL_STAGES, level_histories, shrink, week_funnel
from attain.org.models import OrgNode
from attain.settings.service import set_setting
from attain.split.calendar import WorkCalendar

WEEKDAYS = WorkCalendar(official=False)  # 2027 has no official calendar data: Monday–Friday, stated


def _q(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)


def test_rep_history_counts(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    rep = session.get(OrgNode, world.reps["R100"])
    team = session.get(OrgNode, world.teams["T1"])
    mine, team_h, company = level_histories(session=session, rep=rep, team=team, before=date(2027, 3, 1))
    assert mine.advanced == (9, 8, 6, 4)
    assert mine.decided == (11, 8, 8, 6)
    assert (mine.opportunities, mine.won, mine.won_amount) == (11, 4, 40_000_000)
    assert team_h.advanced == (11, 10, 8, 6) and team_h.decided == (15, 10, 10, 8)
    assert company.advanced == (13, 12, 9, 7) and company.decided == (17, 12, 12, 9)
    # LATE (created 2027-06-01) counts once the week is after it
    later, _, _ = level_histories(session=session, rep=rep, team=team, before=date(2027, 7, 1))
    assert later.opportunities == 12 and later.decided[0] == 12


def test_week_inside_one_month_without_shrinkage(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    set_setting(session, "funnel_prior_weight", 0)
    result = week_funnel(session=session, plan_name="P", rep_code="R100", week="2027-W09", calendar=WEEKDAYS)
    assert result.target == Fraction(230_000_000 * 5, 23)  # 500,000 yuan
    assert result.learned.rates == (Decimal("0.6667"), Decimal("0.7500"), Decimal("1.0000"), Decimal("0.8182"))
    assert result.learned.deal_size == 10_000_000
    # 5 deals; 5/0.6667 = 7.4996 → 8; 8/0.75 = 10.67 → 11; 11/1 = 11; 11/0.8182 = 13.44 → 14
    assert dict(zip(FUNNEL_STAGES, result.counts)) == {"won": 5, "negotiation": 8, "proposal": 11, "qualified": 11, "lead": 14}
    assert result.worked == (True,) * 5 + (False,) * 2
    assert [sum(day[k] for day in result.per_day) for k in range(5)] == list(result.counts)
    assert result.per_day[0] == (1, 2, 3, 3, 3) and result.per_day[5] == (0, 0, 0, 0, 0)


def test_week_across_two_months_sums_both_parts(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    set_setting(session, "funnel_prior_weight", 0)
    result = week_funnel(session=session, plan_name="P", rep_code="R100", week="2027-W13", calendar=WEEKDAYS)
    # 29-31 March: 3 of 23 working days; 1-2 April: 2 of 22
    assert [(c["period"], c["working_days_in_week"], c["working_days_in_period"]) for c in result.cells] == [
        ("2027-03", 3, 23), ("2027-04", 2, 22)]
    assert result.target == Fraction(230_000_000 * 3, 23) + Fraction(242_000_000 * 2, 22)  # 300,000 + 220,000 yuan
    assert result.counts[0] == 6  # 520,000 / 100,000 → 6 deals


def test_shrinkage_pulls_a_thin_history_toward_team_and_company(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    set_setting(session, "funnel_prior_weight", 10)
    result = week_funnel(session=session, plan_name="P", rep_code="R100", week="2027-W09", calendar=WEEKDAYS)
    company = Fraction(7, 9)
    team = (6 + 10 * company) / (8 + 10)
    rep = (4 + 10 * team) / (6 + 10)
    assert result.learned.rates[0] == _q(rep)
    company_size = Fraction(40_000_000 + 10_000_000 + 20_000_000, 7)
    team_size = (50_000_000 + 10 * company_size) / (6 + 10)
    rep_size = (40_000_000 + 10 * team_size) / (4 + 10)
    assert result.learned.deal_size == -(-rep_size.numerator // rep_size.denominator)


def test_shrink_formula() -> None:
    assert shrink(0, 0, Fraction(1, 2), 10) == Fraction(1, 2)
    assert shrink(30, 100, None, 10) == Fraction(3, 10)
    assert shrink(0, 0, None, 10) is None
    assert shrink(1, 1, Fraction(1, 2), 1) == Fraction(3, 4)
    assert shrink(1, 2, Fraction(1, 5), 0) == Fraction(1, 2)


@pytest.mark.parametrize(
    ("plan", "rep", "week", "error", "message"),
    [
        ("P", "R200", "2027-W09", NotFound, "no target cell for rep R200"),
        ("P", "NOBODY", "2027-W09", NotFound, "NOBODY"),
        ("NOPLAN", "R100", "2027-W09", NotFound, "no plan named 'NOPLAN'"),
        ("P", "T1", "2027-W09", InvalidInput, "is a team, not a rep"),
        ("P", "R100", "2027-03", InvalidInput, "not an ISO week"),
        ("P", "R100", "2028-W10", InvalidInput, "outside plan P"),
        ("P", "R100", "2027-W03", NotFound, "no target cell"),
    ],
)
def test_plan_funnel_errors(session: Session, world, plan: str, rep: str, week: str, error: type, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        week_funnel(session=session, plan_name=plan, rep_code=rep, week=week, calendar=WEEKDAYS)


def test_no_history_at_all_is_a_clear_error(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import delete

    from attain.facts.models import Opportunity, OpportunityStageChange

    session.execute(delete(OpportunityStageChange))
    session.execute(delete(Opportunity))
    session.commit()
    with pytest.raises(InvalidInput, match="cannot be learned"):
        week_funnel(session=session, plan_name="P", rep_code="R100", week="2027-W09", calendar=WEEKDAYS)


def test_parent_and_product_cells_are_not_counted_twice(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from attain.catalog.models import ProductNode
    from attain.plans.models import Plan, PlanCell

    plan = session.scalars(select(Plan).where(Plan.name == "P")).one()
    product = ProductNode(code="P1", name="产品一", kind="product")
    session.add(product)
    session.flush()
    a = world.reps["R100"]
    session.add_all([
        PlanCell(plan_id=plan.id, period="2027Q1", period_start=date(2027, 1, 1), period_end=date(2027, 3, 31),
                 org_node_id=a, customer_type="all", value=999_000_000),
        PlanCell(plan_id=plan.id, period="2027-03", period_start=date(2027, 3, 1), period_end=date(2027, 3, 31),
                 org_node_id=a, product_node_id=product.id, customer_type="all", value=100_000_000),
    ])
    session.commit()
    result = week_funnel(session=session, plan_name="P", rep_code="R100", week="2027-W09", calendar=WEEKDAYS)
    assert result.target == Fraction(230_000_000 * 5, 23)
    assert [c["period"] for c in result.cells] == ["2027-03"]


def test_learn_rates_zero_and_missing_history() -> None:
    from attain.funnel.service import LevelHistory, learn_rates

    never_won = LevelHistory(advanced=(3, 3, 3, 0), decided=(3, 3, 3, 3), opportunities=3, won=0, won_amount=0)
    with pytest.raises(InvalidInput, match="no number of leads"):
        learn_rates(never_won, never_won, never_won, 10)
    fine = LevelHistory(advanced=(2, 2, 2, 1), decided=(4, 2, 2, 2), opportunities=4, won=1, won_amount=5_000_00)
    thin = LevelHistory(advanced=(0, 0, 0, 0), decided=(0, 0, 0, 0), opportunities=0, won=0, won_amount=0)
    rates, size = learn_rates(thin, thin, fine, 10)  # a new rep in a new team borrows the company's figures
    assert rates == (Decimal("0.5000"), Decimal("1.0000"), Decimal("1.0000"), Decimal("0.5000"))
    assert size == 5_000_00


def test_idle_open_opportunities_count_as_lost(session: Session) -> None:
    """Issue 17: a rep with 12 leads that never moved learned conversion 1.0 at every step (a funnel of
    2 leads for 2 deals). Open opportunities idle longer than funnel_stale_days count as lost."""
    import attain_test_world as world_module  # tests/funnel/world.py, loaded by conftest.py

    from attain.funnel.service import rep_rates
    from attain.org.service import create_node, ensure_root

    root = ensure_root(session=session)
    rep_id = create_node(session=session, code="S1", name="慢", kind="rep", parent_id=root)
    for n in range(2):
        world_module.add_opportunity(session, f"W{n}", rep_id, 100_000_00, 4, "won", date(2026, 3, 2 + n))
    for n in range(12):
        world_module.add_opportunity(session, f"L{n}", rep_id, 100_000_00, 0, "lead", date(2026, 4, 1 + n))
    # Moved to qualified on 2026-12-20: not idle on 2027-01-04 (15 days), idle by 2027-06-01.
    world_module.add_opportunity(session, "Q1", rep_id, 100_000_00, 1, "qualified", date(2026, 12, 15))
    set_setting(session, "funnel_prior_weight", 0)
    rep = session.get(OrgNode, rep_id)
    set_setting(session, "funnel_stale_days", 0)  # the old reading: open opportunities left out
    assert rep_rates(session=session, rep=rep, before=date(2027, 1, 4)).rates == (Decimal(1),) * 3 + (Decimal(1),)
    set_setting(session, "funnel_stale_days", 90)
    learned = rep_rates(session=session, rep=rep, before=date(2027, 1, 4))
    # lead→qualified: 3 moved (2 won, Q1) of 15 decided (+ the 12 idle leads); Q1 still open is undecided later on.
    assert learned.rep.decided == (15, 2, 2, 2) and learned.rep.advanced == (3, 2, 2, 2)
    assert learned.rates[-1] == Decimal("0.2000")
    later = rep_rates(session=session, rep=rep, before=date(2027, 6, 1))
    assert later.rep.decided == (15, 3, 2, 2)  # Q1 idle since 2026-12-20: lost at qualified
    assert later.rates[-2] == Decimal("0.6667")
