"""Role permissions per company (issue 19) at the CLI's `--as` and in the plan services: plan editing
and approval follow attain.auth.permissions — unchanged by default, narrowed or widened by the
settings permission.plan_edit / permission.plan_approve. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from attain.auth.service import require_user
from attain.errors import InvalidInput, NotAllowed
from attain.plans.edits import CellRef, set_cells
from attain.plans.service import approve_plan, revise_plan, submit_plan
from attain.settings.service import set_setting
from tests.plans.test_in_force import DECEMBER, TODAY, cli, cli_fails, company, working  # noqa: F401 (fixture)


def _submitted_revision(session: Session) -> None:
    revise_plan(session=session, name="FY2026", by="wang", reason="x", effective_from=DECEMBER, today=TODAY)
    set_cells(session=session, name="FY2026", values={CellRef("R1-T1-1", "2026-12"): 30_000_00}, by="wang", within="R1-T1")
    submit_plan(session=session, name="FY2026", by="wang")


def test_by_default_directors_approve_and_managers_edit(session: Session, company: dict[str, int]) -> None:
    _submitted_revision(session)
    with pytest.raises(NotAllowed, match="only a director or admin"):
        approve_plan(session=session, name="FY2026", by="li")
    assert approve_plan(session=session, name="FY2026", by="zhao").status == "approved"


def test_a_company_can_keep_approval_to_admins(session: Session, company: dict[str, int], database_url: str) -> None:
    _submitted_revision(session)
    cli(database_url, "config", "set", "permission.plan_approve", "admin")
    refused = cli_fails(database_url, "plan", "approve", "FY2026", "--as", "zhao")
    assert isinstance(refused, NotAllowed) and refused.code == "permission.denied"
    assert "the company lets only admin do this" in str(refused)
    session.expire_all()
    assert working(session).status == "submitted"
    assert cli(database_url, "plan", "approve", "FY2026", "--as", "admin")["status"] == "approved"


def test_a_company_can_keep_plan_editing_from_managers(session: Session, company: dict[str, int]) -> None:
    revise_plan(session=session, name="FY2026", by="wang", reason="x", effective_from=DECEMBER, today=TODAY)
    edit = {CellRef("R1-T1-1", "2026-12"): 30_000_00}
    li = require_user(session=session, username="li")
    set_cells(session=session, name="FY2026", values=edit, by="li", within="R1-T1", actor=li)  # the default: a manager edits
    set_setting(session, "permission.plan_edit", "admin,director")
    session.commit()
    with pytest.raises(NotAllowed, match="the company lets only admin or director do this") as refused:
        set_cells(session=session, name="FY2026", values={CellRef("R1-T1-2", "2026-12"): 20_000_00}, by="li", within="R1-T1",
                  actor=li)
    assert refused.value.code == "permission.denied"


def test_a_bad_role_name_is_refused_clearly(session: Session, database_url: str) -> None:
    with pytest.raises(InvalidInput, match="'admin,boss' names unknown roles boss; roles are admin, director, manager, rep"):
        set_setting(session, "permission.plan_edit", "admin,boss")
    refused = cli_fails(database_url, "config", "set", "permission.plan_approve", "directors")
    assert "unknown roles directors" in str(refused)
