"""Incentive pages per role on SQLite and PostgreSQL: the plan editor (list, upload with errors in
place, submit/approve with four eyes, components), statements (list with the visible total, detail
with every line, .xlsx/.html/.pdf download) and the dashboard's what-if partial. Every figure checked
against `attain.incentives.service` for the same user."""

from __future__ import annotations

import html as htmllib
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy.orm import Session

from attain.auth.service import require_user
from attain.incentives import service
from attain.incentives.pdf import CANDIDATES as CJK_FONTS
from attain.web.i18n import format_exact_yuan
from attain.web.pages.common import catalogue as translations
from attain.web.statement_labels import translate_label
from tests.web.incentives.conftest import AS_OF, PLAN, PLAN_FILE, csrf

Q3 = f"/incentives/{PLAN}/statements"
TEAM = ["R001", "R002", "R003", "R004", "R005"]  # EAST-T1: R001 is its manager (a participant as manager)


def rows(html: str, testid: str) -> list[str]:
    """The data-node of every row of the table with this data-testid."""
    table = re.search(rf'data-testid="{testid}".*?</table>', html, re.DOTALL)
    assert table, f"no table {testid}"
    return re.findall(r'<tr data-node="([^"]+)"', table.group(0))


def what_if_table(html: str, plan: str = PLAN) -> str:
    """The what-if table of one plan (other tests may approve more plans of 2026)."""
    found = re.search(rf'data-testid="what-if" data-plan="{plan}">.*?</table>', html, re.DOTALL)
    assert found, f"no what-if table of {plan}"
    return found.group(0)


