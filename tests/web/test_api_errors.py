"""Bad requests get a 4xx with {"detail": message} on every API route — never a 500."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BAD_GETS = [
    ("/api/v1/plans/nope", 404), ("/api/v1/plans/" + "x" * 150, 422), ("/api/v1/plans/FY2026?version=-1", 422),
    ("/api/v1/plans/FY2026?version=abc", 422), ("/api/v1/plans/FY2026?version=99999999999", 422),
    ("/api/v1/plans/FY2026?version=99", 404),
    ("/api/v1/plans/FY2026/cells?limit=0", 422), ("/api/v1/plans/FY2026/cells?limit=1000000", 422),
    ("/api/v1/plans/FY2026/cells?offset=-1", 422), ("/api/v1/plans/FY2026/cells?node=NOPE", 404),
    ("/api/v1/plans/FY2026/cells?product=NOPE", 404), ("/api/v1/plans/FY2026/cells?period=" + "9" * 40, 422),
    ("/api/v1/plans/nope/cells", 404),
    ("/api/v1/actuals?period=2026Q9", 422), ("/api/v1/actuals?period=FY99999", 422),
    ("/api/v1/actuals?period=" + "x" * 40, 422), ("/api/v1/actuals?period=2026&by=nope", 422),
    ("/api/v1/actuals?period=2026&metric=nope", 422), ("/api/v1/actuals?period=2026&as_of=yesterday", 422),
    ("/api/v1/actuals?period=2026&as_of=2026-02-30", 422), ("/api/v1/actuals?node=" + "N" * 100, 422),
    ("/api/v1/attainment?period=2026&plan=nope", 404), ("/api/v1/attainment?period=1990", 404),
    ("/api/v1/attainment?period=2026-13", 422), ("/api/v1/attainment?period=2026&by=month,nope", 422),
    ("/api/v1/attainment?period=%00", 422),
    ("/api/v1/leaderboard?period=2026&by=region", 422), ("/api/v1/leaderboard?period=garbage", 422),
    ("/api/v1/diagnosis?period=2026&level=company", 422), ("/api/v1/diagnosis?period=2026&vs=nope", 422),
    ("/api/v1/diagnosis?period=2026&as_of=2025-01-01", 422), ("/api/v1/diagnosis?period=2026-W99", 422),
    ("/api/v1/jobs/ZZZ", 422), ("/api/v1/jobs/abcdef", 404), ("/api/v1/jobs/" + "a" * 40, 422),
]


def _assert_clean_error(response, expected: int | None = None) -> None:  # type: ignore[no-untyped-def]
    assert 400 <= response.status_code < 500, (response.request.url, response.status_code, response.text[:300])
    if expected is not None:
        assert response.status_code == expected, (response.request.url, response.text[:300])
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"], body


@pytest.fixture(scope="module")
def admin(demo_app, demo_tokens) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(demo_app, headers={"Authorization": f"Bearer {demo_tokens['admin']}"}, raise_server_exceptions=False)


@pytest.mark.parametrize(("url", "status"), BAD_GETS)
def test_bad_query_parameters_get_a_4xx_message(admin: TestClient, url: str, status: int) -> None:
    _assert_clean_error(admin.get(url), status)


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/v1/plans/FY2026/cells/1", {}, 422),
        ("/api/v1/plans/FY2026/cells/1", {"expect": "a"}, 422),
        ("/api/v1/plans/FY2026/cells/1", {"expect": 1, "value": -5}, 422),
        ("/api/v1/plans/FY2026/cells/1", {"expect": 1, "value": 10**30}, 422),
        ("/api/v1/plans/FY2026/cells/1", {"expect": 1, "bogus": 1}, 422),
        ("/api/v1/plans/FY2026/cells/1", [1, 2], 422),
        ("/api/v1/plans/FY2026/cells/0", {"expect": 1}, 422),
        ("/api/v1/plans/FY2026/cells/abc", {"expect": 1}, 422),
        ("/api/v1/plans/FY2026/cells/999999999", {"expect": 1}, 404),
        ("/api/v1/plans/nope/cells/1", {"expect": 1}, 404),
        ("/api/v1/plans/FY2026/cells/1", {"expect": 1, "value": 5}, 409),  # approved plan
    ],
)
def test_bad_cell_edits_get_a_4xx_message(admin: TestClient, path: str, body: object, status: int) -> None:
    _assert_clean_error(admin.patch(path, json=body), status)


def test_a_body_that_is_not_json_is_a_4xx(admin: TestClient) -> None:
    _assert_clean_error(admin.patch("/api/v1/plans/FY2026/cells/1", content=b"{not json",
                                    headers={"Content-Type": "application/json"}), 422)


@pytest.mark.parametrize(
    ("data", "files", "status"),
    [
        ({"kind": "orders"}, None, 422),
        ({"kind": "nope"}, {"file": ("a.csv", b"a,b\n1,2\n", "text/csv")}, 422),
        ({"kind": "orders"}, {"file": ("a.exe", b"MZ", "application/octet-stream")}, 422),
        ({"kind": "orders"}, {"file": ("a.csv", b"", "text/csv")}, 422),
        ({"kind": "orders", "mapping": "no-equals-sign"}, {"file": ("a.csv", b"a,b\n1,2\n", "text/csv")}, 422),
        ({"kind": "orders", "mapping": "nofield=A"}, {"file": ("a.csv", b"a,b\n1,2\n", "text/csv")}, 422),
    ],
)
def test_bad_uploads_get_a_4xx_message(admin: TestClient, data: dict[str, str], files: object, status: int) -> None:
    _assert_clean_error(admin.post("/api/v1/imports", data=data, files=files), status)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.text(min_size=1, max_size=120),
    params=st.dictionaries(st.sampled_from(["version", "period", "node", "product", "customer_type", "limit", "offset"]),
                           st.text(max_size=60), max_size=5),
)
def test_any_text_in_cell_listing_parameters_is_never_a_500(admin: TestClient, name: str, params: dict[str, str]) -> None:
    response = admin.get(f"/api/v1/plans/{quote(name, safe='')}/cells", params=params)
    assert response.status_code < 500, (name, params, response.text[:300])
    if response.status_code >= 400:
        assert isinstance(response.json()["detail"], str)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(period=st.text(max_size=20).filter(lambda t: not t.strip().isdigit()), node=st.text(max_size=20))
def test_any_period_or_node_text_is_never_a_500(admin: TestClient, period: str, node: str) -> None:
    # Nodes that do not exist fail before any computing; periods are parsed before anything is read.
    response = admin.get("/api/v1/actuals", params={"period": period, "node": node or "NOPE-NODE"})
    assert response.status_code < 500, (period, node, response.text[:300])
    assert isinstance(response.json()["detail"], str)
