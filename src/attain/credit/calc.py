"""Pure crediting arithmetic: percentages to basis points, share lists, cumulative bounds and the
integer allocation of an amount over shares (the same formula credited_lines() runs in SQL)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from attain.errors import InvalidInput
from attain.split.rounding import largest_remainder

FULL_BP = 10000
_SEPARATORS = re.compile(r"[;；,，、/|]+")


def percent_to_bp(text: str | Decimal, *, what: str) -> int:
    """'50', '50%', '33.33' or Decimal('12.5') → basis points; at most two decimals, in (0, 100]."""
    raw = str(text).strip().rstrip("%％").strip()
    try:
        percent = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput.coded("credit.percentage", what=what, text=text) from None
    if not percent.is_finite():  # 'NaN', 'Infinity': Decimal reads them, no share is one
        raise InvalidInput.coded("credit.percentage", what=what, text=text)
    points = percent * 100
    if points != points.to_integral_value():
        raise InvalidInput.coded("credit.more_two_decimals", what=what, text=text)
    if not 0 < points <= FULL_BP:
        raise InvalidInput.coded("credit.above_most", what=what, text=text)
    return int(points)


def parse_share(text: str, *, what: str) -> tuple[str, int | None]:
    """'A:50' / 'A=50%' / 'A' → (rep key, basis points or None when not given)."""
    key, sep, percent = re.sub("[：=]", ":", text.strip()).partition(":")
    key = key.strip()
    if not key:
        raise InvalidInput.coded("credit.names_rep_write_rep", what=what, text=text)
    return key, percent_to_bp(percent, what=f"{what} ({key})") if sep else None


def parse_team(text: str, *, what: str) -> list[tuple[str, int]]:
    """A sales-team cell, 'A:60;B:40' or 'A/B/C' (equal shares, largest remainder in basis points)."""
    parts = [p for p in _SEPARATORS.split(text) if p.strip()]
    if not parts:
        raise InvalidInput.coded("credit.empty_sales_team", what=what)
    shares = [parse_share(p, what=what) for p in parts]
    given = [bp for _key, bp in shares]
    if all(bp is None for bp in given):
        equal = largest_remainder(FULL_BP, np.ones(len(shares)))
        return [(key, int(bp)) for (key, _), bp in zip(shares, equal)]
    if any(bp is None for bp in given):
        raise InvalidInput.coded("credit.gives_percentage_some_reps", what=what, text=text)
    return [(key, int(bp)) for key, bp in shares]  # type: ignore[arg-type]


def check_direct(shares: list[tuple[str, int]], *, scope: str) -> None:
    """Direct shares must name each rep once and sum to exactly 100 %."""
    keys = [key for key, _bp in shares]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise InvalidInput.coded("credit.rep_named_twice", scope=scope, items=', '.join(repeated))
    total = sum(bp for _key, bp in shares)
    if total != FULL_BP:
        raise InvalidInput.coded("credit.direct_shares_sum_expected", scope=scope, value=Decimal(total) / 100)


def cumulative(shares_bp: list[int]) -> list[tuple[int, int]]:
    """Running (from, to) bounds of consecutive shares: [(0, s0), (s0, s0+s1), …]."""
    bounds = np.concatenate(([0], np.cumsum(np.asarray(shares_bp, dtype=np.int64))))
    return [(int(a), int(b)) for a, b in pairwise(bounds)]


def allocate(amounts: NDArray[np.int64], bounds: list[tuple[int, int]]) -> NDArray[np.int64]:
    """Credited amounts (lines × shares) by the SQL formula a*to//10000 - a*from//10000, truncating
    toward zero like integer division on SQLite and PostgreSQL; rows sum to the amounts exactly."""
    values = np.asarray(amounts, dtype=np.int64)[:, None]
    lows = np.array([b[0] for b in bounds], dtype=np.int64)[None, :]
    highs = np.array([b[1] for b in bounds], dtype=np.int64)[None, :]

    def truncated(numerator: NDArray[np.int64]) -> NDArray[np.int64]:
        return np.sign(numerator) * (np.abs(numerator) // FULL_BP)

    return truncated(values * highs) - truncated(values * lows)
