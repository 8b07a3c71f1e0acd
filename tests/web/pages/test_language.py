"""The Chinese UI speaks Chinese: every page, the error pages and the main HTMX fragments (grid edit,
wizard preview, HTMX errors) carry no untranslated message (no English template of attain.messages,
no run of English words in an error), never tell a web user to run a CLI command; period inputs read
what people type; early in a month the 战报墙 and 诊断 open on the last complete month; the
language switch keeps the page's query. SQLite and PostgreSQL (the demo company, as of 2026-11-23)."""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

import pytest

from attain.messages import MESSAGES
from attain.web.errors import TITLES
from tests.web.pages.test_pages import DAY, PAGES, PLAN_PAGES

ROLES = ("admin", "director", "manager", "rep")
# Literal parts of the English templates long enough to be a message, not a word or a code.
ENGLISH = sorted({part.strip() for template in MESSAGES.values() for part in re.split(r"\{\w+\}", template)
                  if len(part.strip()) >= 12 and " " in part.strip()} | {t for t in TITLES.values() if " " in t})
ERROR_PARTS = re.compile(r'<(?:div|p|span)[^>]*(?:class="[^"]*(?:flash error|error)[^"]*"|data-testid="[^"]*error[^"]*")[^>]*>'
                         r"(.*?)</(?:div|p|span)>", re.DOTALL)
ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}(?:[ ,;:'’]+[A-Za-z]{2,}){2,}")


def visible(page: str) -> str:
    """The page's text without tags, scripts and styles (JSON chart options hold no messages)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def assert_chinese(page: str, where: str) -> None:
    text = visible(page)
    left = [english for english in ENGLISH if english in text]
    assert not left, f"{where}: untranslated {left}"
    assert "attain " not in re.sub(r"\s+", " ", text).replace("Attain ", ""), f"{where}: a CLI command"
    for part in ERROR_PARTS.findall(page):
        run = ENGLISH_RUN.search(visible(part))
        assert run is None, f"{where}: English in an error: {visible(part).strip()!r}"


@pytest.mark.parametrize("role", ROLES)
def test_every_page_is_chinese_for_every_role(client_for, role: str) -> None:
    client = client_for(role)
    extra = ["/imports", "/calendar"] if role == "admin" else []
    for path in PAGES + PLAN_PAGES + extra + ["/leaderboard", "/diagnosis"]:
        separator = "&" if "?" in path else "?"
        answer = client.get(f"{path}{separator}as_of={DAY}")
        if answer.status_code == 403:  # a page the role may not open: its error page is checked too
            assert "此操作需要角色" in answer.text, path
        assert_chinese(answer.text, f"{role} {path}")


def test_error_pages_are_chinese(client_for) -> None:
    manager = client_for("manager")
    forbidden = manager.get("/imports")
    assert forbidden.status_code == 403
    assert "无权操作" in forbidden.text and "此操作需要角色：管理员；您的角色是经理" in forbidden.text
    missing = manager.get("/plans/NO-SUCH-PLAN")
    assert missing.status_code == 404 and "没有名为“NO-SUCH-PLAN”的计划" in missing.text
    bad_period = manager.get(f"/leaderboard?period=2026年13月&as_of={DAY}")
    assert bad_period.status_code == 422 and "输入无法使用" in bad_period.text and "不是有效的期间" in bad_period.text
    for page, where in ((forbidden, "403"), (missing, "404"), (bad_period, "422")):
        assert_chinese(page.text, where)
    # The same errors asked for by HTMX come back as JSON in the page's language.
    htmx = manager.get("/imports", headers={"hx-request": "true"})
    assert htmx.status_code == 403 and htmx.json()["detail"] == "此操作需要角色：管理员；您的角色是经理"


def test_english_pages_and_the_api_keep_english(client_for) -> None:
    manager = client_for("manager", locale="en")
    page = manager.get("/imports")
    assert page.status_code == 403 and "this needs the role admin; you are manager" in page.text
    api = manager.get("/api/v1/leaderboard?period=2026年13月", headers={"accept-language": "zh-CN"})
    assert api.status_code == 422
    assert api.json()["code"] == "period.invalid" and api.json()["params"] == {"text": "2026年13月"}
    assert "is not a valid period" in api.json()["detail"]  # the API speaks English; clients translate the code


def test_grid_and_wizard_errors_are_chinese(client_for, csrf_of) -> None:
    director = client_for("director")
    token = csrf_of(director)
    typo = director.post("/plans/FY2026/cell", data={"node": "COMPANY", "row": "EAST", "period": "2026-02",
                                                     "value": "2O000", "version": 1},
                         headers={"X-CSRF-Token": token, "hx-request": "true"})
    error = re.search(r'data-testid="grid-error">([^<]+)<', typo.text)
    assert error and "“2O000”不是以元计的金额" in error.group(1)
    assert_chinese(typo.text, "grid edit")
    stale = director.post("/plans/FY2026/cell", data={"node": "COMPANY", "row": "EAST", "period": "2026-02",
                                                      "value": "100", "version": 99},
                          headers={"X-CSRF-Token": token, "hx-request": "true"})
    assert "请刷新页面后重新修改" in stale.text
    assert_chinese(stale.text, "stale grid edit")
    wizard = {"year": "2026", "total": "lots", "unit": "10000", "scope": "EAST", "org_level": "team",
              "org_method": "weights", "org_weights": "1,x", "time": "month", "time_method": "equal",
              "product": "none", "customer_type": "no", "name": "T-lang", "csrf_token": token}
    preview = director.post("/plans/new/preview", data=wizard, headers={"hx-request": "true"})
    assert "总额“lots”不是以元计的金额" in preview.text
    assert_chinese(preview.text, "wizard preview")


def test_a_pasted_english_message_would_fail_the_check() -> None:
    with pytest.raises(AssertionError):
        assert_chinese('<div class="flash error">plan P is approved; it cannot be edited</div>', "sample")
    with pytest.raises(AssertionError):
        assert_chinese("<p>reload the plan (attain plan versions FY2027)</p>", "sample")
    assert_chinese('<div class="flash error">计划 FY2027 已审批（EAST-T1 2026-03）</div>', "sample")


def test_period_inputs_read_what_people_type(client_for) -> None:
    director = client_for("director")
    for typed, label in (("2026年10月", "2026-10"), ("2026年第4季度", "2026Q4"), ("上月", "2026-10"), ("本季度", "2026Q4"),
                         ("今年", "2026"), ("近30天", "2026-10-25..2026-11-23")):
        for path in ("/leaderboard", "/diagnosis"):
            page = director.get(path, params={"period": typed, "as_of": DAY})
            assert page.status_code == 200, (path, typed)
            assert f'name="period" value="{label}"' in page.text, (path, typed)
    assert 'list="period-choices"' in page.text and '<option value="近30天">' in page.text  # the picker


@pytest.mark.parametrize("path", ["/leaderboard", "/diagnosis"])
def test_early_in_a_month_the_last_complete_month_opens(client_for, path: str) -> None:
    director = client_for("director")
    # 2026-11-03 is the 2nd working day of November: October opens, November a click away.
    early = director.get(path, params={"as_of": "2026-11-03"})
    assert 'name="period" value="2026-10"' in early.text and 'data-testid="early-month"' in early.text
    assert "period=2026-11" in re.search(r'data-testid="early-month">(.*?)</p>', early.text, re.DOTALL).group(1)
    # 2026-11-09 is the 6th: the month under way opens alone.
    later = director.get(path, params={"as_of": "2026-11-09"})
    assert 'name="period" value="2026-11"' in later.text and 'data-testid="early-month"' not in later.text
    # A period the user chose is kept, early or not.
    chosen = director.get(path, params={"as_of": "2026-11-03", "period": "本月"})
    assert 'name="period" value="2026-11"' in chosen.text and 'data-testid="early-month"' not in chosen.text


def test_the_language_switch_keeps_the_query(client_for) -> None:
    director = client_for("director")
    page = director.get("/leaderboard", params={"period": "2026Q4", "by": "team", "as_of": DAY})
    link = re.search(r'href="(/lang/en\?next=[^"]+)"', page.text).group(1)
    assert unquote(html.unescape(link).split("next=", 1)[1]) == f"/leaderboard?period=2026Q4&by=team&as_of={DAY}"
    switched = director.get(html.unescape(link), follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == f"/leaderboard?period=2026Q4&by=team&as_of={DAY}"
