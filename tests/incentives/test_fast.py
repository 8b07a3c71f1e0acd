"""The fast statement path equals the scalar reference to the fen.

Pure: `incentives.vector` against `incentives.calc` on random rate tables, curves, blends, slices,
SPIFs and milestone running totals (Hypothesis). Database (SQLite and PostgreSQL): a monthly plan with
every component kind on random sales and returns; `service.year_statements` (one run for the year,
NumPy totals) against `service._earned` per month (the attainment report of each month, exact
fractions line by line) — and every statement's lines add up to its fast total.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.orm import Session

from attain.facts.models import OrderLine
from attain.incentives import calc, service, vector
from attain.periods import month
from tests.incentives.test_service import make_target_org

# -- pure -----------------------------------------------------------------------------------------

# No deadline: examples hold Python-int arrays and the machine may be busy; nothing here depends on speed.
pure = settings(deadline=None)
percents = st.integers(0, 30_000).map(lambda hundredths: Fraction(hundredths, 10_000))  # 0 … 300.00 % as a fraction
rates = st.integers(0, 200_000).map(lambda n: Fraction(n, 1_000_000))  # 0 … 20 % with four decimals of a percent
money = st.integers(-10**11, 10**12)


@st.composite
def rate_tables(draw: st.DrawFn) -> calc.RateTable:
    bounds = sorted(draw(st.sets(percents, min_size=1, max_size=5)))
    open_end = draw(st.booleans())
    edges: list[Fraction | None] = [*bounds[1:], None] if open_end or len(bounds) == 1 else bounds[1:]
    lowers = bounds if open_end or len(bounds) == 1 else bounds[:-1]
    bands = tuple(calc.Band(low, high, draw(rates)) for low, high in zip(lowers, edges))
    cap = draw(st.none() | st.integers(0, 10**9))
    return calc.RateTable(bands, draw(st.sampled_from([calc.MARGINAL, calc.RETROACTIVE])), cap)


@st.composite
def curves(draw: st.DrawFn) -> calc.Curve:
    xs = sorted(draw(st.lists(percents, min_size=1, max_size=5)))  # repeated x: a step
    ys = sorted(draw(st.lists(st.integers(0, 30_000).map(lambda n: Fraction(n, 10_000)), min_size=len(xs), max_size=len(xs))))
    threshold = draw(st.sampled_from([xs[0], Fraction(0)]) | percents)
    cap = draw(st.none() | percents)
    return calc.Curve(tuple(zip(xs, ys)), threshold, cap)


figures = st.tuples(money, st.none() | st.integers(-10, 10**12))


def split(rows: list[tuple[int, int | None]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    actual = np.array([a for a, _t in rows], dtype=np.int64)
    target = np.array([t or 0 for _a, t in rows], dtype=np.int64)
    has = np.array([t is not None for _a, t in rows])
    return actual, target, has


HALF = Fraction(1, 2)
BANDS = (calc.Band(Fraction(0), Fraction(4, 5), Fraction(0)), calc.Band(Fraction(4, 5), None, HALF))
EDGES = [(1, 1), (3, 10), (-1, 1), (80, 100), (81, 100), (79, 100), (5, None), (7, 0), (11, -3)]


@pure
@given(table=rate_tables(), rows=st.lists(figures, min_size=1, max_size=20))
@example(table=calc.RateTable((calc.Band(Fraction(0), None, HALF),), calc.RETROACTIVE, None), rows=EDGES)  # halves of a fen
@example(table=calc.RateTable(BANDS, calc.RETROACTIVE, 20), rows=EDGES)  # 80.00 % is in the upper band; the cap
@example(table=calc.RateTable(BANDS, calc.MARGINAL, 0), rows=EDGES)
@example(table=calc.RateTable(BANDS, calc.MARGINAL, None), rows=[(81, 100), (83, 100), (2 * 10**12 + 1, 10**12)])
def test_rate_table_fast_equals_scalar(table: calc.RateTable, rows: list[tuple[int, int | None]]) -> None:
    fast = vector.rate_table_amounts(table, *split(rows))
    scalar = [calc.total_of(calc.rate_table_lines("c", table, a, t)) for a, t in rows]
    assert fast.tolist() == scalar


STEP = calc.Curve(((Fraction(1, 2), Fraction(1, 4)), (Fraction(1), Fraction(1)), (Fraction(1), Fraction(3, 2)),
                   (Fraction(3, 2), Fraction(2))), Fraction(2, 5), Fraction(9, 5))


@pure
@example(shape=STEP, people=[((a, 100), (b, 200), (0, 1), 3, 92) for a, b in ((40, 0), (39, 0), (50, 100), (100, 200), (75, 150), (160, 320), (140, 280), (49, 1))],
         weights=(70, 30), weight_bp=5_000)  # threshold exactly, below it, on points, a step at 100 %, the cap; halves of a fen
@given(shape=curves(), people=st.lists(st.tuples(figures, figures, figures, st.integers(0, 10**8), st.integers(0, 92)),
                                        min_size=1, max_size=15),
       weights=st.sampled_from([(100,), (70, 30), (50, 30, 20), (33.33, 33.33, 33.34)]), weight_bp=st.integers(0, 10_000))
def test_blended_curve_fast_equals_scalar(shape: calc.Curve, people: list[tuple], weights: tuple[float, ...], weight_bp: int) -> None:
    shares = [Fraction(Decimal(str(w))) / 100 for w in weights]
    weight = Fraction(weight_bp, 10_000)
    incentives = [calc.prorated_incentive(annual, 4, days, 92) for *_f, annual, days in people]
    parts = []
    for k, share in enumerate(shares):
        parts.append((share, *split([person[k] for person in people])))
    amounts = vector.curve_amounts(shape, vector.blended_attainment(parts),
                                   (vector.exact([i.numerator for i in incentives]), vector.exact([i.denominator for i in incentives])), weight)
    for i, person in enumerate(people):
        attained = calc.blend([(share, calc.attainment(*person[k])) for k, share in enumerate(shares)])
        assert int(amounts[i]) == calc.total_of(calc.curve_lines("c", shape, attained, incentives[i], weight))


@pure
@given(basis=st.lists(money, min_size=1, max_size=20), rate=rates, unit=st.integers(0, 10**7),
       shares=st.lists(st.integers(0, 10**7), min_size=1, max_size=20))
def test_slice_and_spif_fast_equal_scalar(basis: list[int], rate: Fraction, unit: int, shares: list[int]) -> None:
    assert vector.rated_amounts(np.array(basis, dtype=np.int64), rate).tolist() == [
        calc.round_fen(max(Fraction(b), Fraction(0)) * rate) for b in basis]
    assert vector.spif_amounts(unit, np.array(shares, dtype=np.int64)).tolist() == [calc.spif_amount(unit, s) for s in shares]


@pure
@given(days=st.lists(st.lists(st.integers(-10**7, 10**8), min_size=1, max_size=30), min_size=1, max_size=6),
       goals=st.lists(st.fractions(min_value=-10**8, max_value=10**9), min_size=6, max_size=6))
def test_milestone_running_totals_equal_first_day_reaching(days: list[list[int]], goals: list[Fraction]) -> None:
    nodes = np.concatenate([np.full(len(d), i * 3 + 1, dtype=np.int64) for i, d in enumerate(days)])
    amounts = np.concatenate([np.array(d, dtype=np.int64) for d in days])
    found, best = vector.best_running_totals(nodes, amounts)
    assert found.tolist() == [i * 3 + 1 for i in range(len(days))]
    start = np.datetime64("2027-01-01")
    for i, run in enumerate(days):
        dates = start + np.arange(len(run))
        reached = calc.first_day_reaching(dates, np.array(run, dtype=np.int64), goals[i]) is not None
        assert (best[i] * goals[i].denominator >= goals[i].numerator) == reached


# -- on the database ------------------------------------------------------------------------------

YEAR_PLAN = """\
name: 月度激励
year: 2027
settlement: month
participants:
  - {node: R1-T1-1, target_incentive: 60000}
  - {node: R1-T1-2, target_incentive: 48000, from: 2027-02-10}
  - {node: R1-T1-1, role: manager, target_incentive: 90000}
