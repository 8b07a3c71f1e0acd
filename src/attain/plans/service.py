"""Plans: find, create and summarise target plans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from attain.catalog.models import ProductNode
from attain.errors import Conflict, InvalidInput, NotFound
from attain.metrics.models import Metric
from attain.org.models import OrgNode
from attain.plans.models import Plan, PlanCell, PlanCellChange, PlanVersion


def get_plan(*, session: Session, name: str) -> Plan | None:
    """The newest version of the plan with this name, or None."""
    return session.scalars(select(Plan).where(Plan.name == name).order_by(Plan.version.desc())).first()


def require_plan(*, session: Session, name: str) -> Plan:
    plan = get_plan(session=session, name=name)
    if plan is None:
        names = session.scalars(select(Plan.name).distinct().order_by(Plan.name)).all()
        known = f"; plans are {', '.join(names)}" if names else "; there are no plans yet"
        raise NotFound(f"no plan named '{name}'{known}")
    return plan


def create_plan(
    *, session: Session, name: str, metric: Metric, start: date, end: date, unit: int | None = None, status: str = "draft",
    by: str = "system", reason: str | None = None,
) -> Plan:
    """A new draft plan (version 1, recorded with who and why). The rounding unit defaults to one
    whole unit of the metric."""
    if not name.strip() or len(name) > 100:
        raise InvalidInput(f"plan name '{name}' must be 1 to 100 characters")
    if unit is not None and unit <= 0:
        raise InvalidInput(f"the rounding unit must be positive, got {unit}")
    if end < start:
        raise InvalidInput(f"plan {name}: end {end} is before start {start}")
    if get_plan(session=session, name=name) is not None:
        raise Conflict(f"a plan named '{name}' already exists")
    plan = Plan(
        name=name, version=1, metric_id=metric.id, start_date=start, end_date=end,
        year=start.year if start.year == end.year else None, status=status, unit=unit or 10**metric.scale,
    )
    session.add(plan)
    session.flush()
    session.add(PlanVersion(
        plan_id=plan.id, version=1, action="created", status=status, changed_by=_check_actor(by), reason=reason,
        changed_at=datetime.now(UTC).replace(tzinfo=None), cells_changed=0,
    ))
    session.flush()
    return plan


def check_expected(plan: Plan, expect: int | None) -> None:
    """Conflict if the plan is no longer at the version the caller's change was based on."""
    if expect is not None and expect != plan.version:
        raise Conflict(
            f"plan {plan.name} is at version {plan.version}, but this change was based on version {expect}; "
            f"reload the plan (attain plan versions {plan.name}) and apply the change again"
        )


def require_draft(*, session: Session, name: str, expect: int | None = None) -> Plan:
    """The plan, freshly read, if it is a draft at the expected version."""
    plan = require_plan(session=session, name=name)
    session.refresh(plan)
    check_expected(plan, expect)
    ensure_editable(plan)
    return plan


def ensure_editable(plan: Plan) -> None:
    if plan.status != "draft":
        raise Conflict(f"plan {plan.name} v{plan.version} is {plan.status}; edit a new draft version instead")


def plan_summary(*, session: Session, plan: Plan) -> dict[str, object]:
    cells, total = session.execute(
        select(func.count(PlanCell.id), func.coalesce(func.sum(PlanCell.value), 0)).where(PlanCell.plan_id == plan.id)
    ).one()
    metric = session.get(Metric, plan.metric_id)
    return {
        "name": plan.name, "version": plan.version, "status": plan.status, "metric": metric.code if metric else None,
        "start": plan.start_date, "end": plan.end_date, "cells": cells, "cell_sum": total,
    }


# --- versions, approval and optimistic concurrency -------------------------------------------------

APPROVER_ROLES = ("director", "admin")
CellKey = tuple[str, int, "int | None", str]


@dataclass(frozen=True)
class VersionInfo:
    version: int
    action: str
    status: str
    changed_by: str
    role: str | None
    reason: str | None
    changed_at: datetime
    cells_changed: int


