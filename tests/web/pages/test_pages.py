"""Every content page renders for every role, on SQLite and PostgreSQL, and shows only what the
user may see (a rep asking for another rep's page gets 404, never the figures)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from attain.db import get_engine, make_session_factory
from attain.facts.models import OrderLine
from attain.org.models import OrgNode
from attain.web.i18n import format_card_amount, format_exact_yuan

AS_OF = date(2026, 11, 23)  # the demo's as-of date (conftest)
DAY = AS_OF.isoformat()
ROLES = ("admin", "director", "manager", "rep")
PAGES = ["/", "/leaderboard/board?by=team&period=2026Q4", "/actions", "/diagnosis?vs=last-year&period=2026-10", "/customers",
         "/alerts", "/alerts?show=unread"]
PLAN_PAGES = ["/plans", "/plans/new", "/plans/FY2026"]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_renders_for_every_role(client_for, role: str) -> None:
    client = client_for(role)
    for path in PAGES + PLAN_PAGES:
        separator = "&" if "?" in path else "?"
        answer = client.get(f"{path}{separator}as_of={DAY}")
        expected = 403 if role == "rep" and path in PLAN_PAGES else 200
        assert answer.status_code == expected, f"{role} {path}: {answer.status_code} {answer.text[:300]}"


def test_pages_need_sign_in(app) -> None:
    from fastapi.testclient import TestClient

    with TestClient(app) as anonymous:
        for path in ("/dashboard", "/leaderboard", "/plans", "/customers", "/alerts"):
            answer = anonymous.get(path, follow_redirects=False)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


@pytest.mark.parametrize("path", [
    "/dashboard?node={other}", "/actions?rep={other}", "/customers?node={other}", "/dashboard?node=EAST-T1",
    "/dashboard?node=COMPANY", "/diagnosis?node={other}", "/alerts?node={other}",
])
def test_rep_cannot_open_another_reps_page(client_for, demo_codes, path: str) -> None:
    client = client_for("rep")
    answer = client.get(f"{path.format(other=demo_codes['other_rep'])}&as_of={DAY}")
    if path.startswith("/diagnosis"):  # the page ignores the node: it lists only the rep's own row
        assert set(re.findall(r'<tr data-node="([^"]+)"', answer.text)) <= {demo_codes["rep"]}
        return
    assert answer.status_code == 404
    assert "没有你能看到的" in answer.text  # the same words as for a code that does not exist (zh-CN page)
    own = client.get(f"{path.format(other=demo_codes['rep'])}&as_of={DAY}")
    assert own.status_code == (200 if "{other}" in path else 404)


def test_manager_cannot_open_another_team(client_for, demo_url: str, demo_codes) -> None:
    client = client_for("manager")
    team = demo_codes["manager"]
    assert client.get(f"/dashboard?node=SOUTH-T1&as_of={DAY}").status_code == 404
    assert client.get("/plans/FY2026?node=SOUTH").status_code == 404
    assert client.get(f"/dashboard?node={team}&as_of={DAY}").status_code == 200
    outsider = _rep_outside(demo_url, team)
    assert client.get(f"/actions?rep={outsider}&day={DAY}").status_code == 404


def _rep_outside(url: str, team_code: str) -> str:
    session = make_session_factory(get_engine(url))()
    try:
        team = session.scalars(select(OrgNode).where(OrgNode.code == team_code)).one()
        return session.scalars(select(OrgNode.code).where(
            OrgNode.kind == "rep", ~OrgNode.path.startswith(team.path), OrgNode.code.like("R%")
        ).order_by(OrgNode.code)).first()  # type: ignore[return-value]
    finally:
        session.close()


def test_rep_posting_for_another_rep_is_refused(client_for, csrf_of, demo_codes) -> None:
    client = client_for("rep")
    token = csrf_of(client)
    answer = client.post("/actions/done", data={"rep": demo_codes["other_rep"], "day": DAY, "kind": "call"},
                         headers={"X-CSRF-Token": token, "hx-request": "true"})
    assert answer.status_code == 404


def test_dashboard_actual_equals_the_order_lines(client_for, demo_url: str, demo_codes) -> None:
    session = make_session_factory(get_engine(demo_url))()
    try:
        rep_id = session.scalar(select(OrgNode.id).where(OrgNode.code == demo_codes["rep"]))
        expected = session.scalar(select(func.sum(OrderLine.amount)).where(
            OrderLine.rep_id == rep_id, OrderLine.order_date >= AS_OF.replace(month=1, day=1),
            OrderLine.order_date <= AS_OF))
    finally:
        session.close()
    page = client_for("rep").get(f"/dashboard?as_of={DAY}")
    exact, shown = re.search(r'data-testid="kpi-actual" title="([^"]+)">([^<]+)<', page.text).groups()
    assert shown == format_card_amount(int(expected), "zh_CN")  # 万 with two places (issue 19)
    assert exact == format_exact_yuan(int(expected))
    assert 'data-testid="status-table"' not in page.text  # a rep has nobody below


def test_director_dashboard_lists_the_regions(client_for) -> None:
    page = client_for("director").get(f"/?as_of={DAY}")
    assert page.status_code == 200
    for code in ("EAST", "SOUTH", "NORTH"):
        assert f'data-node="{code}"' in page.text
    assert '"type": "gauge"' in page.text and "p10" in page.text


def test_manager_status_table_holds_only_their_team(client_for, demo_url: str, demo_codes) -> None:
    page = client_for("manager").get(f"/dashboard?as_of={DAY}")
    rows = set(re.findall(r'<tr data-node="([^"]+)"', page.text))
    session = make_session_factory(get_engine(demo_url))()
    try:
        team = session.scalars(select(OrgNode).where(OrgNode.code == demo_codes["manager"])).one()
        members = set(session.scalars(select(OrgNode.code).where(OrgNode.parent_id == team.id)))
    finally:
        session.close()
    assert rows and rows <= members


def test_leaderboard_hides_other_reps_amounts_from_a_rep(client_for, demo_codes) -> None:
    page = client_for("rep").get(f"/leaderboard?as_of={DAY}&period=2026")
    rows = re.findall(r'<tr class="[^"]*" data-code="([^"]+)">(.*?)</tr>', page.text, re.DOTALL)
    assert len(rows) > 20
    for code, body in rows:
        has_amount = bool(re.search(r'<td class="num">\s*[\d,]+\.\d\d\s*</td>', body))  # in the column's unit
        assert has_amount == (code == demo_codes["rep"]), code
    ranks = [int(r) for r in re.findall(r'<td class="rank">(\d+)</td>', page.text)]
    assert ranks == sorted(ranks) and ranks[0] == 1


def test_leaderboard_is_chinese_by_default_and_english_on_request(client_for) -> None:
    chinese = client_for("director").get(f"/leaderboard?as_of={DAY}")
    english = client_for("manager", locale="en").get(f"/leaderboard?as_of={DAY}")
    assert "战报墙" in chinese.text and 'hx-trigger="every 60s"' in chinese.text
    assert "Leaderboard" in english.text and "战报墙" not in english.text
    tv = client_for("admin").get(f"/leaderboard?tv=1&as_of={DAY}")
    assert 'class="card wall tv"' in tv.text


def test_leaderboard_rejects_an_unknown_ranking(client_for) -> None:
    answer = client_for("admin").get(f"/leaderboard?by=product&as_of={DAY}", headers={"hx-request": "true"})
    assert answer.status_code == 422 and "销售员或团队" in answer.json()["detail"]  # the zh-CN HTMX error


def test_bad_as_of_is_a_clear_422(client_for) -> None:
    answer = client_for("admin").get("/dashboard?as_of=yesterday", headers={"hx-request": "true"})
    assert answer.status_code == 422 and "yesterday" in answer.json()["detail"]


def test_action_check_off_counts_and_needs_csrf(client_for, csrf_of, demo_codes) -> None:
    client = client_for("rep")
    day = "2026-11-20"  # a Friday
    page = client.get(f"/actions?day={day}")
    before = int(re.search(r'data-testid="done-proposal">(\d+)<', page.text).group(1))
    refused = client.post("/actions/done", data={"rep": demo_codes["rep"], "day": day, "kind": "proposal"})
    assert refused.status_code == 403
    token = csrf_of(client)
    answer = client.post("/actions/done", data={"rep": demo_codes["rep"], "day": day, "kind": "proposal"},
                         headers={"X-CSRF-Token": token, "hx-request": "true"})
    assert answer.status_code == 200
    assert int(re.search(r'data-testid="done-proposal">(\d+)<', answer.text).group(1)) == before + 1


def test_diagnosis_rows_are_limited_to_the_managers_team(client_for, demo_url: str, demo_codes) -> None:
    page = client_for("manager").get(f"/diagnosis?as_of={DAY}&period=2026Q3&by=rep")
    rows = set(re.findall(r'<tr data-node="([^"]+)"', page.text))
    session = make_session_factory(get_engine(demo_url))()
    try:
        team = session.scalars(select(OrgNode).where(OrgNode.code == demo_codes["manager"])).one()
        members = set(session.scalars(select(OrgNode.code).where(OrgNode.path.startswith(team.path))))
    finally:
        session.close()
    assert rows and rows <= members
    assert client_for("manager").get(f"/diagnosis?by=shop&as_of={DAY}", headers={"hx-request": "true"}).status_code == 422


def test_customers_page_scores_every_buyer(client_for) -> None:
    page = client_for("rep").get(f"/customers?as_of={DAY}")
    scores = re.findall(r'<td class="num">(\d) (\d) (\d)</td>', page.text)
    assert scores
    assert all(1 <= int(x) <= 5 for triple in scores for x in triple if x != "0")
    assert client_for("rep").get(f"/customers?as_of={DAY}&segment=champions").status_code == 200


def test_review_pack_download_only_for_the_whole_company(client_for, demo_url: str) -> None:
    director = client_for("director")
    page = director.get(f"/diagnosis?as_of={DAY}")
    assert 'data-testid="review"' in page.text
    if demo_url.startswith("sqlite"):  # building the pack takes seconds (Monte Carlo); once is enough
        pack = director.get("/diagnosis/review?week=2026-W47&format=html")
        # The HTML pack opens in the browser (issue 19); the workbook downloads.
        assert pack.status_code == 200 and pack.headers["content-disposition"].startswith("inline;")
        assert "<html" in pack.text.lower()
        workbook = director.get("/diagnosis/review?week=2026-W47&format=xlsx")
        assert workbook.headers["content-disposition"].startswith("attachment;")
    assert director.get("/diagnosis/review?week=2026-W47&format=pdf", headers={"hx-request": "true"}).status_code == 422
    manager = client_for("manager")
    assert 'data-testid="review"' not in manager.get(f"/diagnosis?as_of={DAY}").text
    assert manager.get("/diagnosis/review?week=2026-W47", headers={"hx-request": "true"}).status_code == 403


def test_chart_labels_follow_the_language(client_for) -> None:
    chinese = client_for("director").get(f"/dashboard?as_of={DAY}")
    english = client_for("admin", locale="en").get(f"/dashboard?as_of={DAY}")
    assert "累计实际" in chinese.text and "Cumulative actual" not in chinese.text
    assert "Cumulative actual" in english.text and "累计实际" not in english.text
