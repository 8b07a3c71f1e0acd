"""Creating and splitting plans on the database: exact cells at every level, locks kept, methods."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from attain.errors import Conflict, InvalidInput, NotFound
from attain.org.models import OrgNode
from attain.plans.edits import CellRef, set_lock
from attain.plans.service import require_plan
from attain.plans.setting import create_target
from attain.plans.splitting import SplitOptions, load_cells, split_plan
from tests.plans.conftest import add_sales, make_lines, make_org

SEED = SplitOptions(by=("org", "time", "product", "customer_type"), method="equal",
                    weights={"customer_type": {"new": "40", "existing": "60"}, "product": {"LA": "60", "LB": "40"}})


AS_OF = date(2027, 1, 5)  # 2026 is complete: the history tests' last year


def yuan(value: int) -> int:
    assert value % 100 == 0
    return value // 100


def test_seed_example_exact_cells(session: Session) -> None:
    ids = make_org(session, regions=2, teams=1, reps=2)
    lines = make_lines(session)
    create_target(session=session, name="FY2027", year=2027, metric_code="revenue", by="王总", total="12000000")
    report = split_plan(session=session, name="FY2027", options=SEED, by="王总")
    cells = load_cells(session=session, plan=require_plan(session=session, name="FY2027"))
    company = ids["COMPANY"]
    assert report.total == 12_000_000_00
    assert yuan(cells[("2027", company, None, "all")].value) == 12_000_000
    for q in range(1, 5):
        assert yuan(cells[(f"2027Q{q}", company, None, "all")].value) == 3_000_000
    for m in range(1, 13):
        label = f"2027-{m:02d}"
        assert yuan(cells[(label, company, None, "all")].value) == 1_000_000
        assert yuan(cells[(label, company, None, "new")].value) == 400_000
        assert yuan(cells[(label, company, None, "existing")].value) == 600_000
        assert yuan(cells[(label, company, lines["LA"], "all")].value) == 600_000
        assert yuan(cells[(label, company, lines["LB"], "all")].value) == 400_000
        assert yuan(cells[(label, company, lines["LA"], "new")].value) == 240_000
        assert yuan(cells[(label, company, lines["LB"], "existing")].value) == 240_000
        # equal over 2 regions and 2 reps each: every rep gets a quarter of every company cell
        assert yuan(cells[(label, ids["R1-T1-1"], lines["LA"], "new")].value) == 60_000
    assert yuan(cells[("2027", ids["R2"], None, "all")].value) == 6_000_000
    assert ("2027", ids["D0"], None, "all") not in cells  # the director owns the company target, no share of it
    assert cells[("2027", company, None, "all")].owner_id == ids["D0"]
    assert cells[("2027-03", ids["R1-T1-2"], None, "all")].owner_id == ids["R1-T1-2"]
    assert cells[("2027-03", ids["R1-T1-2"], None, "all")].rule == {"metric": "revenue", "achieved_at": "1.00", "review": "weekly"}
    assert_every_level_sums(session, cells)


def assert_every_level_sums(session: Session, cells: dict) -> None:  # type: ignore[type-arg]
    parent = {n.id: n.parent_id for n in session.query(OrgNode)}
    children: dict[tuple, int] = defaultdict(int)  # type: ignore[type-arg]
    for (period, node, product, ctype), cell in cells.items():
        if parent[node] is not None and (period, parent[node], product, ctype) in cells:
            children[(period, parent[node], product, ctype)] += cell.value
    assert children, "no parent cells"
    for key, total in children.items():
        assert cells[key].value == total, key
    months = defaultdict(int)  # type: ignore[var-annotated]
    for (period, node, product, ctype), cell in cells.items():
        if len(period) == 7:
            months[(period[:4], node, product, ctype)] += cell.value
    for key, total in months.items():
        assert cells[key].value == total


def test_resplit_keeps_locked_cells_and_resplits_the_rest(session: Session) -> None:
    ids = make_org(session, regions=2, teams=2, reps=2)
    create_target(session=session, name="P", year=2027, metric_code="revenue", by="a", total="1200000", unit="100")
    split_plan(session=session, name="P", options=SplitOptions(by=("org", "time")), by="a")
    from attain.plans.edits import set_cells

    set_cells(session=session, name="P", values={CellRef("R1-T1-1", "2027-03"): 5_000_00}, by="a")
    set_cells(session=session, name="P", values={CellRef("R2", "2027"): 700_000_00}, by="a")
    report = split_plan(session=session, name="P", options=SplitOptions(by=("org", "time"), method="equal"), by="a")
    cells = load_cells(session=session, plan=require_plan(session=session, name="P"))
    assert report.locked == 2
    assert cells[("2027-03", ids["R1-T1-1"], None, "all")].value == 5_000_00
    assert cells[("2027-03", ids["R1-T1-1"], None, "all")].locked
    assert cells[("2027", ids["R2"], None, "all")].value == 700_000_00
    assert cells[("2027", ids["R1"], None, "all")].value == 500_000_00
    assert cells[("2027", ids["COMPANY"], None, "all")].value == 1_200_000_00
    assert_every_level_sums(session, cells)


def test_history_split_follows_last_years_sales(session: Session) -> None:
    ids = make_org(session, regions=1, teams=1, reps=2)
    add_sales(session, ids, 2026, {"R1-T1-1": 30_000, "R1-T1-2": 10_000})
    create_target(session=session, name="H", year=2027, metric_code="revenue", by="a", growth="0.25", as_of=AS_OF)
    plan = require_plan(session=session, name="H")
    assert plan.total == 600_000_00  # (30,000 + 10,000) × 12 × 1.25
    split_plan(session=session, name="H", options=SplitOptions(by=("org", "time"), method="history"), by="a", as_of=AS_OF)
    cells = load_cells(session=session, plan=plan)
    assert cells[("2027", ids["R1-T1-1"], None, "all")].value == 450_000_00
    assert cells[("2027", ids["R1-T1-2"], None, "all")].value == 150_000_00
    assert cells[("2027-01", ids["R1-T1-1"], None, "all")].value == 37_500_00


def test_capacity_split_ramps_a_new_hire(session: Session) -> None:
    ids = make_org(session, regions=1, teams=1, reps=2)
    session.execute(update(OrgNode).where(OrgNode.id == ids["R1-T1-2"]).values(start_date=date(2027, 1, 1)))
    session.commit()
    create_target(session=session, name="C", year=2027, metric_code="revenue", by="a", total="2000000")
    split_plan(session=session, name="C", options=SplitOptions(by=("org", "time"), method="capacity"), by="a")
    cells = load_cells(session=session, plan=require_plan(session=session, name="C"))
    veteran, hire = ids["R1-T1-1"], ids["R1-T1-2"]
    # 25 % in the first month, fully ramped from the fourth (within one rounding unit of 1 yuan)
    assert abs(cells[("2027-01", hire, None, "all")].value * 4 - cells[("2027-01", veteran, None, "all")].value) <= 400
    assert abs(cells[("2027-12", hire, None, "all")].value - cells[("2027-12", veteran, None, "all")].value) <= 100
    assert cells[("2027-01", ids["COMPANY"], None, "all")].value < cells[("2027-12", ids["COMPANY"], None, "all")].value


def test_potential_split_uses_customer_grades(session: Session) -> None:
    from sqlalchemy import insert

    from attain.catalog.models import Customer

    ids = make_org(session, regions=1, teams=1, reps=2)
    session.execute(insert(Customer), [
        {"code": "C1", "name": "甲", "grade": "A", "owner_id": ids["R1-T1-1"]},
        {"code": "C2", "name": "乙", "grade": "C", "owner_id": ids["R1-T1-2"]},
    ])
    session.commit()
    create_target(session=session, name="PO", year=2027, metric_code="revenue", by="a", total="400000")
    split_plan(session=session, name="PO", options=SplitOptions(by=("org",), method="potential"), by="a")
    cells = load_cells(session=session, plan=require_plan(session=session, name="PO"))
    assert cells[("2027", ids["R1-T1-1"], None, "all")].value == 300_000_00
    assert {k[0] for k in cells} == {"2027"}


def test_create_from_capacity_reports_resources(session: Session) -> None:
    ids = make_org(session, regions=1, teams=1, reps=2)
    add_sales(session, ids, 2026, {"R1-T1-1": 10_000, "R1-T1-2": 10_000})
    created = create_target(session=session, name="CAP", year=2027, metric_code="revenue", by="a", from_capacity=True,
                            total="400000", cost_per_rep="200000", as_of=AS_OF)
    cap = created.capacity
    assert cap is not None and cap.headcount == 2 and cap.capacity == 240_000_00
    assert cap.gap == 160_000_00
    # a hire on 1 January ramps 25/50/75 % then 100 %: 10.5 months × 10,000
    assert cap.new_rep_output == 105_000_00 and cap.extra_reps == 2
    assert cap.budget == 4 * 200_000_00 and cap.extra_budget == 2 * 200_000_00
    built = create_target(session=session, name="CAP2", year=2027, metric_code="revenue", by="a", from_capacity=True,
                          productivity="5000")
    assert built.total == 2 * 12 * 5_000_00


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"total": "-5"}, InvalidInput, "more than zero"),
    ({"total": "abc"}, InvalidInput, "not an amount"),
    ({"total": "100.5", "unit": "100"}, InvalidInput, "multiple"),
    ({"growth": "0.1"}, InvalidInput, "no revenue in 2026"),
    ({"growth": "x"}, InvalidInput, "not a number"),
    ({}, InvalidInput, "--total, --growth or --from-capacity"),
    ({"total": "100", "metric_code": "nope"}, NotFound, "no metric 'nope'"),
])
def test_create_rejects_bad_input(session: Session, kwargs: dict, error: type, message: str) -> None:  # type: ignore[type-arg]
    make_org(session, regions=1, teams=1, reps=1)
    args = {"metric_code": "revenue", **kwargs}
    with pytest.raises(error, match=message):
        create_target(session=session, name="X", year=2027, by="a", as_of=AS_OF, **args)


def test_create_twice_is_a_conflict(session: Session) -> None:
    create_target(session=session, name="X", year=2027, metric_code="revenue", by="a", total="100")
    with pytest.raises(Conflict, match="already exists"):
        create_target(session=session, name="X", year=2027, metric_code="revenue", by="a", total="100")


@pytest.mark.parametrize(("options", "message"), [
    (SplitOptions(by=("time",)), "must include org"),
    (SplitOptions(by=("org", "colour")), "cannot split by 'colour'"),
    (SplitOptions(method="magic"), "unknown split method"),
    (SplitOptions(grain="day"), "unknown grain"),
    (SplitOptions(by=("org", "product"), weights={"product": {"LA": "1"}}), "missing LB"),
    (SplitOptions(by=("org", "product"), weights={"product": {"LA": "1", "LB": "-1"}}), "zero or more"),
    (SplitOptions(by=("org",), weights={"customer_type": {"new": "1"}}), "does not include customer_type"),
    (SplitOptions(method="history"), "no revenue in 2026"),
])
def test_split_rejects_bad_options(session: Session, options: SplitOptions, message: str) -> None:
    make_org(session, regions=1, teams=1, reps=2)
    make_lines(session)
    create_target(session=session, name="X", year=2027, metric_code="revenue", by="a", total="1000")
    with pytest.raises(InvalidInput, match=message):
        split_plan(session=session, name="X", options=options, by="a", as_of=AS_OF)


def test_split_unknown_plan_lists_the_plans(session: Session) -> None:
    create_target(session=session, name="FY2027", year=2027, metric_code="revenue", by="a", total="1000")
    with pytest.raises(NotFound, match="plans are FY2027"):
        split_plan(session=session, name="FY2028", options=SplitOptions(), by="a")


def test_split_needs_reps(session: Session) -> None:
    create_target(session=session, name="X", year=2027, metric_code="revenue", by="a", total="1000")
    with pytest.raises(InvalidInput, match="no reps"):
        split_plan(session=session, name="X", options=SplitOptions(), by="a")


def test_locked_cell_that_cannot_fit_is_named(session: Session) -> None:
    make_org(session, regions=1, teams=1, reps=2)
    create_target(session=session, name="X", year=2027, metric_code="revenue", by="a", total="1200")
    split_plan(session=session, name="X", options=SplitOptions(by=("org", "time")), by="a")
    set_lock(session=session, name="X", ref=CellRef("R1-T1-1", "2027-03"), locked=True, by="a")
    with pytest.raises(InvalidInput, match="R1-T1-1 2027-03 does not fit"):
        split_plan(session=session, name="X", options=SplitOptions(by=("org",)), by="a")


def test_week_grain_and_working_days(session: Session) -> None:
    ids = make_org(session, regions=1, teams=1, reps=1)
    create_target(session=session, name="W", year=2027, metric_code="revenue", by="a", total="522000")
    report = split_plan(session=session, name="W", options=SplitOptions(by=("org", "time"), grain="week", time_method="working-days"), by="a")
    assert any("Monday to Friday" in w for w in report.warnings)  # no official 2027 calendar yet
    cells = load_cells(session=session, plan=require_plan(session=session, name="W"))
    weeks = {k[0]: c.value for k, c in cells.items() if k[1] == ids["COMPANY"] and "W" in k[0]}
    assert sum(weeks.values()) == 522_000_00 and cells[("2027", ids["COMPANY"], None, "all")].value == 522_000_00
    assert weeks["2027-W02"] == 10_000_00  # five of the 261 working days (Monday to Friday): 522,000 / 261 × 5
    assert weeks["2026-W53"] == 2_000_00  # 1 January 2027 is a Friday: one working day of that week
    assert not any(len(k[0]) == 7 for k in cells)  # weeks do not add up to months: no month cells
