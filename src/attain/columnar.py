"""Helpers for columns of Python values (one list per field, as the imports hold them) turned into
NumPy arrays or converted value by value, without a Python loop over the rows."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

T = TypeVar("T")


def null_mask(values: Sequence[object]) -> NDArray[np.bool_]:
    """True where a value is None."""
    if None not in values:  # type: ignore[operator]
        return np.zeros(len(values), dtype=bool)
    return np.array(values, dtype=object) == None


def int_array(values: Sequence[int | None], missing: int = -1) -> NDArray[np.int64]:
    """A column of Python ints as int64, None as `missing` (OverflowError beyond 64 bits)."""
    if None not in values:  # type: ignore[operator]
        return np.fromiter(values, dtype=np.int64, count=len(values))  # type: ignore[arg-type]
    column = np.array(values, dtype=object)
    column[column == None] = missing
    return column.astype(np.int64)


def converted(values: Sequence[Hashable], convert: Callable[[Any], T]) -> list[T]:
    """[convert(v) for v in values], calling convert once per distinct value (dates, quantities and
    codes repeat: a million dates are a thousand days)."""
    done = {value: convert(value) for value in set(values)}
    return list(map(done.__getitem__, values))
