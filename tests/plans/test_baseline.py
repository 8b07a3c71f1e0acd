"""Honest baselines (issue 15.4): 'last year' is a complete fiscal year (or the trailing 12 complete
months), for growth, history and seasonal splits, the web wizard, the SMART realism check and
tracking's seasonal weights; an incomplete base is refused or warned about."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from attain.cli.main import app
from attain.db import get_engine, make_session_factory
from attain.errors import InvalidInput
from attain.facts.models import OrderLine
from attain.periods import year
from attain.plans.baseline import LAST_FISCAL_YEAR, TRAILING_12, window_for
from attain.plans.check import check_plan
from attain.plans.setting import create_target
from attain.plans.splitting import SplitOptions, split_plan
from attain.settings.service import set_setting
from attain.split.calendar import day_range, seasonal_day_weights, working_day_mask
from attain.tracking.attainment import history_weights
from attain.tracking.engine import SessionRunner
from tests.databases import demo_database
from tests.plans.conftest import make_org

TODAY = date(2026, 12, 2)  # the day of the report: 2026 is eleven months and two days old
runner = CliRunner()


# --- the window (pure) -----------------------------------------------------------------------------


def test_a_year_still_running_is_not_last_year() -> None:
    window = window_for(target_start=date(2027, 1, 1), basis=LAST_FISCAL_YEAR, as_of=TODAY, first_sale=date(2024, 1, 1))
    assert (window.start, window.end, window.label, window.complete) == (date(2025, 1, 1), date(2025, 12, 31), "2025", True)
    assert "2026 is not complete on 2026-12-02" in window.note and "last year is 2025" in window.note


def test_once_the_year_is_over_it_is_last_year_without_a_warning() -> None:
    window = window_for(target_start=date(2027, 1, 1), basis=LAST_FISCAL_YEAR, as_of=date(2027, 1, 1), first_sale=date(2024, 1, 1))
    assert (window.start, window.end, window.note) == (date(2026, 1, 1), date(2026, 12, 31), None)


def test_trailing_twelve_complete_months_leave_the_running_month_out() -> None:
    window = window_for(target_start=date(2027, 1, 1), basis=TRAILING_12, as_of=TODAY, first_sale=date(2024, 1, 1))
    assert (window.start, window.end, window.label) == (date(2025, 12, 1), date(2026, 11, 30), "2025-12..2026-11")
    assert window.note is None and len(window.months) == 12


def test_a_july_fiscal_year_ends_before_the_plan_starts() -> None:
    window = window_for(target_start=date(2027, 1, 1), basis=LAST_FISCAL_YEAR, as_of=TODAY, fiscal_start_month=7,
                        first_sale=date(2020, 1, 1))
    assert (window.start, window.end, window.label, window.note) == (date(2025, 7, 1), date(2026, 6, 30), "FY2026", None)
    calendar_order = window.to_calendar_order(np.arange(12))  # window month 0 is July
    assert calendar_order[6] == 0 and calendar_order[0] == 6


def test_history_shorter_than_the_window_is_not_complete() -> None:
    window = window_for(target_start=date(2027, 1, 1), basis=LAST_FISCAL_YEAR, as_of=date(2027, 1, 5), first_sale=date(2026, 3, 9))
    assert not window.complete and "starts on 2026-03-09" in window.note and "less than one complete year" in window.note


# --- the issue's reproduction on the demo company, through the CLI -----------------------------------


def cli(url: str, *args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, [*args, "--db", url, "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


@pytest.fixture(params=["sqlite", "postgresql"])
def demo_today(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The demo company as of 2026-12-02 (orders 2024-01-01 to today, the day the issue was reported),
    a copy of its own (loaded once per test process)."""
    with demo_database(request.param, tmp_path, "attain_baseline", seed=2026, year=2026, as_of=TODAY) as url:
        yield url


def month_actuals(url: str, period: str) -> dict[str, Decimal]:
    report = cli(url, "report", "actuals", "--period", period, "--by", "month")
    return {row["labels"]["month"]: Decimal(row["value"]) for row in report["rows"]}


def company_months(url: str, plan: str) -> dict[str, Decimal]:
    rows = cli(url, "plan", "show", plan, "--level", "company", "--period", "month")["rows"]
    return {r["period"]: Decimal(r["value"]) for r in rows}


