"""Plans: find, create and summarise target plans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from attain.auth.models import User
from attain.catalog.models import ProductNode
from attain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from attain.metrics.models import Metric
from attain.org.models import OrgNode
from attain.plans.models import (
    ALL_CUSTOMERS,
    IN_FORCE,
    PENDING,
    Plan,
    PlanCell,
    PlanCellChange,
    PlanCommitment,
    PlanVersion,
)
from attain.settings.service import _bool as _as_bool
from attain.settings.service import register as register_setting
from attain.types import BigId


def get_plan(*, session: Session, name: str) -> Plan | None:
    """The working version of the plan with this name: its pending revision if there is one, else
    the version in force (or the newest row of a plan never approved). Editors act on it; reports
    read `plan_in_force` instead."""
    return session.scalars(select(Plan).where(Plan.name == name).order_by(Plan.version.desc(), Plan.id.desc())).first()


def require_plan(*, session: Session, name: str) -> Plan:
    plan = get_plan(session=session, name=name)
    if plan is None:
        names = session.scalars(select(Plan.name).distinct().order_by(Plan.name)).all()
        known = f"; plans are {', '.join(names)}" if names else "; there are no plans yet"
        raise NotFound(f"no plan named '{name}'{known}", code="plan.not_found", params={"name": name})
    return plan


def plan_in_force(*, session: Session, name: str) -> Plan | None:
    """The approved (or locked) version of the plan: what every report, page, alert and payout reads."""
    return session.scalars(
        select(Plan).where(Plan.name == name, Plan.status.in_(IN_FORCE)).order_by(Plan.version.desc())
    ).first()


def pending_revision(*, session: Session, plan: Plan) -> Plan | None:
    """The draft or submitted revision of an approved plan, if one is under way."""
    return session.scalars(
        select(Plan).where(Plan.name == plan.name, Plan.status.in_(PENDING), Plan.revision_of.is_not(None))
        .order_by(Plan.version.desc())
    ).first()


def resolve_plan(
    *, session: Session, name: str | None = None, start: date | None = None, end: date | None = None,
    label: str | None = None, preview: bool = False,
) -> Plan:
    """THE plan a report, page, API answer or alert reads, for one period [start, end].

    By name: the version in force; a plan never approved answers with its draft (it was asked for by
    name); `preview=True` answers the working version (the pending revision), which only the plan
    editor and an explicit "preview the draft" view ask for. Without a name: the newest version in
    force whose dates cover the period.
    """
    what = label or (f"{start}..{end}" if start and end else "the period")
    if name:
        found = (require_plan(session=session, name=name) if preview
                 else plan_in_force(session=session, name=name) or require_plan(session=session, name=name))
        if start is not None and end is not None and (found.end_date < start or found.start_date > end):
            raise InvalidInput.coded("plans.plan_runs_outside", name=found.name, start_date=found.start_date, end_date=found.end_date, what=what)
        return found
    query = select(Plan).where(Plan.status.in_(IN_FORCE))
    if start is not None:
        query = query.where(Plan.start_date <= start)
    if end is not None:
        query = query.where(Plan.end_date >= end)
    found = session.scalars(query.order_by(Plan.approved_at.desc(), Plan.id.desc())).first()
    if found is None:
        raise NotFound.coded("plans.approved_plan_covers_approve", what=what)
    if preview:
        return pending_revision(session=session, plan=found) or found
    return found


def lineage_ids(*, session: Session, name: str) -> list[int]:
    """Ids of every row of the plan (versions in force, superseded and pending), oldest first."""
    return list(session.scalars(select(Plan.id).where(Plan.name == name).order_by(Plan.version, Plan.id)))


def frozen_before(plan: Plan) -> date | None:
    """Cells of periods that end before this day cannot change in this version (None: nothing frozen).
    Only a revision of an approved plan freezes: what was measured against the plan in force stays."""
    return plan.effective_from if plan.revision_of is not None else None


def create_plan(
    *, session: Session, name: str, metric: Metric, start: date, end: date, unit: int | None = None, status: str = "draft",
    by: str = "system", reason: str | None = None,
) -> Plan:
    """A new draft plan (version 1, recorded with who and why). The rounding unit defaults to one
    whole unit of the metric."""
    if not name.strip() or len(name) > 100:
        raise InvalidInput.coded("plan.name_length", name=name)
    if unit is not None and unit <= 0:
        raise InvalidInput.coded("plans.rounding_unit_positive_got", unit=unit)
    if end < start:
        raise InvalidInput.coded("plans.plan_end_before_start", name=name, end=end, start=start)
    if get_plan(session=session, name=name) is not None:
        raise Conflict.coded("plan.exists", name=name)
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
        raise Conflict(  # the CLI says which command reloads it; the web says "reload the page"
            f"plan {plan.name} is at version {plan.version}, but this change was based on version {expect}; "
            f"reload the plan (attain plan versions {plan.name}) and apply the change again",
            code="plan.moved_on", params={"plan": plan.name, "version": plan.version, "expect": expect},
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
        raise Conflict.coded("plan.not_draft", plan=plan.name, version=plan.version, status=plan.status)


def plan_summary(*, session: Session, plan: Plan) -> dict[str, object]:
    cells, total = session.execute(
        select(func.count(PlanCell.id), func.coalesce(func.sum(PlanCell.value), 0)).where(PlanCell.plan_id == plan.id)
    ).one()
    metric = session.get(Metric, plan.metric_id)
    return {
        "name": plan.name, "version": plan.version, "status": plan.status, "metric": metric.code if metric else None,
        "start": plan.start_date, "end": plan.end_date, "cells": cells, "cell_sum": total,
    }


@dataclass(frozen=True)
class PlanListing:
    """One plan name: its working version, the version in force and a pending revision."""

    name: str
    year: int | None
    metric: str
    start: date
    end: date
    version: int  # the working version (what the plan editor opens)
    status: str
    in_force_version: int | None
    pending_version: int | None
    effective_from: date | None  # of the pending revision
    total: int | None  # of the version in force (else of the working version)


def list_plans(*, session: Session) -> list[PlanListing]:
    """Every plan name once (newest start first), with the version in force and any pending revision."""
    rows = session.execute(
        select(Plan, Metric.code).join(Metric, Metric.id == Plan.metric_id).where(Plan.status != "superseded")
        .order_by(Plan.start_date.desc(), Plan.name, Plan.version.desc())
    ).all()
    by_name: dict[str, list[tuple[Plan, str]]] = {}
    for plan, code in rows:
        by_name.setdefault(plan.name, []).append((plan, code))
    listing = []
    for name, versions in by_name.items():
        working, code = versions[0]
        in_force = next((p for p, _c in versions if p.status in IN_FORCE), None)
        pending = working if working.status in PENDING and in_force is not None else None
        shown = in_force or working
        listing.append(PlanListing(
            name, working.year, code, working.start_date, working.end_date, working.version, working.status,
            in_force.version if in_force else None, pending.version if pending else None,
            pending.effective_from if pending else None, shown.total,
        ))
    return listing


# --- versions, approval and optimistic concurrency -------------------------------------------------

APPROVER_ROLES = ("director", "admin")  # permission plan_approve's default; the company's: attain.auth.permissions
APPROVER_ROLES_DEFAULT = ("admin", "director")
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
        raise InvalidInput.coded("plans.say_who_makes_change")
    if len(name) > 100:
        raise InvalidInput.coded("plans.longer_characters", name=name[:20])
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
        raise Conflict(f"plan {plan.name} was changed by someone else since version {read}; reload it and try again",
                       code="plan.changed_since", params={"plan": plan.name, "version": read})
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
    before: dict[CellKey, tuple[int, bool]], after: dict[CellKey, tuple[int, bool]], customer_axis: str = "",
) -> int:
    """Store the cells whose value or lock differs between `before` and `after`; return how many.
    `customer_axis`: the customer attribute the keys' fourth part is a member of ('' for customer types)."""
    rows = []
    for key in before.keys() | after.keys():
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        rows.append({
            "version_id": version.id, "period": key[0], "org_node_id": key[1], "product_node_id": key[2],
            "customer_type": key[3] if not customer_axis or key[3] == ALL_CUSTOMERS else ALL_CUSTOMERS,
            "customer_axis": customer_axis if key[3] != ALL_CUSTOMERS else "",
            "customer_value": key[3] if customer_axis else ALL_CUSTOMERS, "value_before": old[0] if old else None, "value_after": new[0] if new else None,
            "locked_before": old[1] if old else None, "locked_after": new[1] if new else None,
        })
    if rows:
        session.execute(insert(PlanCellChange.__table__), rows)
    version.cells_changed = len(rows)
    return len(rows)


