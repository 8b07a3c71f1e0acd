"""Alert rules, their evaluation into the in-app inbox, and the hand-over to webhooks.

Rules (table `alert_rules`):
- `pace_gap_below`: attainment − working-time progress below `threshold` (e.g. −0.10), from the
  `min_working_day`-th working day of the period on.
- `no_new_lead_days`: no opportunity created for `days` working days (up to as-of).
- `forecast_below_pct`: the Monte Carlo median (P50) of the period's revenue below `threshold` ×
  target (e.g. 0.90), from the `min_working_day`-th working day on.
- `market_shift`: competitor events, market re-estimates and own-share drops of `threshold` or more
  (attain.market): the alert carries the re-weighting of the open periods they propose.
- `ytd_below_pct`: year-to-date attainment (tracking's `attainment` over the fiscal year's start to
  as-of) below `threshold` (e.g. 0.80), from the `min_working_day`-th working day of the fiscal
  year on; the rule's grain says how often it may repeat (monthly: once per node and month).

`no_new_lead_days` asks only people who prospect: a leaver (any end date) and a rep-level person who
sits outside a team (a director attached to a region or the company) are not asked.

Every finding becomes an `alert_events` row whose `dedup_key` is rule + node + period + condition;
the key is unique, so running the rules again (or twice at once) never repeats an alert. New events
get one pending delivery per enabled webhook (`alerts_webhooks.deliver` sends them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from attain.calendars.service import company_calendar
from attain.errors import Conflict, InvalidInput, NotFound
from attain.facts.models import Opportunity
from attain.org.models import OrgNode
from attain.org.service import require_node
from attain.periods import Grain, Period, fiscal_year, period_of
from attain.settings.service import get_setting
from attain.split.calendar import WorkCalendar, day_range, working_day_mask
from attain.tracking.attainment import attainment
from attain.tracking.diagnosis import node_column
from attain.tracking.models import (
    ALERT_GRAINS,
    ALERT_KINDS,
    ALERT_LEVELS,
    AlertDelivery,
    AlertEvent,
    AlertRule,
    AlertWebhook,
)
from attain.tracking.pipeline import forecast

# The rules a new database starts with (revision 0006 seeds a copy of these).
DEFAULT_RULES = (
    {"code": "pace_gap", "kind": "pace_gap_below", "threshold": Decimal("-0.1"), "min_working_day": 10, "grain": "month"},
    {"code": "no_new_lead", "kind": "no_new_lead_days", "days": 5, "grain": "month"},
    {"code": "forecast_low", "kind": "forecast_below_pct", "threshold": Decimal("0.9"), "min_working_day": 5, "grain": "month"},
    {"code": "ytd_low", "kind": "ytd_below_pct", "threshold": Decimal("0.8"), "min_working_day": 20, "grain": "month"},  # 0014
    {"code": "market_shift", "kind": "market_shift", "threshold": Decimal("0.02"), "grain": "month", "level": "region"},  # 0017
)
KIND_TEXT = {
    "pace_gap_below": ("进度落后", "pace gap"),
    "no_new_lead_days": ("无新线索", "no new lead"),
    "forecast_below_pct": ("预测不达标", "forecast below target"),
    "ytd_below_pct": ("年累计落后", "year to date behind"),
    "market_shift": ("市场预警", "market warning"),
}


@dataclass(frozen=True)
class Finding:
    """One condition found for one node, before it is stored."""

    node_id: int
    condition: str
    message: str
    details: dict[str, object]


@dataclass(frozen=True)
class RunResult:
    as_of: date
    rules: int
    new_events: tuple[AlertEvent, ...]
    repeated: int  # findings already in the inbox (same dedup key)
    skipped: tuple[str, ...]  # rules that could not be checked, with the reason


# --- rules ----------------------------------------------------------------------------------------


def list_rules(*, session: Session) -> list[AlertRule]:
    return list(session.scalars(select(AlertRule).order_by(AlertRule.id)))


def require_rule(*, session: Session, code: str) -> AlertRule:
    rule = session.scalars(select(AlertRule).where(AlertRule.code == code)).first()
    if rule is None:
        known = ", ".join(r.code for r in list_rules(session=session)) or "none"
        raise NotFound.coded("tracking.alerts.alert_rule_rules", code=code, known=known)
    return rule


def _threshold(kind: str, threshold: str | Decimal | None) -> Decimal | None:
    if threshold is None:
        if kind == "no_new_lead_days":
            return None
        raise InvalidInput.coded("tracking.alerts.rule_needs_threshold", kind=kind)
    try:
        value = Decimal(str(threshold))
    except InvalidOperation as exc:
        raise InvalidInput.coded("tracking.alerts.threshold_number", threshold=threshold) from exc
    if kind == "pace_gap_below" and not Decimal(-1) <= value <= Decimal(1):
        raise InvalidInput.coded("tracking.alerts.threshold_pace_gap_between", value=value)
    if kind == "market_shift" and not Decimal(0) < value < Decimal(1):
        raise InvalidInput.coded("tracking.alerts.threshold_share_drop_between", value=value)
    if kind in ("forecast_below_pct", "ytd_below_pct") and not Decimal(0) < value <= Decimal(2):
        raise InvalidInput.coded("tracking.alerts.threshold_share_target_between", value=value)
    return value


def create_rule(
    *, session: Session, code: str, kind: str, threshold: str | Decimal | None = None, min_working_day: int | None = None,
    days: int | None = None, grain: str = "month", level: str = "rep", node: str | None = None,
) -> AlertRule:
    """Add a rule; InvalidInput names what is wrong with its parameters."""
    if kind not in ALERT_KINDS:
        raise InvalidInput.coded("tracking.alerts.unknown_alert_kind_choose", kind=kind, items=', '.join(ALERT_KINDS))
    if grain not in ALERT_GRAINS:
        raise InvalidInput.coded("tracking.alerts.unknown_grain_choose", grain=grain, items=', '.join(ALERT_GRAINS))
    if level not in ALERT_LEVELS:
        raise InvalidInput.coded("tracking.alerts.unknown_level_choose", level=level, items=', '.join(ALERT_LEVELS))
    if not code.strip() or len(code) > 64:
        raise InvalidInput.coded("tracking.alerts.rule_code_characters")
    if session.scalar(select(AlertRule.id).where(AlertRule.code == code)) is not None:
        raise Conflict.coded("tracking.alerts.alert_rule_exists_already", code=code)
    if kind == "no_new_lead_days":
        if days is None or days < 1:
            raise InvalidInput.coded("tracking.alerts.new_lead_days_rule")
    elif days is not None:
        raise InvalidInput.coded("tracking.alerts.days_new_lead_days", kind=kind)
    if min_working_day is not None and min_working_day < 0:
        raise InvalidInput.coded("tracking.alerts.min_working_day_negative", min_working_day=min_working_day)
    node_id = require_node(session=session, key=node).id if node else None
    rule = AlertRule(code=code, kind=kind, threshold=_threshold(kind, threshold), min_working_day=min_working_day,
                     days=days, grain=grain, level=level, node_id=node_id, enabled=True)
    session.add(rule)
    session.commit()
    return rule


def set_rule_enabled(*, session: Session, code: str, enabled: bool) -> AlertRule:
    rule = require_rule(session=session, code=code)
    rule.enabled = enabled
    session.commit()
    return rule


def describe_rule(rule: AlertRule) -> str:
    """The rule in words, zh / en."""
    if rule.kind == "pace_gap_below":
        return (f"第 {rule.min_working_day or 0} 个工作日后进度差低于 {_pct(rule.threshold)} / "
                f"pace gap below {_pct(rule.threshold)} from working day {rule.min_working_day or 0}")
    if rule.kind == "no_new_lead_days":
        return f"连续 {rule.days} 个工作日无新线索 / no new lead in {rule.days} working days"
    if rule.kind == "market_shift":
        return (f"竞争对手动作、市场下调或份额下降 {_pct(rule.threshold)} 以上时建议重新分配未结束期间 / "
                f"competitor moves, market cuts or an own-share drop of {_pct(rule.threshold)}: propose re-weighting open periods")
    if rule.kind == "ytd_below_pct":
        return (f"年初至今达成低于 {_pct(rule.threshold)}（第 {rule.min_working_day or 0} 个工作日起）/ "
                f"year-to-date attainment below {_pct(rule.threshold)} from working day {rule.min_working_day or 0}")
    return (f"预测(P50)低于目标的 {_pct(rule.threshold)} / forecast (P50) below {_pct(rule.threshold)} of target"
            + (f" from working day {rule.min_working_day}" if rule.min_working_day else ""))


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{Decimal(value) * 100:.0f}%"


# --- evaluation -----------------------------------------------------------------------------------


def _scope(session: Session, rule: AlertRule, period: Period, as_of: date) -> dict[int, OrgNode]:
    """Nodes of the rule's level under its scope node, active during the period up to as-of."""
    query = select(OrgNode).where(OrgNode.kind == rule.level)
    if rule.node_id is not None:
        root = session.get(OrgNode, rule.node_id)
        if root is not None:
            query = query.where(OrgNode.path.startswith(root.path, autoescape=True))
    query = query.where(
        (OrgNode.start_date.is_(None)) | (OrgNode.start_date <= as_of),
        (OrgNode.end_date.is_(None)) | (OrgNode.end_date >= period.start),
    )
    return {node.id: node for node in session.scalars(query)}


