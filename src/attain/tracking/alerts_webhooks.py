"""Alert webhooks: 企业微信 / 钉钉 group robots and Slack incoming webhooks, with retries and a log.

Bodies:
- wecom    {"msgtype": "markdown", "markdown": {"content": "..."}}
- dingtalk {"msgtype": "markdown", "markdown": {"title": "...", "text": "..."}}
- slack    {"text": "..."}

A webhook gets one message per run with up to MAX_EVENTS_PER_MESSAGE of its waiting alerts (robots
limit both size and rate). A send is tried `attempts` times with exponential backoff (base × 2^k,
capped); a 2xx answer whose JSON has a non-zero `errcode` (how the Chinese robots report errors)
is a failure. Failed deliveries stay `failed` in `alert_deliveries` with the error and the attempt
count, and are sent again by the next run: nothing is lost.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlparse

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.errors import Conflict, InvalidInput, NotFound
from attain.org.models import OrgNode
from attain.tracking.models import (
    WEBHOOK_FORMATS,
    AlertDelivery,
    AlertEvent,
    AlertWebhook,
)

MAX_EVENTS_PER_MESSAGE = 20
MAX_CONTENT_CHARS = 3_500  # 企业微信 markdown content is limited to 4,096 bytes
ATTEMPTS = 3
BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 8.0
TIMEOUT_SECONDS = 10.0
TITLE = "Attain 预警 / alerts"


@dataclass(frozen=True)
class DeliveryResult:
    sent: int  # deliveries (event × webhook) sent in this run
    failed: int  # deliveries still waiting after this run
    messages: int  # HTTP messages that went through


def check_url(url: str) -> str:
    parsed = urlparse(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidInput.coded("tracking.alerts_webhooks.webhook_url_give_full", url=url)
    return url.strip()


def add_webhook(*, session: Session, url: str, format: str) -> AlertWebhook:
    if format not in WEBHOOK_FORMATS:
        raise InvalidInput.coded("tracking.alerts_webhooks.unknown_webhook_format_choose", format=format, items=', '.join(WEBHOOK_FORMATS))
    url = check_url(url)
    if session.scalar(select(AlertWebhook.id).where(AlertWebhook.url == url)) is not None:
        raise Conflict.coded("tracking.alerts_webhooks.webhook_configured_already", url=url)
    webhook = AlertWebhook(url=url, format=format, enabled=True)
    session.add(webhook)
    session.commit()
    return webhook


def list_webhooks(*, session: Session) -> list[AlertWebhook]:
    return list(session.scalars(select(AlertWebhook).order_by(AlertWebhook.id)))


def remove_webhook(*, session: Session, webhook_id: int) -> None:
    webhook = session.get(AlertWebhook, webhook_id)
    if webhook is None:
        raise NotFound.coded("tracking.alerts_webhooks.webhook_id_see_attain", webhook_id=webhook_id)
    session.delete(webhook)
    session.commit()


def _line(event: AlertEvent, code: str, markdown: bool) -> str:
    text = f"{event.period}: {event.message}"
    return f"> **{code}** {text}" if markdown else f"• *{code}* {text}"


def message_text(events: list[tuple[AlertEvent, str]], markdown: bool) -> str:
    """The message for a batch of (event, node code) pairs, markdown for robots, plain for Slack."""
    return "\n".join([f"### {TITLE}" if markdown else f"*{TITLE}*"] + [_line(e, c, markdown) for e, c in events])


def batches(events: list[tuple[AlertEvent, str]]) -> list[list[tuple[AlertEvent, str]]]:
    """Consecutive batches of at most MAX_EVENTS_PER_MESSAGE alerts and MAX_CONTENT_CHARS characters
    (an alert longer than that alone is cut, never dropped)."""
    result: list[list[tuple[AlertEvent, str]]] = []
    size = 0
    for event, code in events:
        length = len(_line(event, code, True)) + 1
        if not result or len(result[-1]) >= MAX_EVENTS_PER_MESSAGE or size + length > MAX_CONTENT_CHARS:
            result.append([])
            size = len(TITLE) + 5
        result[-1].append((event, code))
        size += length
    return result


def body(format: str, events: list[tuple[AlertEvent, str]]) -> dict[str, object]:
    """The JSON body of one message in the webhook's format."""
    if format == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": message_text(events, markdown=True)}}
    if format == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": TITLE, "text": message_text(events, markdown=True)}}
    if format == "slack":
        return {"text": message_text(events, markdown=False)}
    raise InvalidInput.coded("tracking.alerts_webhooks.unknown_webhook_format", format=format)