def list_versions(*, session: Session, plan: Plan) -> list[VersionInfo]:
    """Every version of the plan's name, across the rows of its revisions, oldest first."""
    rows = session.scalars(
        select(PlanVersion).join(Plan, Plan.id == PlanVersion.plan_id).where(Plan.name == plan.name)
        .order_by(PlanVersion.version, PlanVersion.id)
    )
    return [
        VersionInfo(v.version, v.action, v.status, v.changed_by, v.role, v.reason, v.changed_at, v.cells_changed)
        for v in rows
    ]


# --- who may do what: the one place ---------------------------------------------------------------

PLANNER_ROLES_DEFAULT = ("admin", "director", "manager")  # permission plan_edit's default (in ROLES order)
PLANNER_ROLES = ("admin", "director", "manager")  # the defaults; the company's are attain.auth.permissions
register_setting(
    "plan_self_approval", False,
    "Let the person who submitted a plan approve it too (a one-person sales team); off = four eyes.", _as_bool,
)


def plan_root(*, session: Session, plan: Plan) -> OrgNode | None:
    """The top org node the plan sets targets for: the lowest node above every node with a cell
    (the company for a company plan, a team for a plan of that team's reps)."""
    depth = session.scalar(
        select(func.min(OrgNode.depth)).join(PlanCell, PlanCell.org_node_id == OrgNode.id).where(PlanCell.plan_id == plan.id)
    )
    if depth is None:
        return None
    paths = session.scalars(
        select(OrgNode.path).join(PlanCell, PlanCell.org_node_id == OrgNode.id)
        .where(PlanCell.plan_id == plan.id, OrgNode.depth == depth).distinct()
    ).all()
    common = [part for part in paths[0].strip("/").split("/")]
    for path in paths[1:]:
        parts = path.strip("/").split("/")
        keep = 0
        while keep < min(len(common), len(parts)) and common[keep] == parts[keep]:
            keep += 1
        common = common[:keep]
    return session.get(OrgNode, int(common[-1])) if common else None