def working_day_number(period: Period, as_of: date, calendar: WorkCalendar) -> int:
    """Working days of the period elapsed at as-of (inclusive)."""
    if as_of < period.start:
        return 0
    return calendar.count_working_days(period.start, min(as_of, period.end))


def _pace_gap(session: Session, rule: AlertRule, period: Period, as_of: date, nodes: dict[int, OrgNode]) -> list[Finding]:
    if working_day_number(period, as_of, company_calendar(session=session)) < (rule.min_working_day or 0):
        return []
    report = attainment(session=session, period=period, by=rule.level, as_of=as_of, metric="revenue")
    threshold = Decimal(rule.threshold or 0)
    findings = []
    for row in report.rows:
        gap = row.figures.pace_gap
        if row.node_id not in nodes or gap is None or gap >= threshold:
            continue
        node = nodes[row.node_id]
        findings.append(Finding(node.id, f"pace_gap<{threshold}", (
            f"{node.name} 达成 {_pct(row.figures.attainment)}，进度差 {_pct(gap)}（低于 {_pct(threshold)}）/ "
            f"attainment {_pct(row.figures.attainment)}, pace gap {_pct(gap)} below {_pct(threshold)}"),
            {"attainment": row.figures.attainment, "pace_gap": gap, "actual": row.actual, "target": row.target}))
    return findings


