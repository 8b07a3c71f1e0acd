"""`attain report customers` end to end on a small hand-made company (SQLite and PostgreSQL):
revenue over the last 365 days, orders, recency, ABC grades, RFM segments, lifecycle, --node, --abc,
--limit, and the one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attain.cli.main import app
from attain.errors import AttainError

runner = CliRunner()
AS_OF = "2026-06-30"  # window 2025-07-01 … 2026-06-30
REPS = """code,name,team,region
R1,Alice,East team,East
R2,Bob,West team,West
"""
# K1 two orders; K2 one order and a cancellation (lowers revenue, is no order, not its last purchase);
# K3 Bob's; K4 only before the window; K5 without a rep (counts for the company, not for East);
# a line without customer (not graded) and one after the as-of day (not counted).
ORDERS = """order_id,order_date,rep,customer,customer_name,product,quantity,amount
SO1,2026-06-01,R1,K1,Kappa One,P1,1,5000.00
SO2,2026-03-01,R1,K1,Kappa One,P1,1,3000.00
SO3,2026-05-15,R1,K2,Kappa Two,P1,2,1000.00
SO3C,2026-05-20,R1,K2,Kappa Two,P1,-1,-200.00
SO4,2026-06-20,R2,K3,Kappa Three,P2,1,700.00
SO5,2025-03-01,R2,K4,Kappa Four,P2,1,900.00
SO6,2026-01-10,,K5,Kappa Five,P2,1,500.00
SO7,2026-02-01,R2,,,P2,1,100.00
SO8,2026-07-05,R1,K1,Kappa One,P1,1,10000.00
"""


@pytest.fixture
def company(database_url: str, tmp_path: Path) -> str:
    for kind, text in (("reps", REPS), ("orders", ORDERS)):
        path = tmp_path / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        result = runner.invoke(app, ["import", kind, str(path), "--db", database_url, "--json"])
        assert result.exit_code == 0, result.output
    return database_url


def customers(url: str, *args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["report", "customers", "--as-of", AS_OF, *args, "--db", url, "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def by_code(payload: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {row["code"]: row for row in payload["rows"]}


def test_customers_revenue_orders_recency_and_grades(company: str) -> None:
    payload = customers(company)
    rows = by_code(payload)
    assert [row["code"] for row in payload["rows"]] == ["K1", "K2", "K3", "K5", "K4"]  # revenue high to low
    assert {code: row["revenue"] for code, row in rows.items()} == {
        "K1": "8000.00", "K2": "800.00", "K3": "700.00", "K5": "500.00", "K4": "0.00",
    }
    assert {code: row["orders"] for code, row in rows.items()} == {"K1": 2, "K2": 1, "K3": 1, "K5": 1, "K4": 0}
    assert {code: row["recency_days"] for code, row in rows.items()} == {"K1": 29, "K2": 46, "K3": 10, "K5": 171, "K4": 486}
    # 8,000 of 10,000 is exactly 80 % (A); K2 + K3 bring 95 % (B); the rest C.
    assert {code: row["abc"] for code, row in rows.items()} == {"K1": "A", "K2": "B", "K3": "B", "K5": "C", "K4": "C"}
    assert rows["K4"]["segment"] == "lost" and (rows["K4"]["r"], rows["K4"]["f"], rows["K4"]["m"]) == (0, 0, 0)
    assert all(1 <= rows[code][score] <= 5 for code in ("K1", "K2", "K3", "K5") for score in "rfm")
    assert {code: row["lifecycle"] for code, row in rows.items()} == {
        "K1": "active", "K2": "new", "K3": "new", "K5": "sleeping", "K4": "lost",
    }
    assert (payload["as_of"], payload["since"], payload["node"], payload["abc"]) == (AS_OF, "2025-07-01", None, {"a": "80", "b": "15"})


def test_customers_summary_counts_and_exact_shares(company: str) -> None:
    payload = customers(company)
    grades = payload["summary"]["grades"]
    assert payload["revenue"] == "10000.00" and payload["customers"] == 5
    assert {g: (v["customers"], v["revenue"], v["share"]) for g, v in grades.items()} == {
        "A": (1, "8000.00", "0.8000"), "B": (2, "1500.00", "0.1500"), "C": (2, "500.00", "0.0500"),
    }
    assert sum(Decimal(v["revenue"]) for v in grades.values()) == Decimal(payload["revenue"])
    assert sum(payload["summary"]["segments"].values()) == sum(payload["summary"]["lifecycle"].values()) == 5


def test_customers_of_a_node_only_count_its_reps_lines(company: str) -> None:
    payload = customers(company, "--node", "East")
    rows = by_code(payload)
    assert payload["node"] == "East" and set(rows) == {"K1", "K2"}
    assert (rows["K1"]["abc"], rows["K2"]["abc"]) == ("A", "B")  # 8,000 of 8,800 is 90.9 %
    assert payload["revenue"] == "8800.00"


def test_customers_other_thresholds_and_limit(company: str) -> None:
    payload = customers(company, "--abc", "50,30", "--limit", "2")
    assert [row["code"] for row in payload["rows"]] == ["K1", "K2"]
    assert payload["customers"] == 5  # the summary covers everyone
    assert {g: v["customers"] for g, v in payload["summary"]["grades"].items()} == {"A": 1, "B": 0, "C": 4}
    assert payload["abc"] == {"a": "50", "b": "30"}


def test_customers_table_in_both_languages(company: str) -> None:
    for lang, words in (("en", ("Customers", "K1", "8,000.00", "80.0%", "loyal")), ("zh", ("客户分级", "K1", "忠诚客户"))):
        result = runner.invoke(app, ["report", "customers", "--as-of", AS_OF, "--lang", lang, "--db", company])
        assert result.exit_code == 0, result.output
        for word in words:
            assert word in result.output, (lang, word)


@pytest.mark.parametrize(("args", "message"), [
    (["--abc", "90,20"], "A and B together at most 100 %"),
    (["--abc", "eighty"], "--abc 'eighty' needs two percentages"),
    (["--node", "Nowhere"], "no rep, team, region or company with code or name 'Nowhere'"),
    (["--as-of", "2026-13-01"], "--as-of '2026-13-01' is not a date"),
    (["--lang", "fr"], "--lang 'fr' is not zh or en"),
    (["--limit", "-1"], "--limit -1 must be 0"),
])
def test_customers_refuses_bad_input(company: str, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["report", "customers", *args, "--db", company])
    assert result.exit_code == 1 and isinstance(result.exception, AttainError), result.output
    assert message in str(result.exception)


def test_customers_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert runner.invoke(app, ["init", "--db", url]).exit_code == 0
    done = subprocess.run([sys.executable, "-m", "attain.cli.main", "report", "customers", "--abc", "80", "--db", url],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "error: --abc '80' needs two percentages like 80,15 (A's share, then B's; C is the rest)"
    ]
