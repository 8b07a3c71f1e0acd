"""Every /api/v1 route under every role: a rep gets their own figures and never another rep's."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from attain.db import get_engine, make_session_factory
from attain.org.models import OrgNode

# Every API route and the test below that covers it; a new route without an access test fails here.
COVERED = {
    ("GET", "/api/status"), ("GET", "/api/v1/plans"), ("GET", "/api/v1/plans/{name}"),
    ("GET", "/api/v1/plans/{name}/cells"), ("PATCH", "/api/v1/plans/{name}/cells/{cell_id}"),
    ("GET", "/api/v1/actuals"), ("GET", "/api/v1/attainment"), ("GET", "/api/v1/leaderboard"),
    ("GET", "/api/v1/diagnosis"), ("POST", "/api/v1/imports"), ("GET", "/api/v1/jobs/{job_id}"),
    ("GET", "/api/v1/jobs"), ("GET", "/api/v1/dashboard"),  # dashboard: tests/web/api/test_dashboard_api.py
    ("GET", "/api/v1/alerts"), ("POST", "/api/v1/alerts/read"),  # alerts: tests/web/test_alerts_inbox.py
    # incentives: tests/web/incentives/test_incentive_api.py (per role, 404 for another rep's statement)
    ("GET", "/api/v1/incentives"), ("GET", "/api/v1/incentives/{name}/statements/{period}"),
    ("GET", "/api/v1/incentives/{name}/statements/{period}/{rep}"), ("GET", "/api/v1/incentives/{name}/what-if"),
}
YEAR = "period=2026&as_of=2026-11-23"


def _api_routes(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(method, path) of every documented /api route, read from the OpenAPI schema."""
    return {(method.upper(), path) for path, item in app.openapi()["paths"].items() if path.startswith("/api/")
            for method in item}


@pytest.fixture(scope="module")
def ids(demo_db: str) -> dict[str, int]:
    with make_session_factory(get_engine(demo_db))() as session:
        return dict(session.execute(select(OrgNode.code, OrgNode.id)).all())


@pytest.fixture(scope="module")
def tree(demo_db: str) -> dict[str, str]:
    with make_session_factory(get_engine(demo_db))() as session:
        return dict(session.execute(select(OrgNode.code, OrgNode.path)).all())


def _client(demo_app, demo_tokens: dict[str, str], who: str) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(demo_app, headers={"Authorization": f"Bearer {demo_tokens[who]}"})


def _under(tree: dict[str, str], top: str) -> set[str]:
    return {code for code, path in tree.items() if path.startswith(tree[top])}


def test_every_api_route_is_covered_and_needs_sign_in(demo_app) -> None:  # type: ignore[no-untyped-def]
    routes = _api_routes(demo_app)
    assert routes == COVERED
    client = TestClient(demo_app)
    for method, path in routes:
        url = (path.replace("{name}", "FY2026").replace("{cell_id}", "1").replace("{job_id}", "abc")
               .replace("{period}", "2026Q3").replace("{rep}", "R002"))
        response = client.request(method, url, json={"expect": 1} if method == "PATCH" else None)
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.json() == {"detail": "sign in first"}


def test_a_rep_sees_only_their_own_figures(demo_app, demo_tokens, ids, tree) -> None:  # type: ignore[no-untyped-def]
    rep = _client(demo_app, demo_tokens, "rep")  # R002
    own = ids["R002"]
    attainment = rep.get(f"/api/v1/attainment?{YEAR}&by=month").json()
    assert attainment["node"] == "R002" and attainment["rows"]
    assert {row["key"]["rep"] for row in attainment["rows"]} == {own}
    assert attainment["total"]["node_id"] == own
    monthly_sum = sum(float(r["actual"]) for r in attainment["rows"])
    assert monthly_sum == pytest.approx(float(attainment["total"]["actual"]))
    actuals = rep.get(f"/api/v1/actuals?{YEAR}&by=rep").json()
    assert [r["key"]["rep"] for r in actuals["rows"]] == [own] and actuals["total"] == actuals["rows"][0]["value"]
    cells = rep.get("/api/v1/plans/FY2026/cells?limit=5000").json()
    assert cells["total"] > 0 and {c["org_node"] for c in cells["cells"]} == {"R002"}
    plan = rep.get("/api/v1/plans/FY2026").json()
    assert "total" not in plan and plan["visible_cell_sum"] == sum(c["value"] for c in cells["cells"])
    diagnosis = rep.get(f"/api/v1/diagnosis?{YEAR}").json()
    assert [r["code"] for r in diagnosis["rows"]] == ["R002"]
    assert rep.get(f"/api/v1/diagnosis?{YEAR}&level=team").json()["rows"] == []


