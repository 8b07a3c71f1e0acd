"""Diagnosis on a hand-made company (SQLite and PostgreSQL): funnel counts, exact parts, causes, errors."""

from __future__ import annotations

import json
import math
from datetime import date

import pytest
from diagnosis_company import YUAN, make_company
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from attain.cli.main import app
from attain.errors import InvalidInput, NotFound
from attain.periods import parse_period
from attain.tracking.decompose import log_mean
from attain.tracking.diagnosis import (
    diagnose,
    funnel,
    funnel_counts,
    same_period_last_year,
)

MARCH = parse_period("2027-03")
END = date(2027, 3, 31)


@pytest.fixture
def company(session: Session) -> dict[str, int]:
    return make_company(session)


def test_funnel_counts_leads_and_won_deals_per_rep(session: Session, company: dict[str, int]) -> None:
    leads, deals = funnel_counts(session=session, level="rep", start=MARCH.start, end=END)
    assert leads == {company["A"]: 5, company["B"]: 2}
    assert deals == {company["A"]: 2}


def test_funnel_rolls_reps_up_to_team_and_region(session: Session, company: dict[str, int]) -> None:
    team = funnel(session=session, level="team", start=MARCH.start, end=END)
    assert team.leads == {company["T1"]: 7}
    assert team.deals == {company["T1"]: 2}
    assert team.revenue == {company["T1"]: 300_000 * YUAN}
    region = funnel(session=session, level="region", start=MARCH.start, end=END)
    assert region.leads == {company["R1"]: 7}


def test_diagnosis_vs_target_splits_the_gap_exactly(session: Session, company: dict[str, int]) -> None:
    result = diagnose(session=session, period=MARCH, level="rep", reference="target", as_of=END)
    rows = {r.code: r for r in result.rows}
    a = rows["A"]
    assert (a.actual, a.reference, a.gap) == (300_000 * YUAN, 1_000_000 * YUAN, -700_000 * YUAN)
    assert sum(a.parts.values()) == a.gap
    # History: 14 leads, 6 deals, 2,800,000 yuan → 200,000 per lead, so the target implies 5 leads = A's 5.
    assert a.reference_leads == pytest.approx(5, abs=0.01)
    weight = float(log_mean(300_000 * YUAN, 1_000_000 * YUAN))
    assert a.parts["leads"] == pytest.approx(0, abs=2)
    assert a.parts["conversion"] == pytest.approx(weight * math.log(0.4 / (3 / 7)), abs=2)
    assert a.parts["deal_size"] == pytest.approx(weight * math.log(150_000 / (2_800_000 / 6)), abs=2)
    assert a.cause == "deal_size"
    assert a.cause_text == "客单价低 / small deals"
    # B won nothing from two leads against a 500,000 target: the company history sizes the target.
    b = rows["B"]
    assert (b.actual, b.gap, b.leads, b.deals) == (0, -500_000 * YUAN, 2, 0)
    assert sum(b.parts.values()) == b.gap
    assert b.cause == "conversion"
    assert b.parts["deal_size"] == 0


def test_diagnosis_vs_last_year(session: Session, company: dict[str, int]) -> None:
    result = diagnose(session=session, period=MARCH, level="rep", reference="last-year", as_of=END)
    rows = {r.code: r for r in result.rows}
    a = rows["A"]
    assert (a.actual, a.reference, a.gap) == (300_000 * YUAN, 800_000 * YUAN, -500_000 * YUAN)
    assert sum(a.parts.values()) == a.gap
    weight = float(log_mean(300_000 * YUAN, 800_000 * YUAN))
    assert a.parts["leads"] == pytest.approx(weight * math.log(5 / 4), abs=2)
    assert a.parts["conversion"] == pytest.approx(weight * math.log((2 / 5) / (2 / 4)), abs=2)
    assert a.parts["deal_size"] == pytest.approx(weight * math.log(150_000 / 400_000), abs=2)
    assert a.cause == "deal_size"
    assert rows["B"].gap == 0 and rows["B"].cause is None
    assert result.reference_start == date(2026, 3, 1) and result.reference_end == date(2026, 3, 31)


def test_diagnosis_in_progress_compares_with_expected_to_date(session: Session, company: dict[str, int]) -> None:
    result = diagnose(session=session, period=MARCH, level="rep", reference="target", as_of=date(2027, 3, 10))
    a = next(r for r in result.rows if r.code == "A")
    assert a.actual == 200_000 * YUAN  # orders of 03-02 and 03-09
    assert 0 < a.reference < 1_000_000 * YUAN
    assert sum(a.parts.values()) == a.gap == a.actual - a.reference


def test_last_year_of_a_week_is_the_same_iso_week() -> None:
    assert same_period_last_year(parse_period("2027-W10")).label == "2026-W10"
    assert same_period_last_year(parse_period("2027-02")).start == date(2026, 2, 1)
    assert same_period_last_year(parse_period("2027-02")).end == date(2026, 2, 28)
    assert same_period_last_year(parse_period("2028-02-29")).label == "2027-02-28"
    assert same_period_last_year(parse_period("2027Q2")).label == "2026Q2"


def test_diagnosis_rejects_unknown_level_and_reference(session: Session, company: dict[str, int]) -> None:
    with pytest.raises(InvalidInput, match="cannot diagnose by 'product'"):
        diagnose(session=session, period=MARCH, level="product", as_of=END)
    with pytest.raises(InvalidInput, match="unknown reference 'budget'"):
        diagnose(session=session, period=MARCH, level="rep", reference="budget", as_of=END)


def test_diagnosis_before_the_period_starts_is_refused(session: Session, company: dict[str, int]) -> None:
    with pytest.raises(InvalidInput, match="nothing to diagnose yet"):
        diagnose(session=session, period=MARCH, level="rep", as_of=date(2027, 2, 1))


def test_diagnosis_without_a_plan_is_not_found(session: Session, company: dict[str, int]) -> None:
    with pytest.raises(NotFound, match="no approved plan covers 2028-03"):
        diagnose(session=session, period=parse_period("2028-03"), level="rep", as_of=date(2028, 3, 31))


def test_cli_diagnosis_json_and_errors(database_url: str, session: Session, company: dict[str, int]) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["report", "diagnosis", "--period", "2027-03", "--by", "team", "--as-of", "2027-03-31",
                                 "--db", database_url, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["by"] == "team" and payload["unit"] == "fen"
    [team] = [r for r in payload["rows"] if r["node"] == "T1"]
    assert sum(team["parts"].values()) == team["gap"] == team["actual"] - team["reference"]
    table = runner.invoke(app, ["report", "diagnosis", "--period", "2027-03", "--as-of", "2027-03-31", "--db", database_url])
    assert table.exit_code == 0 and "甲" in table.stdout and "差距归因" in table.stdout
    bad = runner.invoke(app, ["report", "diagnosis", "--period", "2027-13", "--db", database_url])
    assert bad.exit_code != 0 and "2027-13" in str(bad.exception)
    bad_by = runner.invoke(app, ["report", "diagnosis", "--period", "2027-03", "--by", "city", "--db", database_url])
    assert bad_by.exit_code != 0 and "city" in str(bad_by.exception)
