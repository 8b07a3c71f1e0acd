"""Helpers shared by the API routes: JSON conversion and the period/node parameters."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy.orm import Session

from attain.errors import InvalidInput
from attain.org.models import OrgNode
from attain.periods import Period, supported_day
from attain.web.deps import Access

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in / bad token", "content": {"application/json": {"example": {"detail": "sign in first"}}}},
    403: {"description": "The role may not use this route"},
    404: {"description": "Not found, or not visible to the caller"},
    422: {"description": "Invalid parameter", "content": {"application/json": {"example": {"detail": "period: ..."}}}},
}


def given(schema: dict[str, Any], field: str) -> dict[str, Any]:
    """The schema of an optional body field when it is given (not null), for a model's anyOf."""
    found = schema["properties"][field]
    return next((s for s in found.get("anyOf", ()) if s.get("type") != "null"), found)


def refusals(codes: dict[str, str]) -> dict[int | str, dict[str, Any]]:
    """The 422 answer of a route that refuses some schema-valid requests for a reason no parameter
    schema can express (one parameter against another, the uploaded file's name or content).
    `x-refusals` names each such reason by the `code` of the error body, so a client knows which 422s a
    well-formed request may still get; any other 422 means the request did not match the schema
    (tests/web/api/test_openapi_fuzz.py holds the API to that)."""
    reasons = "; ".join(f"`{code}`: {why}" for code, why in codes.items())
    return {422: {**ERROR_RESPONSES[422], "description": f"Invalid parameter; or, for a request matching the schema, "
                                                         f"one of these (the body's `code`): {reasons}",
                  "x-refusals": dict(codes)}}


# What the OpenAPI document promises: every value matching these patterns is accepted (`date_of`
# and `period_of` check the values and answer 422 with a message). The period pattern describes the
# labels only (the API also reads 2026年3月, 本月, 近30天 …), with days 01-28 and weeks 01-52 so that
# every matching label exists, in the supported years (attain.periods.FIRST_YEAR..LAST_YEAR).
AS_OF_PATTERN = r"^(19\d\d|2\d\d\d)-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])$|^(19\d\d|2\d\d\d)-(0[13-9]|1[0-2])-(29|30)$|^(19\d\d|2\d\d\d)-(0[13578]|1[02])-31$"
PERIOD_PATTERN = (r"^(FY)?(19\d\d|2\d\d\d)(H[12]|Q[1-4])?$|^(19\d\d|2\d\d\d)-(0[1-9]|1[0-2])(-(0[1-9]|1\d|2[0-8]))?$"
                  r"|^(19\d\d|2\d\d\d)-W(0[1-9]|[1-4]\d|5[0-2])$")
AsOfParam = Annotated[str | None, Query(max_length=10, json_schema_extra={"format": "date", "pattern": AS_OF_PATTERN},
                                        description="Count up to this date, YYYY-MM-DD, years 1900-2999 (default today)")]
PeriodParam = Annotated[str | None, Query(max_length=32, json_schema_extra={"pattern": PERIOD_PATTERN},
                                          description="2027, FY2027, 2027Q1, 2027-03, 2027-W10, 2027-03-15, years 1900-2999; "
                                                      "also 2027年3月, 本月, 上季度, 近30天 … (default: this year)")]


def jsonable(value: Any) -> Any:
    """Dates as ISO text, Decimals and Fractions as exact strings, dataclasses as dicts."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Fraction):
        return str(Decimal(value.numerator) / Decimal(value.denominator))
    return value


def period_of(session: Session, text: str | None) -> Period:
    from attain.tracking.attainment import resolve_period

    if text is None or not text.strip():
        return resolve_period(session, str(date.today().year))
    if len(text) > 32:
        raise InvalidInput.coded("period.too_long")
    try:
        return resolve_period(session, text.strip())
    except (ValueError, OverflowError) as exc:
        raise InvalidInput.coded("web.api.common.period", text=text, exc=exc) from exc


def date_of(text: str | None) -> date | None:
    if text is None or text == "":
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput.coded("web.api.common.date_like", text=text[:40]) from exc
    return supported_day(day, "as_of")


def node_of(access: Access, code: str | None) -> OrgNode:
    """The node asked for (default: the caller's own), 404 when it is not visible to the caller."""
    if code is None or code == "":
        return access.home()
    if len(code) > 64:
        raise InvalidInput.coded("web.api.common.node_code_too_long")
    return access.node(code)
