"""Import service: read a file, map and validate every row, then write all of it or nothing."""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from attain.catalog.models import GRADES, Customer, ProductNode
from attain.catalog.service import create_product_node, refresh_first_order_dates
from attain.errors import InvalidInput
from attain.facts.models import (
    ACTIVITY_KINDS,
    OPPORTUNITY_STAGES,
    Activity,
    Opportunity,
    OpportunityStageChange,
    OrderLine,
)
from attain.facts.rollups import upsert_order_lines
from attain.imports.bulk import UpsertCounts
from attain.imports.columns import Columns, clean_code, duplicates
from attain.imports.common import (
    CODE_LENGTH,
    MONEY_SCALE,
    ImportOptions,
    ImportResult,
    Progress,
    Resolver,
    check_key_mode,
    customer_types,
    kind_errors,
    reject_if_errors,
)
from attain.imports.fields import fields_for, header_score, match_columns, parse_mapping
from attain.imports.lock import take_import_lock
from attain.imports.models import ImportRun
from attain.imports.parsing import header_multiplier, to_minor
from attain.imports.reading import Table, read_table
from attain.imports.registry import registered
from attain.org.models import OrgNode, RepTerritory
from attain.org.service import move_node, node_ids_by_key
from attain.plans.targets import import_target_rows
from attain.tree import TreeTooDeep, check_path_length, child_path, subtree_path_length

__all__ = ["ImportOptions", "ImportResult", "import_file"]