def _no_new_lead(session: Session, rule: AlertRule, period: Period, as_of: date, nodes: dict[int, OrgNode]) -> list[Finding]:
    node, joins = node_column(rule.level, Opportunity.rep_id)
    query = select(node, func.max(Opportunity.created_on)).select_from(Opportunity)
    for target, on in joins:
        query = query.outerjoin(target, on)  # type: ignore[arg-type]
    query = query.where(Opportunity.created_on <= as_of, node.is_not(None)).group_by(node)
    last_lead = {int(n): d for n, d in session.execute(query)}
    days = rule.days or 1
    calendar = company_calendar(session=session)
    teams = set(session.scalars(select(OrgNode.id).where(OrgNode.kind == "team"))) if rule.level == "rep" else set()
    findings = []
    for node_id, org_node in nodes.items():
        if org_node.end_date is not None:
            continue  # a leaver: their customers go to the team, nobody expects their new leads
        if rule.level == "rep" and org_node.parent_id not in teams:
            continue  # a director (no team): leads come from the teams, not from them
        last = last_lead.get(node_id)
        since = last if last is not None else org_node.start_date
        if since is not None and since >= as_of:
            continue
        if since is None:
            idle = None
        else:
            mask, _warnings = working_day_mask(day_range(since, as_of), calendar)
            idle = int(mask[1:].sum())  # working days after the last lead, up to as-of
            if idle < days:
                continue
        condition = f"no_lead_since={last.isoformat() if last else 'never'}"
        findings.append(Finding(node_id, condition, (
            f"{org_node.name} 已 {idle if idle is not None else '—'} 个工作日无新线索（上次 {last or '从未'}）/ "
            f"no new lead for {idle if idle is not None else 'ever'} working days (last {last or 'never'})"),
            {"last_lead": last, "working_days_idle": idle, "days": days}))
    return findings


