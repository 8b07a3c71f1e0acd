"""The alerts inbox (`/alerts` and `/api/v1/alerts`) on SQLite and PostgreSQL: each role reads and
marks exactly the alerts of the nodes it may see, never another rep's; bad input is a 4xx."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from attain.db import get_engine, make_session_factory
from attain.org.models import OrgNode
from attain.tracking.models import AlertEvent, AlertRule
from tests.web.conftest import DEMO_PASSWORDS, PASSWORD, sign_in

WHO = ("admin", "director", "east", "manager", "rep", "rep3")
TOP = {"admin": None, "director": None, "east": "EAST", "manager": "EAST-T1", "rep": "R002", "rep3": "R003"}
BIGINT_MAX = 2**63 - 1


@pytest.fixture(scope="module")
def tree(demo_db: str) -> dict[str, str]:
    with make_session_factory(get_engine(demo_db))() as session:
        return dict(session.execute(select(OrgNode.code, OrgNode.path)).all())


def _scope(tree: dict[str, str], who: str) -> set[str]:
    top = TOP[who]
    if top is None:
        return set(tree)
    if who.startswith("rep"):
        return {top}
    return {code for code, path in tree.items() if path.startswith(tree[top])}


def _add_events(url: str, codes: list[str]) -> dict[str, int]:
    """One new unread alert per node code; returns {code: alert id}."""
    tag = uuid.uuid4().hex[:10]
    with make_session_factory(get_engine(url))() as session:
        rule_id = session.scalar(select(AlertRule.id).where(AlertRule.code == "pace_gap"))
        ids = dict(session.execute(select(OrgNode.code, OrgNode.id).where(OrgNode.code.in_(codes))).all())
        events = {code: AlertEvent(
            rule_id=rule_id, org_node_id=ids[code], period="2026-11", condition=f"test {tag}",
            dedup_key=f"test|{tag}|{code}", as_of=date(2026, 11, 23), details={"tag": tag},
            message=f"{code} 达成 50%，进度差 -20%（低于 -10%）/ attainment 50%, pace gap -20% below -10% {tag}",
        ) for code in codes}
        session.add_all(events.values())
        session.commit()
        return {code: event.id for code, event in events.items()}


def _read_state(url: str, ids: list[int]) -> dict[int, bool]:
    with make_session_factory(get_engine(url))() as session:
        return {i: r is not None for i, r in session.execute(select(AlertEvent.id, AlertEvent.read_at).where(
            AlertEvent.id.in_(ids))).all()}


@pytest.fixture(scope="module")
def every_node_alerted(demo_db: str, tree: dict[str, str]) -> dict[str, int]:
    """An alert on every org node, so that each role's inbox shows exactly its nodes."""
    return _add_events(demo_db, sorted(tree))


@pytest.fixture
def api(demo_app, demo_tokens) -> Iterator[Callable[[str], TestClient]]:  # type: ignore[no-untyped-def]
    clients: list[TestClient] = []

    def make(who: str) -> TestClient:
        client = TestClient(demo_app, headers={"Authorization": f"Bearer {demo_tokens[who]}"}, raise_server_exceptions=False)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def browser(demo_app) -> Iterator[Callable[..., tuple[TestClient, str]]]:  # type: ignore[no-untyped-def]
    """browser("rep") → a cookie client signed in as that demo user, and its CSRF token."""
    clients: list[TestClient] = []

    def make(who: str, locale: str = "zh-CN") -> tuple[TestClient, str]:
        client = TestClient(demo_app, headers={"accept-language": locale}, raise_server_exceptions=False)
        clients.append(client)
        return client, sign_in(client, who, DEMO_PASSWORDS.get(who, PASSWORD))

    yield make
    for client in clients:
        client.close()


