"""What every importer shares: options, the result, row-error rejection, and resolving the codes and
names found in a file to ids (creating what is missing where the kind allows it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import insert
from sqlalchemy.orm import Session

from attain.catalog.models import Customer, ProductNode
from attain.catalog.service import create_product_node, key_maps
from attain.errors import ImportRejected
from attain.imports.columns import Columns
from attain.org.models import OrgNode
from attain.org.service import create_node, ensure_root, node_ids_by_key
from attain.tree import insert_nodes

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


def reject_if_errors(columns: Columns, source: str) -> None:
    if columns.errors:
        errors = sorted(columns.errors, key=lambda e: (e.line, e.column))
        rows = len({e.line for e in errors})
        problems = f"{len(errors):,} problems in " if len(errors) != rows else ""
        raise ImportRejected(f"{source}: {problems}{rows:,} bad row{'s' if rows != 1 else ''}; nothing was imported", errors)


class Resolver:
    """Turns the codes or names found in a file into ids, creating what is missing."""

    def __init__(self, session: Session):
        self.session = session
        self.created: dict[str, int] = {}
        self._root: int | None = None
        self._org_code, self._org_name = node_ids_by_key(session=session)
        self._customer_code, self._customer_name = key_maps(session, Customer)
        self._product_code, self._product_name = key_maps(session, ProductNode)

    @staticmethod
    def _find(key: str, by_code: dict[str, int], by_name: dict[str, list[int]]) -> int | None:
        if key in by_code:
            return by_code[key]
        ids = by_name.get(key)
        return ids[0] if ids and len(ids) == 1 else None

    def _count(self, what: str) -> None:
        self.created[what] = self.created.get(what, 0) + 1

    def root(self) -> int:
        if self._root is None:
            self._root = ensure_root(session=self.session)
            self._org_code.setdefault("COMPANY", self._root)
        return self._root

    def org(self, key: str, *, kind: str, name: str | None = None, parent_id: int | None = None, **attrs: object) -> int:
        found = self._find(key, self._org_code, self._org_name)
        if found is not None:
            return found
        node_id = create_node(
            session=self.session, code=key[:64], name=(name or key)[:200], kind=kind,
            parent_id=parent_id if parent_id is not None else self.root(), **attrs,
        )
        self._org_code[key] = node_id
        self._count(f"{kind}s" if kind != "company" else "companies")
        return node_id

    def orgs(self, keys: list[str], *, kind: str, names: dict[str, str | None], parents: dict[str, int | None]) -> dict[str, int]:
        """Ids for many org keys; the missing ones are created together (under `parents[key]`, else the root)."""
        missing = [key for key in keys if self._find(key, self._org_code, self._org_name) is None]
        if missing:
            root = self.root()
            rows = [
                {"code": key[:64], "name": (names.get(key) or key)[:200], "kind": kind,
                 "parent_id": parents.get(key) or root}
                for key in missing
            ]
            for key, node_id in zip(missing, insert_nodes(session=self.session, model=OrgNode, rows=rows)):
                self._org_code[key] = node_id
            self.created[f"{kind}s"] = self.created.get(f"{kind}s", 0) + len(missing)
        return {key: self._find(key, self._org_code, self._org_name) for key in keys}  # type: ignore[misc]

    def existing_org(self, key: str) -> int | None:
        return self._find(key, self._org_code, self._org_name)

    def products(self, keys: list[str], *, names: dict[str, str | None], lines: dict[str, str | None]) -> dict[str, int]:
        """Ids for many product keys; the missing ones are created together under their lines."""
        missing = [key for key in keys if self._find(key, self._product_code, self._product_name) is None]
        if missing:
            rows = [
                {"code": key[:64], "name": (names.get(key) or key)[:200], "kind": "product",
                 "parent_id": self.product_line(lines[key]) if lines.get(key) else None}  # type: ignore[arg-type]
                for key in missing
            ]
            for key, node_id in zip(missing, insert_nodes(session=self.session, model=ProductNode, rows=rows)):
                self._product_code[key] = node_id
            self.created["products"] = self.created.get("products", 0) + len(missing)
        return {key: self._find(key, self._product_code, self._product_name) for key in keys}  # type: ignore[misc]

    def product_line(self, line: str) -> int:
        found = self._find(line, self._product_code, self._product_name)
        if found is not None:
            return found
        node_id = create_product_node(session=self.session, code=line[:64], name=line[:200], kind="line", parent_id=None)
        self._product_code[line] = node_id
        self._count("product_lines")
        return node_id

    def existing_product(self, key: str) -> int | None:
        return self._find(key, self._product_code, self._product_name)

    def customers(self, wanted: dict[str, tuple[str | None, int | None]]) -> dict[str, int]:
        """Ids for customer keys; missing ones are created in one bulk insert (name, region)."""
        missing = [k for k in wanted if self._find(k, self._customer_code, self._customer_name) is None]
        if missing:
            self.session.execute(
                insert(Customer),
                [{"code": k[:64], "name": (wanted[k][0] or k)[:200], "region_id": wanted[k][1]} for k in missing],
            )
            self._customer_code, self._customer_name = key_maps(self.session, Customer)
            self.created["customers"] = self.created.get("customers", 0) + len(missing)
        return {k: self._find(k, self._customer_code, self._customer_name) for k in wanted}  # type: ignore[misc]

    def existing_customer(self, key: str) -> int | None:
        return self._find(key, self._customer_code, self._customer_name)


_TYPE_WORDS = {"new": "new", "新": "new", "新客户": "new", "新客": "new", "existing": "existing", "old": "existing",
               "老": "existing", "老客户": "existing", "老客": "existing", "存量": "existing", "existingcustomer": "existing"}


def customer_types(columns: Columns) -> list[str | None]:
    """The customer_type column as 'new' / 'existing' (None where blank)."""
    return columns.vocabulary("customer_type", _TYPE_WORDS, "a customer type (new/新客户 or existing/老客户)", max_length=16)