def import_file(
    *, session: Session, kind: str, path: Path, options: ImportOptions | None = None, progress: Progress | None = None
) -> ImportResult:
    """Import one file of `kind`; commit on success, write nothing and raise ImportRejected otherwise."""
    step = progress or (lambda _msg: None)
    options = options or ImportOptions()
    fields_for(kind)
    check_key_mode(options.key)
    with _gc_paused():
        return _import(session=session, kind=kind, path=path, options=options, step=step)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: a million rows are millions of young objects, none of
    them in a cycle, and collecting them over and over tripled the time to read a file."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _import(*, session: Session, kind: str, path: Path, options: ImportOptions, step: Progress) -> ImportResult:
    step(f"reading {path.name}")
    table = read_table(
        path, header_score=header_score(kind), sheet=options.sheet, has_header=options.has_header, column_names=options.columns
    )
    mapping = match_columns(kind, table.header, parse_mapping(list(options.mapping), kind))
    step(f"validating {len(table.rows):,} rows")
    importer = _IMPORTERS[kind] if kind in _IMPORTERS else registered()[kind].importer
    try:
        take_import_lock(session=session, wait=options.wait, step=step)
        result = importer(session, table, mapping, options, step)
        session.add(
            ImportRun(
                kind=kind, source=str(path)[-500:], encoding=table.encoding, rows=result.rows,
                inserted=result.inserted, updated=result.updated, unchanged=result.unchanged,
            )
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return result


def _multiplier(table: Table, mapping: dict[str, list[int]], name: str, options: ImportOptions) -> Decimal:
    if name not in mapping:
        return options.multiplier
    return options.multiplier * header_multiplier(table.header[mapping[name][0]])


# --- dimension resolution ---------------------------------------------------------------------


def _first_by_key(keys: list[str | None], values: list[str | None]) -> dict[str, str | None]:
    """For each key, the value on the row where the key first appears (built in C, no row loop)."""
    if not any(values):
        return {}
    first = dict(zip(reversed(keys), reversed(values)))
    first.pop(None, None)  # type: ignore[call-overload]
    return first


def _distinct(keys: list[str | None]) -> list[str]:
    """Distinct non-empty keys in order of first appearance."""
    found = dict.fromkeys(keys)
    found.pop(None, None)  # type: ignore[call-overload]
    return list(found)  # type: ignore[arg-type]


def _codes(columns: Columns, name: str) -> list[str | None]:
    return columns.codes(name)


# --- orders -----------------------------------------------------------------------------------

def _import_orders(session: Session, table: Table, mapping: dict[str, list[int]], options: ImportOptions, step: Progress) -> ImportResult:
    result = ImportResult("orders", table.source, table.encoding, len(table.rows))
    columns = Columns(table, mapping, date_format=options.date_format)
    order_ids = columns.codes("order_id", required=True)
    dates = columns.date("order_date", required=True)
    quantities = columns.number("quantity", limit=Decimal(10) ** 14)  # NUMERIC(18, 4)
    if not columns.has("quantity"):
        result.warnings.append("no quantity column: quantities are recorded as 0")
    amounts: list[int | None]
    if columns.has("amount"):
        amounts = columns.amount("amount", scale=MONEY_SCALE, multiplier=_multiplier(table, mapping, "amount", options), required=True)
    elif columns.has("unit_price") and columns.has("quantity"):
        amounts = _computed_amounts(columns, quantities, _multiplier(table, mapping, "unit_price", options))
        result.warnings.append("amount computed as quantity × unit price, rounded half up to the cent")
    else:
        raise InvalidInput.coded("imports.amount_column_sales_amount", source=table.source)
    costs = columns.amount("cost", scale=MONEY_SCALE, multiplier=_multiplier(table, mapping, "cost", options))
    currencies = columns.text("currency", max_length=3)
    for index, currency in enumerate(currencies):
        if currency is not None and not (len(currency) == 3 and currency.isalpha()):
            columns.error(index, "currency", f"'{currency}' is not a 3-letter currency code")
    event_dates = {name: columns.date(name) for name in ("shipped_on", "invoiced_on", "paid_on", "original_sale_on") if columns.has(name)}
    reps, customers, products, regions = (_codes(columns, f) for f in ("rep", "customer", "product", "region"))
    line_ids = _line_ids(columns, order_ids, products, result)
    duplicates(line_ids, columns, "line_id" if columns.has("line_id") else "order_id", "line id")
    if not columns.has("line_id"):
        _check_line_id_lengths(columns, line_ids)
    rep_names, customer_names_column = columns.text("rep_name"), columns.text("customer_name")
    product_names_column, product_lines_column = columns.text("product_name"), columns.text("product_line", max_length=64)
    reject_if_errors(columns, table.source)

    step("resolving reps, customers and products")
    resolver = Resolver(session, options.key)
    # Regions are territories named by their codes or names; --key is about reps, customers, products.
    region_ids = resolver.orgs(_distinct(regions), kind="region", names={}, parents={}, mode="auto")
    rep_ids = resolver.orgs(
        _distinct(reps), kind="rep", names=_first_by_key(reps, rep_names),
        parents={key: region_ids.get(region or "") for key, region in _first_by_key(reps, regions).items()},
    )
    customer_names = _first_by_key(customers, customer_names_column)
    customer_regions = _first_by_key(customers, regions)
    customer_ids = resolver.customers(
        {k: (customer_names.get(k), region_ids.get(customer_regions.get(k) or "")) for k in _distinct(customers)}
    )
    product_names = _first_by_key(products, product_names_column)
    product_lines = _first_by_key(products, product_lines_column)
    product_ids = resolver.products(_distinct(products), names=product_names, lines=product_lines)
    # Every key must name a record of the right kind, found or just created: a region column naming
    # a rep (or a rep column naming a region, a product column naming a product line) is a row error,
    # never a sale credited to a region or a rep placed under another rep.
    kind_errors(columns, "region", regions, region_ids.get, resolver.org_kind, ("region",))
    kind_errors(columns, "rep", reps, rep_ids.get, resolver.org_kind, ("rep",))
    kind_errors(columns, "product", products, product_ids.get, resolver.product_kind, ("product",))
    kind_errors(columns, "product_line", product_lines_column, lambda k: resolver.existing_product(k, "auto"),
                resolver.product_kind, ("line",))
    reject_if_errors(columns, table.source)
    if not resolver.creates:
        for field, keys, ids in (("rep", reps, rep_ids), ("customer", customers, customer_ids), ("product", products, product_ids)):
            _unknown_keys(columns, field, keys, ids, options.key)
        reject_if_errors(columns, table.source)
    result.created = resolver.created
    _flag_lines(result, columns, customers, amounts, quantities)

    # dict.get over the column: C-level, and a missing key (None) maps to None.
    line_reps = list(map(rep_ids.get, reps))
    if options.rep_from_region:
        line_reps = _reps_from_regions(session, result, line_reps, list(map(region_ids.get, regions)))

    step(f"writing {len(line_ids):,} order lines")
    zero = Decimal(0)
    values = {
        "line_id": line_ids,
        "order_id": order_ids,
        "order_date": dates,
        "rep_id": line_reps,
        "customer_id": list(map(customer_ids.get, customers)),
        "product_id": list(map(product_ids.get, products)),
        "region_id": list(map(region_ids.get, regions)),
        "quantity": [q if q is not None else zero for q in quantities] if None in quantities else quantities,
        "amount": amounts,
        "cost": costs,
        "currency": [c.upper() if c else "CNY" for c in currencies] if columns.has("currency") else ["CNY"] * len(line_ids),
        **event_dates,
    }
    table_was_empty = session.scalar(select(OrderLine.id).limit(1)) is None
    counts = upsert_order_lines(session=session, values=values)
    _apply(result, counts)
    if counts.inserted or counts.updated:
        step("updating customers' first-order dates")
        # Into an empty table, the file's lines are all the lines: their dates come from its columns.
        all_lines = (values["customer_id"], dates, amounts) if table_was_empty else None
        refresh_first_order_dates(session=session, all_lines=all_lines)  # type: ignore[arg-type]
    return result


def _reps_from_regions(
    session: Session, result: ImportResult, line_reps: list[int | None], line_regions: list[int | None]
) -> list[int | None]:
    """Give each line without a rep to the manager of its region (--rep-from-region)."""
    heads = dict(session.execute(select(OrgNode.id, OrgNode.manager_id).where(OrgNode.kind == "region")).all())
    if not any(heads.values()):
        raise InvalidInput.coded("imports.rep_region_region_manager")
    out = [rep if rep is not None else heads.get(region) if region is not None else None
           for rep, region in zip(line_reps, line_regions)]
    given = sum(1 for before, after in zip(line_reps, out) if before is None and after is not None)
    result.warnings.append(f"{given:,} lines without a rep given to the manager of their region")
    if None in out:
        result.flagged["without_rep"] = out.count(None)
        result.warnings.append(f"{out.count(None):,} lines still without a rep (no region, or a region without a manager)")
    return out


def _unknown_keys(columns: Columns, field: str, keys: list[str | None], ids: dict[str, int | None], mode: str) -> None:
    """Row errors for the keys that name nothing (when the key mode does not create records)."""
    unknown = {key for key, found in ids.items() if found is None}
    if not unknown:
        return
    what = {"external_id": "external id", "name": "name", "code": "code"}.get(mode, mode)
    for index, key in enumerate(keys):
        if key in unknown:
            columns.error(index, field, f"no {field} with {what} '{key}' (--key {mode} does not create {field}s; import them first)")


def _flag_lines(
    result: ImportResult, columns: Columns, customers: list[str | None], amounts: list[int | None], quantities: list[Decimal | None]
) -> None:
    """Count the lines that are kept but deserve a look: negative lines (returns, cancellations,
    credit notes: a negative amount or quantity) and lines without a customer."""
    negative = sum(1 for a, q in zip(amounts, quantities) if (a is not None and a < 0) or (q is not None and q < 0))
    if negative:
        result.flagged["negative"] = negative
        result.warnings.append(f"{negative:,} negative lines (returns, cancellations) kept as negative sales")
    if columns.has("customer") and None in customers:
        missing = customers.count(None)
        result.flagged["without_customer"] = missing
        result.warnings.append(f"{missing:,} lines without a customer kept (counted in totals, under no customer)")


def _computed_amounts(columns: Columns, quantities: list[Decimal | None], multiplier: Decimal) -> list[int | None]:
    """quantity × unit price in minor units, exact, rounded half up once per line (never through float)."""
    prices = columns.number("unit_price", required=True)
    amounts: list[int | None] = []
    for index, (price, quantity) in enumerate(zip(prices, quantities)):
        if price is None or quantity is None:
            amounts.append(None)
            if price is not None:
                columns.error(index, "quantity", "no quantity to compute the amount (quantity × unit price)")
            continue
        try:
            amounts.append(to_minor(price * quantity * multiplier, MONEY_SCALE))
        except ValueError as exc:
            columns.error(index, "unit_price", str(exc))
            amounts.append(None)
    return amounts


def _line_ids(columns: Columns, order_ids: list[str | None], products: list[str | None], result: ImportResult) -> list[str | None]:
    if columns.has("line_id"):
        return columns.codes("line_id", required=True, max_length=128)
    if columns.has("product"):
        keys = [f"{o}|{p or ''}" if o else None for o, p in zip(order_ids, products)]
        numbered, repeats = _numbered_repeats(keys)
        result.warnings.append(
            "no line id column: each line is identified by order id + product"
            + (f"; {repeats:,} lines repeat an order id + product and are numbered by their position in the file (#2, #3 …)" if repeats else "")
        )
        return numbered
    result.warnings.append("no line id or product column: lines are identified by order id + position in the order")
    seen: dict[str, int] = {}
    out: list[str | None] = []
    for order_id in order_ids:
        if order_id is None:
            out.append(None)
            continue
        seen[order_id] = seen.get(order_id, 0) + 1
        out.append(f"{order_id}#{seen[order_id]}")
    return out


LINE_ID_LENGTH = 128  # order_lines.line_id


def _check_line_id_lengths(columns: Columns, line_ids: list[str | None]) -> None:
    """Line ids made of order id + product (+ #n) must fit their column; a longer one is refused, not cut."""
    if max(map(len, filter(None, line_ids)), default=0) <= LINE_ID_LENGTH:
        return
    for index, line_id in enumerate(line_ids):
        if line_id is not None and len(line_id) > LINE_ID_LENGTH:
            columns.error(index, "order_id", f"order id + product make a line id of {len(line_id):,} characters "
                                             f"(at most {LINE_ID_LENGTH}); add a line id column (--map line_id=Column)")


def _numbered_repeats(keys: list[str | None]) -> tuple[list[str | None], int]:
    """Keys made unique by numbering the 2nd, 3rd … occurrence ('SO1|P1#2'): the same file gives the
    same ids again, so re-importing it changes nothing. Returns the keys and how many were numbered."""
    if len(set(keys)) == len(keys):
        return keys, 0
    seen: dict[str, int] = {}
    out: list[str | None] = []
    repeats = 0
    for key in keys:
        if key is None:
            out.append(None)
            continue
        count = seen.get(key, 0) + 1
        seen[key] = count
        if count > 1:
            repeats += 1
            out.append(f"{key}#{count}")
        else:
            out.append(key)
    return out, repeats


def _apply(result: ImportResult, counts: UpsertCounts) -> None:
    result.inserted, result.updated, result.unchanged = counts.inserted, counts.updated, counts.unchanged


# --- dimension files (customers, reps, products): small, compared in Python, written in bulk ---


def _upsert_records(
    session: Session,
    model: type,
    records: dict[str, dict[str, object]],
    result: ImportResult,
    defaults: Callable[[str], dict[str, object]] = lambda _code: {},
) -> dict[str, int]:
    """Insert new codes (with `defaults` for what the file lacks), update changed ones (only the
    fields the file has); return code → id."""
    existing = {row.code: row for row in session.execute(select(model.__table__)).mappings()}
    inserts = [{**defaults(code), "code": code, **r} for code, r in records.items() if code not in existing]
    updates = []
    for code, record in records.items():
        if code in existing and any(existing[code][k] != v for k, v in record.items()):
            updates.append({"_id": existing[code]["id"], **record})
    result.inserted, result.updated = len(inserts), len(updates)
    result.unchanged = len(records) - len(inserts) - len(updates)
    if inserts:
        session.execute(insert(model), inserts)
    # Updates grouped by the set of fields they touch, so that each group is one executemany.
    by_keys: dict[tuple[str, ...], list[dict[str, object]]] = {}
    for record in updates:
        by_keys.setdefault(tuple(sorted(k for k in record if k != "_id")), []).append(record)
    table = model.__table__
    for keys, group in by_keys.items():
        session.execute(
            update(table).where(table.c.id == bindparam("_id")).values({k: bindparam(k) for k in keys}),
            group,
        )
    return {code: row_id for row_id, code in session.execute(select(model.id, model.code))}


def _keyed_rows(
    kind: str, table: Table, mapping: dict[str, list[int]], options: ImportOptions, what: str
) -> tuple[ImportResult, Columns, list[str | None]]:
    """The start of every import keyed by a code column: result, parsed columns, codes checked unique."""
    result = ImportResult(kind, table.source, table.encoding, len(table.rows))
    columns = Columns(table, mapping, date_format=options.date_format)
    codes = columns.codes("code", required=True)
    duplicates(codes, columns, "code", what)
    return result, columns, codes


def _external_ids(session: Session, model: type, columns: Columns, codes: list[str | None], what: str) -> list[str | None]:
    """The external_id column, checked: unique in the file, and not already another record's."""
    external_ids = columns.codes("external_id")
    if not columns.has("external_id"):
        return external_ids
    duplicates(external_ids, columns, "external_id", f"{what} external id")
    owners = dict(session.execute(select(model.external_id, model.code).where(model.external_id.is_not(None))).all())  # type: ignore[attr-defined]
    for index, (code, external_id) in enumerate(zip(codes, external_ids)):
        owner = owners.get(external_id) if external_id else None
        if owner is not None and owner != code:
            columns.error(index, "external_id", f"external id '{external_id}' already belongs to {what} '{owner}'")
    return external_ids


def _import_customers(session: Session, table: Table, mapping: dict[str, list[int]], options: ImportOptions, step: Progress) -> ImportResult:
    result, columns, codes = _keyed_rows("customers", table, mapping, options, "customer code")
    # Each as long as its column allows (customers.name 200, the others 100): longer is refused, not cut.
    values = {name: columns.text(name, max_length=200 if name == "name" else 100) for name in ("name", "segment", "industry", "city")}
    types = customer_types(columns)
    grades = columns.text("grade", max_length=8)
    for index, grade in enumerate(grades):
        if grade is not None and grade.upper() not in GRADES:
            columns.error(index, "grade", f"grade '{grade}' is not one of A, B, C")
    first_dates = columns.date("first_order_date")
    external_ids = _external_ids(session, Customer, columns, codes, "customer")
    regions, owners = _codes(columns, "region"), _codes(columns, "owner")
    resolver = Resolver(session, options.key)
    for index, owner in enumerate(owners):
        if owner and resolver.existing_org(owner) is None:
            columns.error(index, "owner", f"no rep with code or name '{owner}'; import reps first")
    kind_errors(columns, "owner", owners, resolver.existing_org, resolver.org_kind, ("rep",))
    kind_errors(columns, "region", regions, lambda key: resolver.existing_org(key, "auto"), resolver.org_kind, ("region",))
    reject_if_errors(columns, table.source)
    step("writing customers")
    records: dict[str, dict[str, object]] = {}
    for i, code in enumerate(codes):
        record: dict[str, object] = {}
        if values["name"][i]:  # a file without names never blanks out the names Attain has
            record["name"] = values["name"][i]
        for name in ("segment", "industry", "city"):
            if columns.has(name):
                record[name] = values[name][i]
        if columns.has("customer_type"):
            record["customer_type"] = types[i]
        if columns.has("grade"):
            record["grade"] = grades[i].upper() if grades[i] else None
        if columns.has("first_order_date"):
            record["first_order_date"] = first_dates[i]
        if columns.has("external_id"):
            record["external_id"] = external_ids[i]
        if columns.has("region"):
            record["region_id"] = resolver.org(regions[i], kind="region") if regions[i] else None
        if columns.has("owner"):
            record["owner_id"] = resolver.existing_org(owners[i]) if owners[i] else None
        records[code] = record  # type: ignore[index]
    _upsert_records(session, Customer, records, result, defaults=lambda code: {"name": code})
    result.created = resolver.created
    return result


def _import_reps(session: Session, table: Table, mapping: dict[str, list[int]], options: ImportOptions, step: Progress) -> ImportResult:
    result, columns, codes = _keyed_rows("reps", table, mapping, options, "rep code")
    names = columns.text("name")
    titles, emails = columns.text("title", max_length=100), columns.text("email")
    teams, regions, managers = columns.text("team", max_length=64), columns.text("region", max_length=64), _codes(columns, "manager")
    starts, ends = columns.date("start_date"), columns.date("end_date")
    for index, (start, end) in enumerate(zip(starts, ends)):
        if start and end and end < start:
            columns.error(index, "end_date", f"leaves on {end} before starting on {start}")
    external_ids = _external_ids(session, OrgNode, columns, codes, "rep")
    file_codes = {c for c in codes if c}
    resolver = Resolver(session, options.key)
    for index, manager in enumerate(managers):
        if manager and manager not in file_codes and resolver.existing_org(manager) is None:
            columns.error(index, "manager", f"manager '{manager}' is neither in this file nor in Attain")
    _check_rep_places(columns, resolver, codes, regions, teams, managers)
    reject_if_errors(columns, table.source)
    step("writing reps")
    existing = {row.code: row for row in session.execute(select(OrgNode.__table__)).mappings()}
    team_parent: dict[str, int] = {}
    for index, code in enumerate(codes):
        region_id = resolver.org(regions[index], kind="region") if regions[index] else None
        parent_id = region_id
        if teams[index]:
            team_key = teams[index] if not regions[index] else f"{regions[index]}/{teams[index]}"
            if team_key not in team_parent:
                team_parent[team_key] = resolver.org(team_key, kind="team", name=teams[index], parent_id=region_id)
            parent_id = team_parent[team_key]
        attrs = {"title": titles[index], "email": emails[index], "start_date": starts[index], "end_date": ends[index],
                 "external_id": external_ids[index]}
        attrs = {k: v for k, v in attrs.items() if columns.has(k)}
        if names[index]:
            attrs["name"] = names[index]
        if code in existing:
            row = existing[code]
            changes = {k: v for k, v in attrs.items() if row[k] != v}
            if changes:
                session.execute(update(OrgNode).where(OrgNode.id == row["id"]).values(**changes))
                result.updated += 1
            else:
                result.unchanged += 1
            if parent_id is not None and row["parent_id"] != parent_id:
                move_node(session=session, node_id=row["id"], parent_id=parent_id)
        else:
            attrs.setdefault("name", code)
            name = str(attrs.pop("name"))
            resolver.org(code, kind="rep", name=name, parent_id=parent_id, **attrs)
            result.inserted += 1
    # Managers may appear later in the file than their reports, so link them once all exist.
    by_code, _ = node_ids_by_key(session=session)
    for code, manager in zip(codes, managers):
        if manager:
            manager_id = by_code.get(manager) or resolver.existing_org(manager)
            session.execute(update(OrgNode).where(OrgNode.code == code).values(manager_id=manager_id))
    resolver.created.pop("reps", None)
    result.created = resolver.created
    return result


def _check_rep_places(
    columns: Columns, resolver: Resolver, codes: list[str | None], regions: list[str | None], teams: list[str | None],
    managers: list[str | None],
) -> None:
    """A reps file names reps, the regions and teams they sit in and their managers: each must be of
    its kind (a rep under another rep, or a region updated as a rep, is a row error)."""
    kind_errors(columns, "code", codes, lambda key: resolver.existing_org(key, "auto"), resolver.org_kind, ("rep",))
    file_codes = {c for c in codes if c}
    outside = [m if m not in file_codes else None for m in managers]
    kind_errors(columns, "manager", outside, resolver.existing_org, resolver.org_kind, ("rep",))
    kind_errors(columns, "region", regions, lambda key: resolver.existing_org(key, "auto"), resolver.org_kind, ("region",))
    team_keys = [(team if not region else f"{region}/{team}") if team else None for team, region in zip(teams, regions)]
    kind_errors(columns, "team", team_keys, lambda key: resolver.existing_org(key, "auto"), resolver.org_kind, ("team",))
    for index, (region, team_key) in enumerate(zip(regions, team_keys)):
        if region in file_codes:
            columns.error(index, "region", f"'{region}' is a rep in this file, not a region")
        if team_key in file_codes:
            columns.error(index, "team", f"'{team_key}' is a rep in this file, not a team")
        elif team_key is not None and len(team_key) > CODE_LENGTH:
            columns.error(index, "team", f"the team's code '{team_key[:40]}…' (region/team) is {len(team_key)} characters "
                                         f"long (at most {CODE_LENGTH})")


def _import_products(session: Session, table: Table, mapping: dict[str, list[int]], options: ImportOptions, step: Progress) -> ImportResult:
    result, columns, codes = _keyed_rows("products", table, mapping, options, "product code")
    names, lines, launched = columns.text("name"), columns.text("line", max_length=64), columns.date("launched_on")
    categories = columns.text("category", max_length=64)
    external_ids = _external_ids(session, ProductNode, columns, codes, "product")
    resolver = Resolver(session)
    _check_product_places(columns, resolver, codes, lines, categories)
    reject_if_errors(columns, table.source)
    step("writing products")
    existing = {row.code: row for row in session.execute(select(ProductNode.__table__)).mappings()}
    placed_lines: set[int] = set()
    for index, code in enumerate(codes):
        parent_id = None
        if lines[index]:
            category_id = resolver.product_line(categories[index]) if categories[index] else None
            parent_id = resolver.product_line(lines[index], parent_id=category_id)
            if category_id is not None and parent_id not in placed_lines:
                _place_product_node(session, parent_id, category_id)  # a line created earlier without its category
                placed_lines.add(parent_id)
        attrs: dict[str, object] = {}
        if names[index]:
            attrs["name"] = names[index]
        if columns.has("launched_on"):
            attrs["launched_on"] = launched[index]
        if columns.has("external_id"):
            attrs["external_id"] = external_ids[index]
        if code in existing:
            row = existing[code]
            changes = {k: v for k, v in attrs.items() if row[k] != v}
            if changes:
                session.execute(update(ProductNode).where(ProductNode.id == row["id"]).values(**changes))
            moved = parent_id is not None and _place_product_node(session, row["id"], parent_id)
            if changes or moved:
                result.updated += 1
            else:
                result.unchanged += 1
        else:
            name = str(attrs.pop("name", code))
            create_product_node(session=session, code=code, name=name, kind="product", parent_id=parent_id, **attrs)  # type: ignore[arg-type]
            result.inserted += 1
    result.created = resolver.created
    return result


def _check_product_places(
    columns: Columns, resolver: Resolver, codes: list[str | None], lines: list[str | None], categories: list[str | None]
) -> None:
    """Products go under product lines, lines under categories (lines too): a product file that names
    an existing line as a product (and so would move it), or a product as a line, has row errors."""
    kind_errors(columns, "code", codes, lambda key: resolver.existing_product(key, "code"), resolver.product_kind, ("product",))
    kind_errors(columns, "line", lines, lambda key: resolver.existing_product(key, "auto"), resolver.product_kind, ("line",))
    kind_errors(columns, "category", categories, lambda key: resolver.existing_product(key, "auto"), resolver.product_kind, ("line",))
    file_codes = {c for c in codes if c}
    for index, (line, category) in enumerate(zip(lines, categories)):
        for field, group in (("line", line), ("category", category)):
            if group in file_codes:
                columns.error(index, field, f"'{group}' is a product in this file, not a product line")
        if line is not None and line == category:
            columns.error(index, "category", f"'{line}' cannot be its own category")


def _place_product_node(session: Session, node_id: int, parent_id: int) -> bool:
    """Put a product node (and its subtree) under `parent_id` unless it is there already; True if moved."""
    node = session.execute(select(ProductNode.parent_id, ProductNode.path, ProductNode.depth).where(ProductNode.id == node_id)).one()
    if node.parent_id == parent_id:
        return False
    parent = session.execute(select(ProductNode.path, ProductNode.depth).where(ProductNode.id == parent_id)).one()
    if parent.path.startswith(node.path):
        raise InvalidInput.coded("imports.product_group_cannot_go", parent_id=parent_id, node_id=node_id)
    new_path = child_path(parent.path, node_id, f"product node {node_id}")
    deepest = subtree_path_length(session=session, model=ProductNode, path=node.path)
    check_path_length(deepest - len(node.path) + len(new_path), parent.depth + 1, f"product node {node_id}")
    session.execute(update(ProductNode).where(ProductNode.id == node_id).values(parent_id=parent_id))
    session.execute(
        update(ProductNode)
        .where(ProductNode.path.startswith(node.path, autoescape=True))
        .values(path=new_path + func.substr(ProductNode.path, len(node.path) + 1), depth=ProductNode.depth + (parent.depth + 1 - node.depth)),
        execution_options={"synchronize_session": False},
    )
    return True


# --- territory coverage (rep ↔ region, many-to-many) -------------------------------------------


def _import_territories(session: Session, table: Table, mapping: dict[str, list[int]], options: ImportOptions, step: Progress) -> ImportResult:
    """Which territories each rep covers (optionally from/to a date). The rows of a rep in the file
    replace that rep's stored coverage, so importing the same file again changes nothing."""
    result = ImportResult("territories", table.source, table.encoding, len(table.rows))
    columns = Columns(table, mapping, date_format=options.date_format)
    reps, regions = columns.codes("rep", required=True), columns.codes("region", required=True)
    starts, ends = columns.date("start_date"), columns.date("end_date")
    resolver = Resolver(session, options.key)
    kinds = dict(session.execute(select(OrgNode.id, OrgNode.kind)).all())
    rows: dict[int, set[tuple[int, object, object]]] = {}
    first_line: dict[tuple[int, int, object], int] = {}
    for index, (rep, region) in enumerate(zip(reps, regions)):
        rep_id = resolver.existing_org(rep) if rep else None
        region_id = resolver.orgs([region], kind="region", names={}, parents={}, mode="auto").get(region) if region else None
        if rep and rep_id is None:
            columns.error(index, "rep", f"no rep with code, external id or name '{rep}'; import reps first")
        elif rep_id is not None and kinds.get(rep_id) != "rep":
            columns.error(index, "rep", f"'{rep}' is a {kinds.get(rep_id)}, not a rep")
        if rep_id is None or region_id is None or kinds.get(rep_id) != "rep":
            continue
        if kinds.get(region_id, "region") != "region":
            columns.error(index, "region", f"'{region}' is a {kinds[region_id]}, not a region")
            continue
        if starts[index] and ends[index] and ends[index] < starts[index]:  # type: ignore[operator]
            columns.error(index, "end_date", f"ends on {ends[index]} before it starts on {starts[index]}")
            continue
        key = (rep_id, region_id, starts[index])
        if key in first_line:
            columns.error(index, "region", f"{rep} already covers {region} from {starts[index] or 'the start'} (line {first_line[key]})")
            continue
        first_line[key] = columns.lines[index]
        rows.setdefault(rep_id, set()).add((region_id, starts[index], ends[index]))
    reject_if_errors(columns, table.source)
    step("writing territory coverage")
    stored: dict[int, set[tuple[int, object, object]]] = {}
    for rep_id, region_id, start, end in session.execute(
        select(RepTerritory.rep_id, RepTerritory.region_id, RepTerritory.start_date, RepTerritory.end_date)
        .where(RepTerritory.rep_id.in_(list(rows)))
    ):
        stored.setdefault(rep_id, set()).add((region_id, start, end))
    removed = 0
    for rep_id, wanted in rows.items():
        before = stored.get(rep_id, set())
        if wanted == before:
            result.unchanged += len(wanted)
            continue
        result.unchanged += len(wanted & before)
        result.inserted += len(wanted - before)
        removed += len(before - wanted)
        session.execute(delete(RepTerritory).where(RepTerritory.rep_id == rep_id))
        session.execute(insert(RepTerritory), [
            {"rep_id": rep_id, "region_id": region_id, "start_date": start, "end_date": end} for region_id, start, end in sorted(
                wanted, key=lambda r: (r[0], str(r[1])))
        ])
    if removed:
        result.warnings.append(f"{removed:,} earlier territory rows of these reps are no longer in the file and were removed")
    result.created = resolver.created
    return result


# --- regions (territories) ---------------------------------------------------------------------


def _import_regions(session: Session, table: Table, mapping: dict[str, list[int]], options: ImportOptions, step: Progress) -> ImportResult:
    """Territories with their names, the group above them and the person who heads each.

    Without a code column the name is the code. A manager Attain does not know yet is created as a
    rep in the region (People sheets list region managers who have no other file)."""
    result = ImportResult("regions", table.source, table.encoding, len(table.rows))
    columns = Columns(table, mapping, date_format=options.date_format)
    if not columns.has("code") and not columns.has("name"):
        raise InvalidInput.coded("imports.region_code_name_column", source=table.source, items=', '.join(table.header))
    names = columns.text("name", required=not columns.has("code"))
    codes = columns.codes("code", required=True) if columns.has("code") else [clean_code(n) if n else None for n in names]
    duplicates(codes, columns, "code" if columns.has("code") else "name", "region")
    parents, managers = columns.text("parent", max_length=64), columns.text("manager", max_length=200)
    external_ids = _external_ids(session, OrgNode, columns, codes, "region")
    resolver = Resolver(session)
    _check_region_rows(columns, resolver, codes, parents, managers)
    reject_if_errors(columns, table.source)
    step("writing regions")
    existing = {row.code: row for row in session.execute(select(OrgNode.__table__)).mappings()}
    for index, code in enumerate(codes):
        try:
            _write_region(session, resolver, existing, result, code, names[index], parents[index], managers[index],
                          external_ids[index] if columns.has("external_id") else _ABSENT)
        except TreeTooDeep as exc:
            columns.error(index, "parent" if columns.has("parent") else "code", str(exc))
    reject_if_errors(columns, table.source)
    groups = resolver.created.pop("regions", 0) - result.inserted  # regions created as parents (groups)
    if groups:
        resolver.created["region groups"] = groups
    result.created = resolver.created
    return result


_ABSENT = object()  # a field the file has no column for


def _check_region_rows(
    columns: Columns, resolver: Resolver, codes: list[str | None], parents: list[str | None], managers: list[str | None]
) -> None:
    """Regions sit under regions (groups) or the company and are headed by people: each key must be
    of its kind, and a code made from a long name must fit."""
    field = "code" if columns.has("code") else "name"
    for index, code in enumerate(codes):
        if code is not None and len(code) > CODE_LENGTH:
            columns.error(index, field, f"'{code[:40]}…' is {len(code)} characters long, too long for a region code "
                                        f"(at most {CODE_LENGTH}); add a code column")
        if code is not None and code == parents[index]:
            columns.error(index, "parent", f"'{code}' cannot be its own parent")
    kind_errors(columns, field, codes, lambda key: resolver.existing_org(key, "auto"), resolver.org_kind, ("region",))
    kind_errors(columns, "parent", parents, lambda key: resolver.existing_org(key, "auto"), resolver.org_kind, ("region", "company"))
    kind_errors(columns, "manager", managers, resolver.existing_org, resolver.org_kind, ("rep",))
    for index, manager in enumerate(managers):
        if manager and resolver.existing_org(manager) is None and len(manager) > CODE_LENGTH:
            columns.error(index, "manager", f"'{manager[:40]}…' is not in Attain and, {len(manager)} characters long, "
                                            f"too long to become a rep's code (at most {CODE_LENGTH})")


def _write_region(
    session: Session, resolver: Resolver, existing: dict[str, object], result: ImportResult, code: str | None,
    name: str | None, parent: str | None, manager: str | None, external_id: object,
) -> None:
    """Insert or update one region row of a regions file, its place in the tree and its head."""
    parent_id = resolver.org(parent, kind="region") if parent else resolver.root()
    attrs: dict[str, object] = {}
    if name:
        attrs["name"] = name
    if external_id is not _ABSENT:
        attrs["external_id"] = external_id
    row = existing.get(code)  # type: ignore[arg-type,attr-defined]
    found = resolver.existing_org(code) if row is None else None  # type: ignore[arg-type]
    if found is not None:  # known by its name or external id
        row = session.execute(select(OrgNode.__table__).where(OrgNode.id == found)).mappings().one()
    if row is not None:
        changes = {k: v for k, v in attrs.items() if row[k] != v}  # type: ignore[index]
        if changes:
            session.execute(update(OrgNode).where(OrgNode.id == row["id"]).values(**changes))  # type: ignore[index]
        moved = (parent is not None and row["parent_id"] != parent_id)  # type: ignore[index]
        if moved:
            move_node(session=session, node_id=row["id"], parent_id=parent_id)  # type: ignore[index]
        region_id = row["id"]  # type: ignore[index]
        result.updated += bool(changes or moved)
        result.unchanged += not (changes or moved)
    else:
        region_id = resolver.org(code, kind="region", name=str(attrs.pop("name", code)), parent_id=parent_id, **attrs)  # type: ignore[arg-type]
        result.inserted += 1
    if manager:
        manager_id = resolver.existing_org(manager) or resolver.org(manager, kind="rep", name=manager, parent_id=region_id)
        session.execute(update(OrgNode).where(OrgNode.id == region_id, OrgNode.manager_id.is_distinct_from(manager_id))
                        .values(manager_id=manager_id))


# --- opportunities and activities -------------------------------------------------------------

_STAGE_WORDS = {"lead": "lead", "线索": "lead", "qualified": "qualified", "合格": "qualified", "已确认": "qualified",
                "proposal": "proposal", "方案": "proposal", "报价": "proposal", "negotiation": "negotiation",
                "谈判": "negotiation", "商务谈判": "negotiation", "won": "won", "赢单": "won", "成交": "won",
                "closedwon": "won", "lost": "lost", "输单": "lost", "丢单": "lost", "closedlost": "lost"}


def _import_opportunities(session: Session, table: Table, mapping: dict[str, list[int]], options: ImportOptions, step: Progress) -> ImportResult:
    result, columns, codes = _keyed_rows("opportunities", table, mapping, options, "opportunity id")
    amounts = columns.amount("amount", scale=MONEY_SCALE, multiplier=_multiplier(table, mapping, "amount", options), required=True)
    for index, amount in enumerate(amounts):
        if amount is not None and amount < 0:
            columns.error(index, "amount", f"an opportunity cannot be worth a negative amount ({amount / 100:,.2f})")
    stages = columns.vocabulary("stage", _STAGE_WORDS, f"a stage ({', '.join(OPPORTUNITY_STAGES)})", required=True)
    dates = {f: columns.date(f, required=(f == "created_on")) for f in ("created_on", "expected_close_on", "closed_on", "qualified_on", "proposal_on", "negotiation_on")}
    for index, stage in enumerate(stages):
        if stage in ("won", "lost") and columns.has("closed_on") and dates["closed_on"][index] is None:
            columns.error(index, "closed_on", f"a {stage} opportunity needs a close date")
    _check_stage_dates(columns, dates)
    names, sources = columns.text("name"), columns.text("source", max_length=64)  # opportunities.source is 64 long
    reps, customers, products = _codes(columns, "rep"), _codes(columns, "customer"), _codes(columns, "product")
    resolver = Resolver(session, options.key)
    rep_ids = _existing_ids(columns, reps, "rep", resolver.existing_org, "rep")
    kind_errors(columns, "rep", reps, resolver.existing_org, resolver.org_kind, ("rep",))
    customer_ids = _existing_ids(columns, customers, "customer", resolver.existing_customer, "customer")
    product_ids = _existing_ids(columns, products, "product", resolver.existing_product, "product")
    reject_if_errors(columns, table.source)
    step("writing opportunities")
    records = {
        code: {
            "name": names[i], "rep_id": rep_ids[i], "customer_id": customer_ids[i], "product_id": product_ids[i],
            "amount": amounts[i], "stage": stages[i], "created_on": dates["created_on"][i],
            "expected_close_on": dates["expected_close_on"][i], "closed_on": dates["closed_on"][i],
            "source": sources[i],
        }
        for i, code in enumerate(codes)
    }
    records = _only_present(columns, records, {"name": "name", "rep_id": "rep", "customer_id": "customer",
                                               "product_id": "product", "expected_close_on": "expected_close_on",
                                               "closed_on": "closed_on", "source": "source"})
    ids = _upsert_records(session, Opportunity, records, result)  # type: ignore[arg-type]
    # Stage history: the dates the file gives, rewritten for the opportunities in the file.
    history = []
    for i, code in enumerate(codes):
        reached = {"lead": dates["created_on"][i], "qualified": dates["qualified_on"][i], "proposal": dates["proposal_on"][i],
                   "negotiation": dates["negotiation_on"][i]}
        if stages[i] in ("won", "lost"):
            reached[stages[i]] = dates["closed_on"][i] or dates["created_on"][i]  # type: ignore[index]
        elif stages[i] not in (None, "lead") and reached.get(stages[i]) is None:  # type: ignore[arg-type]
            reached[stages[i]] = dates["created_on"][i]  # type: ignore[index]
        history.extend({"opportunity_id": ids[code], "stage": s, "changed_on": d} for s, d in reached.items() if d is not None)  # type: ignore[index]
    touched = [ids[c] for c in codes]  # type: ignore[index]
    for start in range(0, len(touched), 500):
        session.execute(delete(OpportunityStageChange).where(OpportunityStageChange.opportunity_id.in_(touched[start : start + 500])))
    if history:
        session.execute(insert(OpportunityStageChange), history)
    return result


def _check_stage_dates(columns: Columns, dates: dict[str, list[date | None]]) -> None:
    """An opportunity cannot close, or reach a stage, before it was created."""
    labels = {"closed_on": "closed", "qualified_on": "qualified", "proposal_on": "reached proposal",
              "negotiation_on": "reached negotiation"}
    for index, created in enumerate(dates["created_on"]):
        if created is None:
            continue
        for field, what in labels.items():
            day = dates[field][index]
            if day is not None and day < created:
                columns.error(index, field, f"{what} on {day} before it was created on {created}")


def _only_present(
    columns: Columns, records: dict[str, dict[str, object]], optional: dict[str, str]
) -> dict[str, dict[str, object]]:
    """Drop the optional fields (record key → file field) that the file has no column for, so that
    re-importing a thinner file never blanks out what Attain already has."""
    absent = [key for key, field in optional.items() if not columns.has(field)]
    if not absent:
        return records
    return {code: {k: v for k, v in record.items() if k not in absent} for code, record in records.items()}


def _existing_ids(columns: Columns, keys: list[str | None], field: str, find: Callable[[str], int | None], what: str) -> list[int | None]:
    out: list[int | None] = []
    for index, key in enumerate(keys):
        found = find(key) if key else None
        if key and found is None:
            columns.error(index, field, f"no {what} with code or name '{key}'")
        out.append(found)
    return out


_ACTIVITY_WORDS = {"visit": "visit", "拜访": "visit", "上门拜访": "visit", "call": "call", "电话": "call", "phone": "call",
                   "proposal": "proposal", "proposalsent": "proposal", "方案": "proposal", "发送方案": "proposal",
                   "meeting": "meeting", "会议": "meeting", "email": "email", "邮件": "email", "demo": "demo", "演示": "demo",
                   "other": "other", "其他": "other"}


def _import_activities(session: Session, table: Table, mapping: dict[str, list[int]], options: ImportOptions, step: Progress) -> ImportResult:
    result = ImportResult("activities", table.source, table.encoding, len(table.rows))
    columns = Columns(table, mapping, date_format=options.date_format)
    kinds = columns.vocabulary("kind", _ACTIVITY_WORDS, f"an activity type ({', '.join(ACTIVITY_KINDS)})", required=True)
    dates = columns.date("activity_date", required=True)
    reps, customers, opportunities = _codes(columns, "rep"), _codes(columns, "customer"), _codes(columns, "opportunity")
    notes = columns.text("note", max_length=10_000)
    resolver = Resolver(session, options.key)
    rep_ids = _existing_ids(columns, reps, "rep", resolver.existing_org, "rep")
    kind_errors(columns, "rep", reps, resolver.existing_org, resolver.org_kind, ("rep",))
    customer_ids = _existing_ids(columns, customers, "customer", resolver.existing_customer, "customer")
    opportunity_by_code = dict(session.execute(select(Opportunity.code, Opportunity.id)).all())
    opportunity_ids = _existing_ids(columns, opportunities, "opportunity", opportunity_by_code.get, "opportunity")
    if columns.has("code"):
        codes = columns.codes("code", required=True)
    else:
        # No id column: an activity is identified by what it is, so re-importing the file is a no-op.
        codes = [
            "A" + hashlib.sha1(f"{k}|{d}|{r}|{c}|{n}".encode()).hexdigest()[:20]
            for k, d, r, c, n in zip(kinds, dates, reps, customers, notes)
        ]
    duplicates(codes, columns, "code" if columns.has("code") else "activity_date", "activity")
    reject_if_errors(columns, table.source)
    step("writing activities")
    records = {
        code: {"kind": kinds[i], "activity_date": dates[i], "rep_id": rep_ids[i], "customer_id": customer_ids[i],
               "opportunity_id": opportunity_ids[i], "note": notes[i]}
        for i, code in enumerate(codes)
    }
    records = _only_present(columns, records, {"rep_id": "rep", "customer_id": "customer",
                                               "opportunity_id": "opportunity", "note": "note"})
    _upsert_records(session, Activity, records, result)  # type: ignore[arg-type]
    return result


def _import_targets(session: Session, table: Table, mapping: dict[str, list[int]], options: ImportOptions, step: Progress) -> ImportResult:
    return import_target_rows(session=session, table=table, mapping=mapping, options=options, step=step)


def _credit_importers():  # type: ignore[no-untyped-def]
    """attain.credit.importers, loaded when a credits or returns file comes: it pulls in SciPy, a
    second of every other import's process start."""
    from attain.credit import importers

    return importers


_IMPORTERS: dict[str, Callable[[Session, Table, dict[str, list[int]], ImportOptions, Progress], ImportResult]] = {
    "orders": _import_orders,
    "customers": _import_customers,
    "reps": _import_reps,
    "products": _import_products,
    "regions": _import_regions,
    "territories": _import_territories,
    "opportunities": _import_opportunities,
    "activities": _import_activities,
    "targets": _import_targets,
    "credits": lambda *args: _credit_importers().import_credits(*args),
    "returns": lambda *args: _credit_importers().import_returns(*args),
}