def _forecast_below(session: Session, rule: AlertRule, period: Period, as_of: date, nodes: dict[int, OrgNode]) -> list[Finding]:
    if working_day_number(period, as_of, company_calendar(session=session)) < (rule.min_working_day or 0):
        return []
    result = forecast(session=session, period=period, level=rule.level, as_of=as_of, draws=2_000)
    share = Decimal(rule.threshold or 0)
    findings = []
    for row in result.rows:
        if row.node_id not in nodes or row.target is None or row.target <= 0:
            continue
        ratio = Decimal(row.p50) / Decimal(row.target)
        if ratio >= share:
            continue
        name = nodes[row.node_id].name
        findings.append(Finding(row.node_id, f"p50<{share}", (
            f"{name} 预测 {_pct(ratio)} 目标（P50），低于 {_pct(share)}，达成概率 {_pct(Decimal(str(row.p_hit)))} / "
            f"forecast {_pct(ratio)} of target (P50) below {_pct(share)}, P(hit) {_pct(Decimal(str(row.p_hit)))}"),
            {"p50": row.p50, "p10": row.p10, "p90": row.p90, "target": row.target, "p_hit": row.p_hit,
             "forecast_share": ratio.quantize(Decimal("0.0001"))}))
    return findings


def year_to_date(session: Session, as_of: date) -> Period:
    """The company's fiscal year from its first day to `as_of` (labelled e.g. "FY2026 YTD")."""
    start_month = int(get_setting(session, "fiscal_year_start_month"))
    label_year = as_of.year + 1 if start_month > 1 and as_of.month >= start_month else as_of.year
    year = fiscal_year(label_year, start_month)
    return Period(year.start, as_of, Grain.DAY, f"{year.label} YTD")


def _ytd_below(session: Session, rule: AlertRule, period: Period, as_of: date, nodes: dict[int, OrgNode]) -> list[Finding]:
    ytd = year_to_date(session, as_of)
    if working_day_number(ytd, as_of, company_calendar(session=session)) < (rule.min_working_day or 0):
        return []
    report = attainment(session=session, period=ytd, by=rule.level, as_of=as_of, metric="revenue")
    share = Decimal(rule.threshold or 0)
    findings = []
    for row in report.rows:
        reached = row.figures.attainment
        if row.node_id not in nodes or reached is None or reached >= share:
            continue
        node = nodes[row.node_id]
        findings.append(Finding(node.id, f"ytd<{share}", (
            f"{node.name} 年初至今达成 {_pct(reached)}（{ytd.start} 至 {as_of}），低于 {_pct(share)} / "
            f"year to date {_pct(reached)} of target ({ytd.start} to {as_of}), below {_pct(share)}"),
            {"attainment": reached, "actual": row.actual, "target": row.target, "from": ytd.start, "to": as_of}))
    return findings


