"""Reading and validating incentive plan files (YAML or the Excel template), all or nothing.

`read_plan_file` turns a file into a raw mapping plus the place (line, or sheet and row) of every
field; `validate_definition` checks it and returns a `PlanDefinition` — or raises one `InvalidInput`
naming the place: ``line 23, components[1] 'commission' bands[2].from: bands 2 and 3 overlap …``.
Lookups of the database (target plans, org nodes) are passed in, so this module stays testable
without one.

Numbers are read as written (Decimal from the text, never float): percents as percents (`rate: 4`
is 4 %), money in yuan (converted to integer fen; finer than a fen is refused).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from attain.errors import InvalidInput
from attain.incentives.models import COMPONENT_KINDS, PARTICIPANT_ROLES, SETTLEMENTS
from attain.messages import english

Path_ = tuple[str | int, ...]
SLICE_KEYS = ("customer_type", "product_line", "customer_grade")
BLEND_KEYS = ("own", "team", "company")
APPLIES_TO = ("all", "rep", "manager")
# Kinds paid on the target incentive: their weights are shares of it and sum to 100 %.
WEIGHTED_KINDS = ("payout_curve",)


@dataclass(frozen=True)
class ParticipantDef:
    node: str
    role: str
    target_incentive: int  # fen per year
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True)
class ComponentDef:
    code: str
    name: str
    kind: str
    weight_bp: int | None
    metric: str
    target_plan: str
    spec: dict[str, Any]  # JSON-ready: percents and yuan as decimal strings, money in fen as int


@dataclass(frozen=True)
class PlanDefinition:
    name: str
    year: int
    settlement: str
    note: str | None
    participants: tuple[ParticipantDef, ...]
    components: tuple[ComponentDef, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class PlanFile:
    """A plan file read but not yet validated: the raw mapping and where each field was written."""

    raw: dict[str, Any]
    places: dict[Path_, str]


# -- reading ---------------------------------------------------------------------------------------


def read_plan_file(path: Path) -> PlanFile:
    """Read FILE.yaml|.yml or FILE.xlsx; InvalidInput naming the file when it cannot be read."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InvalidInput.coded("plan_file.no_file", path=str(path))
    if suffix in (".yaml", ".yml"):
        return read_yaml(path.read_text(encoding="utf-8-sig"), source=path.name)
    if suffix == ".xlsx":
        return read_workbook(path)
    raise InvalidInput.coded("plan_file.kind", name=path.name)


def read_yaml(text: str, *, source: str = "plan.yaml") -> PlanFile:
    """Parse YAML, keeping the line of every field (for error messages)."""
    import yaml

    try:
        raw = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = str(getattr(exc, "problem", None) or exc)
        if mark is not None:
            raise InvalidInput.coded("plan_file.yaml_at", source=source, line=mark.line + 1, problem=problem) from exc
        raise InvalidInput.coded("plan_file.yaml", source=source, problem=problem) from exc
    if not isinstance(raw, dict):
        raise InvalidInput.coded("plan_file.not_mapping", source=source)
    places: dict[Path_, str] = {}

    def walk(node: Any, path: Path_) -> None:
        places[path] = f"line {node.start_mark.line + 1}"
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, (*path, str(key.value)))
                places[(*path, str(key.value))] = f"line {key.start_mark.line + 1}"
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    walk(root, ())
    return PlanFile(raw, places)