components:
  - {code: commission, type: rate_table, applies_to: rep, metric: revenue, target_plan: T2027, mode: marginal, cap: 9000,
     bands: [{from: 0, to: 60, rate: 0}, {from: 60, to: 80, rate: 2.5}, {from: 80, to: 100, rate: 4}, {from: 100, rate: 6.125}]}
  - {code: retro, type: rate_table, applies_to: rep, metric: revenue, target_plan: T2027, mode: retroactive,
     bands: [{from: 33.3, to: 90, rate: 1}, {from: 90, rate: 3}]}
  - {code: bonus, type: payout_curve, weight: 70, metric: revenue, target_plan: T2027, attainment: {own: 70, team: 30},
     threshold: 40, points: [[50, 25], [100, 100], [150, 200]], cap: 180}
  - {code: company_bonus, type: payout_curve, weight: 30, metric: revenue, target_plan: T2027, attainment: {own: 50, company: 50},
     threshold: 0, points: [[0, 0], [120, 150]]}
  - {code: new_customers, type: slice_rate, applies_to: rep, metric: revenue, target_plan: T2027, slice: {customer_type: new}, rate: 1.5}
  - {code: early, type: milestone, applies_to: rep, metric: revenue, target_plan: T2027, percent: 30, by_day: 12, amount: 800}
  - {code: summit, type: milestone, metric: revenue, target_plan: T2027, scope: team, percent: 50, by: 2027-02-20, award: 峰会门票}
  - {code: spring, type: spif, applies_to: rep, metric: revenue, target_plan: T2027, per: order, amount: 150, from: 2027-01-15, to: 2027-03-10}
  - {code: pool, type: team_pool, applies_to: rep, metric: revenue, target_plan: T2027, amount: 5000, threshold: 20, share_by: sales}
