"""Monte Carlo P(hit): the pure simulation and the database adapter on the hand-made company."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest
from diagnosis_company import YUAN, make_company
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from attain.cli.main import app
from attain.errors import InvalidInput
from attain.periods import parse_period
from attain.split.calendar import day_range, working_day_mask
from attain.tracking.pipeline import (
    RUN_RATE_DAYS,
    forecast,
    open_deals,
    simulate,
    stage_history,
    unpipelined_rates,
)

MARCH = parse_period("2027-03")


def _simulate(**overrides):  # type: ignore[no-untyped-def]
    arguments = {
        "actual": np.array([100.0, 0.0]), "target": np.array([150.0, 1e9]),
        "deal_node": np.array([0, 0], dtype=np.int64), "deal_amount": np.array([40.0, 60.0]),
        "deal_stage": np.array([3, 1], dtype=np.int64),
        "stage_won": np.array([10.0, 10.0, 10.0, 10.0]), "stage_lost": np.array([10.0, 10.0, 10.0, 10.0]),
        "run_rate_mean": np.array([0.0, 0.0]), "run_rate_sd": np.array([0.0, 0.0]), "draws": 4_000, "seed": 7,
    }
    arguments.update(overrides)
    return simulate(**arguments)


def test_simulation_is_reproducible_with_a_seed() -> None:
    first, second = _simulate(), _simulate()
    assert_allclose(first.p_hit, second.p_hit)
    assert_allclose(first.p50, second.p50)
    assert not np.allclose(_simulate(seed=8).mean, first.mean, rtol=0, atol=1e-12)


def test_only_both_deals_won_reach_the_target() -> None:
    # 100 + 40 + 60 = 200 ≥ 150 needs the 60 deal; P(hit) = P(60 won) ≈ 0.5 with 10 won / 10 lost.
    result = _simulate()
    assert result.p_hit[0] == pytest.approx(0.5, abs=0.03)
    assert result.p_hit[1] == 0.0
    assert result.p10[0] >= 100.0 and result.p90[0] <= 200.0
    assert result.mean[0] == pytest.approx(100 + 0.5 * 40 + 0.5 * 60, abs=2.0)


def test_certain_stages_and_no_uncertainty_give_exact_outcomes() -> None:
    certain = _simulate(stage_won=np.array([1e6] * 4), stage_lost=np.array([0.0] * 4))
    assert_allclose(certain.p50[0], 200.0)
    assert certain.p_hit[0] == 1.0
    hopeless = _simulate(stage_won=np.array([0.0] * 4), stage_lost=np.array([1e6] * 4))
    assert hopeless.p_hit[0] == 0.0


def test_run_rate_without_deals_is_a_clipped_normal() -> None:
    result = _simulate(deal_node=np.array([], dtype=np.int64), deal_amount=np.array([]), deal_stage=np.array([], dtype=np.int64),
                       run_rate_mean=np.array([50.0, 0.0]), run_rate_sd=np.array([10.0, 5.0]), draws=20_000)
    assert result.p50[0] == pytest.approx(150.0, abs=1.0)
    assert result.p_hit[0] == pytest.approx(0.5, abs=0.02)
    assert result.p10[1] >= 0.0  # never below the actual: negative business is clipped


def test_bad_simulation_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="deal_node"):
        _simulate(deal_node=np.array([0, 5], dtype=np.int64))
    with pytest.raises(ValueError, match="draws"):
        _simulate(draws=0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=6), st.floats(0, 2e6), st.integers(0, 10_000))
def test_percentiles_are_ordered_and_p_hit_falls_with_the_target(amounts: list[float], target: float, seed: int) -> None:
    deals = len(amounts)
    arguments = {
        "actual": np.array([10.0]), "deal_node": np.zeros(deals, dtype=np.int64), "deal_amount": np.array(amounts),
        "deal_stage": np.arange(deals, dtype=np.int64) % 4, "stage_won": np.array([3.0, 4.0, 5.0, 6.0]),
        "stage_lost": np.array([6.0, 5.0, 4.0, 3.0]), "run_rate_mean": np.array([100.0]), "run_rate_sd": np.array([30.0]),
        "draws": 500, "seed": seed,
    }
    low = simulate(target=np.array([target]), **arguments)
    high = simulate(target=np.array([target * 1.5 + 1]), **arguments)
    assert low.p10[0] <= low.p50[0] <= low.p90[0]
    assert low.p10[0] >= 10.0
    assert high.p_hit[0] <= low.p_hit[0]


@pytest.fixture
def company(session: Session) -> dict[str, int]:
    return make_company(session)


def test_stage_win_rates_count_the_furthest_stage_reached(session: Session, company: dict[str, int]) -> None:
    won, lost = stage_history(session=session, as_of=date(2027, 3, 15))
    assert won.tolist() == [7, 7, 7, 7]
    assert lost.tolist() == [9, 3, 3, 0]


def test_open_deals_at_as_of_closing_in_the_period(session: Session, company: dict[str, int]) -> None:
    deals = open_deals(session=session, level="rep", as_of=date(2027, 3, 15), period_end=MARCH.end)
    assert sorted(deals) == [(company["A"], 150_000 * YUAN, 2), (company["A"], 200_000 * YUAN, 3)]
    teams = open_deals(session=session, level="team", as_of=date(2027, 3, 15), period_end=MARCH.end)
    assert {d[0] for d in teams} == {company["T1"]}


@pytest.mark.parametrize(("horizon", "pipelined_yuan"), [(14, 50_000), (5, 100_000)])
def test_unpipelined_rate_keeps_the_share_of_won_deals_a_forecast_would_not_have_seen(
    session: Session, company: dict[str, int], horizon: int, pipelined_yuan: int
) -> None:
    # In the 90 days to 2027-03-15 A sold 200,000 yuan and won M-W (100,000 yuan) 7 days after creating it:
    # a forecast made `horizon` days before saw it with probability min(7, horizon) / horizon.
    as_of = date(2027, 3, 15)
    mean, _sd = unpipelined_rates(session=session, level="rep", as_of=as_of, horizon_days=horizon)
    worked = int(working_day_mask(day_range(date.fromordinal(as_of.toordinal() - RUN_RATE_DAYS + 1), as_of))[0].sum())
    assert mean[company["A"]] * worked == pytest.approx((200_000 - pipelined_yuan) * YUAN)


def test_forecast_per_rep(session: Session, company: dict[str, int]) -> None:
    result = forecast(session=session, period=MARCH, level="rep", as_of=date(2027, 3, 15), draws=2_000)
    rows = {r.code: r for r in result.rows}
    a, b = rows["A"], rows["B"]
    assert a.actual == 200_000 * YUAN and a.target == 1_000_000 * YUAN
    assert (a.open_deals, a.open_amount) == (2, 350_000 * YUAN)
    rates = result.stage_win_rates
    assert rates["negotiation"] == pytest.approx(8 / 9, abs=1e-4)  # (7 + 1) / (7 + 0 + 2)
    assert rates["proposal"] == pytest.approx(8 / 12, abs=1e-4)
    assert a.weighted_pipeline == pytest.approx(200_000 * YUAN * 8 / 9 + 150_000 * YUAN * 8 / 12, abs=1)
    assert a.p10 <= a.p50 <= a.p90
    assert a.p10 >= a.actual
    assert 0.0 <= a.p_hit <= 1.0  # type: ignore[operator]
    assert b.actual == 0 and b.open_deals == 0
    assert rows["A"].p_hit is not None


def test_forecast_after_the_period_is_the_actual(session: Session, company: dict[str, int]) -> None:
    result = forecast(session=session, period=MARCH, level="rep", as_of=date(2027, 4, 5), draws=500)
    a = next(r for r in result.rows if r.code == "A")
    assert a.p10 == a.p50 == a.p90 == 300_000 * YUAN
    assert a.p_hit == 0.0
    assert result.working_days_left == 0


def test_forecast_rejects_bad_draws_and_level(session: Session, company: dict[str, int]) -> None:
    with pytest.raises(InvalidInput, match="draws"):
        forecast(session=session, period=MARCH, level="rep", as_of=date(2027, 3, 15), draws=5)
    with pytest.raises(InvalidInput, match="cannot diagnose by 'customer'"):
        forecast(session=session, period=MARCH, level="customer", as_of=date(2027, 3, 15))


def test_cli_pipeline_json(database_url: str, session: Session, company: dict[str, int]) -> None:
    runner = CliRunner()
    arguments = ["report", "pipeline", "--period", "2027-03", "--by", "rep", "--as-of", "2027-03-15", "--draws", "1000",
                 "--db", database_url]
    first = runner.invoke(app, [*arguments, "--json"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, [*arguments, "--json"])
    assert json.loads(first.stdout) == json.loads(again.stdout)  # same seed, same figures
    payload = json.loads(first.stdout)
    assert payload["draws"] == 1000 and {r["node"] for r in payload["rows"]} >= {"A", "B"}
    table = runner.invoke(app, arguments)
    assert table.exit_code == 0 and "P50" in table.stdout
    bad = runner.invoke(app, ["report", "pipeline", "--period", "2027-03", "--as-of", "someday", "--db", database_url])
    assert bad.exit_code != 0 and "someday" in str(bad.exception)
