"""Import kinds that live in their own domain package (`attain import market-size FILE` …).

A domain module listed in PROVIDERS exposes `IMPORT_KINDS: dict[str, ImportKind]`: the fields of each
kind (matched to a file's header like the built-in kinds) and the function that validates and writes
the rows. The modules are loaded on first use, so the import toolkit never imports the domains at
import time (the domains import the toolkit).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from attain.imports.fields import Field

PROVIDERS = ("attain.market.importers",)


@dataclass(frozen=True)
class ImportKind:
    fields: tuple[Field, ...]
    # (session, table, mapping, options, progress) -> ImportResult, like the built-in importers.
    importer: Callable[..., Any]


@cache
def registered() -> dict[str, ImportKind]:
    """Every kind the providers register, by name."""
    kinds: dict[str, ImportKind] = {}
    for name in PROVIDERS:
        kinds.update(importlib.import_module(name).IMPORT_KINDS)
    return kinds
