"""今日行动 on the web (issue 19), on SQLite and PostgreSQL: a check-off answers an undo, the undo
goes through attain.actions.service.undo_activity, a retried check-off (same key) counts once; the
alerts inbox's node filter leaves leavers out. The demo is shared: each test takes back what it adds."""

from __future__ import annotations

import re

DAY = "2026-11-19"  # a Thursday (test_pages checks off on the Friday)


def _done(html: str, key: str) -> int:
    return int(re.search(rf'data-testid="done-{key}">(\d+)<', html).group(1))  # type: ignore[union-attr]


def _post(client, path: str, token: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(path, data=data, headers={"X-CSRF-Token": token, "hx-request": "true"})


def test_check_off_then_undo(client_for, csrf_of, demo_codes) -> None:
    client = client_for("rep")
    token = csrf_of(client)
    rep = demo_codes["rep"]
    before = _done(client.get(f"/actions?day={DAY}").text, "proposal")
    done = _post(client, "/actions/done", token, rep=rep, day=DAY, kind="proposal")
    assert done.status_code == 200 and _done(done.text, "proposal") == before + 1
    code = re.search(r'name="code" value="(MAN-[0-9a-z]+)"', done.text).group(1)  # type: ignore[union-attr]
    assert 'data-testid="undo"' in done.text and "撤销" in done.text
    undone = _post(client, "/actions/undo", token, rep=rep, day=DAY, code=code)
    assert undone.status_code == 200 and _done(undone.text, "proposal") == before
    assert 'data-testid="undone"' in undone.text and 'data-testid="undo"' not in undone.text
    assert _post(client, "/actions/undo", token, rep=rep, day=DAY, code=code).status_code == 404  # already gone


def test_undo_of_another_reps_check_off_is_refused(client_for, csrf_of, demo_codes) -> None:
    manager = client_for("manager")
    token = csrf_of(manager)
    other = demo_codes["other_rep"]
    done = _post(manager, "/actions/done", token, rep=other, day=DAY, kind="call")
    code = re.search(r'name="code" value="(MAN-[0-9a-z]+)"', done.text).group(1)  # type: ignore[union-attr]
    rep = client_for("rep")
    assert _post(rep, "/actions/undo", csrf_of(rep), rep=demo_codes["rep"], day=DAY, code=code).status_code == 404
    assert _post(rep, "/actions/undo", csrf_of(rep), rep=other, day=DAY, code=code).status_code == 404
    assert _post(manager, "/actions/undo", token, rep=other, day=DAY, code=code).status_code == 200


def test_a_retried_check_off_counts_once(client_for, csrf_of, demo_codes) -> None:
    client = client_for("rep")
    token = csrf_of(client)
    page = client.get(f"/actions?day={DAY}")
    before = _done(page.text, "follow_up")
    key = re.search(r'name="kind" value="meeting"><input type="hidden" name="key" value="([0-9a-z]+)"', page.text).group(1)  # type: ignore[union-attr]
    first = _post(client, "/actions/done", token, rep=demo_codes["rep"], day=DAY, kind="meeting", key=key)
    again = _post(client, "/actions/done", token, rep=demo_codes["rep"], day=DAY, kind="meeting", key=key)
    assert first.status_code == again.status_code == 200
    assert _done(again.text, "follow_up") == before + 1
    assert _post(client, "/actions/undo", token, rep=demo_codes["rep"], day=DAY, code=f"MAN-{key}").status_code == 200


def test_the_day_picker_is_labelled_and_steps_a_day(client_for) -> None:
    page = client_for("rep", locale="en").get(f"/actions?day={DAY}").text
    assert '<label for="action-day">Day of the action list</label>' in page and 'id="action-day"' in page
    assert "day=2026-11-18" in page and "day=2026-11-20" in page


def test_leavers_are_not_in_the_alerts_node_filter(client_for, demo_url: str) -> None:
    from sqlalchemy import select

    from attain.db import get_engine, make_session_factory
    from attain.org.models import OrgNode

    session = make_session_factory(get_engine(demo_url))()
    try:
        leavers = set(session.scalars(select(OrgNode.code).where(OrgNode.end_date.is_not(None))))
    finally:
        session.close()
    assert leavers, "the demo company has a leaver"
    page = client_for("director").get("/alerts").text
    shown = set(re.findall(r'<option value="([^"]+)"', page))
    assert shown and not shown & leavers
    leaver = min(leavers)
    chosen = client_for("director").get(f"/alerts?node={leaver}").text  # asked for by name, still shown
    assert f'<option value="{leaver}" selected' in chosen