def read_workbook(path: Path) -> PlanFile:
    """The Excel template: sheets `plan` (field | value), `participants` (node, role,
    target_incentive, from, to), `components` (code, name, type, weight, metric, target_plan and the
    kind's fields: mode, threshold, cap, rate, percent, by, by_day, scope, amount, award, per, from, to,
    min_order, product_line, customer_type, customer_grade, share_by, own, team, company) and `steps`
    (component, from, to, rate — bands — or attainment, payout — curve points)."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise InvalidInput.coded("plan_file.workbook", name=path.name, problem=str(exc)) from exc
    places: dict[Path_, str] = {}

    def table(sheet_name: str) -> list[tuple[int, dict[str, Any]]]:
        if sheet_name not in book.sheetnames:
            return []
        rows = list(book[sheet_name].iter_rows(values_only=True))
        if not rows:
            return []
        header = [str(h).strip() if h is not None else "" for h in rows[0]]
        found = []
        for number, row in enumerate(rows[1:], start=2):
            values = {h: v for h, v in zip(header, row) if h and v is not None and str(v).strip() != ""}
            if values:
                found.append((number, values))
        return found

    if "plan" not in book.sheetnames:
        raise InvalidInput.coded("plan_file.no_plan_sheet", name=path.name)
    raw: dict[str, Any] = {}
    for number, row in enumerate(book["plan"].iter_rows(values_only=True), start=1):
        if row and row[0] is not None and len(row) > 1:
            key = str(row[0]).strip()
            if key.lower() in ("field", "字段"):
                continue
            raw[key] = row[1]
            places[(key,)] = f"sheet plan row {number}"
    raw["participants"] = []
    for number, values in table("participants"):
        index = len(raw["participants"])
        raw["participants"].append(values)
        for key in values:
            places[("participants", index, key)] = f"sheet participants row {number}"
        places[("participants", index)] = f"sheet participants row {number}"
    raw["components"] = []
    positions: dict[str, int] = {}
    for number, values in table("components"):
        index = len(raw["components"])
        component: dict[str, Any] = {}
        for key, value in values.items():
            if key in BLEND_KEYS:
                component.setdefault("attainment", {})[key] = value
                places[("components", index, "attainment", key)] = f"sheet components row {number}"
            elif key in SLICE_KEYS:
                component.setdefault("slice", {})[key] = value
                places[("components", index, "slice", key)] = f"sheet components row {number}"
            else:
                component[key] = value
            places[("components", index, key)] = f"sheet components row {number}"
        places[("components", index)] = f"sheet components row {number}"
        raw["components"].append(component)
        positions[str(values.get("code", ""))] = index
    for number, values in table("steps"):
        code = str(values.pop("component", ""))
        if code not in positions:
            raise InvalidInput.coded("plan_file.steps_component", name=path.name, row=number, code=code)
        component = raw["components"][positions[code]]
        key = "points" if "attainment" in values or "payout" in values else "bands"
        index = len(component.setdefault(key, []))
        component[key].append(values)
        for name in values:
            places[("components", positions[code], key, index, name)] = f"sheet steps row {number}"
        places[("components", positions[code], key, index)] = f"sheet steps row {number}"
    return PlanFile(raw, places)


# -- validating ------------------------------------------------------------------------------------


class _Checker:
    """Reads fields of the raw plan, raising one InvalidInput that names the place of the first problem."""

    def __init__(self, plan_file: PlanFile):
        self.raw = plan_file.raw
        self.places = plan_file.places
        self.names: dict[int, str] = {}

    def fail(self, path: Path_, code: str, /, **params: object) -> InvalidInput:
        """InvalidInput 'line 14, components[1] 'commission'.bands[2].from: <message>': the coded
        message (attain.messages, code plan_file.*) with the place and field as parameters too."""
        place = next((self.places[path[:n]] for n in range(len(path), -1, -1) if path[:n] in self.places), "")
        field = self.dotted(path)
        message = english(f"plan_file.{code}", params)
        return InvalidInput(f"{place + ', ' if place else ''}{field}: {message}", code=f"plan_file.{code}",
                            params={**params, "place": place, "field": field})

    def dotted(self, path: Path_) -> str:
        text = ""
        for i, part in enumerate(path):
            if isinstance(part, int):
                text += f"[{part + 1}]"
                if path[:i] == ("components",) and part in self.names:
                    text += f" '{self.names[part]}'"
            else:
                text += ("." if text else "") + part
        return text or "plan"

    def get(self, data: dict[str, Any], path: Path_, key: str, *, required: bool = True) -> Any:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.fail((*path, key) if path + (key,) in self.places else path, "required", key=key)
            return None
        return value

    def decimal(self, data: dict[str, Any], path: Path_, key: str, *, required: bool = True,
                minimum: Decimal | None = Decimal(0)) -> Decimal | None:
        value = self.get(data, path, key, required=required)
        if value is None:
            return None
        if isinstance(value, bool):
            raise self.fail((*path, key), "not_number", value=value)
        try:
            number = Decimal(str(value).strip().rstrip("%").replace(",", "").strip())
        except InvalidOperation as exc:
            raise self.fail((*path, key), "not_number", value=value) from exc
        if not number.is_finite():
            raise self.fail((*path, key), "not_number", value=value)
        if minimum is not None and number < minimum:
            raise self.fail((*path, key), "below", number=number, minimum=minimum)
        return number

    def money(self, data: dict[str, Any], path: Path_, key: str, *, required: bool = True) -> int | None:
        yuan = self.decimal(data, path, key, required=required)
        if yuan is None:
            return None
        fen = yuan * 100
        if fen != fen.to_integral_value():
            raise self.fail((*path, key), "finer_than_fen", yuan=yuan)
        return int(fen)

    def day(self, data: dict[str, Any], path: Path_, key: str, *, required: bool = True) -> date | None:
        value = self.get(data, path, key, required=required)
        if value is None or isinstance(value, date):
            return value.date() if hasattr(value, "date") and callable(value.date) else value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError as exc:
            raise self.fail((*path, key), "not_date", value=value) from exc

    def choice(self, data: dict[str, Any], path: Path_, key: str, options: tuple[str, ...], *,
               default: str | None = None) -> str:
        value = self.get(data, path, key, required=default is None)
        if value is None:
            return default  # type: ignore[return-value]
        text = str(value).strip()
        if text not in options:
            raise self.fail((*path, key), "not_one_of", text=text, options=", ".join(options))
        return text

    def mapping(self, data: Any, path: Path_) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(path, "expected_mapping")
        return data

    def sequence(self, data: Any, path: Path_) -> list[Any]:
        if not isinstance(data, list):
            raise self.fail(path, "expected_list")
        return data


def _pct(value: Decimal) -> str:
    return format(value.normalize(), "f")


def validate_definition(
    plan_file: PlanFile, *, target_plan_metric: Callable[[str], str | None], node_exists: Callable[[str], bool],
    metrics: tuple[str, ...],
) -> PlanDefinition:
    """Check a plan file; one InvalidInput naming the place of the first problem.

    `target_plan_metric(name)`: the metric code of the target plan (None: no such plan);
    `node_exists(code)`: whether an org node has this code; `metrics`: the summable metrics."""
    check = _Checker(plan_file)
    raw = check.raw
    name = str(check.get(raw, (), "name")).strip()
    if len(name) > 100:
        raise check.fail(("name",), "name_length")
    year_value = check.decimal(raw, (), "year")
    if year_value is None or year_value != year_value.to_integral_value() or not 2000 <= year_value <= 2100:
        raise check.fail(("year",), "not_year", value=raw.get("year"))
    year = int(year_value)
    settlement = check.choice(raw, (), "settlement", SETTLEMENTS)
    note = raw.get("note")
    participants = _participants(check, raw, year, node_exists)
    components = _components(check, raw, year, target_plan_metric, metrics)
    return PlanDefinition(name, year, settlement, None if note is None else str(note), participants, components)


def _participants(check: _Checker, raw: dict[str, Any], year: int, node_exists: Callable[[str], bool]) -> tuple[ParticipantDef, ...]:
    found: list[ParticipantDef] = []
    items = check.sequence(check.get(raw, (), "participants"), ("participants",))
    for i, item in enumerate(items):
        path: Path_ = ("participants", i)
        data = check.mapping(item, path)
        node = str(check.get(data, path, "node")).strip()
        if not node_exists(node):
            raise check.fail((*path, "node"), "no_node", node=node)
        role = check.choice(data, path, "role", PARTICIPANT_ROLES, default="rep")
        amount = check.money(data, path, "target_incentive", required=False) or 0
        valid_from = check.day(data, path, "from", required=False) or date(year, 1, 1)
        valid_to = check.day(data, path, "to", required=False)
        if valid_to is not None and valid_to < valid_from:
            raise check.fail((*path, "to"), "to_before_from", end=valid_to, start=valid_from)
        if valid_from.year > year or (valid_to is not None and valid_to.year < year):
            raise check.fail((*path, "from"), "outside_year", start=valid_from, end=valid_to or "", year=year)
        for other in found:
            if other.node == node and other.role == role and _overlap(other, valid_from, valid_to):
                raise check.fail(path, "participant_twice", node=node, start=other.valid_from)
        found.append(ParticipantDef(node, role, amount, valid_from, valid_to))
    if not found:
        raise check.fail(("participants",), "no_participants")
    return tuple(found)


def _overlap(other: ParticipantDef, start: date, end: date | None) -> bool:
    return (other.valid_to is None or start <= other.valid_to) and (end is None or other.valid_from <= end)


def _components(
    check: _Checker, raw: dict[str, Any], year: int, target_plan_metric: Callable[[str], str | None], metrics: tuple[str, ...],
) -> tuple[ComponentDef, ...]:
    items = check.sequence(check.get(raw, (), "components"), ("components",))
    if not items:
        raise check.fail(("components",), "no_components")
    found: list[ComponentDef] = []
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("code") is not None:
            check.names[i] = str(item["code"])
    for i, item in enumerate(items):
        path: Path_ = ("components", i)
        data = check.mapping(item, path)
        code = str(check.get(data, path, "code")).strip()
        if any(c.code == code for c in found):
            raise check.fail((*path, "code"), "code_twice", code=code)
        kind = check.choice(data, path, "type", COMPONENT_KINDS)
        metric = str(check.get(data, path, "metric")).strip()
        if metric not in metrics:
            raise check.fail((*path, "metric"), "unknown_metric", metric=metric, metrics=", ".join(metrics))
        target_plan = str(check.get(data, path, "target_plan")).strip()
        plan_metric = target_plan_metric(target_plan)
        if plan_metric is None:
            raise check.fail((*path, "target_plan"), "no_target_plan", name=target_plan)
        if plan_metric != metric:
            raise check.fail((*path, "metric"), "target_plan_metric", name=target_plan, plan_metric=plan_metric, metric=metric)
        weight = check.decimal(data, path, "weight", required=kind in WEIGHTED_KINDS)
        if weight is not None and kind not in WEIGHTED_KINDS:
            raise check.fail((*path, "weight"), "weight_not_curve")
        weight_bp = None
        if weight is not None:
            if weight * 100 != (weight * 100).to_integral_value() or weight > 100:
                raise check.fail((*path, "weight"), "weight_percent", weight=weight)
            weight_bp = int(weight * 100)
        spec = {"applies_to": check.choice(data, path, "applies_to", APPLIES_TO, default="all"),
                **_SPECS[kind](check, data, path, year)}
        found.append(ComponentDef(code, str(data.get("name") or code), kind, weight_bp, metric, target_plan, spec))
    weighted = [c for c in found if c.kind in WEIGHTED_KINDS]
    total = sum(c.weight_bp or 0 for c in weighted)
    if weighted and total != 10_000:
        listed = ", ".join(f"{c.code} {_pct(Decimal(c.weight_bp or 0) / 100)} %" for c in weighted)
        raise check.fail(("components",), "weights_sum", total=_pct(Decimal(total) / 100), listed=listed)
    return tuple(found)


def _rate_table(check: _Checker, data: dict[str, Any], path: Path_, _year: int) -> dict[str, Any]:
    mode = check.get(data, path, "mode")
    if str(mode).strip() not in ("marginal", "retroactive"):
        raise check.fail((*path, "mode"), "mode", mode=mode)
    bands = check.sequence(check.get(data, path, "bands"), (*path, "bands"))
    if not bands:
        raise check.fail((*path, "bands"), "no_bands")
    parsed: list[dict[str, str | None]] = []
    for j, band in enumerate(bands):
        where: Path_ = (*path, "bands", j)
        values = check.mapping(band, where)
        low = check.decimal(values, where, "from")
        high = check.decimal(values, where, "to", required=False)
        rate = check.decimal(values, where, "rate")
        assert low is not None and rate is not None
        if high is not None and high <= low:
            raise check.fail((*where, "to"), "band_empty", band=j + 1, high=_pct(high), low=_pct(low))
        if j + 1 < len(bands) and high is None:
            raise check.fail((*where, "to"), "band_open", band=j + 1)
        if parsed:
            previous_high = Decimal(parsed[-1]["to"])  # type: ignore[arg-type]
            if low < previous_high:
                raise check.fail((*where, "from"), "bands_overlap", first=j, second=j + 1, low=_pct(low), high=_pct(previous_high))
            if low > previous_high:
                raise check.fail((*where, "from"), "bands_gap", first=j, second=j + 1, high=_pct(previous_high), low=_pct(low))
        parsed.append({"from": _pct(low), "to": None if high is None else _pct(high), "rate": _pct(rate)})
    cap = check.money(data, path, "cap", required=False)
    return {"mode": str(mode).strip(), "bands": parsed, "cap": cap}


def _curve(check: _Checker, data: dict[str, Any], path: Path_, _year: int) -> dict[str, Any]:
    points = check.sequence(check.get(data, path, "points"), (*path, "points"))
    if len(points) < 1:
        raise check.fail((*path, "points"), "no_points")
    parsed: list[tuple[Decimal, Decimal]] = []
    for j, point in enumerate(points):
        where: Path_ = (*path, "points", j)
        if isinstance(point, list) and len(point) == 2:
            point = {"attainment": point[0], "payout": point[1]}
        values = check.mapping(point, where)
        x = check.decimal(values, where, "attainment")
        y = check.decimal(values, where, "payout")
        assert x is not None and y is not None
        if parsed and x <= parsed[-1][0]:
            raise check.fail((*where, "attainment"), "points_ascend", x=_pct(x), previous=_pct(parsed[-1][0]))
        if parsed and y < parsed[-1][1]:
            raise check.fail((*where, "payout"), "curve_down", previous=_pct(parsed[-1][1]), y=_pct(y), x=_pct(x))
        parsed.append((x, y))
    threshold = check.decimal(data, path, "threshold", required=False)
    if threshold is None:
        threshold = parsed[0][0]
    if threshold > parsed[0][0]:
        raise check.fail((*path, "threshold"), "threshold_above", threshold=_pct(threshold), first=_pct(parsed[0][0]))
    cap = check.decimal(data, path, "cap", required=False)
    blend = _blend(check, data, path)
    return {"points": [[_pct(x), _pct(y)] for x, y in parsed], "threshold": _pct(threshold),
            "cap": None if cap is None else _pct(cap), "attainment": blend}


def _blend(check: _Checker, data: dict[str, Any], path: Path_) -> dict[str, str]:
    raw = data.get("attainment")
    if raw is None:
        return {"own": "100"}
    values = check.mapping(raw, (*path, "attainment"))
    blend: dict[str, str] = {}
    total = Decimal(0)
    for key in values:
        if key not in BLEND_KEYS:
            raise check.fail((*path, "attainment", key), "not_one_of", text=key, options=", ".join(BLEND_KEYS))
        share = check.decimal(values, (*path, "attainment"), key)
        assert share is not None
        total += share
        blend[key] = _pct(share)
    if total != 100:
        raise check.fail((*path, "attainment"), "blend_sum", total=_pct(total), listed=", ".join(f"{k} {v} %" for k, v in blend.items()))
    return blend


def _slice_rate(check: _Checker, data: dict[str, Any], path: Path_, _year: int) -> dict[str, Any]:
    values = check.mapping(check.get(data, path, "slice"), (*path, "slice"))
    if len(values) != 1 or next(iter(values)) not in SLICE_KEYS:
        raise check.fail((*path, "slice"), "slice_key", keys=", ".join(SLICE_KEYS))
    key, value = next(iter(values.items()))
    if key == "customer_type" and str(value) not in ("new", "existing"):
        raise check.fail((*path, "slice", key), "customer_type", value=value)
    rate = check.decimal(data, path, "rate")
    return {"slice": {key: str(value)}, "rate": _pct(rate)}  # type: ignore[arg-type]


def _milestone(check: _Checker, data: dict[str, Any], path: Path_, year: int) -> dict[str, Any]:
    percent = check.decimal(data, path, "percent")
    by = check.day(data, path, "by", required=False)
    by_day = check.decimal(data, path, "by_day", required=False, minimum=Decimal(1))
    if (by is None) == (by_day is None):
        raise check.fail(path, "milestone_when")
    if by is not None and by.year != year:
        raise check.fail((*path, "by"), "by_outside_year", day=by, year=year)
    amount = check.money(data, path, "amount", required=False)
    award = data.get("award")
    if amount is None and not award:
        raise check.fail(path, "milestone_pays")
    return {"percent": _pct(percent), "by": None if by is None else by.isoformat(),  # type: ignore[arg-type]
            "by_day": None if by_day is None else int(by_day), "scope": check.choice(data, path, "scope", ("own", "team"), default="own"),
            "amount": amount or 0, "award": None if not award else str(award)}


def _spif(check: _Checker, data: dict[str, Any], path: Path_, year: int) -> dict[str, Any]:
    per = check.choice(data, path, "per", ("order", "new_customer"))
    amount = check.money(data, path, "amount")
    start = check.day(data, path, "from")
    end = check.day(data, path, "to")
    assert start is not None and end is not None
    if end < start:
        raise check.fail((*path, "to"), "to_before_from", end=end, start=start)
    product_line = data.get("product_line")
    return {"per": per, "amount": amount, "from": start.isoformat(), "to": end.isoformat(),
            "min_order": check.money(data, path, "min_order", required=False),
            "product_line": None if product_line is None else str(product_line)}


def _team_pool(check: _Checker, data: dict[str, Any], path: Path_, _year: int) -> dict[str, Any]:
    amount = check.money(data, path, "amount")
    threshold = check.decimal(data, path, "threshold", required=False) or Decimal(0)
    share_by = check.choice(data, path, "share_by", ("sales", "target_incentive"), default="sales")
    return {"amount": amount, "threshold": _pct(threshold), "share_by": share_by}


_SPECS: dict[str, Callable[[_Checker, dict[str, Any], Path_, int], dict[str, Any]]] = {
    "rate_table": _rate_table, "payout_curve": _curve, "slice_rate": _slice_rate, "milestone": _milestone,
    "spif": _spif, "team_pool": _team_pool,
}