def require_user(*, session: Session, username: str) -> User:
    """The user account that acts; approvals and status changes never take a free-text name."""
    name = (username or "").strip()
    user = session.scalars(select(User).where(User.username == name)).first() if name else None
    if user is None or not user.active:
        raise NotAllowed.coded("plans.active_user_plan_status", name=name)
    return user


def require_planner(*, session: Session, user: User) -> None:
    """The company's permission plan_edit (default: managers, directors and admins; attain.auth.permissions)."""
    from attain.auth import permissions

    if not permissions.allowed(session=session, role=user.role, permission="plan_edit"):
        if permissions.roles_for(session=session, permission="plan_edit") == PLANNER_ROLES_DEFAULT:
            raise NotAllowed.coded("plan.not_planner", user=user.username, role=user.role)
        permissions.require(session=session, role=user.role, permission="plan_edit", user=user.username)


def _require_approver(*, session: Session, user: User, action: str) -> None:
    """The company's permission plan_approve (default: directors and admins)."""
    from attain.auth import permissions

    if not permissions.allowed(session=session, role=user.role, permission="plan_approve"):
        if permissions.roles_for(session=session, permission="plan_approve") == APPROVER_ROLES_DEFAULT:
            if action == "approve-as":
                raise NotAllowed.coded("plans.only_director_admin_approves", username=user.username, role=user.role)
            raise NotAllowed.coded("plan.approver_only", action=action, user=user.username, role=user.role)
        permissions.require(session=session, role=user.role, permission="plan_approve", user=user.username)


