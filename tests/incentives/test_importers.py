"""Plan files: one clear message naming the line (YAML) or sheet row (xlsx) and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from attain.errors import InvalidInput
from attain.incentives.importers import read_plan_file, read_yaml, validate_definition

GOOD = """\
name: Q
year: 2027
settlement: quarter
participants:
  - {node: A, target_incentive: 60000}
components:
  - code: commission
    type: rate_table
    metric: revenue
    target_plan: T2027
    mode: marginal
    bands:
      - {from: 0, to: 80, rate: 2}
      - {from: 80, to: 100, rate: 4}
      - {from: 100, rate: 6}
  - code: bonus
    type: payout_curve
    weight: 60
    metric: revenue
    target_plan: T2027
    points: [[50, 25], [100, 100]]
  - code: team_bonus
    type: payout_curve
    weight: 40
    metric: revenue
    target_plan: T2027
    attainment: {own: 70, team: 30}
    points: [[80, 50], [120, 150]]
"""


def validate(text: str):  # type: ignore[no-untyped-def]
    return validate_definition(read_yaml(text), target_plan_metric={"T2027": "revenue", "GP2027": "gross_profit"}.get,
                               node_exists=lambda code: code in ("A", "B"), metrics=("revenue", "gross_profit", "new_customers"))


def test_good_plan_reads_percents_and_yuan_exactly() -> None:
    plan = validate(GOOD)
    assert plan.participants[0].target_incentive == 6_000_000
    assert [c.weight_bp for c in plan.components] == [None, 6000, 4000]
    assert plan.components[0].spec["bands"][1] == {"from": "80", "to": "100", "rate": "4"}
    assert plan.components[2].spec["attainment"] == {"own": "70", "team": "30"}


@pytest.mark.parametrize(("old", "new", "message"), [
    ("      - {from: 80, to: 100, rate: 4}", "      - {from: 75, to: 100, rate: 4}",
     "line 14, components[1] 'commission'.bands[2].from: bands 1 and 2 overlap: band 2 starts at 75 % before band 1 ends at 80 %"),
    ("      - {from: 80, to: 100, rate: 4}", "      - {from: 85, to: 100, rate: 4}",
     "line 14, components[1] 'commission'.bands[2].from: gap between bands 1 and 2: 80 % to 85 % is in no band"),
    ("    points: [[50, 25], [100, 100]]", "    points: [[50, 25], [100, 20]]",
     "line 21, components[2] 'bonus'.points[2].payout: the curve goes down from 25 % to 20 % at 100 % attainment"),
    ("    weight: 40", "    weight: 30",
     "line 6, components: weights of the target-incentive components sum to 90 %, expected 100 % (bonus 60 %, team_bonus 30 %)"),
    ("    metric: revenue\n    target_plan: T2027\n    mode", "    metric: turnover\n    target_plan: T2027\n    mode",
     "line 9, components[1] 'commission'.metric: unknown metric 'turnover'"),
    ("    target_plan: T2027\n    mode", "    target_plan: FY1999\n    mode",
     "line 10, components[1] 'commission'.target_plan: no target plan named 'FY1999'"),
    ("    target_plan: T2027\n    mode", "    target_plan: GP2027\n    mode",
     "line 9, components[1] 'commission'.metric: target plan GP2027 sets gross_profit targets, not revenue"),
    ("    mode: marginal", "    mode: tiered", "line 11, components[1] 'commission'.mode: 'tiered' is not marginal"),
    ("    mode: marginal\n", "", "line 7, components[1] 'commission': 'mode' is required"),
    ("{node: A,", "{node: Z,", "line 5, participants[1].node: no rep, team or region with code 'Z'"),
    ("attainment: {own: 70, team: 30}", "attainment: {own: 70, team: 20}",
     "line 27, components[3] 'team_bonus'.attainment: attainment weights sum to 90 %, expected 100 %"),
])
def test_bad_definition_names_the_place(old: str, new: str, message: str) -> None:
    assert old in GOOD
    with pytest.raises(InvalidInput) as caught:
        validate(GOOD.replace(old, new, 1))
    assert str(caught.value).startswith(message), str(caught.value)


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(InvalidInput, match=r"plan.yaml: line 3: not valid YAML"):
        validate("name: Q\nyear: 2027\n  - bad: [\n")


def test_workbook_template_reads_like_yaml(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "plan.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("plan").write_column(0, 0, ["field", "name", "year", "settlement"]) or None
    sheet = book.get_worksheet_by_name("plan")
    sheet.write_column(0, 1, ["value", "Q", 2027, "quarter"])
    rows = {"participants": [["node", "target_incentive"], ["A", 60000]],
            "components": [["code", "type", "metric", "target_plan", "mode", "weight"],
                           ["commission", "rate_table", "revenue", "T2027", "marginal", None],
                           ["bonus", "payout_curve", "revenue", "T2027", None, 100]],
            "steps": [["component", "from", "to", "rate", "attainment", "payout"],
                      ["commission", 0, 80, 2, None, None], ["commission", 70, None, 4, None, None],
                      ["bonus", None, None, None, 50, 25], ["bonus", None, None, None, 100, 100]]}
    for name, table in rows.items():
        ws = book.add_worksheet(name)
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                if value is not None:
                    ws.write(r, c, value)
    book.close()
    with pytest.raises(InvalidInput) as caught:
        validate_definition(read_plan_file(path), target_plan_metric={"T2027": "revenue"}.get, node_exists=lambda c: True,
                            metrics=("revenue",))
    assert str(caught.value).startswith("sheet steps row 3, components[1] 'commission'.bands[2].from: bands 1 and 2 overlap")
