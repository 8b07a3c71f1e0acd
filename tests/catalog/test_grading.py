"""Pure customer grading: ABC by cumulative revenue share (invariants with Hypothesis), thresholds
parsing, and the RFM / lifecycle rules the web page and the CLI share."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from attain.catalog import grading
from attain.catalog.grading import AbcThresholds, abc_grades
from attain.errors import InvalidInput

revenues = st.lists(st.integers(min_value=-50_000, max_value=10**12), min_size=1, max_size=60)
# A share 0.01 %–100 %, B share up to what is left (basis points).
thresholds = st.integers(min_value=1, max_value=10_000).flatmap(
    lambda a: st.integers(min_value=0, max_value=10_000 - a).map(lambda b: AbcThresholds(a, b))
)
RANK = {"A": 0, "B": 1, "C": 2}


def test_abc_example_first_80_percent_are_a() -> None:
    # 500 + 300 = 800 of 1000 → A; 100 + 50 reach 95 % → B; the rest C.
    assert abc_grades(np.array([50, 500, 30, 100, 300, 20])) == ["B", "A", "C", "B", "A", "C"]


def test_abc_a_is_the_smallest_prefix_reaching_the_share() -> None:
    # 790 is short of 80 % of 1000, so the next customer (100) is A too; then 95 % is reached by the 60.
    assert abc_grades(np.array([790, 100, 60, 50])) == ["A", "A", "B", "C"]


def test_abc_ties_share_the_better_grade() -> None:
    assert abc_grades(np.array([400, 400, 100, 100])) == ["A", "A", "B", "B"]
    assert abc_grades(np.array([100, 100, 100])) == ["A", "A", "A"]


def test_abc_zero_and_negative_revenue_are_c() -> None:
    assert abc_grades(np.array([100, 0, -30])) == ["A", "C", "C"]
    assert abc_grades(np.array([0, -5])) == ["C", "C"]
    assert abc_grades(np.array([], dtype=np.int64)) == []


def test_abc_other_thresholds() -> None:
    assert abc_grades(np.array([500, 300, 150, 50]), AbcThresholds(5_000, 3_000)) == ["A", "B", "C", "C"]
    assert abc_grades(np.array([500, 300, 150, 50, 0]), AbcThresholds(10_000, 0)) == ["A", "A", "A", "A", "C"]


def test_abc_large_amounts_stay_exact() -> None:
    # 4e18 fen × 10,000 bp passes int64; the comparison is done in Python integers.
    big = 10**17
    assert abc_grades(np.array([40 * big, 5 * big, 4 * big, big])) == ["A", "B", "B", "C"]


@given(revenues, thresholds)
def test_abc_grades_never_get_worse_as_revenue_grows(values: list[int], limits: AbcThresholds) -> None:
    grades = abc_grades(np.array(values, dtype=np.int64), limits)
    for value, grade in zip(values, grades):
        for other, other_grade in zip(values, grades):
            if value > other:
                assert RANK[grade] <= RANK[other_grade]
            if value == other:
                assert grade == other_grade


@given(revenues, thresholds)
def test_abc_a_share_is_the_smallest_prefix_reaching_the_threshold(values: list[int], limits: AbcThresholds) -> None:
    grades = abc_grades(np.array(values, dtype=np.int64), limits)
    total = sum(v for v in values if v > 0)
    for grade, limit_bp in (("A", limits.a_bp), ("B", limits.a_bp + limits.b_bp)):
        chosen = [v for v, g in zip(values, grades) if RANK[g] <= RANK[grade]]
        if total == 0:
            assert not chosen
            continue
        # The grade (with the better ones) reaches its share of the revenue …
        assert all(v > 0 for v in chosen)
        assert sum(chosen) * 10_000 >= limit_bp * total
        # … and without its smallest revenue level (ties go together) it would not.
        if chosen:
            smallest = min(chosen)
            assert sum(v for v in chosen if v > smallest) * 10_000 < limit_bp * total


@given(revenues, thresholds, st.randoms(use_true_random=False))
def test_abc_grades_do_not_depend_on_the_order(values: list[int], limits: AbcThresholds, rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(range(len(values)))
    rnd.shuffle(shuffled)
    grades = abc_grades(np.array(values, dtype=np.int64), limits)
    again = abc_grades(np.array([values[i] for i in shuffled], dtype=np.int64), limits)
    assert again == [grades[i] for i in shuffled]


@pytest.mark.parametrize(("text", "a_bp", "b_bp"), [("80,15", 8000, 1500), ("70.5, 20", 7050, 2000), ("80%,20%", 8000, 2000),
                                                    ("100,0", 10000, 0)])
def test_abc_thresholds_parse(text: str, a_bp: int, b_bp: int) -> None:
    parsed = AbcThresholds.parse(text)
    assert (parsed.a_bp, parsed.b_bp) == (a_bp, b_bp)
    assert AbcThresholds.parse(parsed.label()) == parsed


@pytest.mark.parametrize(("text", "message"), [
    ("80", "needs two percentages"), ("80,15,5", "needs two percentages"), ("a,b", "needs two percentages"),
    ("80.123,10", "at most two decimals"), ("90,20", "A and B together at most 100"), ("0,50", "A share must be above 0"),
    ("80,-5", "B share must be 0 % or more"), ("nan,10", "at most two decimals"),
])
def test_abc_thresholds_refuse_bad_input(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        AbcThresholds.parse(text)


def test_quintile_scores_are_one_to_five_and_ties_share_a_score() -> None:
    values = np.array([5.0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 10])
    scores = grading.quintile_scores(values)
    assert scores.min() == 1 and scores.max() == 5
    assert scores[-1] == scores[-2]
    assert (np.diff(scores[np.argsort(values, kind="stable")]) >= 0).all()
    recency = grading.quintile_scores(np.array([1.0, 400.0]), higher_is_better=False)
    assert recency[0] > recency[1]
    assert grading.quintile_scores(np.array([])).size == 0


def test_rfm_segments_name_the_extremes() -> None:
    segments = grading.rfm_segments(np.array([5, 1, 5, 2]), np.array([5, 1, 1, 4]), np.array([5, 1, 1, 5]))
    assert segments == ["champions", "lost", "new", "at_risk"]


def test_lifecycle_stages() -> None:
    assert grading.lifecycle_stage(None, None) == "prospect"
    assert grading.lifecycle_stage(30, 10) == "new"
    assert grading.lifecycle_stage(400, 10) == "active"
    assert grading.lifecycle_stage(400, 200) == "sleeping"
    assert grading.lifecycle_stage(800, 500) == "lost"


@given(st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=50))
def test_quintile_scores_are_monotone_and_one_to_five(values: list[int]) -> None:
    array = np.array(values, dtype=np.float64)
    scores = grading.quintile_scores(array)
    assert scores.min() >= 1 and scores.max() <= 5
    order = np.argsort(array, kind="stable")
    assert (np.diff(scores[order]) >= 0).all()
    assert (grading.quintile_scores(-array) == grading.quintile_scores(array, higher_is_better=False)).all()


def test_rfm_ties_share_the_better_score() -> None:
    """Issue 17: when everyone bought on the same day, the best customer (220,000 yuan, 13 orders, 15
    days ago) was 流失风险 (at risk) and ten monthly buyers 沉睡客户: ties took the WORST score."""
    recency = np.array([15.0] * 11)  # everyone's last order 15 days ago
    orders = np.array([13.0] + [12.0] * 10)  # the best customer, and ten monthly buyers
    revenue = np.array([220_000_00.0] + [30_000_00.0 + 1_000_00.0 * k for k in range(10)])
    r = grading.quintile_scores(recency, higher_is_better=False)
    f = grading.quintile_scores(orders)
    m = grading.quintile_scores(revenue)
    assert r.tolist() == [5] * 11  # a tie at the best recency is the best recency
    assert f.tolist() == [5] + [5] * 10  # ranks 0..9 tied take rank 9 of 11 → 5 ("method=max")
    segments = grading.rfm_segments(r, f, m)
    assert segments[0] == "champions"
    assert not {"at_risk", "hibernating", "lost"} & set(segments[1:])


@given(st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=50))
def test_quintile_ties_take_the_highest_rank(values: list[int]) -> None:
    array = np.array(values, dtype=np.float64)
    scores = grading.quintile_scores(array)
    n = len(values)
    for value, score in zip(values, scores.tolist()):
        highest_rank = sum(1 for v in values if v <= value) - 1  # pandas rank(method="max") - 1
        assert score == highest_rank * 5 // n + 1