def _api_nodes(client: TestClient, **params: object) -> set[str]:
    """Node codes of every alert the API lists, following `next_before` page by page."""
    codes: set[str] = set()
    query: dict[str, object] = {"limit": 500, **params}
    while True:
        answer = client.get("/api/v1/alerts", params=query)
        assert answer.status_code == 200, answer.text[:300]
        body = answer.json()
        codes |= {a["node"] for a in body["alerts"]}
        if not body["more"]:
            return codes
        query["before"] = body["next_before"]


def _page_nodes(client: TestClient, query: str = "") -> set[str]:
    answer = client.get(f"/alerts?limit=500{query}")
    assert answer.status_code == 200, answer.text[:300]
    assert 'data-testid="more"' not in answer.text, "the demo has fewer than 500 nodes"
    return set(re.findall(r'<tr id="alert-\d+" data-alert="\d+" data-node="([^"]+)"', answer.text))


@pytest.mark.parametrize("who", WHO)
def test_every_role_sees_exactly_its_scope(api, browser, tree, every_node_alerted, who: str) -> None:  # type: ignore[no-untyped-def]
    expected = _scope(tree, who)
    assert _api_nodes(api(who)) == expected
    client, _token = browser(who)
    assert _page_nodes(client) == expected


def test_node_filter_is_limited_to_visible_nodes(api, browser, tree, every_node_alerted) -> None:  # type: ignore[no-untyped-def]
    manager = api("manager")
    assert _api_nodes(manager, node="R002") == {"R002"}
    assert _api_nodes(api("admin"), node="EAST-T1") == _scope(tree, "manager")
    for node in ("R003-NOPE", "SOUTH", "EAST", "COMPANY"):
        answer = manager.get("/api/v1/alerts", params={"node": node})
        assert answer.status_code == 404 and answer.json()["detail"] == f"no rep, team or region '{node}' that you can see"
        assert answer.json()["code"] == "auth.access.rep_team_region_you" and answer.json()["params"] == {"key": node}
    client, _token = browser("rep")
    assert _page_nodes(client, "&node=R002") == {"R002"}
    assert client.get("/alerts?node=R003").status_code == 404
    assert client.get("/alerts?node=EAST-T1", headers={"hx-request": "true"}).json()["detail"] == "没有你能看到的销售员、团队或大区「EAST-T1」"  # zh-CN HTMX error


def test_a_rep_cannot_read_or_mark_another_reps_alert(demo_db, api, browser) -> None:  # type: ignore[no-untyped-def]
    ids = _add_events(demo_db, ["R002", "R003", "SOUTH-T1"])
    rep = api("rep")
    for body in ({"ids": [ids["R003"]]}, {"ids": [ids["R002"], ids["R003"]]}, {"ids": [ids["SOUTH-T1"]]},
                 {"all": True, "node": "R003"}):
        answer = rep.post("/api/v1/alerts/read", json=body)
        assert answer.status_code == 404, (body, answer.text)
    assert "that you can see; nothing was marked" in rep.post("/api/v1/alerts/read", json={"ids": [ids["R003"]]}).json()["detail"]
    client, token = browser("rep")
    for path, data in ((f"/alerts/{ids['R003']}/read", {}), (f"/alerts/{ids['SOUTH-T1']}/read", {}),
                       ("/alerts/read-all", {"node": "R003"})):
        answer = client.post(path, data=data, headers={"X-CSRF-Token": token, "hx-request": "true"})
        assert answer.status_code == 404, (path, answer.text)
    manager, manager_token = browser("manager")
    answer = manager.post(f"/alerts/{ids['SOUTH-T1']}/read", headers={"X-CSRF-Token": manager_token, "hx-request": "true"})
    assert answer.status_code == 404
    assert _read_state(demo_db, list(ids.values())) == dict.fromkeys(ids.values(), False)  # nothing changed
    assert f'data-alert="{ids["R003"]}"' not in client.get("/alerts").text


