"""The admin calendar page (list, add, remove with CSRF and HTMX, zh-CN and en) and the split
wizard's warning for a year without official holiday data (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
import uuid

from tests.web.pages.test_plans import WIZARD

HTMX = {"hx-request": "true"}


def _remove(client, token: str, *days: str) -> None:  # type: ignore[no-untyped-def]
    for day in days:
        client.post(f"/calendar/days/{day}/remove", data={"csrf_token": token}, headers=HTMX)


def test_calendar_page_refuses_a_manager_and_is_in_the_admin_menu(client_for, csrf_of) -> None:
    manager = client_for("manager")
    assert manager.get("/calendar").status_code == 403
    refused = manager.post("/calendar/days", data={"day": "2027-02-08", "kind": "holiday", "csrf_token": csrf_of(manager)})
    assert refused.status_code == 403
    assert 'href="/calendar"' not in manager.get("/plans").text
    admin = client_for("admin")
    page = admin.get("/calendar?year=2027")
    assert page.status_code == 200 and 'href="/calendar"' in page.text
    assert "<h1>公司日历</h1>" in page.text and 'data-testid="calendar-warning"' in page.text
    assert "2027 年没有官方节假日数据" in page.text
    english = client_for("admin", locale="en").get("/calendar?year=2026")
    assert "<h1>Company calendar</h1>" in english.text and 'data-testid="calendar-warning"' not in english.text


def test_admin_adds_and_removes_a_day_with_csrf(client_for, csrf_of) -> None:
    admin = client_for("admin", locale="en")
    token = csrf_of(admin)
    form = {"day": "2027-02-08", "kind": "holiday", "name": "春节", "year": "2027"}
    assert admin.post("/calendar/days", data=form, headers=HTMX).status_code == 403  # no CSRF token
    try:
        added = admin.post("/calendar/days", data={**form, "csrf_token": token}, headers=HTMX)
        assert added.status_code == 200 and "<td>2027-02-08</td><td>holiday</td><td>春节</td><td>admin</td>" in added.text
        again = admin.post("/calendar/days", data={**form, "kind": "workday", "csrf_token": token}, headers=HTMX)
        error = re.search(r'data-testid="calendar-error">([^<]+)<', again.text)
        assert error and "2027-02-08 is already a company holiday (春节)" in error.group(1)
        plain = admin.post("/calendar/days", data={**form, "csrf_token": token}, follow_redirects=False)
        assert plain.status_code == 409
        bad = admin.post("/calendar/days", data={**form, "day": "2027-02-30", "csrf_token": token}, headers=HTMX)
        assert "&#39;2027-02-30&#39; is not a date like 2027-02-06" in bad.text
        assert admin.post("/calendar/days/2027-02-08/remove", data={}, headers=HTMX).status_code == 403
        removed = admin.post("/calendar/days/2027-02-08/remove", data={"csrf_token": token}, headers=HTMX)
        assert removed.status_code == 200 and "2027-02-08" not in removed.text
    finally:
        _remove(admin, token, "2027-02-08")


def test_wizard_warns_for_2027_and_names_the_company_days(client_for, csrf_of) -> None:
    admin = client_for("admin")
    token = csrf_of(admin)
    form = {**WIZARD, "year": "2027", "name": f"T-{uuid.uuid4().hex[:8]}", "csrf_token": token}
    try:
        before = admin.post("/plans/new/preview", data=form, headers=HTMX)
        warning = re.search(r'data-testid="preview-calendar-warning">(.*?)</div>', before.text, re.S)
        assert warning and "2027 年没有官方节假日数据" in warning.group(1) and "本年尚无公司自定日期" in warning.group(1)
        assert 'href="/calendar?year=2027"' in warning.group(1)
        for day, name in (("2027-02-08", "春节"), ("2027-10-01", "国庆")):
            admin.post("/calendar/days", data={"day": day, "kind": "holiday", "name": name, "csrf_token": token}, headers=HTMX)
        after = admin.post("/plans/new/preview", data=form, headers=HTMX)
        warning = re.search(r'data-testid="preview-calendar-warning">(.*?)</div>', after.text, re.S)
        assert warning and "2027-02-08 春节" in warning.group(1) and "2027-10-01 国庆" in warning.group(1)
        official = admin.post("/plans/new/preview", data={**form, "year": "2026"}, headers=HTMX)
        assert official.status_code == 200 and "preview-calendar-warning" not in official.text
    finally:
        _remove(admin, token, "2027-02-08", "2027-10-01")
