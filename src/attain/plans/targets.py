"""Importing an existing quota sheet into a plan: long (one row per period) or wide (periods as columns)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from attain.errors import Conflict, InvalidInput, RowError
from attain.imports.columns import EMPTY_MARKERS, Columns, clean_code
from attain.imports.common import (
    ImportOptions,
    ImportResult,
    Resolver,
    customer_types,
    reject_if_errors,
    wrong_kind,
)
from attain.imports.parsing import (
    EARLIEST_DATE,
    LATEST_DATE,
    header_multiplier,
    make_amount_parser,
    normalise_header,
)
from attain.imports.reading import Table
from attain.metrics.service import require_metric
from attain.org.models import OrgNode
from attain.periods import Grain, Period, month, parse_period, period_of
from attain.plans.models import ALL_CUSTOMERS, Plan, PlanCell, PlanVersion
from attain.plans.service import (
    begin_change,
    create_plan,
    ensure_editable,
    get_plan,
    record_cell_changes,
)

_MONTH_COLUMN = re.compile(r"^(?:m|month)?0?([1-9]|1[0-2])(?:月)?$", re.IGNORECASE)


def _wide_period_columns(table: Table, used: set[int]) -> list[tuple[int, str]]:
    """Columns whose header is a period ('2027-01', '2027Q1') or a month of the row's year ('M01', '1月')."""
    found: list[tuple[int, str]] = []
    for index, header in enumerate(table.header):
        if index in used or not header.strip():
            continue
        text = header.strip()
        try:
            parse_period(text)
            found.append((index, text))
            continue
        except InvalidInput:
            pass
        match = _MONTH_COLUMN.match(normalise_header(text))
        if match and not text.isdigit():
            found.append((index, f"M{int(match.group(1)):02d}"))
    return found


_TIME_OF_DAY = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")


def _period_reader(grain: str | None) -> Callable[[str], Period]:
    """Period labels → periods. With a grain ('quarter'), a date or shorter period stands for the
    period of that grain containing its first day (quota tables often date a quarter's quota by one day)."""
    grains = {g.value: g for g in Grain if g is not Grain.DAY}
    if grain is not None and grain not in grains:
        raise InvalidInput.coded("plans.targets.period_grain_one", grain=grain, items=', '.join(grains))

    def read(label: str) -> Period:
        period = parse_period(_TIME_OF_DAY.sub("", label.strip()))  # '2011-05-31 00:00:00' is a day
        if grain is None:
            return period
        wanted = period_of(period.start, grains[grain])
        if period.end > wanted.end:
            raise InvalidInput.coded("plans.targets.period_longer_period_grain", label=label, grain=grain)
        return wanted

    return read


