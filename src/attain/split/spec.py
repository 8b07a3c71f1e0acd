"""The JSON split spec (already parsed into Python values) turned into `calc` inputs, and back.

Amounts arrive as strings or exact numbers (`json.loads(..., parse_float=Decimal)`) and are
converted exactly: all amounts are scaled by the same power of ten so the smallest decimal place
becomes 1, and everything inside `calc` is an int. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import repeat
from typing import Any

import numpy as np
from numpy.typing import NDArray

from attain.errors import InvalidInput
from attain.periods import Grain, parse_period
from attain.split.calc import Axis, Lock, Shares
from attain.split.calendar import TimeMethod, WorkCalendar, split_time
from attain.split.capacity import DEFAULT_RAMP, Rep, capacity_matrix


@dataclass(frozen=True)
class SplitSpec:
    """Everything `calc.split` needs; amounts are ints in 10**-places of the money unit."""

    total: int
    unit: int
    places: int
    axes: tuple[Axis, ...]
    prior: NDArray[np.float64] | None
    locks: tuple[Lock, ...]
    spread_zero_prior: bool
    warnings: tuple[str, ...] = ()


# Reads an order history file named in a spec: (dates as datetime64[D], amounts). Supplied by the
# caller, so that parsing a spec does no I/O itself.
HistoryReader = Callable[[str], tuple[NDArray[np.datetime64], NDArray[np.float64]]]
# Reads a prior file named in a spec ("prior": "history.parquet"): its columns by header name
# (one per axis with member names, and `value`). Supplied by the caller, like HistoryReader.
PriorReader = Callable[[str], Mapping[str, Sequence[Any]]]
TIME_GRAINS = ("quarter", "month", "week", "day")


def parse_amount(value: Any, what: str) -> Decimal:
    """An exact Decimal from a JSON string or number; InvalidInput naming `what` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise InvalidInput(f"{what} must be an amount like \"12000000\", got {value!r}")
    try:
        amount = Decimal(value.strip().replace(",", "")) if isinstance(value, str) else Decimal(value)
    except InvalidOperation as exc:
        raise InvalidInput(f"{what} is not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise InvalidInput(f"{what} is not an amount: {value!r}")
    return amount


def check_multiple(amount: Decimal, unit: Decimal, what: str) -> None:
    """InvalidInput unless `amount` is zero or more and a whole number of `unit`s."""
    if amount < 0:
        raise InvalidInput(f"{what} must not be negative, got {amount}")
    if amount % unit:
        raise InvalidInput(f"{what} {amount} is not a multiple of the rounding unit {unit}")


def decimal_places(amounts: Sequence[Decimal]) -> int:
    """How many decimal places the amounts need between them (0 for whole numbers)."""
    return max([0] + [-int(a.normalize().as_tuple().exponent) for a in amounts if a])


def to_int(amount: Decimal, places: int) -> int:
    """The amount in 10**-places units; exact, since `places` covers every amount."""
    return int(amount.scaleb(places))


def parse_spec(
    data: Any, read_history: HistoryReader | None = None, read_prior: PriorReader | None = None,
) -> SplitSpec:
    """Validate a parsed spec and build the `calc` inputs; every mistake is an InvalidInput."""
    if not isinstance(data, Mapping):
        raise InvalidInput("the spec must be a JSON object with total, unit and axes")
    unknown = set(data) - {"total", "unit", "axes", "prior", "locks", "spread_zero_prior"}
    if unknown:
        raise InvalidInput(f"the spec has unknown keys: {', '.join(sorted(unknown))}")
    if "total" not in data:
        raise InvalidInput("the spec needs a total")
    total = parse_amount(data["total"], "total")
    unit = parse_amount(data.get("unit", "1"), "unit")
    if unit <= 0:
        raise InvalidInput(f"unit must be positive, got {unit}")
    raw_locks = [_object(raw, f"lock {i + 1}") for i, raw in enumerate(_list(data.get("locks", []), "locks"))]
    lock_values = [parse_amount(raw.get("value"), f"value of lock {i + 1}") for i, raw in enumerate(raw_locks)]
    check_multiple(total, unit, "the total")
    places = decimal_places([total, unit, *lock_values])
    axes_data = _list(data.get("axes"), "axes")
    if not axes_data:
        raise InvalidInput("the spec needs at least one axis")
    warnings: list[str] = []
    axes = tuple(
        _any_axis(_object(raw, f"axis {i + 1}"), to_int(total, places), to_int(unit, places), read_history, warnings)
        for i, raw in enumerate(axes_data)
    )
    prior = _prior(data.get("prior"), axes, read_prior)
    prior = _apply_capacity(prior, axes, axes_data)
    spread = data.get("spread_zero_prior", False)
    if not isinstance(spread, bool):
        raise InvalidInput("spread_zero_prior must be true or false")
    return SplitSpec(
        total=to_int(total, places),
        unit=to_int(unit, places),
        places=places,
        axes=axes,
        prior=prior,
        locks=tuple(
            _lock(raw, to_int(value, places), i, str(value))
            for i, (raw, value) in enumerate(zip(raw_locks, lock_values))
        ),
        spread_zero_prior=spread,
        warnings=tuple(warnings),
    )


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidInput(f"{what} must be a list")
    return value


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{what} must be a JSON object")
    return value


def _name(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
        raise InvalidInput(f"{what} must be a non-empty name, got {value!r}")
    return str(value)


def _weight(value: Any, axis: str, member: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise InvalidInput(f"axis '{axis}': weight of '{member}' must be a number, got {value!r}")
    try:
        return float(Decimal(value) if not isinstance(value, str) else Decimal(value.strip()))
    except InvalidOperation as exc:
        raise InvalidInput(f"axis '{axis}': weight of '{member}' must be a number, got {value!r}") from exc


def _axis(raw: Mapping[str, Any]) -> Axis:
    name = _name(raw.get("name"), "axis name")
    shares = raw.get("shares")
    if "capacity" in raw:
        reps = _object(_object(raw["capacity"], f"capacity of axis '{name}'").get("reps"), f"reps of axis '{name}'")
        return Axis(name, tuple(_name(m, f"member of axis '{name}'") for m in reps), Shares.HISTORY)
    members = raw.get("members")
    if isinstance(members, Mapping):
        names = tuple(_name(m, f"member of axis '{name}'") for m in members)
        weights = tuple(_weight(w, name, m) for m, w in zip(names, members.values()))
        return Axis(name, names, Shares.WEIGHTS, weights)
    if isinstance(members, list):
        names = tuple(_name(m, f"member of axis '{name}'") for m in members)
        if shares not in (None, "equal", "history"):
            raise InvalidInput(f"axis '{name}': shares must be 'equal' or 'history' for a list of members")
        return Axis(name, names, Shares.HISTORY if shares == "history" else Shares.EQUAL)
    raise InvalidInput(f"axis '{name}' needs members: a list, or an object of member weights")


def _any_axis(
    raw: Mapping[str, Any], total: int, unit: int, read_history: HistoryReader | None, warnings: list[str]
) -> Axis:
    """A time axis when the axis has `time`, otherwise members with weights, a list or capacity."""
    if "time" in raw:
        return _time_axis(raw, total, unit, read_history, warnings)
    return _axis(raw)


def _time_axis(
    raw: Mapping[str, Any], total: int, unit: int, read_history: HistoryReader | None, warnings: list[str]
) -> Axis:
    """An axis of calendar periods, e.g. {"name": "month", "time": {"start": "2026-01-01",
    "end": "2026-12-31", "grain": "month", "method": "working-days"}}; its member weights are
    the periods' targets from `split_time`, so they match `attain split-time` exactly."""
    name = _name(raw.get("name"), "axis name")
    time = _object(raw["time"], f"time of axis '{name}'")
    grain = time.get("grain", "month")
    if grain not in TIME_GRAINS:
        raise InvalidInput(f"axis '{name}': grain must be one of {', '.join(TIME_GRAINS)}, got {grain!r}")
    try:
        method = TimeMethod(time.get("method", "equal"))
    except ValueError as exc:
        raise InvalidInput(f"axis '{name}': method must be equal, working-days or seasonal") from exc
    history_dates = history_amounts = None
    if method is TimeMethod.SEASONAL:
        if "history" not in time or read_history is None:
            raise InvalidInput(f"axis '{name}': the seasonal method needs \"history\": \"orders.csv\"")
        history_dates, history_amounts = read_history(str(time["history"]))
    result = split_time(
        total,
        unit,
        _required_date(time.get("start"), f"start of axis '{name}'"),
        _required_date(time.get("end"), f"end of axis '{name}'"),
        Grain(grain),
        method,
        calendar=parse_calendar(time.get("calendar", {}), f"calendar of axis '{name}'"),
        history_dates=history_dates,
        history_amounts=history_amounts,
    )
    warnings.extend(result.warnings)
    labels = tuple(period.label for period in result.periods)
    return Axis(name, labels, Shares.WEIGHTS, tuple(float(t) for t in result.targets))


def parse_calendar(data: Any, where: str) -> WorkCalendar:
    """{"holidays": [dates], "workdays": [dates], "official": true} as a WorkCalendar."""
    if not isinstance(data, Mapping) or set(data) - {"holidays", "workdays", "official"}:
        raise InvalidInput(f"{where} must be an object with holidays, workdays and optionally official")
    official = data.get("official", True)
    if not isinstance(official, bool):
        raise InvalidInput(f"{where}: official must be true or false")
    days = {}
    for key in ("holidays", "workdays"):
        values = data.get(key, [])
        if not isinstance(values, list):
            raise InvalidInput(f"{where}: {key} must be a list of dates")
        days[key] = frozenset(_required_date(v, f"{where}: {key} entry") for v in values)
    return WorkCalendar(holidays=days["holidays"], workdays=days["workdays"], official=official)


def _required_date(value: Any, what: str) -> date:
    parsed = _date(value, what)
    if parsed is None:
        raise InvalidInput(f"{what} is missing; give a date like 2026-01-01")
    return parsed


def _member_index(axes: Sequence[Axis]) -> list[dict[str, int]]:
    """Each axis's members by name: a dict lookup per cell, not a scan of the members."""
    return [{member: i for i, member in enumerate(axis.members)} for axis in axes]


def _cell_index(cell: Any, axes: Sequence[Axis], what: str, members: Sequence[Mapping[str, int]] | None = None) -> tuple[int, ...]:
    where = _object(cell, f"cell of {what}")
    members = members if members is not None else _member_index(axes)
    index = []
    for axis, at in zip(axes, members):
        if axis.name not in where:
            raise InvalidInput(f"{what} does not name a member of axis '{axis.name}'")
        member = _name(where[axis.name], f"member in {what}")
        if member not in at:
            raise InvalidInput(f"{what}: axis '{axis.name}' has no member '{member}'")
        index.append(at[member])
    extra = set(where) - {axis.name for axis in axes}
    if extra:
        raise InvalidInput(f"{what} names unknown axis '{min(extra)}'")
    return tuple(index)


# Weights taken as they are in the fast path of `_prior` (anything else goes through `_weight`).
_PLAIN_WEIGHTS = frozenset({int, float, Decimal})


def _prior(raw: Any, axes: Sequence[Axis], read_prior: PriorReader | None = None) -> NDArray[np.float64] | None:
    """The prior table from the spec's list of {"cell": {...}, "weight": w} entries, or from a long
    CSV/Parquet file the spec names ("prior": "history.parquet"), read by `read_prior`."""
    if raw is None:
        return None
    if isinstance(raw, str):
        if read_prior is None:
            raise InvalidInput("the prior names a file, but no file can be read here; give a list of cells")
        return prior_from_columns(read_prior(raw), axes, raw)
    entries = _list(raw, "prior")
    members = _member_index(axes)
    names = [axis.name for axis in axes]
    index = np.empty((len(axes), len(entries)), dtype=np.int64)
    weights = np.empty(len(entries), dtype=np.float64)
    for i, entry in enumerate(entries):
        # Fast path: a dict entry whose cell names exactly the axes' members and whose weight is a
        # plain number. Anything else is checked field by field, with the message for the mistake.
        try:
            cell, weight = entry["cell"], entry["weight"]
            index[:, i] = [at[cell[name]] for at, name in zip(members, names)]
            if len(cell) != len(names) or type(weight) not in _PLAIN_WEIGHTS:
                raise LookupError
            weights[i] = float(weight)
        except (LookupError, TypeError):
            what = f"prior entry {i + 1}"
            entry = _object(entry, what)
            weights[i] = _weight(entry.get("weight"), "prior", what)
            index[:, i] = _cell_index(entry.get("cell"), axes, what, members)
    bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
    if bad.size:
        i = int(bad[0])
        raise InvalidInput(f"prior entry {i + 1} has weight {weights[i]}; history weights must be zero or more")
    return _table(index, weights, axes)


def _table(index: NDArray[np.int64], weights: NDArray[np.float64], axes: Sequence[Axis]) -> NDArray[np.float64]:
    """Weights added up per cell (repeated cells add, in the order given)."""
    shape = tuple(len(axis.members) for axis in axes)
    flat = np.ravel_multi_index(tuple(index), shape) if index.shape[1] else np.zeros(0, dtype=np.int64)
    return np.bincount(flat, weights=weights, minlength=int(np.prod(shape))).reshape(shape)


PRIOR_VALUE_COLUMNS = ("value", "weight")


def prior_from_columns(columns: Mapping[str, Sequence[Any]], axes: Sequence[Axis], source: str) -> NDArray[np.float64]:
    """The prior table from a long table: one column per axis (member names) and a `value` (or
    `weight`) column; repeated cells add. Rows are named as lines of the file (header = line 1)."""
    names = [axis.name for axis in axes]
    given = list(columns)
    value_column = next((c for c in PRIOR_VALUE_COLUMNS if c in columns), None)
    missing = [name for name in names if name not in columns] + ([] if value_column else ["value"])
    if missing:
        raise InvalidInput(f"prior file {source} has no column '{missing[0]}': it needs one column per axis "
                           f"({', '.join(names)}) and a value column; it has {', '.join(given) or 'none'}")
    extra = [c for c in given if c not in names and c != value_column]
    if extra:
        raise InvalidInput(f"prior file {source} has a column '{extra[0]}' that names no axis "
                           f"(axes: {', '.join(names)})")
    raw_values = columns[value_column]
    try:
        weights = np.asarray(raw_values, dtype=np.float64)
    except (TypeError, ValueError):
        weights = np.array([_file_weight(v, source, line, value_column) for line, v in enumerate(raw_values, start=2)])
    bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
    if bad.size:
        line, value = int(bad[0]) + 2, raw_values[int(bad[0])]
        if not np.isfinite(weights[bad[0]]):
            raise InvalidInput(f"prior file {source}, line {line}: {value_column} {value!r} is missing or not a number")
        raise InvalidInput(f"prior file {source}, line {line}: {value_column} {value}; history weights must be zero or more")
    members = _member_index(axes)
    index = np.empty((len(axes), len(weights)), dtype=np.int64)
    for k, (axis, at) in enumerate(zip(axes, members)):
        column = ["" if v is None else str(v) for v in columns[axis.name]]
        codes = np.fromiter(map(at.get, column, repeat(-1)), dtype=np.int64, count=len(column))
        unknown = np.flatnonzero(codes < 0)
        if unknown.size:
            line = int(unknown[0]) + 2
            raise InvalidInput(f"prior file {source}, line {line}: axis '{axis.name}' has no member "
                               f"'{column[int(unknown[0])]}'")
        index[k] = codes
    return _table(index, weights, axes)


def _file_weight(value: Any, source: str, line: int, column: str) -> float:
    try:
        return float(Decimal(str(value).strip()))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput(f"prior file {source}, line {line}: {column} {value!r} is not a number") from exc


def _lock(raw: Mapping[str, Any], value: int, i: int, label: str) -> Lock:
    if ("cell" in raw) == ("member" in raw):
        raise InvalidInput(f"lock {i + 1} needs either a cell or a member")
    where = _object(raw.get("cell", raw.get("member")), f"lock {i + 1}")
    if not where:
        raise InvalidInput(f"lock {i + 1} names no axis")
    if "member" in raw and len(where) != 1:
        raise InvalidInput(f"lock {i + 1} must name one member of one axis")
    pairs = tuple((_name(a, f"axis in lock {i + 1}"), _name(m, f"member in lock {i + 1}")) for a, m in where.items())
    return Lock(pairs, value, label)


def _apply_capacity(
    prior: NDArray[np.float64] | None, axes: Sequence[Axis], axes_data: Sequence[Mapping[str, Any]]
) -> NDArray[np.float64] | None:
    """Multiply the prior by rep x month capacity for each axis given as `capacity`."""
    for k, raw in enumerate(axes_data):
        if "capacity" not in raw:
            continue
        capacity = _capacity_table(raw["capacity"], axes, k)
        base = np.ones(tuple(len(axis.members) for axis in axes)) if prior is None else prior
        prior = base * capacity
    return prior


def _capacity_table(raw: Mapping[str, Any], axes: Sequence[Axis], k: int) -> NDArray[np.float64]:
    """Capacity broadcast to the full table shape (rep axis k x its month axis)."""
    name = axes[k].name
    time_name = raw.get("time_axis")
    names = [axis.name for axis in axes]
    if time_name not in names:
        raise InvalidInput(f"capacity of axis '{name}' needs time_axis naming a month axis, got {time_name!r}")
    t = names.index(time_name)
    months = [parse_period(m) for m in axes[t].members]
    if any(p.grain is not Grain.MONTH for p in months):
        raise InvalidInput(f"axis '{time_name}' must list months like 2026-07 to carry capacity")
    ramp = raw.get("ramp", list(DEFAULT_RAMP))
    reps = [_rep(member, _object(info, f"rep '{member}'")) for member, info in raw["reps"].items()]
    table = capacity_matrix(reps, months, [_weight(r, name, "ramp") for r in _list(ramp, "ramp")])
    shape = [1] * len(axes)
    shape[k], shape[t] = table.shape
    return table.reshape(shape) if k < t else table.T.reshape(shape)


def _rep(member: str, info: Mapping[str, Any]) -> Rep:
    return Rep(
        name=member,
        productivity=_weight(info.get("productivity", 1), "capacity", member),
        start=_date(info.get("start"), f"start of {member}"),
        end=_date(info.get("end"), f"end of {member}"),
    )


def _date(value: Any, what: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidInput(f"{what} must be a date like 2026-07-01, got {value!r}") from exc