def test_growth_and_seasonal_split_on_the_issues_day_use_the_complete_year(demo_today: str) -> None:
    url, as_of = demo_today, TODAY.isoformat()
    created = cli(url, "plan", "create", "--name", "FY2027", "--year", "2027", "--growth", "0.2", "--as-of", as_of)
    history = month_actuals(url, "2025")
    base = sum(history.values())
    assert Decimal(created["last_year"]) == base  # to the fen: 2025, not 2026 up to 2 December
    assert Decimal(created["total"]) == (base * Decimal("1.2")).quantize(Decimal(1))
    assert created["baseline"]["label"] == "2025" and created["baseline"]["complete"] is True
    assert "2026 is not complete on 2026-12-02" in created["baseline"]["note"]

    split = cli(url, "plan", "split", "FY2027", "--time-method", "seasonal", "--as-of", as_of)
    assert split["baseline"]["label"] == "2025" and split["warnings"][0] == created["baseline"]["note"]
    months = company_months(url, "FY2027")
    share = months["2027-12"] / sum(months.values())
    history_share = history["2025-12"] / base
    assert abs(share - history_share) < Decimal("0.001"), (share, history_share)  # ~14 %, not 1.3 %
    for m in range(1, 13):
        assert abs(months[f"2027-{m:02d}"] / sum(months.values()) - history[f"2025-{m:02d}"] / base) < Decimal("0.001")

    text = runner.invoke(app, ["plan", "create", "--db", url, "--name", "FY2027B", "--year", "2027", "--growth", "0.2",
                               "--as-of", as_of])
    assert text.exit_code == 0 and "last year = 2025 (last complete fiscal year" in text.stdout
    assert "warning:" in text.stdout and "2026 is not complete" in " ".join(text.stdout.split())


def test_trailing_twelve_months_on_the_issues_day(demo_today: str) -> None:
    url, as_of = demo_today, TODAY.isoformat()
    created = cli(url, "plan", "create", "--name", "T12", "--year", "2027", "--growth", "0.2", "--baseline", "trailing-12",
                  "--as-of", as_of)
    trailing = {**{k: v for k, v in month_actuals(url, "2025").items() if k == "2025-12"},
                **{k: v for k, v in month_actuals(url, "2026").items() if k <= "2026-11"}}
    assert len(trailing) == 12
    assert Decimal(created["last_year"]) == sum(trailing.values())
    assert created["baseline"]["label"] == "2025-12..2026-11" and created["baseline"]["note"] is None
    cli(url, "plan", "split", "T12", "--time-method", "seasonal", "--baseline", "trailing-12", "--as-of", as_of)
    months = company_months(url, "T12")
    share = months["2027-12"] / sum(months.values())
    assert abs(share - trailing["2025-12"] / sum(trailing.values())) < Decimal("0.001")


def test_smart_realism_compares_with_the_complete_year(demo_today: str) -> None:
    url, as_of = demo_today, TODAY.isoformat()
    cli(url, "plan", "create", "--name", "FY2027", "--year", "2027", "--growth", "0.2", "--as-of", as_of)
    cli(url, "plan", "split", "FY2027", "--method", "history", "--as-of", as_of)
    report = cli(url, "plan", "check", "FY2027", "--as-of", as_of)
    base = sum(month_actuals(url, "2025").values())
    notes = [f for f in report["findings"] if f["check"] == "realistic" and f["cell"] == "plan"]
    assert notes and notes[0]["severity"] == "info" and "2026 is not complete" in notes[0]["message"]
    total = [f for f in report["findings"] if f["check"] == "realistic" and f["cell"] == "total"]
    # 2025 grown twice by its trend reaches +20 %: no finding on the total. Against eleven months of
    # 2026 (the old base) the same target was "out of reach, P(reach) 1 %".
    assert total == [], total
    reps = [f for f in report["findings"] if f["check"] == "realistic" and f["figure"] and " vs " in f["figure"]]
    assert reps and all(" vs 2025 " in f["figure"] for f in reps)
    assert f"{base:,.0f}" not in json.dumps(reps)  # the rows carry their own node's base, the company's is in no row


# --- a company with less than one complete year -----------------------------------------------------


def _young_company(session: Session) -> dict[str, int]:
    ids = make_org(session, regions=1, teams=1, reps=2)
    rows = [{"line_id": f"{code}-{d}", "order_id": f"O-{code}-{d}", "order_date": d, "rep_id": ids[code], "product_id": None,
             "amount": 1_000_00 * (3 if d.month == 12 else 1), "quantity": 1, "currency": "CNY"}
            for code in ("R1-T1-1", "R1-T1-2") for d in (date(2026, m, 15) for m in range(3, 13))]
    session.execute(insert(OrderLine), rows)
    session.commit()
    return ids


def test_growth_on_less_than_a_complete_year_is_refused(session: Session) -> None:
    _young_company(session)
    with pytest.raises(InvalidInput, match="no complete year of revenue to grow from.*starts on 2026-03-15"):
        create_target(session=session, name="G", year=2027, metric_code="revenue", by="a", growth="0.1", as_of=date(2027, 1, 5))


def test_seasonal_split_and_check_on_less_than_a_year_warn(session: Session) -> None:
    _young_company(session)
    as_of = date(2027, 1, 5)
    create_target(session=session, name="Y", year=2027, metric_code="revenue", by="a", total="100000", as_of=as_of)
    report = split_plan(session=session, name="Y", options=SplitOptions(by=("org", "time"), method="history"), by="a",
                        as_of=as_of)
    assert report.baseline is not None and report.baseline["complete"] is False
    assert any("less than one complete year" in w for w in report.warnings)
    check = check_plan(session=session, name="Y", as_of=as_of)
    warning = [f for f in check.findings if f.check == "realistic" and f.cell == "plan"]
    assert warning and warning[0].severity == "warning" and "less than one complete year" in warning[0].message