def _check_actor(by: str) -> str:
    name = (by or "").strip()
    if not name:
        raise InvalidInput("say who makes the change: --by NAME")
    if len(name) > 100:
        raise InvalidInput(f"--by '{name[:20]}…' is longer than 100 characters")
    return name


def begin_change(
    *, session: Session, plan: Plan, expect: int | None, by: str, action: str, reason: str | None = None,
    role: str | None = None,
) -> PlanVersion:
    """Claim the next version of `plan` for one change, or raise Conflict if it moved on.

    `expect` is the version the caller's change was based on (None: whatever is current). The
    version is bumped with `UPDATE … WHERE version = <read>`, so of two sessions that read the same
    version only the first one's change goes through; the second gets a Conflict, never a silent
    overwrite.
    """
    who = _check_actor(by)
    read = plan.version
    check_expected(plan, expect)
    bumped = session.execute(
        update(Plan.__table__).where(Plan.__table__.c.id == plan.id, Plan.__table__.c.version == read).values(version=read + 1)
    )
    if bumped.rowcount != 1:
        session.rollback()
        raise Conflict(f"plan {plan.name} was changed by someone else since version {read}; reload it and try again")
    session.expire(plan, ["version"])
    version = PlanVersion(
        plan_id=plan.id, version=read + 1, action=action, status=plan.status, changed_by=who, role=role,
        reason=reason, changed_at=datetime.now(UTC).replace(tzinfo=None), cells_changed=0,
    )
    session.add(version)
    session.flush()
    return version


def record_cell_changes(
    *, session: Session, version: PlanVersion,
    before: dict[CellKey, tuple[int, bool]], after: dict[CellKey, tuple[int, bool]],
) -> int:
    """Store the cells whose value or lock differs between `before` and `after`; return how many."""
    rows = []
    for key in before.keys() | after.keys():
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        rows.append({
            "version_id": version.id, "period": key[0], "org_node_id": key[1], "product_node_id": key[2],
            "customer_type": key[3], "value_before": old[0] if old else None, "value_after": new[0] if new else None,
            "locked_before": old[1] if old else None, "locked_after": new[1] if new else None,
        })
    if rows:
        session.execute(insert(PlanCellChange.__table__), rows)
    version.cells_changed = len(rows)
    return len(rows)


def list_versions(*, session: Session, plan: Plan) -> list[VersionInfo]:
    rows = session.scalars(select(PlanVersion).where(PlanVersion.plan_id == plan.id).order_by(PlanVersion.version))
    return [
        VersionInfo(v.version, v.action, v.status, v.changed_by, v.role, v.reason, v.changed_at, v.cells_changed)
        for v in rows
    ]


def _move(
    *, session: Session, name: str, allowed_from: tuple[str, ...], to: str, action: str, by: str,
    expect: int | None, reason: str | None = None, role: str | None = None,
) -> VersionInfo:
    plan = require_plan(session=session, name=name)
    if plan.status not in allowed_from:
        hint = {"approved": "revise it first", "locked": "revise it first", "submitted": "approve or revise it first"}
        raise Conflict(
            f"plan {plan.name} is {plan.status}; it cannot be {action} from there"
            + (f" ({hint[plan.status]})" if plan.status in hint else "")
        )
    version = begin_change(session=session, plan=plan, expect=expect, by=by, action=action, reason=reason, role=role)
    plan.status = to
    version.status = to
    if to == "approved":
        plan.approved_at = version.changed_at
    session.commit()
    return list_versions(session=session, plan=plan)[-1]


def submit_plan(*, session: Session, name: str, by: str, expect: int | None = None, reason: str | None = None) -> VersionInfo:
    """draft → submitted: the plan goes to a director for approval."""
    return _move(session=session, name=name, allowed_from=("draft",), to="submitted", action="submitted", by=by,
                 expect=expect, reason=reason)


