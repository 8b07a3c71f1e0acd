"""The column-at-a-time paths of a rep × month report give exactly what the per-cell, per-row ones did."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.tracking import calc
from attain.tracking.calc import Cell, CellRun

SPANS = [  # (rank, start, end): a year, a quarter, months, a week straddling two months, a custom range
    (0, date(2027, 1, 1), date(2027, 12, 31)),
    (2, date(2027, 1, 1), date(2027, 3, 31)),
    (3, date(2027, 2, 1), date(2027, 2, 28)),
    (3, date(2027, 3, 1), date(2027, 3, 31)),
    (4, date(2027, 3, 29), date(2027, 4, 4)),
    (4, date(2027, 5, 3), date(2027, 6, 20)),
]
WINDOWS = [(date(2027, m, 1), date(2027 + m // 12, m % 12 + 1, 1) - timedelta(days=1)) for m in range(1, 13)]
WINDOWS += [(date(2027, 1, 1), date(2027, 12, 31)), (date(2027, 3, 10), date(2027, 4, 2))]

runs = st.lists(
    st.tuples(
        st.sampled_from([(None, "all"), (7, "all"), (7, "new"), (8, "existing")]),
        st.sampled_from(range(len(SPANS))),
        st.dictionaries(st.integers(1, 40), st.one_of(st.integers(0, 10**9), st.integers(2**43, 2**62)),
                        min_size=1, max_size=8),
    ),
    max_size=6,
    unique_by=lambda run: (run[0], run[1]),  # the database groups by rest and span: one run of each
)


def _typed(results: list[dict[tuple[object, ...], Fraction | int]]) -> list[dict[tuple[object, ...], str]]:
    return [{key: f"{type(value).__name__} {value}" for key, value in found.items()} for found in results]


@settings(max_examples=80, deadline=None)
@given(runs)
def test_cell_table_of_runs_prorates_as_the_cells_one_by_one(drawn) -> None:  # type: ignore[no-untyped-def]
    cell_runs, cells = [], []
    for rest, span, values in drawn:
        rank, start, end = SPANS[span]
        nodes = list(values)
        cell_runs.append(CellRun(rest, rank, start, end, np.array(nodes, dtype=np.int64),
                                 np.array([values[n] for n in nodes], dtype=np.int64)))
        cells += [Cell((node, *rest), rank, start, end, values[node]) for node in nodes]
    from_runs = calc.cell_table_of_runs(cell_runs)
    assert sorted(from_runs.keys, key=repr) == sorted({c.key for c in cells}, key=repr)
    assert from_runs.values.dtype == calc.cell_days(cells).values.dtype  # object beyond int64's safe sums
    assert _typed(calc.prorated_targets_many(from_runs, WINDOWS)) == _typed(calc.prorated_targets_many(cells, WINDOWS))


def test_target_matrix_holds_none_where_a_key_has_no_cell() -> None:
    cells = [Cell((1, None, "all"), 3, date(2027, 2, 1), date(2027, 2, 28), 500),
             Cell((2, None, "all"), 2, date(2027, 1, 1), date(2027, 3, 31), 900)]
    matrix = calc.prorated_target_matrix(cells, [(date(2027, 1, 1), date(2027, 1, 31)), (date(2027, 2, 1), date(2027, 2, 28))])
    january = calc.working_days(date(2027, 1, 1), date(2027, 1, 31)).sum()
    quarter = calc.working_days(date(2027, 1, 1), date(2027, 3, 31)).sum()
    assert matrix[0, 0] is None and matrix[0, 1] == 500 and type(matrix[0, 1]) is int
    assert matrix[1, 0] == Fraction(900 * int(january), int(quarter))


def test_rolled_up_target_is_a_fraction_even_of_whole_children() -> None:
    value, source = calc.rolled_up_target(1, {2: 5, 3: 7}, {1: [2, 3]})
    assert (value, type(value), source) == (12, Fraction, calc.SUM_OF_CHILDREN)
    value, _source = calc.rolled_up_target(1, {2: 5, 3: Fraction(1, 3)}, {1: [2, 3]})
    assert value == Fraction(16, 3)


def test_decimals_equal_scaling_each_value_alone() -> None:
    """Column conversion keeps Decimal(v).scaleb(-places) exactly, its context rounding of 30-digit
    values included, and None where a row has no figure."""
    values = [0, 7, -7, 123_456_789, 10**30 + 5, -(10**29) - 1]
    keep = np.array([True, True, False, True, True, True])
    for places in (0, 4):
        expected = [Decimal(v).scaleb(-places) if places else Decimal(v) for v in values]
        found = calc._decimals(calc._ints(values), keep, places)
        assert [repr(d) for d in found] == [repr(e) if k else "None" for e, k in zip(expected, keep)]
