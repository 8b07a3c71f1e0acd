"""The responsibility matrix: who owns which target, with its note and assessment rule. Shown as a
table, exported to Excel (one sheet per org level, values not formulas) and read back after editing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.catalog.models import ProductNode
from attain.errors import Conflict, ImportRejected, InvalidInput, RowError
from attain.metrics.models import Metric
from attain.org.models import ORG_KINDS, OrgNode
from attain.periods import Grain, parse_period
from attain.plans import calc
from attain.plans.edits import closed_labels
from attain.plans.models import ALL_CUSTOMERS
from attain.plans.service import CellKey, begin_change, require_draft, require_plan
from attain.plans.splitting import (
    Cell,
    build_cells,
    leaf_rows_of,
    load_cells,
    plan_total,
    save_cells,
    stored_layout,
    stored_tree,
)
from attain.spreadsheets import new_workbook, write_cell

PERIOD_GRAINS = ("year", "half", "quarter", "month", "week")
INFO_SHEET = "说明 info"
SHEETS = {"company": "公司 company", "region": "大区 region", "team": "团队 team", "rep": "销售 rep"}
HEADERS = (
    ("code", "组织代码 Org code"), ("name", "名称 Name"), ("period", "期间 Period"), ("product", "产品线 Product line"),
    ("customer_type", "客户类型 Customer type"), ("value", "目标 Target"), ("owner", "负责人 Owner"),
    ("locked", "锁定 Locked"), ("note", "策略 Strategy note"), ("metric", "考核指标 Metric"),
    ("achieved_at", "达成线 Achieved at"), ("review", "复盘 Review"),
)


@dataclass(frozen=True)
class MatrixRow:
    level: str
    code: str
    name: str
    period: str
    product: str | None
    customer_type: str
    owner: str | None
    owner_name: str | None
    value: int
    locked: bool
    note: str | None
    rule: dict[str, Any] | None


@dataclass(frozen=True)
class Matrix:
    plan: str
    version: int
    status: str
    metric: str
    scale: int
    unit: str
    rows: list[MatrixRow]


def show_matrix(
    *, session: Session, name: str, level: str | None = None, period: str | None = None, product: str | None = None,
    customer_type: str | None = ALL_CUSTOMERS,
) -> Matrix:
    """The plan's cells as a responsibility matrix, filtered by org level, period grain, product line
    code ('*' = every line) and customer type (None = every type)."""
    if level is not None and level not in ORG_KINDS:
        raise InvalidInput(f"level '{level}' is not one of {', '.join(ORG_KINDS)}")
    if period is not None and period not in PERIOD_GRAINS:
        raise InvalidInput(f"period '{period}' is not one of {', '.join(PERIOD_GRAINS)}")
    plan = require_plan(session=session, name=name)
    metric = session.get(Metric, plan.metric_id)
    cells = load_cells(session=session, plan=plan)
    nodes = {n.id: n for n in session.scalars(select(OrgNode))}
    products = dict(session.execute(select(ProductNode.id, ProductNode.code)).all())
    product_id: int | None | str = "*"
    if product != "*":
        product_id = None
        if product:
            product_id = next((i for i, c in products.items() if c == product), None)
            if product_id is None:
                raise InvalidInput(f"no product line '{product}'")
    grains = {label: parse_period(label).grain.value for label in {k[0] for k in cells}}
    rows = []
    for key, cell in cells.items():
        node = nodes[key[1]]
        if level and node.kind != level:
            continue
        if period and grains[key[0]] != period:
            continue
        if product_id != "*" and key[2] != product_id:
            continue
        if customer_type is not None and key[3] != customer_type:
            continue
        owner = nodes.get(cell.owner_id) if cell.owner_id else None
        rows.append(MatrixRow(node.kind, node.code, node.name, key[0], products.get(key[2]) if key[2] else None, key[3],
                              owner.code if owner else None, owner.name if owner else None, cell.value, cell.locked,
                              cell.note, cell.rule))
    kinds = {k: i for i, k in enumerate(ORG_KINDS)}
    rows.sort(key=lambda r: (kinds[r.level], r.code, _period_order(r.period), r.product or "", r.customer_type))
    return Matrix(plan.name, plan.version, plan.status, metric.code, metric.scale, metric.unit, rows)


def _period_order(label: str) -> tuple[object, ...]:
    period = parse_period(label)
    return (-period.days if period.grain is Grain.YEAR else 0, period.start, -period.days)


def amount(value: int, scale: int) -> Decimal:
    return Decimal(value).scaleb(-scale)


# --- Excel ----------------------------------------------------------------------------------------

def export_matrix(*, session: Session, name: str, out: Path) -> dict[str, int]:
    """Write the whole matrix to `out` (.xlsx): an info sheet, then one sheet per org level.
    Returns the number of rows per sheet."""
    if out.suffix.lower() != ".xlsx":
        raise InvalidInput(f"{out}: export writes .xlsx files")
    matrix = show_matrix(session=session, name=name, product="*", customer_type=None)
    counts: dict[str, int] = {}
    try:
        workbook = new_workbook(out)
    except OSError as exc:
        raise InvalidInput(f"{out}: cannot write the file ({exc})") from exc
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7"})
    money = workbook.add_format({"num_format": "#,##0.00" if matrix.scale else "#,##0"})
    info = workbook.add_worksheet(INFO_SHEET)
    for r, (label, value) in enumerate((
        ("计划 Plan", matrix.plan), ("版本 Version", matrix.version), ("状态 Status", matrix.status),
        ("指标 Metric", matrix.metric), ("单位 Unit", matrix.unit),
        ("导出时间 Exported at", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("说明 Note", "只修改目标、策略、负责人列；销售层的叶子单元格修改后上级自动汇总。Edit target, note or owner; edited rep cells roll up."),
    )):
        write_cell(info, r, 0, label, bold)
        write_cell(info, r, 1, value)
    info.set_column(0, 0, 22)
    info.set_column(1, 1, 60)
    for level, sheet_name in SHEETS.items():
        rows = [row for row in matrix.rows if row.level == level]
        if not rows:
            continue
        sheet = workbook.add_worksheet(sheet_name)
        for c, (_key, header) in enumerate(HEADERS):
            write_cell(sheet, 0, c, header, bold)
        for r, row in enumerate(rows, start=1):
            rule = row.rule or {}
            values = [row.code, row.name, row.period, row.product or "", row.customer_type]
            for c, value in enumerate(values):
                write_cell(sheet, r, c, value)
            write_cell(sheet, r, 5, amount(row.value, matrix.scale), money)
            for c, value in enumerate([row.owner or "", "是 yes" if row.locked else "", row.note or "",
                                       str(rule.get("metric", "")), str(rule.get("achieved_at", "")), str(rule.get("review", ""))], start=6):
                write_cell(sheet, r, c, value)
        sheet.freeze_panes(1, 2)
        sheet.set_column(0, 4, 14)
        sheet.set_column(5, 5, 16)
        sheet.set_column(8, 8, 40)
        counts[level] = len(rows)
    workbook.close()
    return counts


@dataclass(frozen=True)
class EditsResult:
    plan: str
    version: int
    values_changed: int
    notes_changed: int
    cells_changed: int


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    return str(value).strip()


def import_edits(
    *, session: Session, name: str, path: Path, by: str, expect: int | None = None, reason: str | None = None,
) -> EditsResult:
    """Read an edited export back: all or nothing.

    Changed rep cells at the finest level (leaf period, product line, customer type) are taken as
    they are and every level above is summed again. A changed cell above them must equal its new
    sum; a locked cell must not change. The version in the file's info sheet is the one the edits
    are based on (unless `expect` is given): a plan changed since the export is a Conflict.
    """
    from attain.imports.reading import read_workbook

    plan = require_draft(session=session, name=name, expect=expect)
    if not path.exists():
        raise InvalidInput(f"{path}: no such file")
    workbook = read_workbook(path, sheets=[INFO_SHEET, *SHEETS.values()], trimmed=[INFO_SHEET])
    sheets = workbook.sheet_names
    if INFO_SHEET not in sheets:
        raise InvalidInput(f"{path.name}: no '{INFO_SHEET}' sheet; edit a file written by `attain plan export`")
    info = {_text(r[0]): r[1] if len(r) > 1 else None for r in workbook.rows[INFO_SHEET] if r}
    if _text(info.get("计划 Plan")) != plan.name:
        raise InvalidInput(f"{path.name} is an export of plan '{_text(info.get('计划 Plan'))}', not {plan.name}")
    based_on = expect
    if based_on is None:
        try:
            based_on = int(float(_text(info.get("版本 Version"))))
        except ValueError as exc:
            raise InvalidInput(f"{path.name}: the info sheet has no version number") from exc
    if based_on != plan.version:
        raise Conflict(f"{path.name} was exported from version {based_on} of plan {plan.name}, which is now at version "
                       f"{plan.version}; export it again and redo the edits")
    metric = session.get(Metric, plan.metric_id)
    cells = load_cells(session=session, plan=plan)
    layout = stored_layout(plan=plan, cells=cells)
    org = stored_tree(session=session, cells=cells)
    by_code = {n.code: n for n in org.nodes}
    products = {c: i for i, c in session.execute(select(ProductNode.id, ProductNode.code)).all()}
    owners = dict(session.execute(select(OrgNode.code, OrgNode.id)).all())
    frozen = closed_labels(plan, {k[0] for k in cells})
    errors: list[RowError] = []
    values: dict[CellKey, tuple[int, int, str]] = {}  # key -> (new value, line, sheet)
    notes: dict[CellKey, str | None] = {}
    new_owners: dict[CellKey, int | None] = {}
    seen: dict[CellKey, str] = {}
    for level, sheet_name in SHEETS.items():
        if sheet_name not in sheets:
            continue
        rows = workbook.rows[sheet_name]
        if not rows:
            continue
        header = [_text(h) for h in rows[0]]
        missing = [h for key, h in HEADERS if key in ("code", "period", "product", "customer_type", "value") and h not in header]
        if missing:
            raise InvalidInput(f"{path.name}: sheet '{sheet_name}' lacks the column {missing[0]}")
        col = {key: header.index(h) for key, h in HEADERS if h in header}
        for line, raw in enumerate(rows[1:], start=2):
            row = [_text(v) for v in raw] + [""] * (len(header) - len(raw))
            if not any(row):
                continue
            where = f"{sheet_name}"

            def error(column: str, message: str, line: int = line, where: str = where) -> None:
                errors.append(RowError(line, f"{where}!{dict(HEADERS)[column]}", message))

            node = by_code.get(row[col["code"]])
            if node is None or node.kind != level:
                error("code", f"'{row[col['code']]}' is not a {level} of plan {plan.name}")
                continue
            product_code = row[col["product"]]
            if product_code and product_code not in products:
                error("product", f"no product line '{product_code}'")
                continue
            key = (row[col["period"]], node.id, products.get(product_code) if product_code else None, row[col["customer_type"]] or ALL_CUSTOMERS)
            if key not in cells:
                error("period", f"plan {plan.name} has no cell {node.code} {key[0]} {product_code} {key[3]}".rstrip())
                continue
            if key in seen:
                error("code", f"the cell {node.code} {key[0]} appears twice (first {seen[key]})")
                continue
            seen[key] = f"{sheet_name} line {line}"
            text = row[col["value"]]
            try:
                value = int((Decimal(text.replace(",", "")) * 10**metric.scale).to_integral_value()) if text else None
                if value is None or Decimal(text.replace(",", "")).scaleb(metric.scale) != value:
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                error("value", f"target '{text}' is not an amount with at most {metric.scale} decimals")
                continue
            if value < 0:
                error("value", f"target {text} is negative")
                continue
            if value % plan.unit:
                error("value", f"target {text} is not a multiple of the rounding unit {amount(plan.unit, metric.scale)}")
                continue
            cell = cells[key]
            if value != cell.value:
                if key[0] in frozen:
                    error("value", f"{node.code} {key[0]} closed before this revision takes effect ({plan.effective_from}); "
                                   "its target cannot change")
                    continue
                if cell.locked:
                    error("value", f"{node.code} {key[0]} is locked at {amount(cell.value, metric.scale)}; unlock it before editing")
                    continue
                values[key] = (value, line, sheet_name)
            if "note" in col and (row[col["note"]] or None) != (cell.note or None):
                notes[key] = row[col["note"]] or None
            if "owner" in col:
                owner_code = row[col["owner"]]
                current = next((c for c, i in owners.items() if i == cell.owner_id), None) if cell.owner_id else None
                if owner_code != (current or ""):
                    if owner_code and owner_code not in owners:
                        error("owner", f"no person with code '{owner_code}'")
                        continue
                    new_owners[key] = owners.get(owner_code) if owner_code else None
    if not errors and not values and not notes and not new_owners:
        raise InvalidInput(f"{path.name}: no cell differs from plan {plan.name} version {plan.version}")
    new = _roll_edits(layout, org, cells, values, metric, errors)
    if errors:
        raise ImportRejected(f"{path.name}: {len(errors)} bad row(s); nothing was changed", errors)
    for key, note in notes.items():
        new[key].note = note
    for key, owner_id in new_owners.items():
        new[key].owner_id = owner_id
    version = begin_change(session=session, plan=plan, expect=based_on, by=by, action="import edits",
                           reason=reason or f"edits from {path.name}")
    changed = save_cells(session=session, plan=plan, version=version, layout=layout, old=cells, new=new)
    plan.total = plan_total(layout, org, new)
    session.commit()
    return EditsResult(plan.name, version.version, len(values), len(notes) + len(new_owners), changed)


def _roll_edits(layout, org, cells, values, metric, errors) -> dict[CellKey, Cell]:  # type: ignore[no-untyped-def]
    """Apply edited leaf cells, sum every level again, and check the other edits against the sums."""
    leaves = set(org.leaves)
    leaf_labels = {p.label for p in layout.leaf_periods}
    index = {n.id: i for i, n in enumerate(org.nodes)}
    rows = leaf_rows_of(layout, org, cells)
    slice_of = {(p.label, q, t): s for s, (p, q, t) in enumerate(
        (p, q, t) for p in layout.leaf_periods for q in layout.leaf_products for t in layout.leaf_types)}
    for key, (value, _line, _sheet) in values.items():
        i = index[key[1]]
        if i in leaves and key[0] in leaf_labels and (key[0], key[2], key[3]) in slice_of:
            rows[i, slice_of[(key[0], key[2], key[3])]] = value
    include = calc.ancestry(org.parents)
    is_leaf = np.zeros(len(org.nodes), dtype=np.int64)
    is_leaf[list(leaves)] = 1
    summed = (include * is_leaf[None, :]) @ rows
    new = build_cells(layout=layout, org=org, leaf_rows=summed, old=cells, metric=metric)
    for key, (value, line, sheet) in values.items():
        if new[key].value != value:
            errors.append(RowError(line, f"{sheet}!{dict(HEADERS)['value']}",
                                   f"{org.nodes[index[key[1]]].code} {key[0]} is a sum; edit the rep cells below it "
                                   f"(they add up to {amount(new[key].value, metric.scale)})"))
    for key, cell in cells.items():
        if cell.locked and new[key].value != cell.value:
            errors.append(RowError(0, dict(HEADERS)["value"], f"the edits change locked cell {org.nodes[index[key[1]]].code} {key[0]} "
                                   f"from {amount(cell.value, metric.scale)} to {amount(new[key].value, metric.scale)}"))
    return new


__all__ = ["Matrix", "MatrixRow", "export_matrix", "import_edits", "show_matrix"]