def import_target_rows(
    *, session: Session, table: Table, mapping: dict[str, list[int]], options: ImportOptions, step: Callable[[str], None]
) -> ImportResult:
    """Write a quota sheet's figures as cells of the plan `options.plan` (created as a draft if new)."""
    if not options.plan:
        raise InvalidInput.coded("plans.targets.importing_targets_needs_plan")
    metric = require_metric(session=session, code=options.metric)
    result = ImportResult("targets", table.source, table.encoding, len(table.rows))
    columns = Columns(table, mapping, date_format=options.date_format)
    orgs = [clean_code(v) if v else None for v in columns.text("org", required=True, max_length=64)]
    products = [clean_code(v) if v else None for v in columns.text("product", max_length=64)]
    types = customer_types(columns)
    owners = [clean_code(v) if v else None for v in columns.text("owner", max_length=64)]
    notes = columns.text("strategy_note", max_length=10_000)
    years, year_texts = columns.integer("year"), columns.raw("year")
    for index, year in enumerate(years):
        if year is not None and not EARLIEST_DATE.year <= year <= LATEST_DATE.year:
            columns.error(index, "year", f"{year} is outside the years {EARLIEST_DATE.year}–{LATEST_DATE.year}")
            years[index] = None
    resolver = Resolver(session, options.key)
    to_period = _period_reader(options.period_grain)

    # (row index, period label, raw value, column name) for every target figure in the file.
    figures: list[tuple[int, str, str, str]] = []
    if columns.has("period"):
        if not columns.has("value"):
            raise InvalidInput.coded("plans.targets.period_column_but_target", source=table.source)
        value_header = columns.column_name("value")
        for index, (period, value) in enumerate(zip(columns.raw("period"), columns.raw("value"))):
            figures.append((index, period, value, value_header))
    else:
        used = {i for idx in mapping.values() for i in idx}
        wide = _wide_period_columns(table, used)
        if not wide:
            raise InvalidInput.coded("plans.targets.period_column_columns_named", source=table.source)
        for index, row in enumerate(table.rows):
            for col, label in wide:
                raw = row[col].strip() if col < len(row) else ""
                if label.startswith("M"):
                    if years[index] is None and year_texts[index]:
                        continue  # the year is wrong: reported once, on the year column
                    if years[index] is None:
                        columns.error(index, table.header[col], "month columns need a year column (or name the columns 2027-01 …)")
                        continue
                    label = month(years[index], int(label[1:])).label  # type: ignore[arg-type]
                figures.append((index, label, raw, table.header[col]))

    multiplier = options.multiplier
    if columns.has("value"):
        multiplier *= header_multiplier(columns.column_name("value"))
    parse_value = make_amount_parser(metric.scale, multiplier)
    plan = get_plan(session=session, name=options.plan)
    window = _plan_window(plan)
    cells: dict[tuple[str, int, int | None, str], dict[str, object]] = {}
    first_line: dict[tuple[str, int, int | None, str], int] = {}
    periods: list[Period] = []
    for index, label, raw, column in figures:
        line = columns.lines[index]
        if not raw or raw in EMPTY_MARKERS:
            continue  # no target for this period
        try:
            period = to_period(label)
        except InvalidInput as exc:
            period_column = columns.column_name("period") if columns.has("period") else column
            columns.errors.append(_row_error(line, period_column, str(exc)))
            continue
        period_column = columns.column_name("period") if columns.has("period") else column
        outside = _outside(period, plan, window)
        if outside is not None:
            columns.errors.append(_row_error(line, period_column, outside))
            continue
        try:
            value = parse_value(raw)
        except ValueError as exc:
            columns.errors.append(_row_error(line, column, str(exc)))
            continue
        if value < 0:
            columns.errors.append(_row_error(line, column, f"target {raw} is negative"))
            continue
        org_id = resolver.existing_org(orgs[index]) if orgs[index] else None
        if orgs[index] and org_id is None:
            columns.error(index, "org", f"no rep or org node with code or name '{orgs[index]}'; import reps first")
            continue
        product_id = resolver.existing_product(products[index]) if products[index] else None
        if products[index] and product_id is None:
            columns.error(index, "product", f"no product or product line '{products[index]}'")
            continue
        owner_id = resolver.existing_org(owners[index]) if owners[index] else None
        if owners[index] and owner_id is None:
            columns.error(index, "owner", f"no person with code or name '{owners[index]}'")
            continue
        wrong_owner = wrong_kind(owners[index], resolver.org_kind(owner_id), ("rep",)) if owner_id is not None else None
        if wrong_owner is not None:  # a cell's owner is a person
            columns.error(index, "owner", wrong_owner)
            continue
        if org_id is None:
            continue
        key = (period.label, org_id, product_id, types[index] or ALL_CUSTOMERS)
        if key in cells:
            columns.errors.append(_row_error(line, column, f"a second target for {orgs[index]} in {period.label} (first on line {first_line[key]})"))
            continue
        first_line[key] = line
        periods.append(period)
        cells[key] = {"period_start": period.start, "period_end": period.end, "value": value, "owner_id": owner_id,
                      "strategy_note": notes[index]}
    reject_if_errors(columns, table.source)
    if not cells:
        raise InvalidInput.coded("plans.targets.target_values_found", source=table.source)

    step(f"writing {len(cells):,} target cells into plan {options.plan}")
    start, end = min(p.start for p in periods), max(p.end for p in periods)
    if plan is None:
        plan = create_plan(session=session, name=options.plan, metric=metric, start=start, end=end)
        result.created["plans"] = 1
    else:
        ensure_editable(plan)
        if plan.metric_id != metric.id:
            raise InvalidInput.coded("plans.targets.plan_measures_another_metric", name=plan.name)
        plan.start_date, plan.end_date = min(plan.start_date, start), max(plan.end_date, end)
    existing = {
        (c.period, c.org_node_id, c.product_node_id, c.customer_type): c
        for c in session.scalars(select(PlanCell).where(PlanCell.plan_id == plan.id))
    }
    inserts, updates = [], []
    before: dict[tuple[str, int, int | None, str], tuple[int, bool]] = {}
    after: dict[tuple[str, int, int | None, str], tuple[int, bool]] = {}
    for key, values in cells.items():
        current = existing.get(key)
        if current is not None:
            before[key] = (current.value, current.locked)
        after[key] = (int(values["value"]), current.locked if current is not None else False)  # type: ignore[call-overload]
        if current is None:
            inserts.append({"plan_id": plan.id, "period": key[0], "org_node_id": key[1], "product_node_id": key[2],
                            "customer_type": key[3], "locked": False, **values})
        else:
            change = {
                "value": values["value"],
                "note": values["strategy_note"] or current.strategy_note,
                "owner": values["owner_id"] or current.owner_id,
            }
            if (change["value"], change["note"], change["owner"]) == (current.value, current.strategy_note, current.owner_id):
                continue
            if current.locked and change["value"] != current.value:
                node = session.get(OrgNode, key[1])
                raise Conflict.coded("plans.targets.target_plan_locked_unlock", source=table.source, key=key[0], name=node.name, code=node.code, name2=plan.name, amount=_amount(current.value, metric.scale), amount2=_amount(change['value'], metric.scale))
            updates.append({"_id": current.id, **change})
    if inserts:
        session.execute(insert(PlanCell), inserts)
    if updates:
        session.execute(
            update(PlanCell.__table__).where(PlanCell.__table__.c.id == bindparam("_id"))
            .values(value=bindparam("value"), strategy_note=bindparam("note"), owner_id=bindparam("owner")),
            updates,
        )
    if inserts or updates:
        # A new plan's import belongs to its creation (version 1); an existing plan gets a new version.
        if result.created.get("plans"):
            version = session.scalars(select(PlanVersion).where(PlanVersion.plan_id == plan.id, PlanVersion.version == 1)).one()
        else:
            version = begin_change(session=session, plan=plan, expect=None, by="import",
                                   action="import targets", reason=f"targets from {table.source}")
        record_cell_changes(session=session, version=version, before=before, after=after)
    result.inserted, result.updated = len(inserts), len(updates)
    result.unchanged = len(cells) - len(inserts) - len(updates)
    return result