def authorize(*, session: Session, user: User, plan: Plan, action: str, nodes: tuple[OrgNode, ...] = ()) -> None:
    """Raise NotAllowed unless `user` may do `action` on `plan` (and on `nodes`, for cell edits).

    edit: a planner (manager, director, admin) whose scope holds every node touched.
    change-total: an edit that moves the plan total — only who sees the plan's top node.
    submit, revise: a planner who sees the plan's top node (a team manager cannot reopen the company's plan).
    approve, lock: a director or admin who sees the plan's top node.
    """
    from attain.auth.access import can_see

    require_planner(session=session, user=user)
    if action in ("approve", "lock"):
        _require_approver(session=session, user=user, action=action)
    for node in nodes:
        if not can_see(session=session, user=user, node=node):
            raise NotAllowed.coded("plan.outside_scope", node=node.code, user=user.username)
    if action in ("submit", "revise", "approve", "lock", "change-total", "split"):
        root = plan_root(session=session, plan=plan)
        if root is not None and not can_see(session=session, user=user, node=root):
            raise NotAllowed.coded("plan.part_only", plan=plan.name, root=f"{root.name} ({root.code})", user=user.username,
                                   action=action)


def _last_submitter(session: Session, plan: Plan) -> str | None:
    return session.scalar(
        select(PlanVersion.changed_by).where(PlanVersion.plan_id == plan.id, PlanVersion.action == "submitted")
        .order_by(PlanVersion.version.desc()).limit(1)
    )


def _move(
    *, session: Session, plan: Plan, allowed_from: tuple[str, ...], to: str, action: str, by: str,
    expect: int | None, reason: str | None = None, role: str | None = None,
) -> VersionInfo:
    if plan.status not in allowed_from:
        hint = {"approved": "revise it first", "locked": "revise it first", "submitted": "approve or revise it first",
                "superseded": "a newer version is in force"}
        raise Conflict(
            f"plan {plan.name} is {plan.status}; it cannot be {action} from there"
            + (f" ({hint[plan.status]})" if plan.status in hint else ""),
            code="plan.wrong_status", params={"plan": plan.name, "status": plan.status, "action": action},
        )
    version = begin_change(session=session, plan=plan, expect=expect, by=by, action=action, reason=reason, role=role)
    plan.status = to
    version.status = to
    if to == "approved":
        plan.approved_at = version.changed_at
    session.commit()
    return list_versions(session=session, plan=plan)[-1]


def submit_plan(
    *, session: Session, name: str, by: str, expect: int | None = None, reason: str | None = None,
    override: str | None = None,
) -> VersionInfo:
    """draft → submitted, by a planner who sees the whole plan. SMART errors block the submission
    unless `override` gives a reason, which the version keeps."""
    from attain.plans.check import check_plan

    user = require_user(session=session, username=by)
    plan = require_plan(session=session, name=name)
    authorize(session=session, user=user, plan=plan, action="submit")
    if plan.status != "draft":
        return _move(session=session, plan=plan, allowed_from=("draft",), to="submitted", action="submitted", by=by,
                     expect=expect, reason=reason, role=user.role)
    errors = [f for f in check_plan(session=session, name=name).findings if f.severity == "error"]
    if errors and not (override or "").strip():
        first = errors[0]
        raise Conflict.coded("plan.smart_errors", plan=plan.name, count=len(errors), first=f"{first.cell}: {first.message}")
    if errors:
        reason = f"{reason + '; ' if reason else ''}SMART override ({len(errors)} error(s)): {override.strip()}"  # type: ignore[union-attr]
    return _move(session=session, plan=plan, allowed_from=("draft",), to="submitted", action="submitted", by=by,
                 expect=expect, reason=reason, role=user.role)


