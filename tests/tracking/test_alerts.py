"""Alerts: rules, evaluation into the inbox without duplicates, webhooks with retries and a delivery log."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from diagnosis_company import make_company
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from attain.cli.main import app
from attain.errors import Conflict, InvalidInput, NotFound
from attain.tracking.alerts import (
    create_rule,
    inbox,
    list_rules,
    mark_read,
    run_rules,
    set_rule_enabled,
)
from attain.tracking.alerts_webhooks import (
    MAX_CONTENT_CHARS,
    add_webhook,
    batches,
    body,
    deliver,
    remove_webhook,
)
from attain.tracking.models import AlertDelivery, AlertEvent

END = date(2027, 3, 31)


class Robot:
    """A local webhook: answers `failures` requests with HTTP 500, then {"errcode": 0}; keeps the bodies."""

    def __init__(self, failures: int = 0, answer: dict[str, object] | None = None):
        self.failures = failures
        self.answer = answer or {"errcode": 0, "errmsg": "ok"}
        self.bodies: list[dict[str, object]] = []
        self.calls = 0


@pytest.fixture
def robot() -> Iterator[tuple[Robot, str]]:
    state = Robot()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            state.calls += 1
            state.bodies.append(json.loads(self.rfile.read(length)))
            if state.calls <= state.failures:
                self.send_response(500)
                self.end_headers()
                self.wfile.write(b"busy")
                return
            payload = json.dumps(state.answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/robot/send?key=test"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def company(session: Session) -> dict[str, int]:
    return make_company(session)


def test_default_rules_are_seeded(session: Session) -> None:
    rules = {r.code: r for r in list_rules(session=session)}
    assert set(rules) == {"pace_gap", "no_new_lead", "forecast_low", "ytd_low", "market_shift"}
    assert rules["market_shift"].threshold == Decimal("0.02") and rules["market_shift"].level == "region"
    assert rules["pace_gap"].threshold == Decimal("-0.1") and rules["pace_gap"].min_working_day == 10
    assert rules["no_new_lead"].days == 5
    assert rules["forecast_low"].threshold == Decimal("0.9")
    assert rules["ytd_low"].threshold == Decimal("0.8") and rules["ytd_low"].min_working_day == 20


def test_create_rule_validates_its_parameters(session: Session, company: dict[str, int]) -> None:
    with pytest.raises(InvalidInput, match="unknown alert kind 'late'"):
        create_rule(session=session, code="x", kind="late")
    with pytest.raises(InvalidInput, match="needs --threshold"):
        create_rule(session=session, code="x", kind="pace_gap_below")
    with pytest.raises(InvalidInput, match="between -1 and 1"):
        create_rule(session=session, code="x", kind="pace_gap_below", threshold="-5")
    with pytest.raises(InvalidInput, match="not a number"):
        create_rule(session=session, code="x", kind="forecast_below_pct", threshold="ninety")
    with pytest.raises(InvalidInput, match="needs --days"):
        create_rule(session=session, code="x", kind="no_new_lead_days")
    with pytest.raises(InvalidInput, match="unknown level 'city'"):
        create_rule(session=session, code="x", kind="no_new_lead_days", days=3, level="city")
    with pytest.raises(NotFound):
        create_rule(session=session, code="x", kind="no_new_lead_days", days=3, node="NOPE")
    with pytest.raises(Conflict, match="exists already"):
        create_rule(session=session, code="pace_gap", kind="no_new_lead_days", days=3)
    rule = create_rule(session=session, code="t2_leads", kind="no_new_lead_days", days=3, node="T2", level="rep")
    assert rule.node_id == company["T2"] and rule.enabled


def test_run_fills_the_inbox_once_per_condition(session: Session, company: dict[str, int]) -> None:
    first = run_rules(session=session, as_of=END)
    found = {(e.rule_id, e.org_node_id) for e in first.new_events}
    rules = {r.code: r.id for r in list_rules(session=session)}
    # A: 30 % of target at month end; B: nothing; C has no target, so no pace or forecast alert.
    assert (rules["pace_gap"], company["A"]) in found and (rules["pace_gap"], company["B"]) in found
    assert (rules["pace_gap"], company["C"]) not in found
    assert (rules["forecast_low"], company["A"]) in found and (rules["forecast_low"], company["B"]) in found
    # Last leads: A 03-05, B 03-10, C never.
    assert {(rules["no_new_lead"], company[c]) for c in "ABC"} <= found
    never = next(e for e in first.new_events if e.org_node_id == company["C"])
    assert never.condition == "no_lead_since=never"
    second = run_rules(session=session, as_of=END)
    assert second.new_events == () and second.repeated == len(first.new_events)
    assert session.scalar(select(func.count()).select_from(AlertEvent)) == len(first.new_events)


def test_pace_gap_waits_for_the_minimum_working_day(session: Session, company: dict[str, int]) -> None:
    for code in ("no_new_lead", "forecast_low", "ytd_low"):
        set_rule_enabled(session=session, code=code, enabled=False)
    early = run_rules(session=session, as_of=date(2027, 3, 3))  # 3rd working day < 10
    assert early.new_events == ()
    late = run_rules(session=session, as_of=date(2027, 3, 19))
    assert {e.org_node_id for e in late.new_events} == {company["A"], company["B"]}


def test_a_new_lead_resets_the_no_lead_condition(session: Session, company: dict[str, int]) -> None:
    for code in ("pace_gap", "forecast_low", "ytd_low"):
        set_rule_enabled(session=session, code=code, enabled=False)
    quiet = run_rules(session=session, as_of=date(2027, 3, 12))  # B's lead of 03-10 is two working days old
    assert company["B"] not in {e.org_node_id for e in quiet.new_events}
    stale = run_rules(session=session, as_of=date(2027, 3, 19))
    assert company["B"] in {e.org_node_id for e in stale.new_events}


def test_scope_limits_the_nodes(session: Session, company: dict[str, int]) -> None:
    for code in ("pace_gap", "no_new_lead", "forecast_low", "ytd_low"):
        set_rule_enabled(session=session, code=code, enabled=False)
    create_rule(session=session, code="t2", kind="no_new_lead_days", days=2, node="T2")
    result = run_rules(session=session, as_of=END)
    assert {e.org_node_id for e in result.new_events} == {company["C"]}


def test_skipped_rule_when_no_plan_covers_the_period(session: Session, company: dict[str, int]) -> None:
    result = run_rules(session=session, as_of=date(2028, 3, 31))
    assert any("pace_gap" in reason and "no approved plan" in reason for reason in result.skipped)


def test_inbox_filters_by_node_and_marks_read(session: Session, company: dict[str, int]) -> None:
    run_rules(session=session, as_of=END)
    team_two = inbox(session=session, node="T2")
    assert {n.code for _e, _r, n in team_two} == {"C"}
    everything = inbox(session=session)
    assert len(everything) > len(team_two)
    assert mark_read(session=session, ids=[everything[0][0].id]) == 1
    assert len(inbox(session=session, unread=True)) == len(everything) - 1


def test_webhook_bodies_match_the_robots() -> None:
    event = AlertEvent(period="2027-03", message="甲 进度落后 / behind", condition="c", dedup_key="k")
    wecom = body("wecom", [(event, "A")])
    assert wecom["msgtype"] == "markdown" and "**A** 2027-03: 甲 进度落后" in wecom["markdown"]["content"]  # type: ignore[index]
    dingtalk = body("dingtalk", [(event, "A")])
    assert dingtalk["msgtype"] == "markdown" and set(dingtalk["markdown"]) == {"title", "text"}  # type: ignore[arg-type]
    slack = body("slack", [(event, "A")])
    assert set(slack) == {"text"} and "*A*" in slack["text"]  # type: ignore[operator]


def test_batches_keep_every_alert_within_count_and_size_limits() -> None:
    short = [(AlertEvent(id=k, period="2027-03", message=f"alert {k}"), "A") for k in range(45)]
    assert [len(b) for b in batches(short)] == [20, 20, 5]
    long = [(AlertEvent(id=k, period="2027-03", message="长" * 900), "A") for k in range(9)]
    grouped = batches(long)
    assert [e.id for group in grouped for e, _code in group] == list(range(9))
    assert all(len(body("wecom", group)["markdown"]["content"]) <= MAX_CONTENT_CHARS for group in grouped)  # type: ignore[index]


def test_add_webhook_rejects_bad_url_and_format(session: Session) -> None:
    with pytest.raises(InvalidInput, match="not a webhook URL"):
        add_webhook(session=session, url="qyapi.weixin.qq.com/send", format="wecom")
    with pytest.raises(InvalidInput, match="not a webhook URL"):
        add_webhook(session=session, url="ftp://example.com/x", format="wecom")
    with pytest.raises(InvalidInput, match="unknown webhook format 'teams'"):
        add_webhook(session=session, url="https://example.com/hook", format="teams")
    add_webhook(session=session, url="https://example.com/hook", format="slack")
    with pytest.raises(Conflict):
        add_webhook(session=session, url="https://example.com/hook", format="slack")
    with pytest.raises(NotFound):
        remove_webhook(session=session, webhook_id=999)


def test_failed_delivery_is_kept_and_sent_on_the_next_run(
    session: Session, company: dict[str, int], robot: tuple[Robot, str]
) -> None:
    state, url = robot
    state.failures = 1
    add_webhook(session=session, url=url, format="wecom")
    events = run_rules(session=session, as_of=END).new_events
    first = deliver(session=session, attempts=1, sleep=lambda _s: None)
    assert (first.sent, first.failed) == (0, len(events))
    failed = session.scalars(select(AlertDelivery)).all()
    assert {d.status for d in failed} == {"failed"} and {d.last_status_code for d in failed} == {500}
    assert all("HTTP 500" in (d.last_error or "") for d in failed)
    second = deliver(session=session, attempts=1, sleep=lambda _s: None)
    assert (second.sent, second.failed, second.messages) == (len(events), 0, 1)
    session.expire_all()
    delivered = session.scalars(select(AlertDelivery)).all()
    assert {d.status for d in delivered} == {"sent"} and {d.attempts for d in delivered} == {2}
    assert state.bodies[-1]["msgtype"] == "markdown"
    assert deliver(session=session, attempts=1, sleep=lambda _s: None).sent == 0  # nothing sent twice


def test_retries_with_exponential_backoff_within_a_run(
    session: Session, company: dict[str, int], robot: tuple[Robot, str]
) -> None:
    state, url = robot
    state.failures = 2
    add_webhook(session=session, url=url, format="dingtalk")
    run_rules(session=session, as_of=END)
    waits: list[float] = []
    result = deliver(session=session, attempts=4, backoff=0.5, sleep=waits.append)
    assert result.failed == 0 and result.messages == 1
    assert waits == [0.5, 1.0]
    assert state.calls == 3


def test_robot_error_code_counts_as_a_failure(
    session: Session, company: dict[str, int], robot: tuple[Robot, str]
) -> None:
    state, url = robot
    state.answer = {"errcode": 93000, "errmsg": "invalid webhook url"}
    add_webhook(session=session, url=url, format="wecom")
    run_rules(session=session, as_of=END)
    result = deliver(session=session, attempts=2, sleep=lambda _s: None)
    assert result.sent == 0 and result.failed > 0
    assert "errcode 93000" in (session.scalars(select(AlertDelivery)).first().last_error or "")  # type: ignore[union-attr]


def test_unreachable_webhook_is_logged(session: Session, company: dict[str, int]) -> None:
    add_webhook(session=session, url="http://127.0.0.1:9/unreachable", format="slack")
    run_rules(session=session, as_of=END)
    result = deliver(session=session, attempts=2, sleep=lambda _s: None)
    assert result.sent == 0
    delivery = session.scalars(select(AlertDelivery)).first()
    assert delivery is not None and delivery.status == "failed" and delivery.attempts == 2
    assert delivery.last_status_code is None and "Error" in (delivery.last_error or "")


def test_cli_alerts_flow(database_url: str, session: Session, company: dict[str, int], robot: tuple[Robot, str]) -> None:
    state, url = robot
    runner = CliRunner()
    db = ["--db", database_url]
    assert runner.invoke(app, ["alerts", "webhook", "add", url, "--format", "slack", *db]).exit_code == 0
    added = runner.invoke(app, ["alerts", "add", "north", "--kind", "pace_gap_below", "--threshold", "-0.2", "--level", "team", *db])
    assert added.exit_code == 0, added.output
    rules = json.loads(runner.invoke(app, ["alerts", "rules", "--json", *db]).stdout)
    assert {r["code"] for r in rules} == {"pace_gap", "no_new_lead", "forecast_low", "ytd_low", "market_shift", "north"}
    run = runner.invoke(app, ["alerts", "run", "--as-of", "2027-03-31", "--json", *db])
    assert run.exit_code == 0, run.output
    payload = json.loads(run.stdout)
    assert payload["new"] > 0 and payload["deliveries"]["sent"] == payload["new"]
    assert "text" in state.bodies[-1]
    again = json.loads(runner.invoke(app, ["alerts", "run", "--as-of", "2027-03-31", "--json", *db]).stdout)
    assert again["new"] == 0 and again["repeated"] == payload["new"]
    listed = json.loads(runner.invoke(app, ["alerts", "inbox", "--node", "A", "--json", *db]).stdout)
    assert listed and {e["node"] for e in listed} == {"A"}
    log = json.loads(runner.invoke(app, ["alerts", "deliveries", "--json", *db]).stdout)
    assert {d["status"] for d in log} == {"sent"}
    bad_kind = runner.invoke(app, ["alerts", "add", "x", "--kind", "weather", *db])
    assert bad_kind.exit_code != 0 and "weather" in str(bad_kind.exception)
    bad_url = runner.invoke(app, ["alerts", "webhook", "add", "not-a-url", "--format", "wecom", *db])
    assert bad_url.exit_code != 0 and "not-a-url" in str(bad_url.exception)
