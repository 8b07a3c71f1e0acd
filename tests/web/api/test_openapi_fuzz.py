"""The OpenAPI document is true: schemathesis drives every API operation in-process (ASGI), signed
in with an API token, on SQLite and PostgreSQL, with a fixed seed and a bounded number of examples.

No answer is a 5xx; status codes, content types and bodies are the documented ones; and a request
that matches the schema is not refused with 400 or 422 (what the document promises is accepted),
unless the refusal is one the operation documents as beyond any schema: its 422 answer lists those
under `x-refusals` by error code (e.g. /diagnosis: the period starts after as_of), and the body's
`code` must be one of them."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import checks as core_checks
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi import checks as openapi_checks

EXAMPLES = 12  # per operation: about 20 s for the whole API on one database
CONFORMANCE = [core_checks.not_a_server_error, openapi_checks.status_code_conformance,
               openapi_checks.content_type_conformance, openapi_checks.response_schema_conformance]


def documented_refusals(operation: Any) -> dict[str, str]:
    """The codes of the 422s the operation documents for requests that match its schema."""
    return dict(operation.definition.raw.get("responses", {}).get("422", {}).get("x-refusals", {}))


def accepted_unless_documented(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis' positive_data_acceptance, except for a 422 whose `code` the operation documents."""
    try:
        return openapi_checks.positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        try:
            code = response.json().get("code")
        except Exception:  # noqa: BLE001 -- not JSON: not a documented refusal
            code = None
        if response.status_code == 422 and code in documented_refusals(case.operation):
            return None
        raise


def _operations(app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def _drive(operation: Any, checks: list[Any], headers: dict[str, str]) -> None:
    @seed(2026)
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def drive(case: Any) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=checks)

    drive()


def test_every_operation_conforms_to_the_openapi_document(demo_app, demo_tokens: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    headers = {"authorization": f"Bearer {demo_tokens['admin']}"}
    failures: dict[str, str] = {}
    for operation in _operations(demo_app):
        try:
            _drive(operation, [*CONFORMANCE, accepted_unless_documented], headers)
        except BaseException as exc:  # collect every operation's failure (a FailureGroup), then report them all
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures[operation.label] = str(exc)[:1500]
    assert not failures, "\n\n".join(f"{label}:\n{message}" for label, message in failures.items())


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31"])
def test_years_1_and_9999_are_a_422_not_a_500(demo_app, demo_tokens: dict[str, str], value: str) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    client = TestClient(demo_app, raise_server_exceptions=False,
                        headers={"authorization": f"Bearer {demo_tokens['admin']}"})
    year = value[:4]
    asked = [("/api/v1/actuals", {"period": year}), ("/api/v1/diagnosis", {"period": year}),
             ("/api/v1/attainment", {"as_of": value}), ("/api/v1/leaderboard", {"as_of": value}),
             ("/api/v1/leaderboard", {"period": f"{year}-W52"}), ("/customers", {"as_of": value}),
             ("/diagnosis", {"as_of": value}), ("/actions", {"day": value}), ("/leaderboard", {"period": f"{year}W52"}),
             ("/diagnosis/review", {"week": f"{year}-W52"}), ("/customers", {"segment": "<!--nope"})]
    answers = {f"{path}?{params}": client.get(path, params=params).status_code for path, params in asked}
    assert {k: v for k, v in answers.items() if v != 422} == {}


def test_every_operation_is_checked_and_refusals_are_documented_by_code(demo_app) -> None:  # type: ignore[no-untyped-def]
    """The acceptance check covers every route (GET, POST, PATCH); the documented refusals are real codes."""
    from attain.messages import MESSAGES

    operations = {op.label: op for op in _operations(demo_app)}
    assert {"POST /api/v1/imports", "POST /api/v1/alerts/read", "PATCH /api/v1/plans/{name}/cells/{cell_id}",
            "GET /api/v1/diagnosis"} <= set(operations)
    documented = {label: documented_refusals(op) for label, op in operations.items() if documented_refusals(op)}
    assert set(documented) == {"GET /api/v1/diagnosis", "POST /api/v1/imports", "PATCH /api/v1/plans/{name}/cells/{cell_id}",
                               # customer attributes in `by` / a segment filter (issue 17)
                               "GET /api/v1/actuals", "GET /api/v1/attainment", "GET /api/v1/leaderboard"}
    assert all(code in MESSAGES for codes in documented.values() for code in codes)


def test_a_documented_refusal_is_answered_with_its_code(demo_app, demo_tokens: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    client = TestClient(demo_app, headers={"authorization": f"Bearer {demo_tokens['admin']}"})
    answer = client.get("/api/v1/diagnosis", params={"period": "2026", "as_of": "2000-01-01"})
    assert answer.status_code == 422 and answer.json()["code"] == "tracking.diagnosis.starts_after_nothing_diagnose"
    assert "nothing to diagnose yet" in answer.json()["detail"]


def test_an_undocumented_refusal_of_a_schema_valid_request_fails_the_check(demo_app, demo_tokens: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """The check can fail: the same refusal on an operation that does not document it is reported."""
    operation = next(op for op in _operations(demo_app) if op.label == "GET /api/v1/diagnosis")
    operation.definition.raw["responses"]["422"].pop("x-refusals")
    headers = {"authorization": f"Bearer {demo_tokens['admin']}"}
    from hypothesis import find
    from schemathesis.core.failures import FailureGroup

    def refused(case: Any) -> Any:  # a generated (positive) case, asking what the refusal is about
        case.query = {"period": "2026", "as_of": "2000-01-01"}
        return case

    case = find(operation.as_strategy().map(refused), lambda _case: True, settings=settings(database=None))
    with pytest.raises(FailureGroup, match="Schema-valid request rejected|Valid data should have been accepted"):
        case.validate_response(case.call(headers=headers), checks=[accepted_unless_documented])