def approver_role(*, session: Session, by: str, role: str | None) -> str:
    """The role `by` approves with: their user account's role if they have one, else the role given."""
    from attain.auth.models import User

    who = _check_actor(by)
    user = session.scalars(select(User).where(User.username == who)).first()
    if user is not None:
        if role and role != user.role:
            raise InvalidInput(f"{who} is a {user.role}, not a {role}")
        role = user.role
    if role is None:
        raise InvalidInput(f"approving needs the approver's role: {who} is not a user; pass --role director")
    if role not in APPROVER_ROLES:
        raise InvalidInput(f"only a director or admin approves a plan; {who} is a {role}")
    return role


def approve_plan(
    *, session: Session, name: str, by: str, role: str | None = None, expect: int | None = None, reason: str | None = None
) -> VersionInfo:
    """submitted → approved, by a director or admin."""
    checked = approver_role(session=session, by=by, role=role)
    return _move(session=session, name=name, allowed_from=("submitted",), to="approved", action="approved", by=by,
                 expect=expect, reason=reason, role=checked)


def lock_plan(*, session: Session, name: str, by: str, expect: int | None = None, reason: str | None = None) -> VersionInfo:
    """approved → locked: the plan is final for the period."""
    return _move(session=session, name=name, allowed_from=("approved",), to="locked", action="locked", by=by,
                 expect=expect, reason=reason)


def revise_plan(*, session: Session, name: str, by: str, reason: str, expect: int | None = None) -> VersionInfo:
    """submitted/approved/locked → draft, as a new version that says why."""
    if not (reason or "").strip():
        raise InvalidInput("a revision needs a reason: --reason '...'")
    return _move(session=session, name=name, allowed_from=("submitted", "approved", "locked"), to="draft",
                 action="revised", by=by, expect=expect, reason=reason.strip())


@dataclass(frozen=True)
class CellDiff:
    period: str
    org_node_id: int
    org_code: str
    org_name: str
    product: str | None
    customer_type: str
    before: int | None
    after: int | None

    @property
    def delta(self) -> int:
        return (self.after or 0) - (self.before or 0)


def diff_versions(*, session: Session, name: str, from_version: int, to_version: int) -> list[CellDiff]:
    """Cells whose value differs between two versions (each cell: value at `from` and at `to`)."""
    plan = require_plan(session=session, name=name)
    for number in (from_version, to_version):
        if not 1 <= number <= plan.version:
            raise NotFound(f"plan {plan.name} has versions 1 to {plan.version}, not {number}")
    low, high = sorted((from_version, to_version))
    rows = session.execute(
        select(PlanVersion.version, PlanCellChange)
        .join(PlanCellChange, PlanCellChange.version_id == PlanVersion.id)
        .where(PlanVersion.plan_id == plan.id, PlanVersion.version > low, PlanVersion.version <= high)
        .order_by(PlanVersion.version, PlanCellChange.id)
    ).all()
    first: dict[CellKey, int | None] = {}
    last: dict[CellKey, int | None] = {}
    for _number, change in rows:
        key = (change.period, change.org_node_id, change.product_node_id, change.customer_type)
        first.setdefault(key, change.value_before)
        last[key] = change.value_after
    nodes = {n.id: n for n in session.scalars(select(OrgNode).where(OrgNode.id.in_({k[1] for k in first})))}
    products = dict(session.execute(select(ProductNode.id, ProductNode.code)).all()) if any(k[2] for k in first) else {}
    result = []
    for key in sorted(first, key=lambda k: (nodes[k[1]].depth, nodes[k[1]].code, k[0], k[2] or 0, k[3])):
        old, new = (first[key], last[key]) if from_version <= to_version else (last[key], first[key])
        if old == new:
            continue
        node = nodes[key[1]]
        result.append(CellDiff(key[0], node.id, node.code, node.name, products.get(key[2]) if key[2] else None, key[3], old, new))
    return result