"""

sales = st.lists(st.tuples(st.sampled_from(["R1-T1-1", "R1-T1-2"]), st.integers(0, 120), st.integers(-20_000_000, 90_000_000)),
                 min_size=0, max_size=12)


@pytest.fixture
def year_plan(session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, int]:
    monkeypatch.setattr("attain.plans.service.current_day", lambda: date(2027, 12, 31))
    ids = make_target_org(session)
    path = tmp_path / "plan.yaml"
    path.write_text(YEAR_PLAN, encoding="utf-8")
    service.import_plan(session=session, path=path, by="wang")
    service.submit_plan(session=session, name="月度激励", by="wang")
    service.approve_plan(session=session, name="月度激励", by="zhao")
    return ids


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=sales, as_of_day=st.integers(20, 200))
def test_year_statements_fast_equal_scalar_on_the_database(session: Session, year_plan: dict[str, int],
                                                          lines: list[tuple[str, int, int]], as_of_day: int) -> None:
    try:
        for n, (rep, day, amount) in enumerate(lines):
            session.add(OrderLine(line_id=f"H{n}-1", order_id=f"H{n}", order_date=date(2027, 1, 1) + timedelta(days=day),
                                  rep_id=year_plan[rep], amount=amount, quantity=Decimal(1), currency="CNY"))
        session.commit()
        as_of = date(2027, 1, 1) + timedelta(days=as_of_day)
        sets = service.year_statements(session=session, name="月度激励", as_of=as_of, detail=False)
        assert [s.period for s in sets] == [month(2027, m).label for m in range(1, 13)]
        plan = service.plan_in_force(session=session, name="月度激励")
        for result in sets:
            span = service.settlement_period(plan, result.period)
            people = service._earned(session, plan, span, as_of)  # the scalar reference: the report of the month
            scalar = [(p.node.id, p.participant.role, calc.total_of(p.lines)) for p in people]
            fast = [(s.node_id, s.role, s.total) for s in result.statements]  # R1-T1-1 twice: as a rep and as a manager
            assert fast == scalar, result.period
            for statement in result.statements:  # the lines, built on the run's figures, add up to the fast total
                assert calc.total_of([line for line in statement.lines if line["step"] != "total"]) == statement.total
    finally:
        session.execute(delete(OrderLine).where(OrderLine.line_id.like("H%")))
        session.commit()
