"""Seasonality backtest (issue 18): on every public set in ../shared/data with four or more years of
orders, predict each year's monthly shares from the years before and compare the weighted absolute
percentage error of the months (WAPE = Σ|predicted − actual| / Σ actual over the 12 months) of
- plain: the multi-year mean of the monthly shares (`split.calendar.month_shares_plain`), and
- improved: working-day adjustment + recency weights + shrinkage toward the mean
  (`split.calendar.month_shares_improved`).
Goal: the improved error at least 15 % below the plain one on each such set. A set with fewer than
four years is named with the reason. Run: .venv/bin/python benchmarks/seasonality.py
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import numpy as np

from attain.split.calendar import month_shares_improved, month_shares_plain

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
GOAL = 0.15


def _rows(path: Path, date_col: str, amount: str, fmt: str, encoding: str = "utf-8-sig") -> list[tuple[date, float]]:
    out = []
    with path.open(encoding=encoding, newline="") as f:
        for row in csv.DictReader(f):
            day = datetime.strptime(row[date_col].split(" ")[0], fmt).date()
            value = float(row[amount]) if amount in row else float(row["Quantity"]) * float(row["UnitPrice"])
            out.append((day, value))
    return out


SETS = {
    "superstore (current, 2019-2022)": lambda: _rows(DATA / "superstore" / "Sample - Superstore.csv", "Order Date", "Sales", "%d/%m/%y"),
    "superstore classic (2014-2017)": lambda: _rows(DATA / "superstore" / "classic_tableau10" / _classic(), "Order Date", "Sales", _classic_fmt()),
    "adventureworks reseller sales": lambda: _rows(DATA / "adventureworks_pl300_targets" / "FactResellerSales.csv", "OrderDate", "SalesAmount", "%Y-%m-%d"),
    "online retail (UCI sample)": lambda: _rows(DATA / "online_retail_uci_sample" / _retail(), "InvoiceDate", "Revenue", "%Y-%m-%d"),
}


def _classic() -> str:
    return next(p.name for p in (DATA / "superstore" / "classic_tableau10").glob("*.csv") if "rder" in p.name)


def _classic_fmt() -> str:
    return "%Y-%m-%d"


def _retail() -> str:
    return next(p.name for p in (DATA / "online_retail_uci_sample").glob("*.csv"))


def _workdays(year: int) -> np.ndarray:
    starts = np.array([np.datetime64(f"{year}-{m:02d}-01") for m in range(1, 13)])
    ends = np.append(starts[1:], np.datetime64(f"{year + 1}-01-01"))
    return np.busday_count(starts, ends).astype(np.float64)


def backtest(rows: list[tuple[date, float]]) -> tuple[list[int], float, float] | str:
    days = np.array([d.toordinal() for d, _ in rows])
    first, last = date.fromordinal(int(days.min())), date.fromordinal(int(days.max()))
    years = [y for y in range(first.year, last.year + 1) if date(y, 1, 1) >= first.replace(day=1) and date(y, 12, 1) <= last]
    if len(years) < 4:
        return f"only {len(years)} complete calendar year(s) ({first} … {last}); needs 4"
    sales = np.zeros((len(years), 12))
    for d, v in rows:
        if d.year in years:
            sales[years.index(d.year), d.month - 1] += v
    shares = sales / sales.sum(axis=1, keepdims=True)
    workdays = np.array([_workdays(y) for y in years])
    plain_err = improved_err = 0.0
    for k in range(1, len(years)):
        actual = shares[k]
        plain = month_shares_plain(shares[:k])
        improved = month_shares_improved(shares[:k], workdays[:k], workdays[k])
        plain_err += np.abs(plain - actual).sum() / actual.sum()
        improved_err += np.abs(improved - actual).sum() / actual.sum()
    n = len(years) - 1
    return years, plain_err / n, improved_err / n


def main() -> None:
    if not DATA.is_dir():
        print(f"no public data at {DATA}; nothing to measure")
        return
    for name, load in SETS.items():
        try:
            rows = load()
        except (FileNotFoundError, StopIteration, KeyError) as exc:
            print(f"{name}: cannot read ({exc})")
            continue
        result = backtest(rows)
        if isinstance(result, str):
            print(f"{name}: skipped — {result}")
            continue
        years, plain, improved = result
        gain = 1 - improved / plain
        print(f"{name}: years {years[0]}-{years[-1]}, WAPE plain {plain:.2%}, improved {improved:.2%}, "
              f"{gain:.1%} lower (goal ≥ {GOAL:.0%}: {'met' if gain >= GOAL else 'NOT met'})")


if __name__ == "__main__":
    main()
