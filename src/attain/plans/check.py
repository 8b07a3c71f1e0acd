"""SMART check of a plan: measurable, owned, dated, realistic and relevant — per cell and for the total."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.metrics.models import Metric
from attain.org.models import OrgNode
from attain.plans import calc, data
from attain.plans.baseline import (
    LAST_FISCAL_YEAR,
    Baseline,
    add_months,
    baseline_window,
)
from attain.plans.models import ALL_CUSTOMERS, Plan, PlanCell
from attain.plans.service import require_plan
from attain.plans.splitting import load_cells, stored_tree

SEVERITIES = ("error", "warning", "info")
UNREACHABLE = 0.05  # below this probability of reaching the target: error
STRETCH = 0.25  # below this: warning


@dataclass(frozen=True)
class Finding:
    severity: str
    check: str  # measurable | owner | deadline | realistic | relevant
    cell: str
    message: str
    figure: str | None = None


@dataclass(frozen=True)
class CheckReport:
    plan: str
    version: int
    findings: list[Finding]

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def passed(self) -> bool:
        return self.count("error") == 0


def _money(value: float, scale: int) -> str:
    return f"{value / 10**scale:,.0f}"


def check_plan(
    *, session: Session, name: str, draws: int = 10_000, seed: int = 2027, baseline: str = LAST_FISCAL_YEAR,
    as_of: date | None = None,
) -> CheckReport:
    """Every SMART finding of plan `name`; realism compares with the `baseline` window as of `as_of`
    (default today: the last complete fiscal year, never a year still running)."""
    plan = require_plan(session=session, name=name)
    metric = session.get(Metric, plan.metric_id)
    findings: list[Finding] = []
    findings += _measurable(plan, metric)
    cells = load_cells(session=session, plan=plan)
    if not cells:
        findings.append(Finding("error", "measurable", "plan", f"plan {plan.name} has no cells: nobody has a target yet",
                                "0 cells"))
        return CheckReport(plan.name, plan.version, findings)
    org = stored_tree(session=session, cells=cells)
    findings += _owners_and_deadlines(session, plan, org)
    findings += _relevant(session, plan, metric, cells, org)
    if metric is not None and metric.aggregation not in ("ratio", "average"):
        window = baseline_window(session=session, target_start=plan.start_date, basis=baseline, as_of=as_of)
        findings += _realistic(session, plan, metric, cells, org, draws, seed, window)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: (order[f.severity], f.check, f.cell))
    return CheckReport(plan.name, plan.version, findings)


def _measurable(plan: Plan, metric: Metric | None) -> list[Finding]:
    found = []
    if metric is None:
        found.append(Finding("error", "measurable", "plan", "the plan has no metric", None))
    elif metric.aggregation in ("ratio", "average"):
        found.append(Finding("warning", "measurable", "plan", f"{metric.code} is a {metric.aggregation}; its targets do not add up across levels", metric.unit))
    if plan.total is None:
        found.append(Finding("error", "measurable", "plan", "the plan has no total target", None))
    return found


def _owners_and_deadlines(session: Session, plan: Plan, org) -> list[Finding]:  # type: ignore[no-untyped-def]
    found = []
    codes = {n.id: n for n in org.nodes}
    rows = session.execute(
        select(PlanCell.org_node_id, PlanCell.owner_id, PlanCell.period, PlanCell.period_start, PlanCell.period_end,
               PlanCell.assessment_rule)
        .where(PlanCell.plan_id == plan.id)
    ).all()
    no_owner: dict[int, int] = {}
    no_rule: dict[int, int] = {}
    for node_id, owner_id, period, start, end, rule in rows:
        if owner_id is None:
            no_owner[node_id] = no_owner.get(node_id, 0) + 1
        if not rule or not rule.get("metric") or not rule.get("achieved_at"):
            no_rule[node_id] = no_rule.get(node_id, 0) + 1
        if end is None or end < start or end > plan.end_date or start < plan.start_date:
            found.append(Finding("error", "deadline", f"{codes[node_id].code} {period}", "the cell's period is not inside the plan period",
                                 f"{start}..{end} vs {plan.start_date}..{plan.end_date}"))
    for node_id, count in sorted(no_owner.items(), key=lambda kv: codes[kv[0]].code):
        node = codes[node_id]
        found.append(Finding("error", "owner", f"{node.code} (all {count} cells)",
                             f"{node.name} has no owner: set a manager for the {node.kind} or an owner per cell", f"{count} cells"))
    for node_id, count in sorted(no_rule.items(), key=lambda kv: codes[kv[0]].code):
        found.append(Finding("warning", "measurable", f"{codes[node_id].code} ({count} cells)",
                             "no assessment rule (metric and achieved-at threshold)", f"{count} cells"))
    return found


def company_goal(session: Session, plan: Plan) -> tuple[str | None, str | None]:
    """(metric code, plan name) of the company goal for the plan's year: a plan with a company-level
    cell, approved ones first; this plan if it has one."""
    roots = set(session.scalars(select(OrgNode.id).where(OrgNode.parent_id.is_(None))))
    candidates = session.execute(
        select(Plan.name, Plan.status, Metric.code, Plan.id).join(Metric, Metric.id == Plan.metric_id)
        .where(Plan.year == plan.year)
    ).all()
    ranked = []
    for plan_name, status, code, plan_id in candidates:
        has_root = session.scalar(select(PlanCell.id).where(PlanCell.plan_id == plan_id, PlanCell.org_node_id.in_(roots)).limit(1))
        if has_root is not None:
            ranked.append((plan_id != plan.id, status not in ("approved", "locked"), plan_name, code))
    if not ranked:
        return None, None
    best = min(ranked)
    return best[3], best[2]


def _relevant(session: Session, plan: Plan, metric: Metric | None, cells, org) -> list[Finding]:  # type: ignore[no-untyped-def]
    found = []
    goal, goal_plan = company_goal(session, plan)
    code = metric.code if metric else None
    if goal is None:
        found.append(Finding("warning", "relevant", "plan", f"no company-level target for {plan.year}: nothing to tie {code} to", None))
    elif goal != code:
        found.append(Finding("warning", "relevant", "plan", f"{code} is not the company goal's metric", f"company goal: {goal} ({goal_plan})"))
    names = {n.id: n.code for n in org.nodes}
    off = {}
    for key, cell in cells.items():
        rule_metric = (cell.rule or {}).get("metric")
        if rule_metric and goal and rule_metric != goal:
            off.setdefault((key[1], rule_metric), 0)
            off[(key[1], rule_metric)] += 1
    for (node_id, rule_metric), count in sorted(off.items(), key=lambda kv: names[kv[0][0]]):
        found.append(Finding("warning", "relevant", f"{names[node_id]} ({count} cells)",
                             f"assessed on {rule_metric}, not on the company goal's {goal}", f"rule metric {rule_metric}"))
    return found


def _realistic(session: Session, plan: Plan, metric: Metric, cells, org, draws: int, seed: int, window: Baseline) -> list[Finding]:  # type: ignore[no-untyped-def]
    """Growth against each node's last year (the baseline `window`, twelve complete months) and the
    twelve months before it, and P(reaching the year target) by bootstrap over the window's months."""
    year = min((k[0] for k in cells), key=len)
    nodes = list(org.nodes)
    targets = np.array([cells.get((year, n.id, None, ALL_CUSTOMERS)).value if (year, n.id, None, ALL_CUSTOMERS) in cells else 0
                        for n in nodes], dtype=np.int64)
    leaves = list(org.leaves)
    _labels, leaf_monthly = data.monthly_actuals(session=session, metric=metric, rep_ids=[nodes[i].id for i in leaves],
                                                 start=add_months(window.start, -12), end=window.end)
    include = calc.ancestry(org.parents)[:, leaves].astype(np.float64)
    monthly = include @ leaf_monthly  # (nodes, months)
    last_year = monthly[:, -12:].sum(axis=1)
    year_before = monthly[:, -24:-12].sum(axis=1) if monthly.shape[1] >= 24 else np.zeros(len(nodes))
    months = max(1, round(((plan.end_date - plan.start_date).days + 1) / 30.44))
    active = (monthly > 0).sum(axis=1)
    market = (last_year[0] / year_before[0] - 1) if year_before[0] > 0 else None
    # Resample the most recent twelve months, grown by the node's own trend (else the market's):
    # "if the trend goes on, with the spread of the past months, how often is the target reached?"
    trend = np.where(year_before > 0, last_year / np.where(year_before > 0, year_before, 1) - 1, market or 0.0)
    # A base further back than the year before the plan (2025 for 2027 when 2026 is still running)
    # grows by the trend for each year between them.
    years_ahead = ((plan.start_date.year - window.start.year) * 12 + plan.start_date.month - window.start.month) / 12
    grown = monthly[:, -12:] * ((1 + np.clip(trend, -0.5, 1.0)) ** years_ahead)[:, None]
    probability = calc.reach_probability(grown, targets, months, draws=draws, seed=seed)
    found = []
    if window.note:
        found.append(Finding("warning" if not window.complete else "info", "realistic", "plan",
                             f"last year is {window.description}: {window.note}", f"baseline {window.label}"))
    for i, node in enumerate(nodes):
        cell = "total" if i == 0 else f"{node.code} {year}"
        target = int(targets[i])
        if target == 0:
            continue
        if active[i] < 6:
            found.append(Finding("info", "realistic", cell, f"{node.name}: fewer than 6 months of history, cannot judge",
                                 f"target {_money(target, metric.scale)}"))
            continue
        growth = target / last_year[i] - 1 if last_year[i] > 0 else None
        own = (last_year[i] / year_before[i] - 1) if year_before[i] > 0 else None
        p = float(probability[i])
        figure = (f"target {_money(target, metric.scale)} vs {window.label} {_money(last_year[i], metric.scale)}"
                  + (f" ({growth:+.0%})" if growth is not None else "")
                  + (f", own trend {own:+.0%}" if own is not None else "")
                  + (f", market {market:+.0%}" if market is not None else "")
                  + f", P(reach) {p:.0%}")
        if p < UNREACHABLE:
            found.append(Finding("error", "realistic", cell, f"{node.name}: the target is out of reach of its past months", figure))
        elif p < STRETCH:
            found.append(Finding("warning", "realistic", cell, f"{node.name}: a stretch target", figure))
        elif growth is not None and market is not None and growth > market + 0.3:
            found.append(Finding("warning", "realistic", cell, f"{node.name}: growth far above the market", figure))
    return found