def _market_shift(session: Session, rule: AlertRule, period: Period, as_of: date, nodes: dict[int, OrgNode]) -> list[Finding]:
    """Competitor events, market re-estimates and falling own shares: the re-weighting they propose
    for each plan in force (attain.market computes it; the alert carries it)."""
    from attain.market.service import market_findings  # late: market reads plans and tracking

    threshold = Decimal(rule.threshold if rule.threshold is not None else Decimal("0.02"))
    return [Finding(node_id, condition, message, details)
            for node_id, condition, message, details in market_findings(session=session, threshold=threshold, as_of=as_of,
                                                                       nodes=set(nodes))]


CHECKS: dict[str, Callable[[Session, AlertRule, Period, date, dict[int, OrgNode]], list[Finding]]] = {
    "pace_gap_below": _pace_gap,
    "no_new_lead_days": _no_new_lead,
    "forecast_below_pct": _forecast_below,
    "ytd_below_pct": _ytd_below,
    "market_shift": _market_shift,
}


def dedup_key(rule: AlertRule, node_id: int, period: Period, condition: str) -> str:
    return f"{rule.code}|{node_id}|{period.label}|{condition}"


def _jsonable(details: dict[str, object]) -> dict[str, object]:
    return {k: (str(v) if isinstance(v, Decimal) else v.isoformat() if isinstance(v, date) else v) for k, v in details.items()}


def run_rules(*, session: Session, as_of: date | None = None) -> RunResult:
    """Check every enabled rule at `as_of`, store new findings in the inbox, queue their deliveries."""
    as_of = as_of or date.today()
    rules = [r for r in list_rules(session=session) if r.enabled]
    webhooks = list(session.scalars(select(AlertWebhook.id).where(AlertWebhook.enabled.is_(True))))
    new_events: list[AlertEvent] = []
    repeated = 0
    skipped: list[str] = []
    for rule in rules:
        period = period_of(as_of, Grain(rule.grain))
        nodes = _scope(session, rule, period, as_of)
        if not nodes:
            continue
        try:
            findings = CHECKS[rule.kind](session, rule, period, as_of, nodes)
        except (NotFound, InvalidInput) as exc:  # e.g. no approved plan covers the period
            skipped.append(f"{rule.code}: {exc}")
            continue
        for finding in findings:
            key = dedup_key(rule, finding.node_id, period, finding.condition)
            if session.scalar(select(AlertEvent.id).where(AlertEvent.dedup_key == key)) is not None:
                repeated += 1
                continue
            event = _insert_event(session, rule, finding, period, as_of, key, webhooks)
            if event is None:
                repeated += 1
            else:
                new_events.append(event)
    return RunResult(as_of, len(rules), tuple(new_events), repeated, tuple(skipped))


def has_event(*, session: Session, rule: AlertRule, node_id: int, period: Period, condition: str) -> bool:
    """Whether the inbox holds this finding already (same rule, node, period and condition)."""
    key = dedup_key(rule, node_id, period, condition)
    return session.scalar(select(AlertEvent.id).where(AlertEvent.dedup_key == key)) is not None


def store_finding(*, session: Session, rule: AlertRule, finding: Finding, period: Period, as_of: date) -> bool:
    """Store one finding found outside `run_rules` (attain.market's early warning); True when new."""
    if has_event(session=session, rule=rule, node_id=finding.node_id, period=period, condition=finding.condition):
        return False
    webhooks = list(session.scalars(select(AlertWebhook.id).where(AlertWebhook.enabled.is_(True))))
    key = dedup_key(rule, finding.node_id, period, finding.condition)
    return _insert_event(session, rule, finding, period, as_of, key, webhooks) is not None


def _insert_event(
    session: Session, rule: AlertRule, finding: Finding, period: Period, as_of: date, key: str, webhooks: list[int]
) -> AlertEvent | None:
    """Insert one event and its pending deliveries, committed together; None when a concurrent run
    stored the same key first (the unique key is the guard, the lookup before is only a shortcut)."""
    event = AlertEvent(rule_id=rule.id, org_node_id=finding.node_id, period=period.label,
                       condition=finding.condition, dedup_key=key, as_of=as_of, message=finding.message,
                       details=_jsonable(finding.details))
    try:
        session.add(event)
        session.flush()
        if webhooks:
            session.execute(insert(AlertDelivery), [
                {"event_id": event.id, "webhook_id": w, "status": "pending", "attempts": 0} for w in webhooks])
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    return event