def _plan_window(plan: Plan | None) -> tuple[date, date] | None:
    """The dates a quota sheet may give cells of an existing plan: the plan's own calendar years.
    (A sheet may fill in March of a plan imported with January and February; it may not stretch
    FY2027 to 2031.)"""
    if plan is None:
        return None
    return date(plan.start_date.year, 1, 1), date(plan.end_date.year, 12, 31)


def _outside(period: Period, plan: Plan | None, window: tuple[date, date] | None) -> str | None:
    """Why a period cannot take a target in this plan, or None."""
    if period.start < EARLIEST_DATE or period.end > LATEST_DATE:
        return f"{period.label} is outside the years {EARLIEST_DATE.year}–{LATEST_DATE.year}"
    if plan is not None and window is not None and (period.start < window[0] or period.end > window[1]):
        years = f"{window[0].year}" if window[0].year == window[1].year else f"{window[0].year}–{window[1].year}"
        return (f"{period.label} is outside plan {plan.name} ({plan.start_date} – {plan.end_date}); a quota sheet fills in "
                f"the plan's own years ({years}), it does not stretch the plan's dates beyond them")
    return None


def _amount(minor: int, scale: int) -> str:
    return f"{Decimal(minor).scaleb(-scale):,.{scale}f}"


def _row_error(line: int, column: str, message: str) -> RowError:
    return RowError(line, column, message)


__all__ = ["import_target_rows"]
