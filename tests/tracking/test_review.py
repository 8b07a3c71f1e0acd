"""Weekly review pack, and diagnosis / P(hit) on the demo company (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from attain.cli.main import app
from attain.errors import InvalidInput
from attain.periods import parse_period
from attain.tracking.diagnosis import diagnose, funnel_counts
from attain.tracking.pipeline import forecast
from attain.tracking.review import build_review, render_html, svg_bars, write_review

WEEK = "2026-W46"  # 9 – 15 November 2026; the demo's data run to 2026-11-23


def test_funnel_counts_equal_a_pandas_recount(demo: Session) -> None:
    connection = demo.connection()
    opportunities = pd.read_sql(text(
        "SELECT o.rep_id, o.stage, o.created_on, o.closed_on, n.parent_id AS team FROM opportunities o "
        "JOIN org_nodes n ON n.id = o.rep_id"), connection)
    for column in ("created_on", "closed_on"):
        opportunities[column] = pd.to_datetime(opportunities[column]).dt.date
    start, end = date(2026, 10, 1), date(2026, 10, 31)
    created = opportunities[(opportunities.created_on >= start) & (opportunities.created_on <= end)]
    won = opportunities[(opportunities.stage == "won") & (opportunities.closed_on >= start) & (opportunities.closed_on <= end)]
    leads, deals = funnel_counts(session=demo, level="team", start=start, end=end)
    assert leads == {int(k): int(v) for k, v in created.groupby("team").size().items()}
    assert deals == {int(k): int(v) for k, v in won.groupby("team").size().items()}
    assert sum(leads.values()) > 0 and sum(deals.values()) > 0


@pytest.mark.parametrize("reference", ["target", "last-year"])
def test_demo_diagnosis_parts_add_up_to_every_gap(demo: Session, reference: str) -> None:
    result = diagnose(session=demo, period=parse_period("2026-10"), level="rep", reference=reference, as_of=date(2026, 11, 23))
    assert len(result.rows) >= 25
    for row in result.rows:
        assert sum(row.parts.values()) == row.gap == row.actual - row.reference
        assert (row.cause is None) == (row.gap >= 0)
    assert any(row.cause for row in result.rows)


def test_demo_forecast_is_ordered_and_reproducible(demo: Session) -> None:
    period = parse_period("2026-11")
    first = forecast(session=demo, period=period, level="team", as_of=date(2026, 11, 16), draws=2_000)
    again = forecast(session=demo, period=period, level="team", as_of=date(2026, 11, 16), draws=2_000)
    assert [r.as_dict() for r in first.rows] == [r.as_dict() for r in again.rows]
    assert len(first.rows) == 6
    for row in first.rows:
        assert row.actual <= row.p10 <= row.p50 <= row.p90
        assert row.p_hit is not None and 0 <= row.p_hit <= 1


def test_review_pack_xlsx_has_every_sheet_and_native_charts(demo: Session, tmp_path: Path) -> None:
    pack = build_review(session=demo, week=WEEK, by="rep")
    assert pack.month.label == "2026-11" and str(pack.as_of) == "2026-11-15"
    out = tmp_path / "review.xlsx"
    write_review(pack, out)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["达成 Attainment", "排行 Leaderboard", "诊断 Diagnosis", "预测 Forecast", "预警 Alerts"]
    attainment_sheet = book["达成 Attainment"]
    assert attainment_sheet.cell(3, 1).value == "对象 / node"
    assert attainment_sheet.max_row == 3 + len(pack.attainment.rows) + 1  # rows and the total
    total = attainment_sheet.cell(attainment_sheet.max_row, 2).value
    assert total == pytest.approx(pack.attainment.total.actual / 100)
    with zipfile.ZipFile(out) as archive:
        charts = [name for name in archive.namelist() if name.startswith("xl/charts/chart")]
    assert len(charts) == 3


def test_review_pack_html_is_self_contained(demo: Session, tmp_path: Path) -> None:
    pack = build_review(session=demo, week=WEEK, by="team")
    page = render_html(pack)
    assert page.count("<svg") == 3
    assert "<script" not in page and "cdn" not in page.lower() and "src=\"http" not in page
    for heading in ("达成 Attainment", "排行 Leaderboard", "诊断 Diagnosis", "预测 Forecast", "预警 Alerts"):
        assert heading in page
    out = tmp_path / "review.html"
    write_review(pack, out)
    assert out.read_text(encoding="utf-8") == page


def test_svg_bars_draw_negative_values_left_of_zero() -> None:
    svg = svg_bars(["甲", "乙"], [100.0, -50.0], percent=False, title="gap")
    assert svg.count("<rect") == 2 and 'fill="#d8553b"' in svg and "-50" in svg
    assert svg_bars([], [], percent=True, title="empty") == ""


def test_a_week_across_two_months_reviews_the_month_of_its_thursday(demo: Session) -> None:
    pack = build_review(session=demo, week="2026-W44", by="team")  # 26 Oct – 1 Nov
    assert pack.month.label == "2026-10" and str(pack.as_of) == "2026-11-01"
    assert pack.attainment.total.progress.days_elapsed == 31


def test_review_rejects_bad_week_level_and_file(demo: Session, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not an ISO week"):
        build_review(session=demo, week="2026-11", by="rep")
    with pytest.raises(InvalidInput, match="rep or team"):
        build_review(session=demo, week=WEEK, by="region")
    with pytest.raises(InvalidInput, match="2026-W99"):
        build_review(session=demo, week="2026-W99", by="rep")


def test_cli_review(demo_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "pack.xlsx"
    result = runner.invoke(app, ["review", "--week", WEEK, "--out", str(out), "--db", demo_url, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["week"] == WEEK and out.stat().st_size > 5_000
    bad = runner.invoke(app, ["review", "--week", WEEK, "--out", str(tmp_path / "pack.pdf"), "--db", demo_url])
    assert bad.exit_code != 0 and "pack.pdf" in str(bad.exception)
