"""Showing tracking figures: exact JSON payloads and human formatting (万 in Chinese).

JSON keeps every figure exact: money as a string of yuan with two decimals ("1234.50"), counts as
integers, ratios as strings with four decimals ("0.8382" = 83.82 %). Tables round for reading.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

import numpy as np

WAN = Decimal(10_000)
YI = Decimal(100_000_000)

# Tracking's statuses (`calc.status_of`; None: the row has no target) in Chinese and English.
STATUS_LABELS: dict[str | None, tuple[str, str]] = {
    "ahead": ("领先", "ahead"), "on track": ("正常", "on track"), "at risk": ("有风险", "at risk"),
    "behind": ("落后", "behind"), "not started": ("未开始", "not started"), None: ("无目标", "no target"),
}


def in_units(value: int | Decimal | None, scale: int) -> int | str | None:
    """A stored figure in whole units, exact: an int for counts, a string for money/decimals."""
    if value is None:
        return None
    if scale == 0 and (isinstance(value, int) or value == value.to_integral_value()):
        return int(value)
    step = Decimal(1).scaleb(-scale)
    return str(Decimal(value).scaleb(-scale).quantize(step, rounding=ROUND_HALF_EVEN))


def human(value: int | Decimal | None, scale: int, *, lang: str = "zh", money: bool = True) -> str:
    """For tables: 1,234.56 in English; 123.46万 / 1.23亿 in Chinese when the figure is that big."""
    if value is None:
        return ""
    units = Decimal(value).scaleb(-scale)
    if lang == "zh" and money and abs(units) >= YI:
        return f"{(units / YI).quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN):,}亿"
    if lang == "zh" and money and abs(units) >= WAN:
        return f"{(units / WAN).quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN):,}万"
    places = Decimal("0.01") if money else Decimal(1) if scale == 0 else Decimal("0.01")
    return f"{units.quantize(places, rounding=ROUND_HALF_EVEN):,}"


def percent(value: Decimal | Fraction | None) -> str:
    """0.8382 → '83.8%'."""
    if value is None:
        return ""
    return f"{(Decimal(value.numerator) / Decimal(value.denominator) if isinstance(value, Fraction) else value) * 100:.1f}%"


def share(value: Fraction | Decimal) -> str:
    """An exact share as a 4-decimal string for JSON."""
    exact = Decimal(value.numerator) / Decimal(value.denominator) if isinstance(value, Fraction) else value
    return str(exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN))


def ratio_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def actuals_payload(result: Any) -> dict[str, Any]:
    """JSON of an `attainment.Actuals`."""
    scale = result.metric.scale
    return {
        "metric": result.metric.code, "unit": result.metric.unit, "period": result.period.label,
        "start": result.start, "end": result.end, "by": list(result.dimensions), "engine": result.engine,
        "rows": [
            {"key": dict(zip(result.dimensions, row.key)), "labels": dict(zip(result.dimensions, row.labels)),
             "value": in_units(row.value, scale)}
            for row in result.rows
        ],
        "total": in_units(result.total, scale),
    }


def progress_payload(progress: Any) -> dict[str, Any]:
    return {
        "start": progress.start, "end": progress.end, "days": progress.days, "days_elapsed": progress.days_elapsed,
        "working_days": progress.working_days, "working_days_elapsed": progress.working_days_elapsed,
        "calendar_share": share(progress.calendar_share), "working_share": share(progress.working_share),
        "seasonal_share": share(progress.seasonal_share),
    }


def attainment_row_payload(row: Any, dimensions: tuple[str, ...], scale: int) -> dict[str, Any]:
    figures = row.figures
    return {
        "key": dict(zip(dimensions, row.key)), "labels": dict(zip(dimensions, row.labels)), "node_id": row.node_id,
        "actual": in_units(row.actual, scale), "target": in_units(row.target, scale),
        "target_source": row.target_source, "attainment": ratio_text(figures.attainment),
        "time_progress_calendar": share(row.progress.calendar_share),
        "time_progress_working": share(row.progress.working_share),
        "pace_gap": ratio_text(figures.pace_gap),
        "expected_to_date": in_units(figures.expected_to_date, scale),
        "run_rate_forecast": in_units(figures.run_rate_forecast, scale),
        "seasonal_forecast": in_units(figures.seasonal_forecast, scale),
        "required_daily": in_units(figures.required_daily, scale),
        "working_days_left": row.progress.working_days_left,
        "status": figures.status,
    }


def attainment_payload(result: Any) -> dict[str, Any]:
    """JSON of an `attainment.Attainment`."""
    scale = result.metric.scale
    return {
        "plan": result.plan, "plan_version": result.plan_version, "metric": result.metric.code,
        "unit": result.metric.unit, "period": result.period.label, "as_of": result.as_of,
        "by": list(result.dimensions), "engine": result.engine,
        "time_progress": progress_payload(result.total.progress),
        "rows": [attainment_row_payload(r, result.dimensions, scale) for r in result.rows],
        "total": attainment_row_payload(result.total, result.dimensions, scale),
        "warnings": list(result.warnings),
    }


def milestones_payload(milestones: Any) -> dict[str, Any]:
    return {
        "reached": {f"{int(share * 100)}%": day for share, day in milestones.reached},
        "first_deal": milestones.first_deal,
        "longest_day_streak": milestones.longest_day_streak, "current_day_streak": milestones.current_day_streak,
        "longest_week_streak": milestones.longest_week_streak, "current_week_streak": milestones.current_week_streak,
    }


def leaderboard_payload(result: Any) -> dict[str, Any]:
    """JSON of a `leaderboard.Leaderboard`."""
    report = result.report
    scale = report.metric.scale
    return {
        "plan": report.plan, "metric": report.metric.code, "unit": report.metric.unit, "period": report.period.label,
        "as_of": report.as_of, "by": report.dimensions[0], "engine": report.engine,
        "rows": [
            {"rank": leader.rank, **attainment_row_payload(leader.row, report.dimensions, scale),
             "milestones": milestones_payload(leader.milestones)}
            for leader in result.rows
        ],
    }


def _fixed_texts(values: list[int], known: list[bool], places: int) -> list[str | None]:
    """Integers in 10**-places as decimal strings ("-0.05"), None where not known: the text of
    `Decimal(v).scaleb(-places)` (quantized), without a Decimal per value."""
    step = 10**places
    return [f"{'-' if v < 0 else ''}{abs(v) // step}.{abs(v) % step:0{places}d}" if k else None
            for v, k in zip(values, known)]


def _units_column(values: Any, known: Any, scale: int) -> list[int | str | None]:
    """`in_units` of an integer column (minor units), None where not known."""
    ints, keep = values.tolist(), known.tolist()
    if scale == 0:
        return [int(v) if k else None for v, k in zip(ints, keep)]
    return _fixed_texts(ints, keep, scale)  # type: ignore[return-value]


def attainment_columns_payload(result: Any) -> dict[str, Any]:
    """JSON of an `attainment.AttainmentColumns`: the same as `attainment_payload` of its view,
    built a column at a time (a rep × month report is 60,000 rows)."""
    scale, n, dims = result.metric.scale, len(result), result.dimensions
    everyone = np.ones(n, dtype=bool)
    if all(type(a) is int for a in result.actuals):
        actual = _units_column(np.array(result.actuals, dtype=object), everyone, scale)
    else:
        actual = [in_units(a, scale) for a in result.actuals]
    target = _units_column(result.target, result.has_target, scale)
    window = result.window.tolist()
    per_progress = [(share(p.calendar_share), share(p.working_share), p.working_days_left) for p in result.progresses]
    calendar_share, working_share, days_left = (list(map(column.__getitem__, window)) for column in zip(*per_progress)) \
        if n else ([], [], [])
    f = result.figures
    if f is None:
        nothing = [None] * n
        attainment = pace_gap = expected = run_rate = seasonal = required = status = nothing
    else:
        attainment = _fixed_texts(f.attainment.tolist(), f.has_attainment.tolist(), 4)
        pace_gap = _fixed_texts(f.pace_gap.tolist(), f.has_attainment.tolist(), 4)
        expected = _units_column(f.expected_to_date, f.has_target, scale)
        run_rate = _units_column(f.run_rate_forecast, f.has_run_rate, scale)
        seasonal = _units_column(f.seasonal_forecast, f.has_season, scale)
        required = _units_column(f.required_daily, f.has_required, scale)
        status = f.status.tolist()
    labels = list(zip(*result.labels)) if result.labels else [()] * n
    names = ("key", "labels", "node_id", "actual", "target", "target_source", "attainment", "time_progress_calendar",
             "time_progress_working", "pace_gap", "expected_to_date", "run_rate_forecast", "seasonal_forecast",
             "required_daily", "working_days_left", "status")
    rows = [dict(zip(names, row)) for row in zip(
        (dict(zip(dims, key)) for key in result.keys), (dict(zip(dims, label)) for label in labels), result.node_ids,
        actual, target, result.sources, attainment, calendar_share, working_share, pace_gap, expected, run_rate,
        seasonal, required, days_left, status)]
    return {
        "plan": result.plan, "plan_version": result.plan_version, "metric": result.metric.code,
        "unit": result.metric.unit, "period": result.period.label, "as_of": result.as_of,
        "by": list(dims), "engine": result.engine,
        "time_progress": progress_payload(result.total.progress),
        "rows": rows,
        "total": attainment_row_payload(result.total, dims, scale),
        "warnings": list(result.warnings),
    }