def test_marking_without_the_csrf_token_is_refused(demo_db, browser) -> None:  # type: ignore[no-untyped-def]
    ids = _add_events(demo_db, ["R002"])
    client, _token = browser("rep")
    for path, kwargs in ((f"/alerts/{ids['R002']}/read", {}), ("/alerts/read-all", {}),
                         ("/api/v1/alerts/read", {"json": {"ids": [ids["R002"]]}}),
                         (f"/alerts/{ids['R002']}/read", {"headers": {"X-CSRF-Token": "wrong"}})):
        answer = client.post(path, **kwargs)
        assert answer.status_code == 403 and "CSRF" in answer.text, (path, answer.status_code)
    assert _read_state(demo_db, [ids["R002"]]) == {ids["R002"]: False}


def test_unread_filter_and_marking_one_alert(demo_db, api, browser) -> None:  # type: ignore[no-untyped-def]
    ids = _add_events(demo_db, ["R002", "R003"])
    own = ids["R002"]
    rep = api("rep")
    unread = rep.get("/api/v1/alerts", params={"unread": "true"}).json()
    assert own in [a["id"] for a in unread["alerts"]] and unread["unread"] >= 1
    assert all(not a["read"] for a in unread["alerts"])
    client, token = browser("rep")
    assert f'data-alert="{own}"' in client.get("/alerts?show=unread").text
    answer = client.post(f"/alerts/{own}/read", data={"show": "all"}, headers={"X-CSRF-Token": token, "hx-request": "true"})
    assert answer.status_code == 200 and answer.headers["HX-Trigger"] == "alerts-read"
    assert 'id="alerts-inbox"' in answer.text and "<html" not in answer.text  # the list again, not the page
    assert re.search(rf'<tr id="alert-{own}" data-alert="{own}" data-node="R002" class="read">', answer.text)
    assert f'data-testid="read-{own}"' in answer.text
    unread_list = client.post(f"/alerts/{own}/read", data={"show": "unread"},
                              headers={"X-CSRF-Token": token, "hx-request": "true"})
    assert unread_list.status_code == 200 and f'data-alert="{own}"' not in unread_list.text
    assert f'data-alert="{own}"' not in client.get("/alerts?show=unread").text
    assert f'data-alert="{own}"' in client.get("/alerts?show=all").text
    listed = {a["id"]: a for a in rep.get("/api/v1/alerts").json()["alerts"]}
    assert listed[own]["read"] is True and listed[own]["read_at"]
    assert own not in [a["id"] for a in rep.get("/api/v1/alerts?unread=1").json()["alerts"]]
    again = client.post(f"/alerts/{own}/read", data={"csrf_token": token}, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/alerts?show=all"  # a form without HTMX
    assert _read_state(demo_db, list(ids.values())) == {own: True, ids["R003"]: False}


def test_marking_all_touches_only_what_the_user_sees(demo_db, tree, api, browser) -> None:  # type: ignore[no-untyped-def]
    team = sorted(_scope(tree, "manager"))
    outside = ["SOUTH-T1", "SOUTH", "EAST", "EAST-T2", "COMPANY"]
    ids = _add_events(demo_db, team + outside)
    manager, token = browser("manager")
    answer = manager.post("/alerts/read-all", data={"csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/alerts?show=all"
    state = _read_state(demo_db, list(ids.values()))
    assert {code for code, i in ids.items() if state[i]} == set(team)
    assert manager.get("/alerts/badge").text == ""
    assert "0 条未读" in manager.get("/alerts").text
    # Through the API, a rep: their own alerts only, and the count of what is left.
    fresh = _add_events(demo_db, ["R002", "R003"])
    rep3 = api("rep3")
    before = rep3.get("/api/v1/alerts?unread=true").json()["unread"]
    assert before >= 1
    marked = rep3.post("/api/v1/alerts/read", json={"all": True})
    assert marked.status_code == 200 and marked.json() == {"marked": before, "unread": 0}
    assert _read_state(demo_db, [fresh["R003"], fresh["R002"], ids["SOUTH-T1"]]) == {
        fresh["R003"]: True, fresh["R002"]: False, ids["SOUTH-T1"]: False}
    assert rep3.post("/api/v1/alerts/read", json={"ids": [fresh["R003"]]}).json() == {"marked": 0, "unread": 0}


def test_mark_all_with_htmx_answers_the_refreshed_list(demo_db, browser) -> None:  # type: ignore[no-untyped-def]
    ids = _add_events(demo_db, ["R002"])
    client, token = browser("rep")
    assert client.get("/alerts/badge").text.isdigit()
    answer = client.post("/alerts/read-all", data={"show": "unread", "node": "R002"},
                         headers={"X-CSRF-Token": token, "hx-request": "true"})
    assert answer.status_code == 200 and answer.headers["HX-Trigger"] == "alerts-read"
    assert 'id="alerts-inbox"' in answer.text and "没有未读预警。" in answer.text and "<html" not in answer.text
    assert _read_state(demo_db, [ids["R002"]]) == {ids["R002"]: True}


def test_pages_follow_with_more(demo_db, browser) -> None:  # type: ignore[no-untyped-def]
    first, second = _add_events(demo_db, ["R002"])["R002"], _add_events(demo_db, ["R002"])["R002"]
    client, _token = browser("rep")
    page = client.get("/alerts?limit=1")
    assert re.findall(r'data-alert="(\d+)"', page.text) == [str(second)]
    more = re.search(r'href="/alerts\?([^"]+)" data-testid="more"', page.text).group(1).replace("&amp;", "&")
    older = client.get(f"/alerts?{more}")
    assert re.findall(r'data-alert="(\d+)"', older.text) == [str(first)] and 'href="/alerts?show=all&amp;limit=1"' in older.text


def test_the_page_is_chinese_or_english(demo_db, browser) -> None:  # type: ignore[no-untyped-def]
    _add_events(demo_db, ["R002"])
    chinese, _token = browser("rep")
    text = chinese.get("/alerts").text
    assert "<h1>预警收件箱</h1>" in text and ">收件箱<" in text and "进度落后" in text and "R002 达成 50%" in text
    assert "Alerts inbox" not in text and "attainment 50%" not in text
    english, _token = browser("rep", locale="en")
    text = english.get("/alerts").text
    assert "<h1>Alerts inbox</h1>" in text and ">Inbox<" in text and "pace gap" in text and "attainment 50%" in text
    assert "预警收件箱" not in text and "R002 达成" not in text
    assert 'data-testid="unread-badge" hx-get="/alerts/badge"' in english.get("/dashboard?as_of=2026-11-23").text


@pytest.mark.parametrize(("url", "status"), [
    ("/api/v1/alerts?node=NOPE", 404), ("/api/v1/alerts?node=" + "N" * 65, 422), ("/api/v1/alerts?node=", 422),
    ("/api/v1/alerts?limit=-1", 422), ("/api/v1/alerts?limit=0", 422), ("/api/v1/alerts?limit=501", 422),
    ("/api/v1/alerts?limit=99999999999999999999999", 422), ("/api/v1/alerts?limit=ten", 422),
    ("/api/v1/alerts?before=0", 422), (f"/api/v1/alerts?before={BIGINT_MAX + 1}", 422),
    ("/api/v1/alerts?unread=maybe", 422),
])
def test_bad_list_parameters_get_a_4xx_message(api, url: str, status: int) -> None:  # type: ignore[no-untyped-def]
    answer = api("admin").get(url)
    assert answer.status_code == status, (url, answer.text[:300])
    assert isinstance(answer.json()["detail"], str) and answer.json()["detail"]


@pytest.mark.parametrize(("body", "status"), [
    ({"ids": 5}, 422), ({"ids": "1,2"}, 422), ({"ids": []}, 422), ({"ids": ["1"]}, 422), ({"ids": [True]}, 422),
    ({"ids": [0]}, 422), ({"ids": [2**70]}, 422), ({"ids": list(range(1, 1002))}, 422), ({}, 422),
    ({"all": False}, 422), ({"all": True, "ids": [1]}, 422), ({"ids": [1], "node": "R002"}, 422), ({"bogus": 1}, 422),
    ([1, 2], 422), ("all", 422), ({"all": "yes please"}, 422), ({"all": True, "node": "NOPE"}, 404),
    ({"ids": [BIGINT_MAX]}, 404),
])
def test_bad_mark_bodies_get_a_4xx_message(api, body: object, status: int) -> None:  # type: ignore[no-untyped-def]
    answer = api("admin").post("/api/v1/alerts/read", json=body)
    assert answer.status_code == status, (body, answer.text[:300])
    assert isinstance(answer.json()["detail"], str) and answer.json()["detail"]


def test_a_mark_body_that_is_not_json_is_a_4xx(api) -> None:  # type: ignore[no-untyped-def]
    answer = api("admin").post("/api/v1/alerts/read", content=b"{not json", headers={"Content-Type": "application/json"})
    assert answer.status_code == 422 and answer.json()["detail"]


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/alerts?show=maybe", 422), ("GET", "/alerts?limit=0", 422), ("GET", "/alerts?limit=100000", 422),
    ("GET", "/alerts?before=-3", 422), ("GET", "/alerts?node=NOPE", 404), ("POST", "/alerts/abc/read", 422),
    ("POST", "/alerts/0/read", 422), ("POST", f"/alerts/{BIGINT_MAX}/read", 404),
    ("POST", f"/alerts/{BIGINT_MAX + 1}/read", 422),
])
def test_bad_page_requests_get_a_4xx(browser, method: str, path: str, status: int) -> None:  # type: ignore[no-untyped-def]
    client, token = browser("admin")
    answer = client.request(method, path, headers={"X-CSRF-Token": token, "hx-request": "true"})
    assert answer.status_code == status, (path, answer.text[:300])
    assert answer.json()["detail"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(["unread", "node", "limit", "before"]), st.text(max_size=30), max_size=4))
