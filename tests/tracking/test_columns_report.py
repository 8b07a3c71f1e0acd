"""The columnar attainment report (`attainment_columns`) is the row report: its row view equals
`attainment`, and its JSON (built from columns, written by orjson) equals the JSON of the rows, on
the demo company on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy.orm import Session

from attain.cli.output import json_text
from attain.periods import parse_period
from attain.tracking.attainment import attainment, attainment_columns
from attain.tracking.format import attainment_columns_payload, attainment_payload

AS_OF = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("label", "by"),
    [("2026", "rep,month"), ("2026Q3", "region"), ("2026-11", "product_line,customer_type"),
     ("2026H2", "team,month"), ("2026", None), ("2026-12", "rep")],  # December: not started at as-of
)
def test_columns_view_and_json_equal_the_row_report(demo: Session, label: str, by: str | None) -> None:
    period = parse_period(label)
    columns = attainment_columns(session=demo, period=period, by=by, as_of=AS_OF)
    rows = attainment(session=demo, period=period, by=by, as_of=AS_OF)
    assert columns.view() == rows
    payload = attainment_columns_payload(columns)
    assert payload == attainment_payload(rows)
    assert json.loads(json_text(payload)) == json.loads(json.dumps(attainment_payload(rows), default=str))
    if by == "rep,month":
        assert len(columns) == len(rows.rows) > 100
        assert columns.figures is not None and columns.figures.attainment.dtype.kind in "iO"
        assert columns.key_columns[1][0] == rows.rows[0].key[1]


def test_columns_without_figures_view_as_the_rows_without_figures(demo: Session) -> None:
    period = parse_period("2026")
    columns = attainment_columns(session=demo, period=period, by="rep,month", as_of=AS_OF, figures=False)
    assert columns.figures is None and columns.labels == ()
    rows = attainment(session=demo, period=period, by="rep,month", as_of=AS_OF, figures=False)
    assert columns.view() == rows
    assert all(r.figures is None and r.labels == () for r in rows.rows)
