"""`attain alerts`: alert rules, runs, the inbox, webhooks and their delivery log."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from attain.cli.data import DbOption, JsonOption, open_session, parse_day
from attain.cli.output import console, err_console, print_json

alerts_app = typer.Typer(help="Alert rules, runs, inbox and webhooks (企业微信 / 钉钉 / Slack).", no_args_is_help=True)
webhook_app = typer.Typer(help="Webhooks that receive alerts.", no_args_is_help=True)
alerts_app.add_typer(webhook_app, name="webhook")



def _rule_dict(rule, node_codes: dict[int, str]) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from attain.tracking.alerts import describe_rule

    return {
        "code": rule.code, "kind": rule.kind, "threshold": rule.threshold, "min_working_day": rule.min_working_day,
        "days": rule.days, "grain": rule.grain, "level": rule.level,
        "node": node_codes.get(rule.node_id) if rule.node_id else None, "enabled": rule.enabled,
        "description": describe_rule(rule),
    }


def _node_codes(session) -> dict[int, str]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from attain.org.models import OrgNode

    return dict(session.execute(select(OrgNode.id, OrgNode.code)).all())


@alerts_app.command("rules")
def rules_command(db: DbOption = None, json: JsonOption = False) -> None:
    """Every alert rule with its parameters, in words."""
    from attain.tracking.alerts import list_rules

    with open_session(db) as session:
        codes = _node_codes(session)
        rules = [_rule_dict(r, codes) for r in list_rules(session=session)]
    if json:
        print_json(rules)
        return
    table = Table("规则 / rule", "类型 / kind", "层级 / level", "周期 / grain", "范围 / scope", "启用 / on", "说明 / description")
    for r in rules:
        table.add_row(str(r["code"]), str(r["kind"]), str(r["level"]), str(r["grain"]), str(r["node"] or "全部 / all"),
                      "✓" if r["enabled"] else "✗", str(r["description"]))
    console.print(table)


@alerts_app.command("add")
def add_command(
    code: Annotated[str, typer.Argument(help="Short name of the rule, e.g. east_pace")],
    kind: Annotated[str, typer.Option(help="pace_gap_below | no_new_lead_days | forecast_below_pct | ytd_below_pct")],
    threshold: Annotated[str | None, typer.Option(help="pace gap (e.g. -0.1) or share of target (e.g. 0.9)")] = None,
    min_working_day: Annotated[int | None, typer.Option("--min-working-day", help="Quiet before this working day of the period")] = None,
    days: Annotated[int | None, typer.Option(help="no_new_lead_days: working days without a new lead")] = None,
    grain: Annotated[str, typer.Option(help="Period checked: week | month | quarter | year")] = "month",
    level: Annotated[str, typer.Option(help="Nodes checked: rep | team | region")] = "rep",
    node: Annotated[str | None, typer.Option(help="Only nodes under this org node (code or name)")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Add an alert rule."""
    from attain.tracking.alerts import create_rule

    with open_session(db) as session:
        rule = create_rule(session=session, code=code, kind=kind, threshold=threshold, min_working_day=min_working_day,
                           days=days, grain=grain, level=level, node=node)
        result = _rule_dict(rule, _node_codes(session))
    if json:
        print_json(result)
        return
    console.print(f"Rule [bold]{result['code']}[/bold] added: {result['description']}")


def _toggle(code: str, enabled: bool, db: str | None, json: bool) -> None:
    from attain.tracking.alerts import set_rule_enabled

    with open_session(db) as session:
        rule = set_rule_enabled(session=session, code=code, enabled=enabled)
        result = _rule_dict(rule, _node_codes(session))
    if json:
        print_json(result)
        return
    console.print(f"Rule {code} {'enabled' if enabled else 'disabled'}.")


@alerts_app.command("enable")
def enable_command(code: Annotated[str, typer.Argument(help="Rule code")], db: DbOption = None, json: JsonOption = False) -> None:
    """Turn a rule on."""
    _toggle(code, True, db, json)


@alerts_app.command("disable")
def disable_command(code: Annotated[str, typer.Argument(help="Rule code")], db: DbOption = None, json: JsonOption = False) -> None:
    """Turn a rule off (its past alerts stay in the inbox)."""
    _toggle(code, False, db, json)


def _event_dict(event, rule, node) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "id": event.id, "rule": rule.code, "kind": rule.kind, "node": node.code, "name": node.name,
        "period": event.period, "condition": event.condition, "as_of": event.as_of, "message": event.message,
        "details": event.details, "read": event.read_at is not None,
    }