def test_any_text_in_the_list_parameters_is_never_a_500(api, params: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    answer = api("manager").get("/api/v1/alerts", params=params)
    assert answer.status_code < 500, (params, answer.text[:300])
    if answer.status_code >= 400:
        assert isinstance(answer.json()["detail"], str)


@pytest.mark.parametrize(("message", "zh", "en"), [
    ("华东 达成 80%，进度差 -12%（低于 -10%）/ attainment 80%, pace gap -12% below -10%",
     "华东 达成 80%，进度差 -12%（低于 -10%）", "attainment 80%, pace gap -12% below -10%"),
    ("甲/乙 预测 80% 目标（P50） / forecast 80% of target (P50)", "甲/乙 预测 80% 目标（P50）", "forecast 80% of target (P50)"),
    ("one language only", "one language only", "one language only"),
    ("trailing / ", "trailing / ", "trailing / "),
])
def test_stored_messages_split_into_their_chinese_and_english_halves(message: str, zh: str, en: str) -> None:
    from attain.tracking.alerts import split_message

    assert split_message(message) == (zh, en)


def test_the_dashboard_lists_alerts_in_the_page_language(demo_db: str, browser) -> None:  # type: ignore[no-untyped-def]
    rep = "R002"
    _add_events(demo_db, [rep])
    chinese, _token = browser("admin")
    english, _token = browser("admin", locale="en")
    zh_page = chinese.get(f"/?node={rep}").text
    en_page = english.get(f"/?node={rep}").text
    zh_list = zh_page.split('data-testid="alerts"', 1)[1].split("</ul>", 1)[0]
    en_list = en_page.split('data-testid="alerts"', 1)[1].split("</ul>", 1)[0]
    assert "达成 50%" in zh_list and "attainment 50%" not in zh_list
    assert "attainment 50%" in en_list and "达成" not in en_list