# --- inbox ---------------------------------------------------------------------------------------

# A caller's row-level access as a function of an org-node id column (`attain.web.deps.Access.filter`):
# the inbox then only reads and marks the entries of nodes the caller may see.
Scope = Callable[[ColumnElement[int]], ColumnElement[bool]]


def _entries(session: Session, node: str | None, unread: bool, scope: Scope | None) -> list[ColumnElement[bool]]:
    """WHERE clauses of the inbox entries asked for (joined with their OrgNode)."""
    clauses: list[ColumnElement[bool]] = []
    if node:
        root = require_node(session=session, key=node)
        clauses.append(OrgNode.path.startswith(root.path, autoescape=True))
    if unread:
        clauses.append(AlertEvent.read_at.is_(None))
    if scope is not None:
        clauses.append(scope(AlertEvent.org_node_id))
    return clauses


def inbox(
    *, session: Session, node: str | None = None, unread: bool = False, limit: int = 200, before: int | None = None,
    scope: Scope | None = None,
) -> list[tuple[AlertEvent, AlertRule, OrgNode]]:
    """Inbox entries, newest first; with `node`, those of the node and everything under it; with
    `before`, only entries older than that id (the next page); with `scope`, only visible ones."""
    query = select(AlertEvent, AlertRule, OrgNode).join(AlertRule, AlertRule.id == AlertEvent.rule_id).join(
        OrgNode, OrgNode.id == AlertEvent.org_node_id).where(*_entries(session, node, unread, scope))
    if before is not None:
        query = query.where(AlertEvent.id < before)
    rows = session.execute(query.order_by(AlertEvent.id.desc()).limit(limit)).all()
    return [(e, r, n) for e, r, n in rows]


def unread_count(*, session: Session, scope: Scope | None = None) -> int:
    """Unread inbox entries (of the nodes in `scope`): one COUNT."""
    query = select(func.count(AlertEvent.id)).where(AlertEvent.read_at.is_(None))
    if scope is not None:
        query = query.where(scope(AlertEvent.org_node_id))
    return int(session.scalar(query) or 0)


def mark_read(*, session: Session, ids: list[int] | None = None, node: str | None = None,
              scope: Scope | None = None) -> int:
    """Mark inbox entries read: the given ids, else every unread one (of `node` and below); returns
    how many changed. With `scope`, an id outside it (or unknown) is NotFound and nothing changes."""
    if ids is not None and scope is not None:
        wanted = set(ids)
        found = set(session.scalars(select(AlertEvent.id).where(AlertEvent.id.in_(wanted), scope(AlertEvent.org_node_id))))
        if missing := sorted(wanted - found):
            shown = ", ".join(str(i) for i in missing[:5]) + (" …" if len(missing) > 5 else "")
            raise NotFound.coded("tracking.alerts.alert_you_can_see", shown=shown)
    statement = update(AlertEvent).where(AlertEvent.read_at.is_(None))
    if ids is not None:
        statement = statement.where(AlertEvent.id.in_(ids))
    elif node:
        root = require_node(session=session, key=node)
        statement = statement.where(AlertEvent.org_node_id.in_(
            select(OrgNode.id).where(OrgNode.path.startswith(root.path, autoescape=True))))
    if scope is not None:
        statement = statement.where(scope(AlertEvent.org_node_id))
    changed = session.execute(statement.values(read_at=datetime.now())).rowcount
    session.commit()
    return int(changed or 0)


def split_message(message: str) -> tuple[str, str]:
    """The Chinese and English halves of a stored message ("中文 / English", as the checks above
    write it; the English half never holds "/ "). A message without one is both halves."""
    zh, separator, en = message.rpartition("/ ")
    if not separator or not zh.strip() or not en.strip():
        return message, message
    return zh.strip(), en.strip()
