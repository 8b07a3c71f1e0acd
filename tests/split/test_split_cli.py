"""`attain split` and `attain split-time` through the CLI: happy paths, files, and one-line errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from attain.cli.main import app
from attain.errors import InvalidInput

ATTAIN = Path(sys.executable).parent / "attain"

SPEC = {
    "total": "12000000",
    "unit": "100",
    "axes": [
        {"name": "customer_type", "members": {"new": 40, "existing": 60}},
        {"name": "product", "members": {"new_high_margin": 0.6, "mature": 0.4}},
        {"name": "quarter", "members": ["Q1", "Q2", "Q3", "Q4"]},
    ],
    "prior": [{"cell": {"customer_type": "new", "product": "mature", "quarter": "Q1"}, "weight": 123.0}],
    "locks": [
        {"cell": {"customer_type": "new", "product": "mature", "quarter": "Q1"}, "value": "500000"},
        {"member": {"quarter": "Q4"}, "value": "4000000"},
    ],
}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write_spec(tmp_path: Path, spec: dict | str, name: str = "spec.json") -> Path:
    path = tmp_path / name
    path.write_text(spec if isinstance(spec, str) else json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    return path


def run_json(runner: CliRunner, *args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_split_spec_without_prior_prints_exact_json(runner, tmp_path):
    spec = {key: value for key, value in SPEC.items() if key != "prior"}
    payload = run_json(runner, "split", str(write_spec(tmp_path, spec)))
    targets = [int(cell["target"]) for cell in payload["cells"]]
    assert payload["total"] == "12000000"
    assert sum(targets) == 12_000_000 and all(t % 100 == 0 for t in targets)
    assert payload["cells"][0] == {"customer_type": "new", "product": "new_high_margin", "quarter": "Q1", "target": "613400"}
    locked = next(c for c in payload["cells"] if (c["customer_type"], c["product"], c["quarter"]) == ("new", "mature", "Q1"))
    assert locked["target"] == "500000"
    assert payload["margins"]["quarter"]["Q4"] == "4000000"
    assert payload["margins"]["customer_type"] == {"new": "4800000", "existing": "7200000"}
    assert payload["fit"]["iterations"] > 0


def test_split_spec_with_sparse_prior_asks_to_spread_then_spreads(runner, tmp_path):
    path = write_spec(tmp_path, SPEC)
    result = runner.invoke(app, ["split", str(path), "--json"])
    assert isinstance(result.exception, InvalidInput)
    assert "has no history" in str(result.exception)
    # The only history cell is locked, so every member is spread by the other margins.
    payload = run_json(runner, "split", str(path), "--spread-zero-prior")
    assert sum(int(cell["target"]) for cell in payload["cells"]) == 12_000_000
    assert payload["margins"]["quarter"]["Q4"] == "4000000"


def test_split_explains_history_that_cannot_carry_a_target(runner, tmp_path):
    spec = {**SPEC, "locks": [], "spread_zero_prior": True}
    result = runner.invoke(app, ["split", str(write_spec(tmp_path, spec))])
    assert isinstance(result.exception, InvalidInput)
    message = str(result.exception)
    assert message.startswith("the history leaves no way to meet every target exactly: customer_type=")
    assert "misses its target by about 1800000" in message


def test_split_spec_with_history_prior(runner, tmp_path):
    prior = [
        {"cell": {"customer_type": c, "product": p, "quarter": q}, "weight": 2.0 if q == "Q1" else 1.0}
        for c in ("new", "existing") for p in ("new_high_margin", "mature") for q in ("Q1", "Q2", "Q3", "Q4")
    ]
    spec = {**SPEC, "prior": prior, "locks": []}
    spec["axes"] = SPEC["axes"][:2] + [{"name": "quarter", "members": ["Q1", "Q2", "Q3", "Q4"], "shares": "history"}]
    payload = run_json(runner, "split", str(write_spec(tmp_path, spec)))
    assert payload["margins"]["quarter"] == {"Q1": "4800000", "Q2": "2400000", "Q3": "2400000", "Q4": "2400000"}


def test_split_decimal_amounts_are_exact(runner, tmp_path):
    spec = {"total": "1000.05", "unit": "0.01", "axes": [{"name": "rep", "members": ["张三", "李四", "王五"]}]}
    payload = run_json(runner, "split", str(write_spec(tmp_path, spec)))
    assert payload["margins"]["rep"] == {"张三": "333.35", "李四": "333.35", "王五": "333.35"}


def test_split_capacity_axis_gives_july_hire_nothing_before_july(runner, tmp_path):
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    spec = {
        "total": "1200000", "unit": "100",
        "axes": [
            {"name": "rep", "capacity": {"time_axis": "month", "reps": {
                "ann": {"productivity": 100}, "bob": {"productivity": 100, "start": "2026-07-01"}}}},
            {"name": "month", "members": months, "shares": "history"},
        ],
    }
    payload = run_json(runner, "split", str(write_spec(tmp_path, spec)))
    bob = {c["month"]: int(c["target"]) for c in payload["cells"] if c["rep"] == "bob"}
    assert all(bob[m] == 0 for m in months[:6]) and bob["2026-12"] > 0
    assert int(payload["margins"]["rep"]["bob"]) < int(payload["margins"]["rep"]["ann"])


def test_split_table_output_shows_cells_and_margins(runner, tmp_path):
    spec = {key: value for key, value in SPEC.items() if key != "prior"}
    result = runner.invoke(app, ["split", str(write_spec(tmp_path, spec))])
    assert result.exit_code == 0
    assert "Total by quarter" in result.stdout and "4000000" in result.stdout


def test_split_writes_csv_with_bom_and_xlsx(runner, tmp_path):
    spec = {"total": "900", "unit": "1", "axes": [{"name": "区域", "members": ["华东", "华南", "华北"]}]}
    path = write_spec(tmp_path, spec)
    csv_path, xlsx_path = tmp_path / "out.csv", tmp_path / "out.xlsx"
    assert runner.invoke(app, ["split", str(path), "--out", str(csv_path)]).exit_code == 0
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["区域", "target"] and rows[1] == ["华东", "300"]
    assert runner.invoke(app, ["split", str(path), "--out", str(xlsx_path)]).exit_code == 0
    sheet = openpyxl.load_workbook(xlsx_path)["cells"]
    assert [c.value for c in sheet[2]] == ["华东", 300]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({**SPEC, "prior": None, "locks": [{"member": {"region": "x"}, "value": "100"}]}, "unknown axis 'region'"),
        ({"total": "100", "axes": [{"name": "rep", "members": {"a": -1, "b": 2}}]}, "weight of 'a' is -1"),
        ({"total": "12000050", "unit": "100", "axes": SPEC["axes"]}, "not a multiple of the rounding unit"),
        ({"total": "100", "axes": [{"name": "rep", "members": []}]}, "axis 'rep' has no members"),
        ({"total": "100", "axes": [{"name": "rep", "members": ["a", "a"]}]}, "lists member 'a' twice"),
        ('{"total": "100", "axes": [{"name": "rep", "members": {"a": 1, "a": 2}}]}', "'a' appears twice"),
        ('{"total": "100", "axes": [', "is not valid JSON"),
        ({"total": "lots", "axes": []}, "total is not an amount"),
    ],
)
def test_split_rejects_bad_spec(runner, tmp_path, spec, message):
    if isinstance(spec, dict) and spec.get("prior", "") is None:
        spec = {k: v for k, v in spec.items() if k != "prior"}
    result = runner.invoke(app, ["split", str(write_spec(tmp_path, spec))])
    assert isinstance(result.exception, InvalidInput)
    assert message in str(result.exception)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["split", "missing.json"], "file not found: missing.json"),
        (["split-time", "--start", "2026-01-01", "--end", "2026-12-31", "--total", "1050", "--unit", "100"], "not a multiple"),
    ],
)
def test_attain_command_prints_one_line_error_and_exits_1(tmp_path, args, message):
    # Wide COLUMNS: Rich wraps long lines at 80 columns when stderr is not a terminal.
    env = {**os.environ, "COLUMNS": "300"}
    completed = subprocess.run([str(ATTAIN), *args], check=False, capture_output=True, text=True, cwd=tmp_path, env=env)
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    assert completed.stderr.strip().count("\n") == 0
    assert message in completed.stderr


def test_split_time_json_lists_periods_with_working_days(runner):
    payload = run_json(
        runner, "split-time", "--start", "2026-01-01", "--end", "2026-12-31", "--total", "12000000",
        "--unit", "100", "--grain", "quarter", "--method", "working-days",
    )
    assert [p["period"] for p in payload["periods"]] == ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
    assert sum(int(p["target"]) for p in payload["periods"]) == 12_000_000
    assert payload["periods"][3]["working_days"] == 62
    assert payload["warnings"] == []


def test_split_time_2027_warns_in_json_and_on_stderr(runner):
    args = ["split-time", "--start", "2027-01-01", "--end", "2027-03-31", "--total", "300", "--grain", "month", "--method", "working-days"]
    payload = run_json(runner, *args)
    assert "2027" in payload["warnings"][0]
    completed = subprocess.run([str(ATTAIN), *args], check=False, capture_output=True, text=True)
    assert completed.returncode == 0
    assert "no official holiday calendar for 2027" in completed.stderr


def test_split_time_reads_calendar_file(runner, tmp_path):
    calendar = tmp_path / "cal.json"
    calendar.write_text(json.dumps({"holidays": ["2027-01-04"], "workdays": ["2027-01-02"]}), encoding="utf-8")
    payload = run_json(
        runner, "split-time", "--start", "2027-01-01", "--end", "2027-01-10", "--total", "60", "--grain", "day",
        "--method", "working-days", "--calendar", str(calendar),
    )
    by_day = {p["period"]: p["target"] for p in payload["periods"]}
    assert by_day["2027-01-04"] == "0" and by_day["2027-01-02"] != "0"


def test_split_time_seasonal_reads_gbk_history_with_chinese_headers(runner, tmp_path):
    lines = ["订单日期,客户,金额"]
    for year in (2024, 2025):
        for month in range(1, 13):
            amount = 300 if month == 2 else 1000
            lines += [f"{year}-{month:02d}-{day:02d},客户A,{amount}" for day in range(1, 29)]
    history = tmp_path / "orders.csv"
    history.write_bytes("\n".join(lines).encode("gbk"))
    payload = run_json(
        runner, "split-time", "--start", "2026-01-01", "--end", "2026-12-31", "--total", "12000000",
        "--unit", "100", "--grain", "month", "--method", "seasonal", "--history", str(history),
    )
    targets = [int(p["target"]) for p in payload["periods"]]
    assert sum(targets) == 12_000_000
    assert targets[1] == min(targets)


def test_split_time_rejects_history_without_amount_column(runner, tmp_path):
    history = tmp_path / "orders.csv"
    history.write_text("date,customer\n2025-01-01,a\n", encoding="utf-8")
    result = runner.invoke(app, ["split-time", "--start", "2026-01-01", "--end", "2026-12-31", "--total", "100",
                                 "--method", "seasonal", "--history", str(history)])
    assert isinstance(result.exception, InvalidInput)
    assert "no amount column" in str(result.exception)


def test_split_messages_show_amounts_as_written(runner, tmp_path):
    spec = {
        "total": "1000.50", "unit": "0.05",
        "axes": [{"name": "rep", "members": ["a", "b"]}, {"name": "month", "members": ["m1", "m2"]}],
        "locks": [{"cell": {"rep": "a", "month": "m1"}, "value": "900.25"}],
    }
    result = runner.invoke(app, ["split", str(write_spec(tmp_path, spec))])
    assert str(result.exception) == "lock rep=a, month=m1 (900.25) exceeds the target of rep=a (500.25)"
    spec["locks"] = [{"member": {"month": "m1"}, "value": "0.51"}]
    result = runner.invoke(app, ["split", str(write_spec(tmp_path, spec))])
    assert str(result.exception) == "lock month=m1 (0.51) is not a multiple of the rounding unit 0.05"


def test_split_reports_unwritable_output(runner, tmp_path):
    spec = {"total": "900", "axes": [{"name": "rep", "members": ["a", "b"]}]}
    path = write_spec(tmp_path, spec)
    for name in ("missing/out.csv", "missing/out.xlsx"):
        result = runner.invoke(app, ["split", str(path), "--out", str(tmp_path / name)])
        assert isinstance(result.exception, InvalidInput)
        assert "cannot write" in str(result.exception)


@pytest.mark.parametrize(
    ("prior", "message"),
    [
        ([{"cell": {"rep": "z"}, "weight": 1}], "axis 'rep' has no member 'z'"),
        ([{"cell": {"rep": "a"}, "weight": -1}], "prior entry 1 has weight -1.0"),
        ([{"cell": {"region": "a"}, "weight": 1}], "does not name a member of axis 'rep'"),
    ],
)
def test_split_rejects_bad_prior(runner, tmp_path, prior, message):
    spec = {"total": "900", "axes": [{"name": "rep", "members": ["a", "b"]}], "prior": prior}
    result = runner.invoke(app, ["split", str(write_spec(tmp_path, spec))])
    assert isinstance(result.exception, InvalidInput)
    assert message in str(result.exception)


def test_split_time_seasonal_requires_history(runner):
    result = runner.invoke(app, ["split-time", "--start", "2026-01-01", "--end", "2026-12-31", "--total", "100", "--method", "seasonal"])
    assert isinstance(result.exception, InvalidInput)
    assert "needs --history" in str(result.exception)


def test_split_time_axis_matches_split_time_and_carries_capacity(runner, tmp_path):
    spec = {
        "total": "12000000", "unit": "100",
        "axes": [
            {"name": "rep", "capacity": {"time_axis": "month", "reps": {
                "ann": {"productivity": 100}, "bob": {"productivity": 100, "start": "2026-07-01"}}}},
            {"name": "month", "time": {"start": "2026-01-01", "end": "2026-12-31", "grain": "month", "method": "working-days"}},
        ],
    }
    payload = run_json(runner, "split", str(write_spec(tmp_path, spec)))
    by_time = run_json(
        runner, "split-time", "--start", "2026-01-01", "--end", "2026-12-31", "--total", "12000000",
        "--unit", "100", "--grain", "month", "--method", "working-days",
    )
    assert payload["margins"]["month"] == {p["period"]: p["target"] for p in by_time["periods"]}
    bob = [int(c["target"]) for c in payload["cells"] if c["rep"] == "bob"]
    assert bob[:6] == [0] * 6 and all(t > 0 for t in bob[6:])


def test_split_seasonal_time_axis_reads_history_next_to_the_spec(runner, tmp_path):
    lines = ["date,amount"] + [
        f"{year}-{month:02d}-{day:02d},{200 if month == 2 else 1000}"
        for year in (2024, 2025) for month in range(1, 13) for day in range(1, 29)
    ]
    (tmp_path / "orders.csv").write_text("\n".join(lines), encoding="utf-8")
    spec = {
        "total": "1200000",
        "axes": [{"name": "month", "time": {"start": "2027-01-01", "end": "2027-12-31", "method": "seasonal", "history": "orders.csv"}}],
    }
    payload = run_json(runner, "split", str(write_spec(tmp_path, spec)))
    months = {m: int(v) for m, v in payload["margins"]["month"].items()}
    assert sum(months.values()) == 1_200_000
    assert months["2027-02"] == min(months.values())
    assert any("2027" in w for w in payload["warnings"])


@pytest.mark.parametrize(
    ("time", "message"),
    [
        ({"start": "2026-01-01", "end": "2026-12-31", "grain": "fortnight"}, "grain must be one of"),
        ({"start": "2026-01-01", "end": "2026-12-31", "method": "magic"}, "method must be equal, working-days or seasonal"),
        ({"end": "2026-12-31"}, "start of axis 'month' is missing"),
        ({"start": "2026-01-01", "end": "2026-12-31", "method": "seasonal"}, "needs \"history\""),
        ({"start": "2026-01-01", "end": "2026-12-31", "calendar": {"holidays": ["someday"]}}, "holidays entry must be a date"),
    ],
)
def test_split_rejects_bad_time_axis(runner, tmp_path, time, message):
    spec = {"total": "1200", "axes": [{"name": "month", "time": time}]}
    result = runner.invoke(app, ["split", str(write_spec(tmp_path, spec))])
    assert isinstance(result.exception, InvalidInput)
    assert message in str(result.exception)