@pytest.mark.parametrize("who", ["rep", "rep3"])
def test_a_rep_asking_for_another_rep_gets_404(demo_app, demo_tokens, who: str) -> None:  # type: ignore[no-untyped-def]
    other = "R003" if who == "rep" else "R002"
    client = _client(demo_app, demo_tokens, who)
    for url in (f"/api/v1/attainment?{YEAR}&node={other}", f"/api/v1/actuals?{YEAR}&node={other}",
                f"/api/v1/plans/FY2026/cells?node={other}", f"/api/v1/attainment?{YEAR}&node=EAST-T1",
                f"/api/v1/actuals?{YEAR}&node=COMPANY"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["detail"] == f"no rep, team or region '{url.rsplit('=', 1)[1]}' that you can see"
        assert response.json()["code"] == "auth.access.rep_team_region_you"  # the same code whether it exists or not


def test_the_leaderboard_shows_reps_ranks_but_no_amounts_of_others(demo_app, demo_tokens, ids) -> None:  # type: ignore[no-untyped-def]
    board = _client(demo_app, demo_tokens, "rep").get(f"/api/v1/leaderboard?{YEAR}").json()
    assert len(board["rows"]) > 10
    mine = [r for r in board["rows"] if r["mine"]]
    assert len(mine) == 1 and mine[0]["node_id"] == ids["R002"] and "actual" in mine[0]
    for row in board["rows"]:
        if not row["mine"]:
            assert set(row) == {"rank", "labels", "attainment", "status", "mine"}
    assert [r["rank"] for r in board["rows"]] == sorted(r["rank"] for r in board["rows"])
    full = _client(demo_app, demo_tokens, "admin").get(f"/api/v1/leaderboard?{YEAR}").json()
    assert all(r["mine"] and "actual" in r for r in full["rows"])
    assert [r["labels"] for r in full["rows"]] == [r["labels"] for r in board["rows"]]


def test_a_manager_sees_their_team_only(demo_app, demo_tokens, ids, tree) -> None:  # type: ignore[no-untyped-def]
    manager = _client(demo_app, demo_tokens, "manager")  # EAST-T1
    team = _under(tree, "EAST-T1")
    cells = manager.get("/api/v1/plans/FY2026/cells?limit=5000").json()
    assert {c["org_node"] for c in cells["cells"]} == team
    reps = manager.get(f"/api/v1/attainment?{YEAR}&by=rep").json()
    assert {r["key"]["rep"] for r in reps["rows"]} == {ids[c] for c in team if c != "EAST-T1"}
    assert reps["total"]["node_id"] == ids["EAST-T1"]
    assert manager.get(f"/api/v1/attainment?{YEAR}&node=EAST-T2").status_code == 404
    assert manager.get(f"/api/v1/attainment?{YEAR}&node=EAST").status_code == 404
    teams = manager.get(f"/api/v1/diagnosis?{YEAR}&level=team").json()
    assert [r["code"] for r in teams["rows"]] == ["EAST-T1"]
    board = manager.get(f"/api/v1/leaderboard?{YEAR}").json()
    assert {r["node_id"] for r in board["rows"] if r["mine"]} == {ids[c] for c in team if c != "EAST-T1"}


def test_a_regional_director_sees_their_region(demo_app, demo_tokens, ids, tree) -> None:  # type: ignore[no-untyped-def]
    director = _client(demo_app, demo_tokens, "east")
    region = director.get(f"/api/v1/attainment?{YEAR}&node=EAST&by=team").json()
    assert {r["key"]["team"] for r in region["rows"]} == {ids["EAST-T1"], ids["EAST-T2"]}
    assert director.get(f"/api/v1/attainment?{YEAR}&node=SOUTH").status_code == 404
    cells = director.get("/api/v1/plans/FY2026/cells?limit=5000").json()
    assert {c["org_node"] for c in cells["cells"]} == _under(tree, "EAST")
    assert director.get("/api/status").status_code == 403  # company figures: not for a regional director
    assert _client(demo_app, demo_tokens, "director").get("/api/status").json()["counts"]["reps"] > 0


def test_admin_and_company_director_see_everything(demo_app, demo_tokens, tree) -> None:  # type: ignore[no-untyped-def]
    for who in ("admin", "director"):
        client = _client(demo_app, demo_tokens, who)
        cells = client.get("/api/v1/plans/FY2026/cells?limit=5000").json()
        assert cells["total"] == len(cells["cells"]) and {c["org_node"] for c in cells["cells"]} <= set(tree)
        assert client.get("/api/v1/plans").json()[0]["total"] > 0
        assert client.get(f"/api/v1/actuals?{YEAR}&node=R003").json()["node"] == "R003"
    company = _client(demo_app, demo_tokens, "admin").get(f"/api/v1/attainment?{YEAR}").json()
    assert company["node"] == "COMPANY" and company["rows"] == [] and company["total"]["actual"]


@pytest.mark.parametrize("who", ["rep", "rep3", "manager"])
def test_company_status_and_imports_are_not_for_reps_or_managers(demo_app, demo_tokens, who: str) -> None:  # type: ignore[no-untyped-def]
    client = _client(demo_app, demo_tokens, who)
    assert client.get("/api/status").status_code == 403
    response = client.post("/api/v1/imports", data={"kind": "orders"}, files={"file": ("a.csv", b"x,y\n1,2\n", "text/csv")})
    assert response.status_code == 403 and "admin" in response.json()["detail"]


def test_reps_cannot_edit_cells_and_managers_only_their_own(demo_app, demo_tokens) -> None:  # type: ignore[no-untyped-def]
    admin = _client(demo_app, demo_tokens, "admin")
    cells = admin.get("/api/v1/plans/FY2026/cells?node=R003&limit=1").json()["cells"]
    version = admin.get("/api/v1/plans/FY2026").json()["version"]
    rep = _client(demo_app, demo_tokens, "rep").patch(f"/api/v1/plans/FY2026/cells/{cells[0]['id']}",
                                                      json={"expect": version, "value": 1})
    assert rep.status_code == 403
    south = admin.get("/api/v1/plans/FY2026/cells?node=SOUTH&limit=1").json()["cells"][0]
    manager = _client(demo_app, demo_tokens, "manager").patch(f"/api/v1/plans/FY2026/cells/{south['id']}",
                                                              json={"expect": version, "value": 1})
    assert manager.status_code == 404
    # An approved plan is not edited in place, even by an admin.
    locked = admin.patch(f"/api/v1/plans/FY2026/cells/{south['id']}", json={"expect": version, "value": 1})
    assert locked.status_code == 409 and "approved" in locked.json()["detail"]


def test_jobs_belong_to_their_owner(demo_app, demo_tokens) -> None:  # type: ignore[no-untyped-def]
    admin = _client(demo_app, demo_tokens, "admin")
    job = admin.post("/api/v1/imports", data={"kind": "customers"},
                     files={"file": ("c.csv", "客户编号,客户名称\nC1,甲\n".encode(), "text/csv")})
    assert job.status_code == 202
    job_id = job.json()["id"]
    assert admin.get(f"/api/v1/jobs/{job_id}").status_code == 200
    assert _client(demo_app, demo_tokens, "rep").get(f"/api/v1/jobs/{job_id}").status_code == 404
    assert _client(demo_app, demo_tokens, "rep").get("/api/v1/jobs").json() == []
    from attain.web import jobs

    jobs.wait_idle()
