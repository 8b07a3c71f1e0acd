"""`attain split` with a prior in a long CSV or Parquet file, the fast JSON reading of a spec, and
the prior table built with dict lookups: the same split as the spec's own list of cells."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

from attain.cli.main import app
from attain.errors import InvalidInput
from attain.split.calc import Axis, Shares
from attain.split.spec import parse_spec, prior_from_columns

ATTAIN = Path(sys.executable).parent / "attain"
REPS = [f"rep{i:03d}" for i in range(40)]
MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]


def rows() -> list[tuple[str, str, float]]:
    rng = np.random.default_rng(3)
    weights = rng.gamma(2.0, 1.0, (len(REPS), len(MONTHS))).round(3)
    return [(rep, month, float(weights[i, j])) for i, rep in enumerate(REPS) for j, month in enumerate(MONTHS)]


def spec(prior: object) -> dict[str, object]:
    return {
        "total": "12000000", "unit": "100",
        "axes": [{"name": "rep", "members": {rep: 1 + i % 3 for i, rep in enumerate(REPS)}},
                 {"name": "month", "members": MONTHS, "shares": "history"}],
        "prior": prior,
    }


def write_prior(path: Path, table: list[tuple[object, ...]], columns: str = "rep VARCHAR, month VARCHAR, value DOUBLE") -> Path:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE prior ({columns})")
    if table:
        con.executemany(f"INSERT INTO prior VALUES ({', '.join('?' * len(table[0]))})", table)
    fmt = "csv, HEADER true" if path.suffix == ".csv" else "parquet"
    con.execute(f"COPY prior TO '{path}' (FORMAT {fmt})")
    con.close()
    return path


def split_json(tmp_path: Path, data: dict[str, object], name: str = "spec.json") -> dict[str, object]:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    result = CliRunner().invoke(app, ["split", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def split_error(tmp_path: Path, data: dict[str, object] | str) -> str:
    path = tmp_path / "spec.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    result = CliRunner().invoke(app, ["split", str(path), "--json"])
    assert isinstance(result.exception, InvalidInput), result.output
    return str(result.exception)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_prior_file_gives_the_split_of_the_same_prior_in_the_spec(tmp_path, suffix):
    table = rows()
    in_spec = split_json(tmp_path, spec([{"cell": {"rep": r, "month": m}, "weight": w} for r, m, w in table]))
    write_prior(tmp_path / f"history{suffix}", table)
    from_file = split_json(tmp_path, spec(f"history{suffix}"), "spec-file.json")
    assert from_file == in_spec
    assert sum(int(c["target"]) for c in from_file["cells"]) == 12_000_000


def test_prior_file_may_name_the_value_column_weight_and_repeat_cells(tmp_path):
    table = rows()
    doubled = [(r, m, w / 2) for r, m, w in table] * 2  # each cell twice, halves that add up
    write_prior(tmp_path / "history.csv", doubled, "rep VARCHAR, month VARCHAR, weight DOUBLE")
    in_spec = split_json(tmp_path, spec([{"cell": {"rep": r, "month": m}, "weight": w} for r, m, w in table]))
    assert split_json(tmp_path, spec("history.csv"), "spec-file.json") == in_spec


@pytest.mark.parametrize(
    ("table", "columns", "message"),
    [
        ([("rep001", "2026-01", 1.0), ("nobody", "2026-02", 2.0)], None, "history.csv, line 3: axis 'rep' has no member 'nobody'"),
        ([("rep001", "2026-13", 1.0)], None, "line 2: axis 'month' has no member '2026-13'"),
        ([("rep001", "2026-01", 1.0), ("rep002", "2026-01", -5.0)], None, "line 3: value -5"),
        ([("rep001", "2026-01", "lots")], "rep VARCHAR, month VARCHAR, value VARCHAR", "line 2: value 'lots' is not a number"),
        ([("rep001", "2026-01", None)], None, "line 2: value None is missing or not a number"),
        ([("rep001", 1.0)], "rep VARCHAR, value DOUBLE", "has no column 'month'"),
        ([("rep001", "2026-01")], "rep VARCHAR, month VARCHAR", "has no column 'value'"),
        ([("rep001", "2026-01", "x", 1.0)], "rep VARCHAR, month VARCHAR, region VARCHAR, value DOUBLE",
         "a column 'region' that names no axis"),
    ],
)
def test_bad_prior_file_is_one_clear_error(tmp_path, table, columns, message):
    write_prior(tmp_path / "history.csv", table, columns or "rep VARCHAR, month VARCHAR, value DOUBLE")
    assert message in split_error(tmp_path, spec("history.csv"))


def test_negative_weight_in_a_parquet_prior_names_its_line(tmp_path):
    write_prior(tmp_path / "history.parquet", [("rep001", "2026-01", 1.0), ("rep002", "2026-03", -0.5)])
    error = split_error(tmp_path, spec("history.parquet"))
    assert "history.parquet, line 3: value -0.5; history weights must be zero or more" in error


@pytest.mark.parametrize(
    ("name", "message"),
    [("missing.csv", "prior file not found"), ("history.xlsx", "must be .csv or .parquet")],
)
def test_prior_file_missing_or_of_another_kind(tmp_path, name, message):
    assert message in split_error(tmp_path, spec(name))


def test_unreadable_prior_file_is_an_error_not_a_traceback(tmp_path):
    (tmp_path / "history.parquet").write_bytes(b"not parquet at all")
    assert "cannot read the prior file" in split_error(tmp_path, spec("history.parquet"))


def test_prior_file_needs_a_reader():
    with pytest.raises(InvalidInput, match="names a file"):
        parse_spec(spec("history.csv"))


def test_prior_columns_of_ints_match_members_by_their_text():
    axes = (Axis("year", ("2025", "2026")), Axis("kind", ("a", "b"), Shares.HISTORY))
    table = prior_from_columns({"year": [2025, 2026, 2026], "kind": ["a", "b", "b"], "value": ["1.5", 2, 3.25]}, axes, "t")
    assert table.tolist() == [[1.5, 0.0], [0.0, 5.25]]


def test_prior_in_the_spec_adds_repeated_cells_and_reads_every_kind_of_entry():
    data = {
        "total": "100",
        "axes": [{"name": "year", "members": ["2025", "2026"]}, {"name": "kind", "members": ["a", "b"]}],
        # A member written as a number, a weight as a string with spaces, a repeated cell.
        "prior": [{"cell": {"year": 2025, "kind": "a"}, "weight": " 1.5 "}, {"cell": {"kind": "b", "year": "2026"}, "weight": 2},
                  {"cell": {"year": "2026", "kind": "b"}, "weight": 0.25}],
    }
    assert parse_spec(data).prior.tolist() == [[1.5, 0.0], [0.0, 2.25]]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"cell": {"year": "2025", "kind": "a", "region": "x"}, "weight": 1}, "prior entry 2 names unknown axis 'region'"),
        ({"cell": {"year": "2025"}, "weight": 1}, "prior entry 2 does not name a member of axis 'kind'"),
        ({"cell": {"year": "2025", "kind": "c"}, "weight": 1}, "prior entry 2: axis 'kind' has no member 'c'"),
        ({"cell": {"year": "2025", "kind": "a"}, "weight": True}, "weight of 'prior entry 2' must be a number"),
        ({"cell": {"year": "2025", "kind": "a"}, "weight": "NaN"}, "prior entry 2 has weight nan"),
        ({"cell": {"year": "2025", "kind": "a"}, "weight": -2}, "prior entry 2 has weight -2.0"),
        (["2025", "a"], "prior entry 2 must be a JSON object"),
    ],
)
def test_bad_prior_entry_after_good_ones_is_named(entry, message):
    data = {"total": "100", "axes": [{"name": "year", "members": ["2025", "2026"]}, {"name": "kind", "members": ["a", "b"]}],
            "prior": [{"cell": {"year": "2025", "kind": "a"}, "weight": 1}, entry]}
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_spec(data)


@pytest.mark.parametrize(
    "text",
    [
        # A key repeated inside a prior cell, written tight and with a space before the colon.
        ('{"total": "900", "axes": [{"name": "rep", "members": ["a", "b"]}], '
         '"prior": [{"cell": {"rep": "a", "rep": "b"}, "weight": 1}]}'),
        ('{"total": "900", "axes": [{"name": "rep", "members": ["a", "b"]}], '
         '"prior": [{"cell": {"rep" : "a", "rep" : "b"}, "weight": 1}]}'),
    ],
)
def test_repeated_key_is_caught_on_the_fast_json_path_too(tmp_path, text):
    assert "'rep' appears twice" in split_error(tmp_path, text)


def test_amounts_with_decimals_written_as_json_numbers_stay_exact(tmp_path):
    data = {"total": "0", "unit": "0.01", "axes": [{"name": "rep", "members": {"a": 1, "b": 2}}]}
    text = json.dumps(data).replace('"0"', "1000000.07").replace('"0.01"', "0.01")
    path = tmp_path / "spec.json"
    path.write_text(text, encoding="utf-8")
    payload = json.loads(CliRunner().invoke(app, ["split", str(path), "--json"]).stdout)
    assert payload["total"] == "1000000.07"
    assert sorted(c["target"] for c in payload["cells"]) == ["333333.36", "666666.71"]


def test_split_command_fast_path_in_a_process(tmp_path):
    write_prior(tmp_path / "history.parquet", rows())
    (tmp_path / "spec.json").write_text(json.dumps(spec("history.parquet")), encoding="utf-8")
    done = subprocess.run([str(ATTAIN), "split", "spec.json", "--json"], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "COLUMNS": "300"}, check=False)
    assert done.returncode == 0, done.stderr
    assert sum(int(c["target"]) for c in json.loads(done.stdout)["cells"]) == 12_000_000
    helped = subprocess.run([str(ATTAIN), "split", "--help"], capture_output=True, text=True, check=False,
                            env={**os.environ, "COLUMNS": "300"})
    assert helped.returncode == 0 and "--spread-zero-prior" in helped.stdout
