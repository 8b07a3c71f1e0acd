"""The alerts inbox: list the alerts of the nodes the caller may see, mark them read.

The same entries and the same rules as the `/alerts` page: a rep reads and marks only their own
node's alerts; an id the caller may not see answers 404 and nothing is marked.
"""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import Ge, Le
from fastapi import APIRouter, Query
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from attain.org.models import OrgNode
from attain.tracking.alerts import (
    KIND_TEXT,
    inbox,
    mark_read,
    split_message,
    unread_count,
)
from attain.tracking.models import AlertEvent, AlertRule
from attain.web.api.common import ERROR_RESPONSES, given, jsonable
from attain.web.deps import AccessDep

router = APIRouter(tags=["alerts"], responses=ERROR_RESPONSES)
MAX_LIMIT = 500
BIGINT_MAX = 2**63 - 1


def _whole_number(value: object) -> object:
    """A JSON integer, also written 12.0 (JSON Schema's integer); never true/false or a string."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("an alert id is a whole number")  # noqa: TRY004 -- pydantic reports a ValueError
    return value


# Any id up to the column's limit is read; the document promises those every JSON reader keeps exactly
# (I-JSON, RFC 7493: up to 2**53 - 1), since a client's 2**63 - 1 may arrive as the float 2**63.
JSON_INT_MAX = 2**53 - 1
AlertId = Annotated[int, Ge(1), Le(BIGINT_MAX), BeforeValidator(_whole_number),
                    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": JSON_INT_MAX})]


class MarkRead(BaseModel):
    """Either `ids` (alerts you may see) or `"all": true` (every unread alert you may see, or only
    those of `node` and below)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=lambda schema: schema.update(anyOf=[
        # The rule of one_of below, in the OpenAPI document: ids (without all and node), or all true.
        {"required": ["ids"], "properties": {"ids": given(schema, "ids"), "all": {"const": False}, "node": {"type": "null"}}},
        {"required": ["all"], "properties": {"all": {"const": True}, "ids": {"type": "null"}}},
    ]))
    ids: list[AlertId] | None = Field(default=None, min_length=1, max_length=1000, description="Alert ids")
    all: bool = Field(default=False, description="Mark every unread alert you may see")
    node: str | None = Field(default=None, min_length=1, max_length=64, description="With all: only this node and below")

    @model_validator(mode="after")
    def one_of(self) -> MarkRead:
        if (self.ids is None) == (not self.all):
            raise ValueError('give either "ids": [..] or "all": true')
        if self.node is not None and not self.all:
            raise ValueError('"node" goes with "all": true')
        return self


def _entry(event: AlertEvent, rule: AlertRule, node: OrgNode) -> dict[str, Any]:
    zh, en = split_message(event.message)
    return jsonable({
        "id": event.id, "created_at": event.created_at, "as_of": event.as_of, "node": node.code,
        "node_name": node.name, "rule": rule.code, "kind": rule.kind,
        "kind_text": dict(zip(("zh_CN", "en"), KIND_TEXT.get(rule.kind, (rule.kind, rule.kind)))),
        "period": event.period, "condition": event.condition, "message": event.message,
        "message_text": {"zh_CN": zh, "en": en}, "details": event.details,
        "read": event.read_at is not None, "read_at": event.read_at,
    })


@router.get("/alerts", summary="预警收件箱 alerts inbox")
def list_alerts(
    access: AccessDep,
    unread: Annotated[bool, Query(description="Only alerts not read yet")] = False,
    node: Annotated[str | None, Query(min_length=1, max_length=64, description="Only this org node and below")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"At most this many (1–{MAX_LIMIT})")] = 50,
    before: Annotated[int | None, Query(ge=1, le=BIGINT_MAX, description="Only alerts older than this id (the next page)")] = None,
) -> dict[str, Any]:
    """Alerts of the nodes you may see, newest first. `more` says whether older ones follow: ask
    again with `before=next_before`. `unread` counts every unread alert you may see."""
    target = access.node(node) if node else None
    found = inbox(session=access.session, node=target.code if target else None, unread=unread, limit=limit + 1,
                  before=before, scope=access.filter)
    alerts = [_entry(*row) for row in found[:limit]]
    more = len(found) > limit
    return {"alerts": alerts, "more": more, "next_before": alerts[-1]["id"] if more else None,
            "unread": unread_count(session=access.session, scope=access.filter)}


@router.post("/alerts/read", summary="Mark alerts read")
def read_alerts(access: AccessDep, body: MarkRead) -> dict[str, int]:
    """Mark the given alerts (or all) read; `marked` counts those that were unread. An id you may
    not see (or that does not exist) is 404 and nothing is marked."""
    target = access.node(body.node) if body.node else None
    marked = mark_read(session=access.session, ids=body.ids, node=target.code if target else None, scope=access.filter)
    return {"marked": marked, "unread": unread_count(session=access.session, scope=access.filter)}
