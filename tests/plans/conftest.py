"""Small organisations to plan for: a company, regions, teams and reps, product lines."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy.orm import Session

from attain.catalog.service import create_product_node
from attain.org.service import create_node, ensure_root

os.environ.setdefault("ATTAIN_PASSWORD_HASH", "fast")  # plan tests make users; argon2 at full cost is ~1 s each

PASSWORD = "plan-test-pass"


def make_org(session: Session, *, regions: int = 2, teams: int = 1, reps: int = 2, managers: bool = False) -> dict[str, int]:
    """COMPANY > R1.. > R1-T1.. > R1-T1-1..; the company is headed by a director D0 (not a seller).
    With `managers`, each region and team is headed by its first rep, so every cell has an owner
    (the SMART owner check passes and the plan can be submitted without an override)."""
    ids: dict[str, int] = {}
    root = ensure_root(session=session, name="公司")
    ids["COMPANY"] = root
    for r in range(1, regions + 1):
        region = create_node(session=session, code=f"R{r}", name=f"大区{r}", kind="region", parent_id=root)
        ids[f"R{r}"] = region
        for t in range(1, teams + 1):
            team = create_node(session=session, code=f"R{r}-T{t}", name=f"团队{r}{t}", kind="team", parent_id=region)
            ids[f"R{r}-T{t}"] = team
            for p in range(1, reps + 1):
                code = f"R{r}-T{t}-{p}"
                ids[code] = create_node(session=session, code=code, name=f"销售{r}{t}{p}", kind="rep", parent_id=team,
                                        start_date=date(2020, 1, 1))
    director = create_node(session=session, code="D0", name="总监", kind="rep", parent_id=root, start_date=date(2019, 1, 1))
    from sqlalchemy import update

    from attain.org.models import OrgNode

    session.execute(update(OrgNode).where(OrgNode.id == root).values(manager_id=director))
    if managers:
        for r in range(1, regions + 1):
            session.execute(update(OrgNode).where(OrgNode.id == ids[f"R{r}"]).values(manager_id=ids[f"R{r}-T1-1"]))
            for t in range(1, teams + 1):
                session.execute(update(OrgNode).where(OrgNode.id == ids[f"R{r}-T{t}"]).values(manager_id=ids[f"R{r}-T{t}-1"]))
    ids["D0"] = director
    session.commit()
    return ids


def make_users(session: Session) -> dict[str, str]:
    """Real accounts for plan status changes: two company directors (one submits, the other approves),
    an admin, a manager of team R1-T1, a director of region R1 and a rep. Returns username -> role."""
    from attain.auth.service import create_user

    users = {"wang": ("director", None), "zhao": ("director", None), "admin": ("admin", None),
             "li": ("manager", "R1-T1"), "r1boss": ("director", "R1"), "rep1": ("rep", "R1-T1-1")}
    for username, (role, node) in users.items():
        create_user(session=session, username=username, password=PASSWORD, role=role, node_key=node)
    return {u: role for u, (role, _node) in users.items()}


@pytest.fixture
def today_is(monkeypatch: pytest.MonkeyPatch) -> Callable[[date], None]:
    """Fix "today" for revisions (the CLI's `plan revise` has no --today): tests never read the wall clock."""

    def freeze(day: date) -> None:
        monkeypatch.setattr("attain.plans.service.current_day", lambda: day)

    return freeze


def make_lines(session: Session, codes: tuple[str, ...] = ("LA", "LB")) -> dict[str, int]:
    ids = {code: create_product_node(session=session, code=code, name=f"产品线{code}", kind="line", parent_id=None) for code in codes}
    session.commit()
    return ids


@pytest.fixture
def org(session: Session) -> dict[str, int]:
    return make_org(session)


def add_sales(session: Session, rep_ids: dict[str, int], year: int, monthly: dict[str, int], product_id: int | None = None) -> None:
    """Order lines of `year`: each rep sells `monthly[code]` yuan in every month (one line a month)."""
    from sqlalchemy import insert

    from attain.facts.models import OrderLine

    rows = []
    for code, amount in monthly.items():
        for m in range(1, 13):
            rows.append({"line_id": f"{code}-{year}-{m}", "order_id": f"O-{code}-{year}-{m}", "order_date": date(year, m, 15),
                         "rep_id": rep_ids[code], "product_id": product_id, "amount": amount * 100, "quantity": 1,
                         "currency": "CNY"})
    session.execute(insert(OrderLine), rows)
    session.commit()