def post(
    client: httpx.Client, url: str, payload: dict[str, object], *, attempts: int, backoff: float,
    sleep: Callable[[float], None],
) -> tuple[bool, int, int | None, str | None]:
    """POST with retries: (ok, attempts made, last status code, last error)."""
    status: int | None = None
    error: str | None = None
    for attempt in range(attempts):
        if attempt:
            sleep(min(backoff * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS))
        try:
            response = client.post(url, json=payload)
        except httpx.HTTPError as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"
            continue
        status = response.status_code
        if not response.is_success:
            error = f"HTTP {status}: {response.text[:200]}"
            continue
        robot_error = _robot_error(response)
        if robot_error:
            error = robot_error
            continue
        return True, attempt + 1, status, None
    return False, attempts, status, error


def _robot_error(response: httpx.Response) -> str | None:
    """企业微信 and 钉钉 answer 200 with {"errcode": N, "errmsg": ...}; N ≠ 0 is a failure."""
    try:
        answer = response.json()
    except (json.JSONDecodeError, ValueError):
        return None
    if isinstance(answer, dict) and answer.get("errcode") not in (None, 0):
        return f"errcode {answer.get('errcode')}: {answer.get('errmsg', '')}"[:200]
    return None


def deliver(
    *, session: Session, attempts: int = ATTEMPTS, backoff: float = BACKOFF_SECONDS,
    sleep: Callable[[float], None] = time.sleep, client: httpx.Client | None = None,
) -> DeliveryResult:
    """Send every pending or failed delivery, one message per webhook per batch of events."""
    waiting = session.execute(
        select(AlertDelivery, AlertEvent, AlertWebhook, OrgNode.code)
        .join(AlertEvent, AlertEvent.id == AlertDelivery.event_id)
        .join(AlertWebhook, AlertWebhook.id == AlertDelivery.webhook_id)
        .join(OrgNode, OrgNode.id == AlertEvent.org_node_id)
        .where(AlertDelivery.status.in_(("pending", "failed")), AlertWebhook.enabled.is_(True))
        .order_by(AlertWebhook.id, AlertEvent.id)
    ).all()
    by_webhook: dict[int, list[tuple[AlertDelivery, AlertEvent, AlertWebhook, str]]] = {}
    for delivery, event, webhook, code in waiting:
        by_webhook.setdefault(webhook.id, []).append((delivery, event, webhook, code))
    sent = failed = messages = 0
    own_client = client is None
    http = client or httpx.Client(timeout=TIMEOUT_SECONDS)
    try:
        for rows in by_webhook.values():
            webhook = rows[0][2]
            delivery_of = {event.id: delivery for delivery, event, _w, _c in rows}
            for group in batches([(event, code) for _d, event, _w, code in rows]):
                batch = [delivery_of[event.id] for event, _code in group]
                payload = body(webhook.format, group)
                text = payload.get("text") or payload["markdown"]  # type: ignore[index]
                if len(str(text)) > MAX_CONTENT_CHARS + 200:  # one huge alert: cut its text, still deliver it
                    payload = body(webhook.format, [(_shortened(group[0][0]), group[0][1])])
                ok, tries, status, error = post(http, webhook.url, payload, attempts=attempts, backoff=backoff, sleep=sleep)
                now = datetime.now()
                for delivery in batch:
                    delivery.attempts += tries
                    delivery.last_attempt_at = now
                    delivery.last_status_code = status
                    delivery.last_error = error
                    delivery.status = "sent" if ok else "failed"
                    if ok:
                        delivery.sent_at = now
                session.commit()
                if ok:
                    sent += len(batch)
                    messages += 1
                else:
                    failed += len(batch)
    finally:
        if own_client:
            http.close()
    return DeliveryResult(sent, failed, messages)


def _shortened(event: AlertEvent) -> AlertEvent:
    return AlertEvent(period=event.period, message=event.message[:MAX_CONTENT_CHARS - 200] + " …")


def delivery_log(*, session: Session, limit: int = 200) -> list[tuple[AlertDelivery, AlertEvent, AlertWebhook]]:
    rows = session.execute(
        select(AlertDelivery, AlertEvent, AlertWebhook)
        .join(AlertEvent, AlertEvent.id == AlertDelivery.event_id)
        .join(AlertWebhook, AlertWebhook.id == AlertDelivery.webhook_id)
        .order_by(AlertDelivery.id.desc()).limit(limit)
    ).all()
    return [(d, e, w) for d, e, w in rows]