def approver_role(*, session: Session, by: str, role: str | None = None) -> str:
    """The role `by` approves with: their user account's, which the company's plan_approve permission
    must allow (default: director or admin)."""
    user = require_user(session=session, username=by)
    if role and role != user.role:
        raise NotAllowed.coded("plans.error", username=user.username, role=user.role, role2=role)
    _require_approver(session=session, user=user, action="approve-as")
    return user.role


def approve_plan(
    *, session: Session, name: str, by: str, role: str | None = None, expect: int | None = None, reason: str | None = None
) -> VersionInfo:
    """submitted → approved, by a director or admin other than the submitter (four eyes, unless the
    company allows self-approval). An approved revision goes into force; the version it revises
    becomes superseded (its cells stay for the record)."""
    from attain.settings.service import get_setting

    checked = approver_role(session=session, by=by, role=role)
    user = require_user(session=session, username=by)
    plan = require_plan(session=session, name=name)
    authorize(session=session, user=user, plan=plan, action="approve")
    if plan.status == "submitted" and _last_submitter(session, plan) == user.username and not get_setting(session, "plan_self_approval"):
        raise NotAllowed(
            f"{user.username} submitted plan {plan.name}; another director or admin approves it (four eyes), "
            "or an admin allows self-approval: attain config set plan_self_approval true",
            code="plan.four_eyes", params={"user": user.username, "plan": plan.name},
        )
    previous = None
    if plan.revision_of is not None and plan.status == "submitted":
        previous = plan_in_force(session=session, name=plan.name)
        if previous is None or previous.id != plan.revision_of:
            raise Conflict.coded("plans.plan_version_revision_was", name=plan.name)
    if previous is not None:
        previous.status = "superseded"
    return _move(session=session, plan=plan, allowed_from=("submitted",), to="approved", action="approved", by=by,
                 expect=expect, reason=reason, role=checked)


def lock_plan(*, session: Session, name: str, by: str, expect: int | None = None, reason: str | None = None) -> VersionInfo:
    """approved → locked: the plan is final for the period."""
    user = require_user(session=session, username=by)
    plan = require_plan(session=session, name=name)
    authorize(session=session, user=user, plan=plan, action="lock")
    if plan.status in PENDING and plan.revision_of is not None:
        raise Conflict.coded("plan.pending_revision", plan=plan.name, version=plan.version, status=plan.status)
    return _move(session=session, plan=plan, allowed_from=("approved",), to="locked", action="locked", by=by,
                 expect=expect, reason=reason, role=user.role)


def current_day() -> date:
    """The clock of the plan rules (which periods are closed); tests replace it."""
    return date.today()


def default_effective_from(plan: Plan, today: date) -> date:
    """The first day of the period (month) that holds `today`, within the plan's dates."""
    first = today.replace(day=1)
    return min(max(first, plan.start_date), plan.end_date)


