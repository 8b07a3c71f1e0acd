from __future__ import annotations

from fastapi.testclient import TestClient

from attain.web.app import create_app


def test_healthz_checks_the_database(database_url: str) -> None:
    client = TestClient(create_app(database_url))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_reports_503_when_the_database_is_unreachable() -> None:
    client = TestClient(create_app("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


def test_openapi_document_lists_health_and_status(database_url: str) -> None:
    paths = TestClient(create_app(database_url)).get("/openapi.json").json()["paths"]
    assert "/healthz" in paths and "/api/status" in paths


def test_index_page_sends_anonymous_visitors_to_sign_in(database_url: str) -> None:
    response = TestClient(create_app(database_url)).get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


def test_unknown_route_is_404_not_500(database_url: str) -> None:
    assert TestClient(create_app(database_url)).get("/nope").status_code == 404
