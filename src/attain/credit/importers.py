"""`attain import credits FILE` and `attain import returns FILE` (registered in attain.imports.service).

credits: one row per share (order id, optional line id, rep, percent, kind direct|overlay), or one
row per order/line with a sales-team column ('张三:60;李四:40', or '张三/李四' for equal shares).
The direct shares of each order or line in the file replace the stored ones and must sum to 100 %.
All or nothing, like every import: a bad row means nothing is written.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from attain.credit.calc import FULL_BP, check_direct, parse_team, percent_to_bp
from attain.credit.service import record_returns, write_direct_split, write_overlay
from attain.errors import InvalidInput
from attain.facts.models import OrderLine
from attain.imports.columns import Columns
from attain.imports.common import (
    ImportOptions,
    ImportResult,
    Progress,
    Resolver,
    reject_if_errors,
    wrong_kind,
)
from attain.imports.reading import Table

_KIND_WORDS = {"direct": "direct", "直接": "direct", "主": "direct", "主要": "direct", "split": "direct", "分成": "direct",
               "overlay": "overlay", "叠加": "overlay", "附加": "overlay", "额外": "overlay", "双计": "overlay"}


def _known_orders(session: Session, order_ids: set[str]) -> tuple[set[str], set[tuple[str, str]]]:
    orders: set[str] = set()
    lines: set[tuple[str, str]] = set()
    wanted = sorted(order_ids)
    for start in range(0, len(wanted), 500):
        for order_id, line_id in session.execute(
            select(OrderLine.order_id, OrderLine.line_id).where(OrderLine.order_id.in_(wanted[start : start + 500]))
        ):
            orders.add(order_id)
            lines.add((order_id, line_id))
    return orders, lines


def _first_sale_dates(session: Session, order_ids: set[str]) -> dict[str, date]:
    """The first order date of each order (an order's lines may carry different dates)."""
    wanted = sorted(order_ids)
    first: dict[str, date] = {}
    for start in range(0, len(wanted), 500):
        first.update(session.execute(
            select(OrderLine.order_id, func.min(OrderLine.order_date))
            .where(OrderLine.order_id.in_(wanted[start : start + 500])).group_by(OrderLine.order_id)
        ).all())
    return first


def import_credits(session: Session, table: Table, mapping: dict[str, list[int]], options: ImportOptions, step: Progress) -> ImportResult:
    result = ImportResult("credits", table.source, table.encoding, len(table.rows))
    columns = Columns(table, mapping, date_format=options.date_format)
    order_ids = columns.codes("order_id", required=True)
    line_ids = columns.codes("line_id", max_length=128)
    if not columns.has("sales_team") and not columns.has("rep"):
        raise InvalidInput.coded("credit.importers.rep_column_rep_nor", source=table.source)
    kinds = columns.vocabulary("kind", _KIND_WORDS, "a credit kind (direct/直接 or overlay/叠加)") if columns.has("kind") else [None] * len(columns)
    reps = columns.codes("rep")
    percents = columns.text("percent", max_length=16)
    teams = columns.text("sales_team", max_length=2000)
    resolver = Resolver(session)
    orders, lines = _known_orders(session, {o for o in order_ids if o})

    # (order, line, kind) → [(rep id, basis points, row index)]
    groups: dict[tuple[str, str | None, str], list[tuple[int, int, int]]] = {}
    for index, order_id in enumerate(order_ids):
        if order_id is None:
            continue
        line_id, kind = line_ids[index], kinds[index] or "direct"
        if order_id not in orders:
            columns.error(index, "order_id", f"no order '{order_id}' in the order lines; import the orders first")
            continue
        if line_id is not None and (order_id, line_id) not in lines:
            columns.error(index, "line_id", f"order '{order_id}' has no line '{line_id}'")
            continue
        try:
            if teams[index]:
                shares = parse_team(teams[index], what=f"order {order_id}")  # type: ignore[arg-type]
            elif reps[index]:
                shares = [(reps[index], percent_to_bp(percents[index], what=f"order {order_id}") if percents[index] else FULL_BP)]  # type: ignore[list-item]
            else:
                columns.error(index, "rep", "no rep on this row")
                continue
        except InvalidInput as exc:
            columns.error(index, "percent" if not teams[index] else "sales_team", str(exc))
            continue
        field = "rep" if not teams[index] else "sales_team"
        resolved: list[tuple[int, int, int]] = []
        for key, bp in shares:
            rep_id = resolver.existing_org(key)
            problem = f"no rep with code or name '{key}'" if rep_id is None else wrong_kind(key, resolver.org_kind(rep_id), ("rep",))
            if problem is not None:  # credit goes to people, never to a region or a team
                columns.error(index, field, problem)
                continue
            resolved.append((rep_id, bp, index))  # type: ignore[arg-type]
        if len(resolved) == len(shares):  # a row with a bad share adds none (its sum would mislead)
            groups.setdefault((order_id, line_id, kind), []).extend(resolved)
    _check_groups(columns, groups)
    reject_if_errors(columns, table.source)

    step(f"writing credit for {len({g[0] for g in groups}):,} orders")
    for (order_id, line_id, kind), shares in groups.items():
        if kind == "direct":
            write_direct_split(session=session, order_id=order_id, line_id=line_id,
                               shares=[(rep, bp) for rep, bp, _ in shares], source=table.source)
        else:
            for rep, bp, _ in shares:
                write_overlay(session=session, order_id=order_id, line_id=line_id, rep_id=rep, share_bp=bp, source=table.source)
    result.inserted = sum(len(s) for s in groups.values())
    return result


def _check_groups(columns: Columns, groups: dict[tuple[str, str | None, str], list[tuple[int, int, int]]]) -> None:
    """Direct shares of each order or line must sum to 100 % with each rep once; an order is split
    either as a whole or line by line."""
    whole = {order for order, line, kind in groups if line is None and kind == "direct"}
    for (order_id, line_id, kind), shares in groups.items():
        first_row = shares[0][2]
        if kind == "direct" and line_id is not None and order_id in whole:
            columns.error(first_row, "line_id", f"order {order_id} is split both as a whole and by line {line_id}")
            continue
        if kind != "direct":
            continue
        try:
            check_direct([(str(rep), bp) for rep, bp, _ in shares], scope=f"order {order_id}" + (f" line {line_id}" if line_id else ""))
        except InvalidInput as exc:
            columns.error(first_row, "percent", str(exc))


def import_returns(session: Session, table: Table, mapping: dict[str, list[int]], options: ImportOptions, step: Progress) -> ImportResult:
    result = ImportResult("returns", table.source, table.encoding, len(table.rows))
    columns = Columns(table, mapping, date_format=options.date_format)
    order_ids = columns.codes("order_id", required=True)
    returned_on = columns.date("returned_on")
    sources = columns.text("source")
    # A returns sheet often lists an order once per returned line (Superstore's Returns): the
    # repeats name the same returned order, so they are one return, not an error.
    orders, _lines = _known_orders(session, {o for o in order_ids if o})
    sold_on = _first_sale_dates(session, orders)
    for index, order_id in enumerate(order_ids):
        if order_id is not None and order_id not in orders:
            columns.error(index, "order_id", f"no order '{order_id}' in the order lines; import the orders first")
        elif order_id is not None and returned_on[index] is not None and returned_on[index] < sold_on[order_id]:  # type: ignore[operator]
            columns.error(index, "returned_on", f"returned on {returned_on[index]}, before order {order_id} was sold on {sold_on[order_id]}")
    reject_if_errors(columns, table.source)
    step("writing returned orders")
    returns = {o: (d, s or table.source[-200:]) for o, d, s in zip(order_ids, returned_on, sources) if o}
    result.inserted, result.updated, result.unchanged = record_returns(session=session, returns=returns)
    return result