def revise_plan(
    *, session: Session, name: str, by: str, reason: str, expect: int | None = None,
    effective_from: date | None = None, today: date | None = None,
) -> VersionInfo:
    """Open a revision of the plan, with a reason.

    An approved or locked plan stays in force: the revision is a new draft row with a copy of its
    cells (copy-on-write), seen only in the plan editor, `plan diff` and previews until approved.
    It may change cells from `effective_from` on (default: the start of the current month); periods
    that ended before it are frozen. A submitted plan goes back to draft.
    """
    if not (reason or "").strip():
        raise InvalidInput("a revision needs a reason: --reason '...'", code="plan.revision_reason")
    user = require_user(session=session, username=by)
    plan = require_plan(session=session, name=name)
    authorize(session=session, user=user, plan=plan, action="revise")
    if plan.status not in IN_FORCE:
        return _move(session=session, plan=plan, allowed_from=("submitted",), to="draft", action="revised", by=by,
                     expect=expect, reason=reason.strip(), role=user.role)
    check_expected(plan, expect)
    today = today or current_day()
    earliest = default_effective_from(plan, today)
    if plan.end_date < today.replace(day=1):
        raise Conflict.coded("plan.ended", plan=plan.name, end=plan.end_date)
    start = effective_from or earliest
    if start < earliest:
        raise InvalidInput.coded("plans.revision_cannot_start_periods", start=start, earliest=earliest)
    if start > plan.end_date:
        raise InvalidInput.coded("plans.revision_starting_after_plan", start=start, end_date=plan.end_date)
    draft = Plan(
        name=plan.name, version=plan.version + 1, year=plan.year, start_date=plan.start_date, end_date=plan.end_date,
        metric_id=plan.metric_id, status="draft", unit=plan.unit, total=plan.total, note=plan.note,
        split_spec=plan.split_spec, revision_of=plan.id, effective_from=start,
    )
    session.add(draft)
    try:
        session.flush()
    except IntegrityError as exc:  # another session opened a revision at the same version
        session.rollback()
        raise Conflict(f"plan {plan.name} was changed by someone else since version {plan.version}; reload it",
                       code="plan.changed_since", params={"plan": plan.name, "version": plan.version}) from exc
    cells = PlanCell.__table__
    columns = [c.name for c in cells.columns if c.name not in ("id", "plan_id")]
    session.execute(insert(cells).from_select(
        ["plan_id", *columns],
        select(literal(draft.id, BigId), *[cells.c[c] for c in columns]).where(cells.c.plan_id == plan.id),
    ))
    commitments = PlanCommitment.__table__
    kept = [c.name for c in commitments.columns if c.name not in ("id", "plan_id")]
    session.execute(insert(commitments).from_select(
        ["plan_id", *kept],
        select(literal(draft.id, BigId), *[commitments.c[c] for c in kept]).where(commitments.c.plan_id == plan.id),
    ))
    from attain.credit.models import CreditRule  # late: credit reads plans

    rules = CreditRule.__table__
    ruled = [c.name for c in rules.columns if c.name not in ("id", "plan_id")]
    session.execute(insert(rules).from_select(
        ["plan_id", *ruled], select(literal(draft.id, BigId), *[rules.c[c] for c in ruled]).where(rules.c.plan_id == plan.id),
    ))
    session.add(PlanVersion(
        plan_id=draft.id, version=draft.version, action="revised", status="draft", changed_by=user.username,
        role=user.role, reason=f"{reason.strip()} (from {start})", changed_at=datetime.now(UTC).replace(tzinfo=None),
        cells_changed=0,
    ))
    session.commit()
    return list_versions(session=session, plan=draft)[-1]


def revisions_between(*, session: Session, name: str, from_version: int, to_version: int) -> list[tuple[int, date]]:
    """(version, effective from) of each revision opened between two versions: what `diff` changed from which date."""
    low, high = sorted((from_version, to_version))
    return [(v, d) for v, d in session.execute(
        select(Plan.version, Plan.effective_from).join(PlanVersion, PlanVersion.plan_id == Plan.id)
        .where(Plan.name == name, Plan.revision_of.is_not(None), PlanVersion.action == "revised",
               PlanVersion.version > low, PlanVersion.version <= high)
        .with_only_columns(PlanVersion.version, Plan.effective_from).order_by(PlanVersion.version)
    ).all() if d is not None]


@dataclass(frozen=True)
class CellDiff:
    """A cell's value at two versions (a diff), or before and after one edit (`EditResult.changes`)."""

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

    @property
    def node(self) -> str:
        return self.org_code

    @property
    def name(self) -> str:
        return self.org_name


def diff_versions(*, session: Session, name: str, from_version: int, to_version: int) -> list[CellDiff]:
    """Cells whose value differs between two versions (each cell: value at `from` and at `to`)."""
    plan = require_plan(session=session, name=name)
    for number in (from_version, to_version):
        if not 1 <= number <= plan.version:
            raise NotFound.coded("plans.plan_versions", name=plan.name, version=plan.version, number=number)
    low, high = sorted((from_version, to_version))
    rows = session.execute(
        select(PlanVersion.version, PlanCellChange)
        .join(PlanCellChange, PlanCellChange.version_id == PlanVersion.id)
        .join(Plan, Plan.id == PlanVersion.plan_id)
        .where(Plan.name == plan.name, PlanVersion.version > low, PlanVersion.version <= high)
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
