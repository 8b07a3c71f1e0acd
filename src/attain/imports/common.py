"""What every importer shares: options, the result, row-error rejection, and resolving the codes and
names found in a file to ids (creating what is missing where the kind allows it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from attain.catalog.models import Customer, ProductNode
from attain.errors import ImportRejected, InvalidInput
from attain.imports.columns import Columns
from attain.imports.lock import DEFAULT_WAIT_SECONDS
from attain.messages import english
from attain.org.models import OrgNode
from attain.org.service import ensure_root
from attain.tree import insert_new_codes, insert_nodes

MONEY_SCALE = 2  # amounts are stored in fen (or cents): 10**-2 of the currency

Progress = Callable[[str], None]


@dataclass
class ImportResult:
    kind: str
    source: str
    encoding: str | None
    rows: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    created: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Lines kept but worth a look: {"without_customer": 1998, "negative": 633}.
    flagged: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "source": self.source,
            "encoding": self.encoding,
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "created": self.created,
            "warnings": self.warnings,
            "flagged": self.flagged,
            "errors": [],
        }


@dataclass(frozen=True)
class ImportOptions:
    mapping: tuple[str, ...] = ()
    sheet: str | None = None
    date_format: str | None = None
    multiplier: Decimal = Decimal(1)
    plan: str | None = None
    metric: str = "revenue"
    has_header: bool = True
    # Names for the columns of a file without a header row (the file is then read as headerless).
    columns: tuple[str, ...] = ()
    # How the file names reps, customers and products: auto | code | external_id | name.
    key: str = "auto"
    # targets: a date in the period column stands for the month/quarter/year that contains it.
    period_grain: str | None = None
    # orders: a line without a rep goes to the manager (head) of its region.
    rep_from_region: bool = False
    # How long to wait for another import into the same database to finish (attain.imports.lock).
    wait: float = DEFAULT_WAIT_SECONDS


def reject_if_errors(columns: Columns, source: str) -> None:
    if columns.errors:
        errors = sorted(columns.errors, key=lambda e: (e.line, e.column))
        rows = len({e.line for e in errors})
        problems = english("import.problems_in", {"count": f"{len(errors):,}"}) if len(errors) != rows else ""
        code = "import.rejected_one" if rows == 1 else "import.rejected_many"
        raise ImportRejected(None, errors, code=code, params={"source": source, "problems": problems, "rows": f"{rows:,}"})


KEY_MODES = ("auto", "code", "external_id", "name")


@dataclass
class _Keys:
    """code → id, external id → id and name → ids of one kind of record (org nodes, products, customers)."""

    code: dict[str, int]
    external: dict[str, int]
    name: dict[str, list[int]]
    # id → kind ('rep', 'region' … or 'line', 'product') for the trees; empty for customers.
    kind: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, model: type) -> _Keys:
        keys = cls({}, {}, {})
        kind = getattr(model, "kind", None)
        columns = [model.id, model.code, model.external_id, model.name]  # type: ignore[attr-defined]
        for row in session.execute(select(*columns, *([kind] if kind is not None else []))):
            row_id, code, external_id, name = row[:4]
            keys.code[code] = row_id
            if external_id is not None:
                keys.external[external_id] = row_id
            keys.name.setdefault(name, []).append(row_id)
            if kind is not None:
                keys.kind[row_id] = row[4]
        return keys

    def find(self, key: str, mode: str) -> int | None:
        """The id `key` names: by code, then external id, then unique name ('auto'), or by one of them."""
        if mode in ("auto", "code") and key in self.code:
            return self.code[key]
        if mode in ("auto", "external_id") and key in self.external:
            return self.external[key]
        if mode in ("auto", "name"):
            ids = self.name.get(key)
            return ids[0] if ids and len(ids) == 1 else None
        return None


# Column sizes of codes and names in org_nodes, product_nodes and customers: what does not fit is
# refused, never cut (two long names cut to the same 64 characters would become one record).
CODE_LENGTH = 64
NAME_LENGTH = 200


def check_fits(key: str, name: str | None = None) -> None:
    """InvalidInput when a code or name to be created is longer than its column."""
    if len(key) > CODE_LENGTH:
        raise InvalidInput.coded("imports.common.characters_long_too_long", key=key[:40], count=len(key), code_length=CODE_LENGTH)
    if name is not None and len(name) > NAME_LENGTH:
        raise InvalidInput.coded("imports.common.name_characters_long_most", name=name[:40], count=len(name), name_length=NAME_LENGTH)


def wrong_kind(key: str, kind: str | None, wanted: tuple[str, ...]) -> str | None:
    """The row error for a code that names a record of another kind ('R001' is a rep, not a region)."""
    if kind is None or kind in wanted:
        return None
    what = {"line": "product line"}.get(kind, kind)
    article = "an" if what[0] in "aeiou" else "a"
    return f"'{key}' is {article} {what}, not {' or '.join(_with_article(w) for w in wanted)}"


def _with_article(kind: str) -> str:
    what = {"line": "product line"}.get(kind, kind)
    return f"{'an' if what[0] in 'aeiou' else 'a'} {what}"


def kind_errors(
    columns: Columns, field: str, keys: list[str | None], find: Callable[[str], int | None],
    kind_of: Callable[[int | None], str | None], wanted: tuple[str, ...],
) -> set[str]:
    """Row errors for the keys of a column that name a record of another kind than `wanted` (a
    region in the rep column, a product line in the product column); returns those keys."""
    bad: dict[str, str] = {}
    distinct = dict.fromkeys(keys)  # built in C; the empty keys dropped after
    distinct.pop(None, None)  # type: ignore[call-overload]
    distinct.pop("", None)  # type: ignore[call-overload]
    for key in distinct:
        reason = wrong_kind(key, kind_of(find(key)), wanted)
        if reason is not None:
            bad[key] = reason
    if bad:
        for index, key in enumerate(keys):
            if key in bad:
                columns.error(index, field, bad[key])  # type: ignore[index]
    return set(bad)


def check_key_mode(mode: str) -> str:
    if mode not in KEY_MODES:
        raise InvalidInput.coded("imports.common.key_one", mode=mode, items=', '.join(KEY_MODES))
    return mode


class Resolver:
    """Turns the codes, external ids or names found in a file into ids, creating what is missing.

    `key` says how a file names reps, customers and products: 'auto' (code, else external id, else
    a unique name), or only by 'code', 'external_id' or 'name'. Only 'auto' and 'code' create what
    is missing: a key that is meant to be an external id or a name must match something already there.
    """

    def __init__(self, session: Session, key: str = "auto"):
        self.session = session
        self.key = check_key_mode(key)
        self.created: dict[str, int] = {}
        self._root: int | None = None
        self._orgs = _Keys.load(session, OrgNode)
        self._customers = _Keys.load(session, Customer)
        self._products = _Keys.load(session, ProductNode)

    @property
    def creates(self) -> bool:
        """Whether keys that match nothing may be created (as codes)."""
        return self.key in ("auto", "code")

    def _count(self, what: str) -> None:
        self.created[what] = self.created.get(what, 0) + 1

    def root(self) -> int:
        if self._root is None:
            self._root = ensure_root(session=self.session)
            self._orgs.code.setdefault("COMPANY", self._root)
        return self._root

    def org(self, key: str, *, kind: str, name: str | None = None, parent_id: int | None = None, **attrs: object) -> int:
        found = self._orgs.find(key, "auto")
        if found is not None:
            return found
        check_fits(key, name)
        node_id = insert_nodes(session=self.session, model=OrgNode, rows=[
            {"code": key, "name": name or key, "kind": kind, "parent_id": parent_id if parent_id is not None else self.root(), **attrs}
        ])[0]
        self._orgs.code[key] = node_id
        self._orgs.kind[node_id] = kind
        self._count(f"{kind}s" if kind != "company" else "companies")
        return node_id

    def org_kind(self, node_id: int | None) -> str | None:
        """The kind of an org node this resolver knows ('rep', 'team', 'region', 'company')."""
        return self._orgs.kind.get(node_id) if node_id is not None else None  # type: ignore[arg-type]

    def product_kind(self, node_id: int | None) -> str | None:
        """The kind of a product node this resolver knows ('line' or 'product')."""
        return self._products.kind.get(node_id) if node_id is not None else None  # type: ignore[arg-type]

    def orgs(
        self, keys: list[str], *, kind: str, names: dict[str, str | None], parents: dict[str, int | None], mode: str | None = None
    ) -> dict[str, int | None]:
        """Ids for many org keys; the missing ones are created together (under `parents[key]`, else
        the root) when the key mode (`mode`, else the resolver's) allows it, and map to None otherwise."""
        mode = mode or self.key
        missing = [key for key in keys if self._orgs.find(key, mode) is None]
        if missing and mode in ("auto", "code"):
            root = self.root()
            rows = [
                {"code": key, "name": names.get(key) or key, "kind": kind, "parent_id": parents.get(key) or root}
                for key in missing
            ]
            for row in rows:
                check_fits(row["code"], row["name"])
            for key, node_id in zip(missing, insert_nodes(session=self.session, model=OrgNode, rows=rows)):
                self._orgs.code[key] = node_id
                self._orgs.kind.setdefault(node_id, kind)
            self.created[f"{kind}s"] = self.created.get(f"{kind}s", 0) + len(missing)
        return {key: self._orgs.find(key, mode) for key in keys}

    def existing_org(self, key: str, mode: str | None = None) -> int | None:
        return self._orgs.find(key, mode or self.key)

    def products(self, keys: list[str], *, names: dict[str, str | None], lines: dict[str, str | None]) -> dict[str, int | None]:
        """Ids for many product keys; the missing ones are created together under their lines."""
        missing = [key for key in keys if self._products.find(key, self.key) is None]
        if missing and self.creates:
            rows = [
                {"code": key, "name": names.get(key) or key, "kind": "product",
                 "parent_id": self.product_line(lines[key]) if lines.get(key) else None}  # type: ignore[arg-type]
                for key in missing
            ]
            for row in rows:
                check_fits(row["code"], row["name"])
            for key, node_id in zip(missing, insert_nodes(session=self.session, model=ProductNode, rows=rows)):
                self._products.code[key] = node_id
                self._products.kind.setdefault(node_id, "product")
            self.created["products"] = self.created.get("products", 0) + len(missing)
        return {key: self._products.find(key, self.key) for key in keys}

    def product_line(self, line: str, parent_id: int | None = None) -> int:
        found = self._products.find(line, "auto")
        if found is not None:
            return found
        check_fits(line, line)
        node_id = insert_nodes(session=self.session, model=ProductNode, rows=[
            {"code": line, "name": line, "kind": "line", "parent_id": parent_id}
        ])[0]
        self._products.code[line] = node_id
        self._products.kind[node_id] = "line"
        self._count("product_lines")
        return node_id

    def existing_product(self, key: str, mode: str | None = None) -> int | None:
        return self._products.find(key, mode or self.key)

    def customers(self, wanted: dict[str, tuple[str | None, int | None]]) -> dict[str, int | None]:
        """Ids for customer keys; missing ones are created in one bulk insert (name, region)."""
        missing = [k for k in wanted if self._customers.find(k, self.key) is None]
        if missing and self.creates:
            rows = [{"code": k, "name": wanted[k][0] or k, "region_id": wanted[k][1]} for k in missing]
            for row in rows:
                check_fits(row["code"], row["name"])  # type: ignore[arg-type]
            # ON CONFLICT DO NOTHING: a customer another transaction has just created is read back below.
            self.session.execute(insert_new_codes(self.session, Customer.__table__), rows)
            self._customers = _Keys.load(self.session, Customer)
            self.created["customers"] = self.created.get("customers", 0) + len(missing)
        return {k: self._customers.find(k, self.key) for k in wanted}

    def existing_customer(self, key: str) -> int | None:
        return self._customers.find(key, self.key)


_TYPE_WORDS = {"new": "new", "新": "new", "新客户": "new", "新客": "new", "existing": "existing", "old": "existing",
               "老": "existing", "老客户": "existing", "老客": "existing", "存量": "existing", "existingcustomer": "existing"}


def customer_types(columns: Columns) -> list[str | None]:
    """The customer_type column as 'new' / 'existing' (None where blank)."""
    return columns.vocabulary("customer_type", _TYPE_WORDS, "a customer type (new/新客户 or existing/老客户)", max_length=16)