def test_fiscal_year_setting_moves_the_growth_base(session: Session) -> None:
    ids = make_org(session, regions=1, teams=1, reps=1)
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(0, 700, 7)]
    session.execute(insert(OrderLine), [
        {"line_id": f"L{d}", "order_id": f"O{d}", "order_date": d, "rep_id": ids["R1-T1-1"], "product_id": None,
         "amount": 100_00, "quantity": 1, "currency": "CNY"} for d in days])
    set_setting(session, "fiscal_year_start_month", 7)
    session.commit()
    created = create_target(session=session, name="F", year=2027, metric_code="revenue", by="a", growth="0", as_of=TODAY)
    assert created.baseline is not None and created.baseline.label == "FY2026"
    assert created.base == 100_00 * sum(1 for d in days if date(2025, 7, 1) <= d <= date(2026, 6, 30))


# --- seasonal weights in tracking: complete months, whole years --------------------------------------


def _strong_december(start: date, end: date) -> tuple[np.ndarray, np.ndarray]:
    days = day_range(start, end)
    months = days.astype("datetime64[M]").astype(np.int64) % 12
    amounts = np.where(months == 11, 3.0, 1.0) * working_day_mask(days)[0]
    return days, amounts


def _december_over_january(weights: np.ndarray, days: np.ndarray) -> float:
    months = days.astype("datetime64[M]").astype(np.int64) % 12
    workdays = working_day_mask(days)[0]
    per_day = [weights[(months == m) & workdays].mean() for m in (11, 0)]
    return float(per_day[0] / per_day[1])


def test_seasonal_weights_learn_from_whole_years_not_a_part_year() -> None:
    # Sales through 2 December 2026, December three times as strong: eleven months of 2026 must not
    # count as a year (its mean lacks December, inflating every other month).
    history_days, amounts = _strong_december(date(2024, 1, 1), TODAY)
    keep = amounts > 0
    target = day_range(date(2027, 1, 1), date(2027, 12, 31))
    weights, _ = seasonal_day_weights(target, working_day_mask(target)[0], history_days[keep], amounts[keep])
    assert _december_over_january(weights, target) == pytest.approx(3.0, rel=1e-9)


def test_tracking_history_weights_use_complete_months_only(session: Session) -> None:
    ids = make_org(session, regions=1, teams=1, reps=1)
    days, amounts = _strong_december(date(2024, 1, 1), TODAY)
    rows = [{"line_id": f"L{d}", "order_id": f"O{d}", "order_date": d, "rep_id": ids["R1-T1-1"], "product_id": None,
             "amount": int(a * 100_00), "quantity": 1, "currency": "CNY"}
            for d, a in zip(days.astype(object), amounts) if a > 0]
    # An order dated ahead (a booked delivery) must not make the running December look complete.
    rows.append({"line_id": "ahead", "order_id": "ahead", "order_date": date(2026, 12, 31), "rep_id": ids["R1-T1-1"],
                 "product_id": None, "amount": 100_00, "quantity": 1, "currency": "CNY"})
    session.execute(insert(OrderLine), rows)
    session.commit()
    period = year(2027)
    weights, _warnings = history_weights(SessionRunner(session), "revenue", period, as_of=TODAY)
    assert weights is not None
    assert _december_over_january(weights, day_range(period.start, period.end)) == pytest.approx(3.0, rel=1e-6)


# --- the web split wizard: the same baseline, no SQL of its own ---------------------------------------


def test_web_wizard_history_shares_come_from_the_complete_year(demo_today: str) -> None:
    from sqlalchemy import select

    from attain.org.models import OrgNode
    from attain.plans.wizard import WizardSpec, preview

    history = month_actuals(demo_today, "2025")
    base = sum(history.values())
    session = make_session_factory(get_engine(demo_today))()
    try:
        company = session.scalars(select(OrgNode).where(OrgNode.parent_id.is_(None))).one()
        spec = WizardSpec(name="W", year=2027, total=300_000_000_00, unit=100, scope=company, org_level=None,
                          org_method="equal", time=True, time_method="history", product=False, product_method="equal",
                          product_weights="", customer_type=False, customer_method="weights", customer_weights="",
                          as_of=TODAY)
        result = preview(session=session, spec=spec)
    finally:
        session.close()
    assert result.window is not None and result.window.label == "2025" and "2026 is not complete" in result.window.note
    months = result.cells.reshape(-1)
    assert abs(Decimal(int(months[11])) / Decimal(int(months.sum())) - history["2025-12"] / base) < Decimal("0.0001")