def text_of(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</', html, re.DOTALL)
    assert found, testid
    return htmllib.unescape(re.sub(r"<[^>]+>", "", found.group(1)).strip())


@pytest.mark.parametrize(("role", "planner"), [("admin", True), ("director", True), ("manager", True), ("rep", False)])
def test_plan_list_per_role(client_for, role: str, planner: bool) -> None:  # type: ignore[no-untyped-def]
    page = client_for(role).get("/incentives")
    assert page.status_code == 200
    assert PLAN in page.text and "v1" in page.text
    assert ('data-testid="upload-form"' in page.text) is planner
    assert 'href="/incentives"' in page.text  # the menu links the page for every role


def test_plan_page_shows_components_and_only_visible_participants(client_for, db: Session) -> None:  # type: ignore[no-untyped-def]
    page = client_for("manager").get(f"/incentives/{PLAN}")
    assert page.status_code == 200
    components = re.findall(r'<tr data-component="([^"]+)"', page.text)
    assert components == [c.code for c in service.plan_detail(session=db, name=PLAN).components]
    assert "marginal" not in page.text or "分段累进" in page.text  # translated mode
    assert "0–60% → 0%" in page.text and "100–∞ → 6%" in page.text and "¥200,000.00" in page.text  # bands and cap
    assert rows(page.text, "participants") == TEAM  # not R018 of another team
    assert client_for("director").get(f"/incentives/{PLAN}").text.count('<tr data-node="') == 6


def test_rep_cannot_open_the_plan_editor(client_for) -> None:  # type: ignore[no-untyped-def]
    assert client_for("rep").get(f"/incentives/{PLAN}").status_code == 403
    rep = client_for("rep")
    assert rep.post("/incentives/upload", files={"file": ("p.yaml", b"name: x")}, data={"csrf_token": csrf(rep)}).status_code == 403


BAD_BANDS = PLAN_FILE.read_text(encoding="utf-8").replace("- {from: 60, to: 80, rate: 2}", "- {from: 55, to: 80, rate: 2}")


def test_upload_error_is_shown_in_place_with_line_and_field_and_nothing_is_saved(client_for, db: Session) -> None:  # type: ignore[no-untyped-def]
    manager = client_for("manager", "en")  # zh-CN: test_statement_labels.py
    before = service.list_plans(session=db)
    answer = manager.post("/incentives/upload", files={"file": ("激励.yaml", BAD_BANDS.replace(PLAN, "坏方案").encode())},
                          data={"csrf_token": csrf(manager)})
    assert answer.status_code == 422
    line = next(i for i, text in enumerate(BAD_BANDS.splitlines(), start=1) if "from: 55" in text)
    assert text_of(answer.text, "error-place") == f"line {line}"
    assert text_of(answer.text, "error-field") == "components[1] 'commission'.bands[2].from"
    assert "overlap" in text_of(answer.text, "error-message")
    db.expire_all()
    assert service.list_plans(session=db) == before


def test_upload_refuses_other_files_and_a_missing_csrf_token(client_for, db: Session) -> None:  # type: ignore[no-untyped-def]
    manager = client_for("manager", "en")
    before = service.list_plans(session=db)
    answer = manager.post("/incentives/upload", files={"file": ("plan.csv", b"a,b")}, data={"csrf_token": csrf(manager)})
    assert answer.status_code == 422 and ".yaml or .xlsx" in text_of(answer.text, "error-message")
    no_token = manager.post("/incentives/upload", files={"file": ("p.yaml", PLAN_FILE.read_bytes())})
    assert no_token.status_code == 403
    db.expire_all()
    assert service.list_plans(session=db) == before


def test_upload_submit_and_approve_with_four_eyes(client_for, db: Session) -> None:  # type: ignore[no-untyped-def]
    name = "网页方案"
    director = client_for("director")
    text = PLAN_FILE.read_text(encoding="utf-8").replace(f"name: {PLAN}", f"name: {name}")
    uploaded = director.post("/incentives/upload", files={"file": ("web.yaml", text.encode())},
                             data={"csrf_token": csrf(director)}, follow_redirects=False)
    assert uploaded.status_code == 303 and uploaded.headers["location"] == f"/incentives/{'%E7%BD%91%E9%A1%B5%E6%96%B9%E6%A1%88'}"
    page = director.get(f"/incentives/{name}")
    assert 'data-testid="submit-plan"' in page.text and 'data-status="draft"' in page.text
    assert director.post(f"/incentives/{name}/submit", data={"csrf_token": csrf(director)}, follow_redirects=False).status_code == 303
    refused = director.post(f"/incentives/{name}/approve", data={"csrf_token": csrf(director)})
    assert refused.status_code == 403 and "four eyes" in refused.text
    admin = client_for("admin")
    assert admin.post(f"/incentives/{name}/approve", data={"csrf_token": csrf(admin)}, follow_redirects=False).status_code == 303
    db.expire_all()
    assert service.plan_in_force(session=db, name=name).approved_by == "admin"
    assert 'data-status="approved"' in admin.get(f"/incentives/{name}").text


@pytest.mark.parametrize(("user", "expected"), [
    ("rep", ["R002"]), ("rep3", ["R003"]), ("manager", TEAM), ("director", [*TEAM, "R018"]), ("admin", [*TEAM, "R018"]),
])
def test_statements_list_shows_visible_rows_and_their_total(client_for, db: Session, user: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    page = client_for(user).get(Q3, params={"period": "2026Q3", "as_of": AS_OF.isoformat()})
    assert page.status_code == 200
    assert rows(page.text, "statements") == expected
    result = service.statements(session=db, name=PLAN, period="2026Q3", as_of=AS_OF, user=require_user(session=db, username=user))
    assert text_of(page.text, "statements-total") == format_exact_yuan(result.total)
    totals = re.findall(r'data-testid="statement-total">([^<]+)<', page.text)
    assert totals == [format_exact_yuan(s.total) for s in result.statements]


def test_statements_default_to_the_period_of_as_of_and_closed_periods_are_frozen(client_for) -> None:  # type: ignore[no-untyped-def]
    rep = client_for("rep")
    assert "2026Q4" in rep.get(Q3, params={"as_of": AS_OF.isoformat()}).text.split("</h1>")[0]
    closed = rep.get(Q3, params={"period": "2026Q2", "as_of": AS_OF.isoformat()})
    assert 'data-status="closed"' in closed.text and rows(closed.text, "statements") == ["R002"]
    assert rep.get(Q3, params={"period": "2026-07", "as_of": AS_OF.isoformat()}).status_code == 422  # a quarterly plan


def test_statement_detail_has_every_line(client_for, db: Session) -> None:  # type: ignore[no-untyped-def]
    page = client_for("rep", "en").get(f"{Q3}/2026Q3/R002", params={"as_of": AS_OF.isoformat()})
    assert page.status_code == 200
    statement = service.statements(session=db, name=PLAN, period="2026Q3", rep="R002", as_of=AS_OF).statements[0]
    steps = re.findall(r'<tr data-step="([^"]+)"', page.text)
    assert steps == [line["step"] for line in statement.lines]
    assert {"target_incentive", "credited", "band", "curve", "milestone", "total"} <= set(steps)
    for line in statement.lines:  # in the page's language (web.statement_labels; zh-CN: test_statement_labels.py)
        assert translate_label(str(line["label"]), translations("en").gettext).replace("'", "&#39;") in page.text
        if line["amount"] is not None:
            assert format_exact_yuan(int(line["amount"])) in page.text
    assert text_of(page.text, "statement-total") == format_exact_yuan(statement.total)
    assert "Credited sales" in page.text and "Every line of the calculation" in page.text


@pytest.mark.parametrize(("user", "code"), [("rep", "R003"), ("rep3", "R002"), ("manager", "R018"), ("east", "R999")])
def test_a_statement_the_user_may_not_see_answers_404(client_for, user: str, code: str) -> None:  # type: ignore[no-untyped-def]
    client = client_for(user)
    assert client.get(f"{Q3}/2026Q3/{code}", params={"as_of": AS_OF.isoformat()}).status_code == 404
    download = client.get(f"{Q3}/2026Q3/download", params={"as_of": AS_OF.isoformat(), "rep": code, "format": "html"})
    assert download.status_code == 404


def test_downloads_hold_only_visible_statements(client_for, db: Session) -> None:  # type: ignore[no-untyped-def]
    rep = client_for("rep")
    xlsx = rep.get(f"{Q3}/2026Q3/download", params={"as_of": AS_OF.isoformat(), "format": "xlsx"})
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    codes = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert codes == {"R002"}
    html = client_for("manager").get(f"{Q3}/2026Q3/download", params={"as_of": AS_OF.isoformat(), "format": "html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "R005" in html.text and "R018" not in html.text
    assert rep.get(f"{Q3}/2026Q3/download", params={"format": "doc"}).status_code == 422
    if any(Path(p).is_file() for p, _face in CJK_FONTS):
        answer = rep.get(f"{Q3}/2026Q3/download", params={"as_of": AS_OF.isoformat(), "format": "pdf"})
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
        text = "".join(re.sub(r"[\s\x00]", "", page.extract_text()) for page in PdfReader(io.BytesIO(answer.content)).pages)
        mine = service.statements(session=db, name=PLAN, period="2026Q3", as_of=AS_OF, user=require_user(session=db, username="rep"))
        assert [s.code for s in mine.statements] == ["R002"]
        assert mine.statements[0].name in text and "R002" in text and "R003" not in text
        assert f"{Decimal(mine.statements[0].total) / 100:,.2f}" in text


@pytest.mark.parametrize(("user", "expected"), [("rep", ["R002"]), ("manager", TEAM), ("director", [*TEAM, "R018"])])
def test_what_if_panel_per_role(client_for, db: Session, user: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    client = client_for(user)
    dashboard = client.get("/dashboard", params={"as_of": AS_OF.isoformat()})
    assert 'data-testid="what-if-slot"' in dashboard.text and f'hx-get="/dashboard/what-if?as_of={AS_OF}"' in dashboard.text
    panel = client.get("/dashboard/what-if", params={"as_of": AS_OF.isoformat(), "extra": 50_000}, headers={"HX-Request": "true"})
    assert panel.status_code == 200
    table = what_if_table(panel.text)
    assert re.findall(r'<tr data-node="([^"]+)"', table) == expected
    answers = service.team_what_if(session=db, name=PLAN, extra=5_000_000, as_of=AS_OF, user=require_user(session=db, username=user))
    earned = re.findall(r'data-testid="earned">([^<]+)<', table)
    pays = re.findall(r'data-testid="extra-pays">([^<]+)<', table)
    assert earned == [format_exact_yuan(w.earned) for w in answers]
    assert pays == [format_exact_yuan(w.extra_pays) for w in answers]


def test_what_if_panel_speaks_the_next_band_in_both_languages(client_for, db: Session) -> None:  # type: ignore[no-untyped-def]
    answer = service.what_if(session=db, name=PLAN, rep="R002", extra=10_000_000, as_of=AS_OF)
    assert answer.next_step is not None
    zh = what_if_table(client_for("rep").get("/dashboard/what-if", params={"as_of": AS_OF.isoformat()}).text)
    en = what_if_table(client_for("rep", "en").get("/dashboard/what-if", params={"as_of": AS_OF.isoformat()}).text)
    gain = format_exact_yuan(answer.next_step.gain)
    assert re.search(rf"再完成 [\d.,]+万 进入下一档，多拿 {re.escape(gain)}", zh)
    assert re.search(rf"Another [\d,]+ of sales reaches the next band, paying {re.escape(gain)} more", en)
    assert text_of(zh, "extra-pays") == format_exact_yuan(answer.extra_pays)  # default extra: 100,000 yuan


def test_what_if_panel_without_a_plan_for_the_year(client_for) -> None:  # type: ignore[no-untyped-def]
    panel = client_for("rep").get("/dashboard/what-if", params={"as_of": date(2025, 6, 30).isoformat()})
    assert panel.status_code == 200 and 'data-testid="what-if-none"' in panel.text
    assert client_for("rep").get("/dashboard/what-if", params={"extra": -1}).status_code == 422


def test_what_if_panel_of_a_regional_director(client_for, db: Session) -> None:  # type: ignore[no-untyped-def]
    panel = client_for("east").get("/dashboard/what-if", params={"as_of": AS_OF.isoformat()})
    east = service.team_what_if(session=db, name=PLAN, extra=0, as_of=AS_OF, user=require_user(session=db, username="east"))
    assert re.findall(r'<tr data-node="([^"]+)"', what_if_table(panel.text)) == [w.rep for w in east]
    assert {"R001", "R002"} <= {w.rep for w in east}


def test_pages_need_sign_in(incentive_app) -> None:  # type: ignore[no-untyped-def]
    anonymous = TestClient(incentive_app)
    for path in ("/incentives", f"{Q3}?period=2026Q3", "/dashboard/what-if"):
        assert anonymous.get(path, follow_redirects=False).status_code in (303, 401)
