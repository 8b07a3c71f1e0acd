"""`attain split SPEC.json --json` end to end against a bare NumPy script on the same spec.

Generates a split spec of REPS reps × 12 months (rep weights, months shared by a history prior of
one entry per cell: 120,000 cells at the default size), then times, each in a fresh process:

  bare NumPy   a script that parses the same JSON (stdlib json), builds the prior with dict
               lookups, runs 50 IPF sweeps to the rep and month margins, rounds to the unit and
               writes the cells as JSON (stdlib json): what a script without Attain does
  attain split `attain split SPEC.json --json` through the CLI (exact integer split: margins,
               IPF, controlled rounding that keeps every sum exact), output to a file

and prints both times and the ratio against the goal (issue 21: at most 2× the bare script).
The split's output is checked: every cell a multiple of the unit, rep and month sums equal to
the margins, the cells adding up to the total.

Usage: python benchmarks/split_spec.py [--reps 10000] [--repeat 1] [--prior json|csv|parquet] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

GOAL = 2.0
MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]
TOTAL, UNIT = 12_000_000_000, 100

BARE = r"""
import json, sys
import numpy as np

spec = json.loads(open(sys.argv[1], encoding="utf-8").read())
rep_axis, month_axis = spec["axes"]
reps = list(rep_axis["members"])
months = list(month_axis["members"])
rep_at = {m: i for i, m in enumerate(reps)}
month_at = {m: i for i, m in enumerate(months)}
total, unit = int(spec["total"]), int(spec["unit"])
rows = np.fromiter((rep_at[e["cell"]["rep"]] for e in spec["prior"]), np.int64)
cols = np.fromiter((month_at[e["cell"]["month"]] for e in spec["prior"]), np.int64)
weights = np.fromiter((float(e["weight"]) for e in spec["prior"]), np.float64)
prior = np.zeros((len(reps), len(months)))
np.add.at(prior, (rows, cols), weights)
rep_weights = np.array([float(w) for w in rep_axis["members"].values()])
rep_margin = total * rep_weights / rep_weights.sum()
month_margin = total * prior.sum(axis=0) / prior.sum()
table = prior.copy()
for _ in range(50):
    table *= (rep_margin / np.maximum(table.sum(axis=1), 1e-300))[:, None]
    table *= (month_margin / np.maximum(table.sum(axis=0), 1e-300))[None, :]
cells = (np.round(table / unit) * unit).astype(np.int64)
out = [{"rep": reps[i], "month": months[j], "target": str(cells[i, j])} for i in range(len(reps)) for j in range(len(months))]
sys.stdout.write(json.dumps({"total": str(total), "cells": out}, ensure_ascii=False, indent=2))
"""


def generate(reps: int, folder: Path, prior_format: str, seed: int = 21) -> Path:
    """The spec (and its prior file for csv/parquet); returns the spec's path."""
    rng = np.random.default_rng(seed)
    names = [f"rep{i:05d}" for i in range(reps)]
    rep_weights = rng.gamma(2.0, 1.0, reps).round(4)
    prior = rng.gamma(2.0, 1.0, (reps, len(MONTHS))).round(3) * np.array([0.7, 0.6, 1, 1, 1, 1.1, 0.9, 0.9, 1, 1.1, 1.2, 1.5])
    spec: dict[str, object] = {
        "total": str(TOTAL),
        "unit": str(UNIT),
        "axes": [
            {"name": "rep", "members": {n: str(w) for n, w in zip(names, rep_weights.tolist())}},
            {"name": "month", "members": MONTHS, "shares": "history"},
        ],
    }
    weights = prior.round(4).tolist()
    if prior_format == "json":
        spec["prior"] = [{"cell": {"rep": n, "month": m}, "weight": w}
                         for n, row in zip(names, weights) for m, w in zip(MONTHS, row)]
    else:
        import duckdb

        path = folder / f"prior.{prior_format}"
        con = duckdb.connect()
        con.execute("CREATE TABLE prior (rep VARCHAR, month VARCHAR, weight DOUBLE)")
        con.executemany("INSERT INTO prior VALUES (?, ?, ?)",
                        [(n, m, w) for n, row in zip(names, weights) for m, w in zip(MONTHS, row)])
        con.execute(f"COPY prior TO '{path}' (FORMAT {'csv, HEADER true' if prior_format == 'csv' else 'parquet'})")
        con.close()
        spec["prior"] = path.name
    path = folder / "spec.json"
    path.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return path


def run(command: list[str], out: Path) -> float:
    started = time.perf_counter()
    with out.open("wb") as sink:
        done = subprocess.run(command, check=False, stdout=sink, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr.decode()}")
    return elapsed


def check(out: Path, reps: int) -> None:
    """The split's sums are exact: cells are multiples of the unit and add up to every margin."""
    payload = json.loads(out.read_bytes())
    values = np.array([int(Decimal(c["target"])) for c in payload["cells"]], dtype=np.int64).reshape(reps, len(MONTHS))
    assert (values % UNIT == 0).all() and int(values.sum()) == TOTAL
    rep_margin = np.array([int(Decimal(v)) for v in payload["margins"]["rep"].values()])
    month_margin = np.array([int(Decimal(payload["margins"]["month"][m])) for m in MONTHS])
    assert (values.sum(axis=1) == rep_margin).all() and (values.sum(axis=0) == month_margin).all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per timing (best is kept)")
    parser.add_argument("--prior", choices=("json", "csv", "parquet"), default="json",
                        help="the prior inside the spec (json) or in a long file beside it")
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="attain-split-spec-"))
    folder.mkdir(parents=True, exist_ok=True)
    spec = generate(args.reps, folder, args.prior)
    cells = args.reps * len(MONTHS)
    print(f"spec: {args.reps:,} reps × {len(MONTHS)} months = {cells:,} cells, prior in {args.prior} "
          f"({spec.stat().st_size / 1e6:.1f} MB spec)", flush=True)
    bare_spec = spec
    if args.prior != "json":  # the bare script reads the prior from the JSON
        (folder / "bare").mkdir(exist_ok=True)
        bare_spec = generate(args.reps, folder / "bare", "json")
    attain = str(Path(sys.executable).with_name("attain"))
    bare = min(run([sys.executable, "-c", BARE, str(bare_spec)], folder / "bare.json") for _ in range(args.repeat))
    print(f"  bare NumPy script        {bare:7.2f} s", flush=True)
    split = min(run([attain, "split", str(spec), "--json"], folder / "split.json") for _ in range(args.repeat))
    check(folder / "split.json", args.reps)
    ratio = split / bare
    print(f"  attain split --json      {split:7.2f} s   (sums checked exact)")
    print(f"  ratio {ratio:.2f}× the bare script; goal ≤ {GOAL:.1f}×: {'met' if ratio <= GOAL else 'NOT met'}")
    if not args.keep:
        for path in sorted(folder.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
