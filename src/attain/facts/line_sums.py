"""The rollups' sums computed from an import's columns (NumPy, exact integers), not from the table.

`rollups.rebuild` sums order lines in SQL; when an import only adds lines, the same sums of the new
lines can be made from the columns the import holds already and added to the rollups of their months,
instead of re-reading a million lines. The rule is the rebuild's, to the fen: rows per (month, rep,
returns) and (day, returns); amount = sum of amounts; profit = sum of amount - cost over the lines that
have a cost (None when none has); quantity = sum of quantities (NUMERIC(24, 4)); lines = count;
returns = the lines with a negative amount. Pure: NumPy and the standard library, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray

from attain.columnar import converted, int_array, null_mask

QUANTITY_PLACES = 4  # order_lines.quantity and the rollups' quantity are NUMERIC(…, 4)
_INT64_SAFE = 2**62  # sums stay below this, with room: otherwise the SQL rebuild sums them
_DENSE_GROUPS = 2_000_000  # up to this many possible keys, sums go into a table indexed by key


@dataclass(frozen=True)
class LineSums:
    """Rollup rows of some lines: `rep_months` as (month, rep_id, returns) → sums, `days` as
    (day, returns) → sums; sums are {"amount", "profit", "quantity", "lines"}."""

    rep_months: dict[tuple[date, int | None, bool], dict[str, Any]]
    days: dict[tuple[date, bool], dict[str, Any]]

    @property
    def months(self) -> set[date]:
        return {month for month, _rep, _returns in self.rep_months}


def line_sums(
    order_dates: Sequence[date | None], rep_ids: Sequence[int | None], amounts: Sequence[int | None],
    costs: Sequence[int | None], quantities: Sequence[Decimal],
) -> LineSums | None:
    """The rollup rows of these lines, or None when they cannot be summed exactly here (a line without a
    date or amount, a quantity finer than the column's 4 places, sums near the 64-bit limit): the
    caller then lets SQL sum the lines."""
    count = len(order_dates)
    if count == 0:
        return LineSums({}, {})
    if None in order_dates or None in amounts:  # type: ignore[operator]
        return None
    scaled = _scaled_quantities(quantities)
    if scaled is None:
        return None
    try:
        amount = int_array(amounts)
        cost_known = ~null_mask(costs)
        cost = int_array(costs, missing=0)
        rep = int_array(rep_ids)
    except OverflowError:
        return None
    largest = max(int(np.abs(amount).max()), int(np.abs(cost).max()), int(np.abs(scaled).max()))
    if largest * 2 * count >= _INT64_SAFE:
        return None
    day = int_array(converted(order_dates, date.toordinal))
    month = int_array(converted(order_dates, lambda d: d.replace(day=1).toordinal()))
    returns = amount < 0
    profit = np.where(cost_known, amount - cost, 0)
    measures = (amount, profit, cost_known.astype(np.int64), scaled)
    return LineSums(
        rep_months={(date.fromordinal(m), None if r < 0 else r, bool(s)): sums
                    for (m, r, s), sums in _grouped((month, rep, returns), measures)},
        days={(date.fromordinal(d), bool(s)): sums for (d, s), sums in _grouped((day, returns), measures)},
    )


def _scaled_quantities(quantities: Sequence[Decimal]) -> NDArray[np.int64] | None:
    """Quantities × 10^4 as integers (each distinct value converted once); None when one has more places."""
    def scaled(value: Decimal | None) -> int | None:
        if value is None or not value.is_finite():
            return None
        shifted = value.scaleb(QUANTITY_PLACES)
        return int(shifted) if shifted == shifted.to_integral_value() else None

    column = converted(quantities, scaled)
    if None in column:
        return None
    try:
        return int_array(column)  # type: ignore[arg-type]
    except OverflowError:
        return None


def _grouped(keys: tuple[NDArray[Any], ...], measures: tuple[NDArray[np.int64], ...]):  # type: ignore[no-untyped-def]
    """(key tuple, sums) per distinct key, in int64 (exact): added into a table indexed by the packed key
    when there are few possible keys, else by a sort and reduceat."""
    spans = [int(k.max()) - int(k.min()) + 1 for k in keys]
    size = int(np.prod(spans, dtype=object))
    combined = np.zeros(keys[0].size, dtype=np.int64)  # one integer per key tuple, in the same order
    if size < _INT64_SAFE:
        for k, span in zip(keys, spans):
            combined = combined * span + (k.astype(np.int64) - int(k.min()))
    else:  # ids too far apart to pack in one integer
        combined = np.unique(np.stack(keys, axis=1), axis=0, return_inverse=True)[1].reshape(-1).astype(np.int64)
    if size <= _DENSE_GROUPS:  # few possible keys: add into a table indexed by the key, no sort
        sums = []
        for m in measures:
            total = np.zeros(size, dtype=np.int64)
            np.add.at(total, combined, m)
            sums.append(total)
        counts = np.bincount(combined, minlength=size)
        present = np.flatnonzero(counts)
        any_line = np.zeros(size, dtype=np.int64)
        any_line[combined] = np.arange(combined.size)  # a line of every key (they share its values)
        rows = any_line[present]
        amount, profit, with_cost, quantity = (s[present] for s in sums)
        lines = counts[present]
        key_rows = zip(*(k[rows].tolist() for k in keys))
    else:
        order = np.argsort(combined)
        ordered = combined[order]
        starts = np.flatnonzero(np.diff(ordered, prepend=ordered[0] - 1))
        amount, profit, with_cost, quantity = (np.add.reduceat(m[order], starts) for m in measures)
        lines = np.diff(np.append(starts, order.size))
        key_rows = zip(*(k[order][starts].tolist() for k in keys))
    for key, a, p, c, q, n in zip(key_rows, amount.tolist(), profit.tolist(), with_cost.tolist(), quantity.tolist(), lines.tolist()):
        yield key, {"amount": a, "profit": p if c else None, "quantity": Decimal(q).scaleb(-QUANTITY_PLACES), "lines": n}


def added(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Two rollup rows' sums added (a None profit counts as no line with a cost)."""
    profit = new["profit"] if old["profit"] is None else old["profit"] if new["profit"] is None else old["profit"] + new["profit"]
    return {"amount": old["amount"] + new["amount"], "profit": profit,
            "quantity": old["quantity"] + new["quantity"], "lines": old["lines"] + new["lines"]}