@alerts_app.command("run")
def run_command(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Check the rules as on this day (default: today)")] = None,
    no_send: Annotated[bool, typer.Option("--no-send", help="Fill the inbox only; leave webhook deliveries waiting")] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Check the enabled rules, add new alerts to the inbox and send them to the webhooks."""
    from attain.tracking.alerts import run_rules
    from attain.tracking.alerts_webhooks import deliver

    day = parse_day(as_of)
    with open_session(db) as session:
        result = run_rules(session=session, as_of=day)
        events = [_event_dict(e, e_rule, e_node) for e, e_rule, e_node in _with_rule_and_node(session, result.new_events)]
        delivery = None if no_send else deliver(session=session)
    payload = {
        "as_of": result.as_of, "rules": result.rules, "new": len(events), "repeated": result.repeated,
        "skipped": list(result.skipped), "events": events,
        "deliveries": None if delivery is None else {"sent": delivery.sent, "failed": delivery.failed, "messages": delivery.messages},
    }
    if json:
        print_json(payload)
        return
    console.print(f"{result.rules} rules checked as of {result.as_of}: {len(events)} new alerts, "
                  f"{result.repeated} already in the inbox.")
    for event in events:
        console.print(f"  [yellow]{event['node']}[/yellow] {event['period']} ({event['rule']}): {event['message']}")
    for reason in result.skipped:
        err_console.print(f"[yellow]skipped[/yellow] {reason}")
    if delivery is not None and (delivery.sent or delivery.failed):
        console.print(f"Webhooks: {delivery.sent} sent in {delivery.messages} messages, {delivery.failed} failed (retried next run).")


def _with_rule_and_node(session, events):  # type: ignore[no-untyped-def]
    from attain.org.models import OrgNode
    from attain.tracking.models import AlertRule

    return [(e, session.get(AlertRule, e.rule_id), session.get(OrgNode, e.org_node_id)) for e in events]


@alerts_app.command("inbox")
def inbox_command(
    node: Annotated[str | None, typer.Option(help="Only alerts of this org node and the nodes under it")] = None,
    unread: Annotated[bool, typer.Option("--unread", help="Only unread alerts")] = False,
    mark_read: Annotated[bool, typer.Option("--mark-read", help="Mark the listed alerts read")] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """The in-app inbox, newest first."""
    from attain.tracking.alerts import inbox
    from attain.tracking.alerts import mark_read as mark

    with open_session(db) as session:
        entries = inbox(session=session, node=node, unread=unread)
        events = [_event_dict(e, r, n) for e, r, n in entries]
        if mark_read and entries:
            mark(session=session, ids=[e.id for e, _r, _n in entries])
    if json:
        print_json(events)
        return
    table = Table("#", "日期 / as of", "周期 / period", "对象 / node", "规则 / rule", "内容 / message", title="预警收件箱 / alert inbox")
    for e in events:
        style = None if e["read"] else "bold"
        table.add_row(str(e["id"]), str(e["as_of"]), str(e["period"]), f"{e['node']} {e['name']}", str(e["rule"]),
                      str(e["message"]), style=style)
    console.print(table)


@alerts_app.command("deliveries")
def deliveries_command(db: DbOption = None, json: JsonOption = False) -> None:
    """The webhook delivery log: status, attempts and last error per alert and webhook."""
    from attain.tracking.alerts_webhooks import delivery_log

    with open_session(db) as session:
        rows = [
            {"event": e.id, "webhook": w.id, "url": w.url, "format": w.format, "status": d.status, "attempts": d.attempts,
             "last_status_code": d.last_status_code, "last_error": d.last_error, "last_attempt_at": d.last_attempt_at,
             "sent_at": d.sent_at}
            for d, e, w in delivery_log(session=session)
        ]
    if json:
        print_json(rows)
        return
    table = Table("alert", "webhook", "状态 / status", "attempts", "last error", "sent at")
    for r in rows:
        table.add_row(str(r["event"]), f"{r['webhook']} {r['format']}", str(r["status"]), str(r["attempts"]),
                      str(r["last_error"] or ""), str(r["sent_at"] or ""))
    console.print(table)


@webhook_app.command("add")
def webhook_add_command(
    url_: Annotated[str, typer.Argument(metavar="URL", help="Robot or incoming-webhook URL")],
    format: Annotated[str, typer.Option("--format", help="wecom (企业微信) | dingtalk (钉钉) | slack")],
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Send alerts to a group robot or incoming webhook."""
    from attain.tracking.alerts_webhooks import add_webhook

    with open_session(db) as session:
        webhook = add_webhook(session=session, url=url_, format=format)
        result = {"id": webhook.id, "url": webhook.url, "format": webhook.format, "enabled": webhook.enabled}
    if json:
        print_json(result)
        return
    console.print(f"Webhook {result['id']} ({result['format']}) added: {result['url']}")


@webhook_app.command("list")
def webhook_list_command(db: DbOption = None, json: JsonOption = False) -> None:
    """Configured webhooks."""
    from attain.tracking.alerts_webhooks import list_webhooks

    with open_session(db) as session:
        hooks = [{"id": w.id, "url": w.url, "format": w.format, "enabled": w.enabled} for w in list_webhooks(session=session)]
    if json:
        print_json(hooks)
        return
    table = Table("id", "format", "url", "on")
    for w in hooks:
        table.add_row(str(w["id"]), str(w["format"]), str(w["url"]), "✓" if w["enabled"] else "✗")
    console.print(table)


@webhook_app.command("remove")
def webhook_remove_command(
    webhook_id: Annotated[int, typer.Argument(help="Webhook id (see `attain alerts webhook list`)")],
    db: DbOption = None,
) -> None:
    """Stop sending to a webhook (its delivery log goes with it)."""
    from attain.tracking.alerts_webhooks import remove_webhook

    with open_session(db) as session:
        remove_webhook(session=session, webhook_id=webhook_id)
    console.print(f"Webhook {webhook_id} removed.")
