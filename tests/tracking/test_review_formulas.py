"""The review pack writes names as text: a rep called `=HYPERLINK(...)` is not a live formula
(SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.org.models import OrgNode
from attain.tracking.review import build_review, write_review
from tests.workbooks import FORMULA_NAMES, formulas_in

WEEK = "2026-W46"


def test_review_pack_writes_formula_like_names_as_text(demo: Session, tmp_path: Path) -> None:
    in_pack = [row.node_id for row in build_review(session=demo, week=WEEK, by="rep").attainment.rows if row.node_id]
    reps = demo.scalars(select(OrgNode).where(OrgNode.id.in_(in_pack)).order_by(OrgNode.code)).all()
    assert len(reps) >= len(FORMULA_NAMES)
    for rep, name in zip(reps, FORMULA_NAMES):
        rep.name = name  # rolled back by the `demo` fixture
    demo.flush()
    pack = build_review(session=demo, week=WEEK, by="rep")
    out = tmp_path / "review.xlsx"
    write_review(pack, out)
    assert formulas_in(out) == []
    written = {str(c.value).replace("_x000D_", "\r") for sheet in openpyxl.load_workbook(out).worksheets
               for row in sheet.iter_rows(min_row=4) for c in row if c.value}
    shown = [name for name in FORMULA_NAMES if any(name in w for w in written)]
    assert len(shown) == len(FORMULA_NAMES), written
