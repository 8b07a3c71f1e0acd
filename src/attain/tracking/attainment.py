"""Actuals and attainment per report row: the service behind `attain report actuals|attainment`,
the web app and the diagnosis/alerts/review of the tracking module.

Sales come only from `credited_lines()`, summed by the database (`query.py`, run by a `Runner`);
targets from `targets.py`; every derived figure from the pure `calc.py`.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import chain, repeat
from operator import itemgetter

import numpy as np
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from attain.calendars.service import company_calendar
from attain.catalog.dimensions import check_dimensions
from attain.catalog.models import ProductNode
from attain.credit.sql import CreditFeatures, credit_features
from attain.errors import InvalidInput, NotFound
from attain.metrics.models import Metric
from attain.org.models import OrgNode
from attain.periods import Period
from attain.plans.models import Plan
from attain.revision import data_revision
from attain.split.calendar import (
    WorkCalendar,
    day_range,
    seasonal_day_weights,
    working_day_mask,
)
from attain.tracking import calc
from attain.tracking.engine import ConnectionRunner, Runner, SessionRunner
from attain.tracking.query import (
    ADDITIVE,
    METRICS,
    ORG_DIMENSIONS,
    Grouping,
    Scope,
    actuals_statement,
    check_metric,
    parse_by,
)
from attain.tracking.targets import (
    Key,
    OrgTree,
    TargetColumns,
    company_target,
    load_org_tree,
    plan_cells_between,
    target_columns,
)

HISTORY_YEARS = 3
NONE_LABEL = "—"
APPROVED = ("approved", "locked")


@dataclass(frozen=True)
class MetricInfo:
    code: str
    name: str
    name_zh: str | None
    unit: str
    scale: int  # decimal places of the stored integers (2: fen for CNY)

    @property
    def is_money(self) -> bool:
        return self.scale == 2 and self.unit == "CNY"


@dataclass(slots=True)  # not frozen: a rep × month table makes 60,000 of them (see AttainmentRow)
class ActualRow:
    key: Key  # one value per dimension: node/product-line id, 'new'/'existing', yyyymm
    labels: tuple[str, ...]
    value: int | Decimal  # in the metric's minor unit (fen for money)


@dataclass(frozen=True)
class Actuals:
    metric: MetricInfo
    period: Period
    dimensions: tuple[str, ...]
    start: date
    end: date  # last day counted (the period end, or as-of when earlier)
    rows: tuple[ActualRow, ...]
    total: int | Decimal  # direct credit only: overlay credit never adds to a total
    engine: str


# Not frozen: a rep × month report makes 60,000 of them, and a frozen __init__ is 6× slower; slots:
# smaller rows, less for the garbage collector to walk.
@dataclass(slots=True)
class AttainmentRow:
    key: Key
    labels: tuple[str, ...]
    node_id: int | None
    actual: int | Decimal
    target: Decimal | None  # rounded to the minor unit
    target_source: str | None  # "own" or "sum of children"
    progress: calc.TimeProgress
    figures: calc.Figures


@dataclass(frozen=True)
class Attainment:
    plan: str
    plan_version: int
    plan_id: int
    metric: MetricInfo
    period: Period
    as_of: date
    dimensions: tuple[str, ...]
    rows: tuple[AttainmentRow, ...]
    total: AttainmentRow
    warnings: tuple[str, ...]
    engine: str


@dataclass(frozen=True)
class AttainmentColumns:
    """An attainment report as columns: row i is keys[i] (one value per dimension, also as
    `key_columns`), its labels (`labels[d][i]` per dimension; none when asked without figures),
    node_ids[i], actuals[i] (as summed: fen ints, Decimals for quantities), the target rounded to
    the minor unit (`target[i]`, where `has_target[i]`), sources[i], the time progress
    `progresses[window[i]]` and the figures (`figures`, integer columns; None when asked without).
    A rep × month report (60,000 rows) is a few arrays and lists, no object per row; `view()` makes
    the row objects of `Attainment` from them."""

    plan: str
    plan_version: int
    plan_id: int
    metric: MetricInfo
    period: Period
    as_of: date
    dimensions: tuple[str, ...]
    keys: list[Key]
    key_columns: tuple[Sequence[int | str | None], ...]
    labels: tuple[Sequence[str], ...]
    node_ids: list[int | None]
    actuals: list[int | Decimal]
    target: np.ndarray
    has_target: np.ndarray
    sources: list[str | None]
    progresses: tuple[calc.TimeProgress, ...]
    window: np.ndarray
    figures: calc.FigureColumns | None
    total: AttainmentRow
    warnings: tuple[str, ...]
    engine: str

    def __len__(self) -> int:
        return len(self.keys)

    def view(self) -> Attainment:
        """The same report as row objects (`Attainment.rows`)."""
        n = len(self.keys)
        labels = list(zip(*self.labels)) if self.labels else [()] * n
        targets = calc._decimals(self.target, self.has_target)
        figures = self.figures.figures() if self.figures is not None else [None] * n
        rows = list(map(AttainmentRow, self.keys, labels, self.node_ids, self.actuals, targets, self.sources,
                        map(self.progresses.__getitem__, self.window.tolist()), figures))
        return Attainment(self.plan, self.plan_version, self.plan_id, self.metric, self.period, self.as_of,
                          self.dimensions, tuple(rows), self.total, self.warnings, self.engine)


def metric_info(session: Session, code: str) -> MetricInfo:
    check_metric(code)
    metric = session.scalars(select(Metric).where(Metric.code == code)).first()
    if metric is None:
        raise NotFound.coded("tracking.attainment.metric_missing_database_run", code=code)
    return MetricInfo(metric.code, metric.name, metric.name_zh, metric.unit, metric.scale)


def _number(value: object) -> int | Decimal:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, float):  # DuckDB may hand back floats for averages; sums here are exact
        return Decimal(repr(value))
    return int(value)  # type: ignore[call-overload]


def _rows_by_key(runner: Runner, statement) -> dict[Key, int | Decimal]:  # type: ignore[no-untyped-def]
    result: dict[Key, int | Decimal] = {}
    for row in runner.rows(statement):
        key = tuple(_key_part(v) for v in row[:-1])
        result[key] = _number(row[-1])
    return result


def _grouped_and_total(
    runner: Runner, metric: str, grouping: Grouping, start: date, end: date, plan_id: int | None,
    features: CreditFeatures | None = None, scope: Scope | None = None,
) -> tuple[dict[Key, int | Decimal], int | Decimal]:
    """Rows of the grouping and the total over [start, end]: from the same scan for additive
    metrics, with one more query for distinct counts (orders, new customers).

    The total is direct credit only (overlay credit never adds to a team), except within one rep
    (`scope` of a rep), whose rows and total are all of that rep's credit, overlay included."""
    mine = scope is not None and scope.kind == "rep"
    direct_only = False if mine else None
    rows: dict[Key, int | Decimal] = {}
    if grouping.dimensions and metric in ADDITIVE:
        # One scan: each row's value (with overlay credit when keyed by rep) and its direct part.
        fetched = runner.rows(actuals_statement(
            metric=metric, grouping=grouping, start=start, end=end, plan_id=plan_id, with_direct=True,
            features=features, scope=scope, direct_only=direct_only))
        counted = -2 if mine else -1
        if set(map(type, chain.from_iterable(fetched))) <= _PLAIN:  # ints from the database: nothing to convert
            rows = {row[:-2]: row[-2] for row in fetched}
            return rows, sum(map(itemgetter(counted), fetched))
        for row in fetched:
            rows[tuple(_key_part(v) for v in row[:-2])] = _number(row[-2])
        return rows, sum((_number(row[counted]) for row in fetched), 0)
    if grouping.dimensions:
        rows = _rows_by_key(runner, actuals_statement(
            metric=metric, grouping=grouping, start=start, end=end, plan_id=plan_id, features=features,
            scope=scope, direct_only=direct_only))
    total = _rows_by_key(runner, actuals_statement(
        metric=metric, grouping=Grouping(()), start=start, end=end, plan_id=plan_id, features=features,
        scope=scope, direct_only=direct_only)).get((), 0)
    return rows, total


_PLAIN = {int, str, type(None)}


def features_for(
    session: Session, runner: Runner, *, plan_id: int | None = None, use_rollups: bool = True,
) -> CreditFeatures:
    """The crediting features of the plan's rule; the rollups only when the runner reads the database
    (an order file run by DuckDB has its own lines) and the caller does not ask for the lines."""
    features = credit_features(session, plan_id=plan_id)
    if features.rollups and (not use_rollups or not getattr(runner, "reads_database", False)):
        features = replace(features, rollups=False)
    return features


def _key_part(value: object) -> int | str | None:
    if value is None or isinstance(value, str):
        return value
    return int(value)  # type: ignore[call-overload]


def _labeller(session: Session, grouping: Grouping):  # type: ignore[no-untyped-def]
    org_names = dict(session.execute(select(OrgNode.id, OrgNode.name)).all()) if any(
        d in ORG_DIMENSIONS for d in grouping.dimensions) else {}
    product_names = dict(session.execute(select(ProductNode.id, ProductNode.name)).all()) if (
        "product_line" in grouping.dimensions) else {}

    def one(name: str, value: int | str | None) -> str:
        if value is None:
            return NONE_LABEL
        if name in ORG_DIMENSIONS:
            return str(org_names.get(value, value))
        if name == "product_line":
            return str(product_names.get(value, value))
        if name == "month":
            return f"{int(value) // 100}-{int(value) % 100:02d}"
        return str(value)

    # Rep × month reports have tens of thousands of rows but few distinct values per dimension:
    # one dictionary per dimension, each value labelled once.
    class Labels(dict):  # type: ignore[type-arg]
        def __init__(self, name: str):
            super().__init__()
            self.name = name

        def __missing__(self, value: int | str | None) -> str:
            text = self[value] = one(self.name, value)
            return text

    per_dimension = [Labels(name) for name in grouping.dimensions]

    def labels_of(keys: Sequence[Key]) -> list[list[str]]:
        """The labels of every key as one column per dimension, looked up a column at a time (no
        call per row)."""
        if not keys:
            return [[] for _labels in per_dimension]
        return [list(map(labels.__getitem__, column)) for labels, column in zip(per_dimension, zip(*keys))]

    return labels_of


def _sort_key(key: Key) -> tuple[object, ...]:
    # Each position holds one type (ids, or 'new'/'existing', or yyyymm); None sorts last.
    return tuple((v is None, 0 if v is None else v) for v in key)


def actuals(
    *, session: Session, period: Period, by: str | Sequence[str] | None = None, metric: str = "revenue",
    as_of: date | None = None, runner: Runner | None = None, use_rollups: bool = True,
) -> Actuals:
    """The metric's actual per row over the period (up to `as_of` when given). Needs no plan.
    `use_rollups=False` sums the order lines even where the rollups could serve (same figures)."""
    info = metric_info(session, metric)
    grouping = parse_by(by)
    check_dimensions(session, grouping.customer_attributes)
    runner = runner or SessionRunner(session)
    end = min(period.end, as_of) if as_of else period.end
    if end < period.start:
        rows: dict[Key, int | Decimal] = {}
        total: int | Decimal = 0
    else:
        rows, total = _grouped_and_total(runner, metric, grouping, period.start, end, None,
                                         features_for(session, runner, use_rollups=use_rollups))
    keys = _sorted_keys(list(rows))
    labels = list(zip(*_labeller(session, grouping)(keys))) or [() for _key in keys]
    return Actuals(
        info, period, grouping.dimensions, period.start, end,
        tuple(map(ActualRow, keys, labels, map(rows.__getitem__, keys))), total, runner.name,
    )


def resolve_plan(session: Session, period: Period, plan: str | None, *, preview: bool = False) -> Plan:
    """The plan in force for the period (named, or the newest approved one covering it); see
    `attain.plans.service.resolve_plan`, the one place that decides."""
    from attain.plans.service import resolve_plan as resolve

    return resolve(session=session, name=plan, start=period.start, end=period.end, label=period.label, preview=preview)


def plan_metric(session: Session, plan: Plan, metric: str | None) -> MetricInfo:
    """The plan's metric; a clear error when it is not the one asked for or tracking cannot total it."""
    code = session.scalar(select(Metric.code).where(Metric.id == plan.metric_id))
    if metric is not None and metric != code:
        raise InvalidInput.coded("tracking.attainment.plan_sets_targets_pass", name=plan.name, code=code, metric=metric)
    if code not in METRICS:
        raise InvalidInput.coded("tracking.attainment.plan_targets_metric_attainment", name=plan.name, code=code, items=', '.join(METRICS))
    return metric_info(session, str(code))


def history_weights(
    runner: Runner, metric: str, period: Period, plan_id: int | None = None, features: CreditFeatures | None = None,
    as_of: date | None = None,
    calendar: WorkCalendar = calc.OFFICIAL_CALENDAR,
) -> tuple[np.ndarray | None, list[str]]:
    """Seasonal day weights for the period from the company's daily sales of the last years
    (summed by the database per day), or None with a warning when there is no usable history.

    Complete months only (`plans.baseline.last_complete_month_end`): the history ends with the last
    month over before both the period and `as_of` (default today), so a running month is never a
    month share, and `seasonal_day_weights` keeps whole twelve-month years."""
    from attain.plans.baseline import add_months, last_complete_month_end

    history_end = last_complete_month_end(before=period.start, as_of=as_of or date.today())
    history_start = add_months(date(history_end.year, history_end.month, 1), 1 - 12 * HISTORY_YEARS)
    statement = actuals_statement(
        metric=metric, grouping=Grouping(()), start=history_start, end=history_end,
        by_day=True, direct_only=True, plan_id=plan_id, features=features,
    )
    daily = runner.rows(statement)
    days = day_range(period.start, period.end)
    workdays, warnings = working_day_mask(days, calendar)
    if not daily:
        return None, [f"no sales before {period.start}: expected-to-date follows working days"]
    dates = np.array([d for d, _ in daily], dtype="datetime64[D]")
    amounts = np.array([float(v) for _, v in daily])
    try:
        weights, season_warnings = seasonal_day_weights(days, workdays, dates, amounts, calendar)
    except InvalidInput as exc:
        return None, [f"{exc}: expected-to-date follows working days"]
    return weights, warnings + season_warnings


# Seasonal weights read three years of daily sales (the biggest scan of a report after its own
# rollup). A long-running process (the web app) keeps them per (database, metric, period, plan,
# crediting features) at the same data revision (`attain.revision`: no row added to a table reports
# read) and for at most HISTORY_TTL seconds, so that a dashboard does not rescan the past on every
# request.
HISTORY_TTL = 600.0
_HISTORY_CACHE: OrderedDict[tuple[object, ...], tuple[float, np.ndarray | None, list[str]]] = OrderedDict()
_HISTORY_LOCK = threading.Lock()


def _cached_history_weights(
    session: Session, runner: Runner, metric: str, period: Period, plan_id: int, features: CreditFeatures,
    as_of: date | None = None, calendar: WorkCalendar = calc.OFFICIAL_CALENDAR,
) -> tuple[np.ndarray | None, list[str]]:
    if not isinstance(runner, SessionRunner):  # an order file (DuckDB): read each time
        return history_weights(runner, metric, period, plan_id, features, as_of, calendar)
    bind = session.get_bind()
    month_of = (as_of or date.today()).replace(day=1)  # the history changes only when a month completes
    key = (str(bind.url), id(bind), metric, period.start, period.end, plan_id, features, month_of, calendar,
           data_revision(session))
    now = time.monotonic()
    with _HISTORY_LOCK:
        found = _HISTORY_CACHE.get(key)
        if found is not None and found[0] > now:
            _HISTORY_CACHE.move_to_end(key)
            return found[1], list(found[2])
    weights, warnings = history_weights(runner, metric, period, plan_id, features, as_of, calendar)
    if weights is not None:
        weights.setflags(write=False)  # shared by every report that hits the cache
    with _HISTORY_LOCK:
        _HISTORY_CACHE[key] = (now + HISTORY_TTL, weights, list(warnings))
        while len(_HISTORY_CACHE) > 64:
            _HISTORY_CACHE.popitem(last=False)
    return weights, warnings


def attainment(
    *, session: Session, period: Period, by: str | Sequence[str] | None = None, plan: str | None = None,
    as_of: date | None = None, metric: str | None = None, runner: Runner | None = None, within: int | None = None,
    parallel: bool = False, use_rollups: bool = True, preview: bool = False, figures: bool = True,
) -> Attainment:
    """Actual vs target per row, as row objects: the view of `attainment_columns` (same arguments)
    for templates, tables and code that walks rows."""
    columns = attainment_columns(
        session=session, period=period, by=by, plan=plan, as_of=as_of, metric=metric, runner=runner, within=within,
        parallel=parallel, use_rollups=use_rollups, preview=preview, figures=figures,
    )
    with no_cyclic_gc():
        return columns.view()


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a report makes its objects: a rep × month report
    reads and makes hundreds of thousands (keys, fractions, database rows), none of them in a cycle,
    and each collection of the older generations walks every object of the process (a third of the
    report's time on 60,000 rows). Reference counting frees them as usual; the collector is
    switched back on after (by the caller that switched it off, when reports overlap in threads)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def attainment_columns(
    *, session: Session, period: Period, by: str | Sequence[str] | None = None, plan: str | None = None,
    as_of: date | None = None, metric: str | None = None, runner: Runner | None = None, within: int | None = None,
    parallel: bool = False, use_rollups: bool = True, preview: bool = False, figures: bool = True,
) -> AttainmentColumns:
    """Actual vs target per row at `as_of` (default today), with progress, forecasts and status.

    The targets are the plan version in force; `preview` reads the pending revision instead (the
    explicit "preview the draft" view).

    `within` (an org node id) limits the report to that node's part of the company, in SQL: its
    rows are the nodes under it and its total is the node itself (a rep's dashboard reads 1/5,000
    of the lines, not all of them and a filter).

    `parallel` runs the rollup on a connection of its own while the session reads the plan cells,
    targets and seasonal history (the database works on both at once; 1.7 s of a 10,000,000-line
    rep × month report on PostgreSQL). That connection sees committed data only: the CLI and the web
    app ask for it; code that reports on rows it has not committed yet must not.

    `figures=False` answers the actuals and targets alone, the same as with figures, without what
    only a report shows: no labels, no seasonal history and no progress/forecast figures (rows' and
    total's `figures` are None). Incentive statements read a year of rep × month attainment so."""
    with no_cyclic_gc():
        return _attainment_columns(
            session=session, period=period, by=by, plan=plan, as_of=as_of, metric=metric, runner=runner, within=within,
            parallel=parallel, use_rollups=use_rollups, preview=preview, figures=figures,
        )


def _attainment_columns(
    *, session: Session, period: Period, by: str | Sequence[str] | None = None, plan: str | None = None,
    as_of: date | None = None, metric: str | None = None, runner: Runner | None = None, within: int | None = None,
    parallel: bool = False, use_rollups: bool = True, preview: bool = False, figures: bool = True,
) -> AttainmentColumns:
    """`attainment_columns` (the collector paused by the caller)."""
    grouping = parse_by(by)
    check_dimensions(session, grouping.customer_attributes)
    chosen = resolve_plan(session, period, plan, preview=preview)
    info = plan_metric(session, chosen, metric)
    runner = runner or SessionRunner(session)
    as_of = as_of or date.today()
    tree = load_org_tree(session)
    calendar = company_calendar(session=session)
    scope = _scope(session, tree, grouping, within)
    within = None if scope is None else scope.node_id
    features = features_for(session, runner, plan_id=chosen.id, use_rollups=use_rollups)
    actual_rows: dict[Key, int | Decimal] = {}
    total_actual: int | Decimal = 0
    rollup: Future[tuple[dict[Key, int | Decimal], int | Decimal]] | None = None
    pool = None
    if as_of >= period.start:
        def compute(on: Runner) -> tuple[dict[Key, int | Decimal], int | Decimal]:
            return _grouped_and_total(on, info.code, grouping, period.start, min(period.end, as_of), chosen.id,
                                      features, scope)

        bind = session.get_bind()
        if parallel and isinstance(runner, SessionRunner) and isinstance(bind, Engine) and _own_connections(bind):
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="attain-rollup")
            rollup = pool.submit(_on_own_connection, bind, compute)
        else:
            actual_rows, total_actual = compute(runner)
    try:
        cells = plan_cells_between(session, chosen, period.start, period.end, grouping,
                                   under=None if scope is None else scope.path)
        targets = target_columns(session, chosen, period.start, period.end, grouping, tree=tree, cells=cells,
                                 within=within, calendar=calendar) if grouping.dimensions else TargetColumns([], [], [], [])
        if figures:
            weights, warnings = _cached_history_weights(session, runner, info.code, period, chosen.id, features, as_of,
                                                        calendar)
            labels_of = _labeller(session, grouping)
        else:
            weights, warnings = None, []

            def labels_of(keys: Sequence[Key]) -> list[list[str]]:  # no labels: the rows' are ()
                return []
        if rollup is not None:
            actual_rows, total_actual = rollup.result()
    finally:
        if pool is not None:
            pool.shutdown()
    progress_cache: dict[tuple[date, date], int] = {}
    progresses: list[calc.TimeProgress] = []

    def progress_of(start: date, end: date) -> int:
        """Index of the window's time progress in `progresses` (a rep × month report has 12)."""
        if (start, end) not in progress_cache:
            sliced = None
            if weights is not None:
                sliced = weights[(start - period.start).days:(end - period.start).days + 1]
            progress_cache[(start, end)] = len(progresses)
            progresses.append(calc.time_progress(start, end, as_of, day_weights=sliced, calendar=calendar))
        return progress_cache[(start, end)]

    whole_period = progress_of(period.start, period.end)
    month_position = grouping.dimensions.index("month") if "month" in grouping.dimensions else None

    def window_of(yyyymm: int | None) -> int:
        if yyyymm is None:
            return whole_period
        month_start = date(int(yyyymm) // 100, int(yyyymm) % 100, 1)
        month_end = date(month_start.year + month_start.month // 12, month_start.month % 12 + 1, 1) - timedelta(days=1)
        return progress_of(max(month_start, period.start), min(month_end, period.end))

    # Rows are built a column at a time (map, no call per row): a rep × month report has 60,000.
    target_at = dict(zip(targets.keys, range(len(targets.keys))))
    # The target keys first, in their order (each window's keys ascend by node: runs that the sort
    # merges with few comparisons), then the keys of actuals without a target.
    keys = _sorted_keys([*target_at, *(actual_rows.keys() - target_at.keys())])
    # Each row's index in the target columns; rows without a target read the None added after the last.
    at = list(map(target_at.get, keys, repeat(len(targets.keys))))
    target_values = list(map([*targets.values, None].__getitem__, at))
    sources = list(map([*targets.sources, None].__getitem__, at))
    node_ids = list(map([*targets.node_ids, None].__getitem__, at))
    for i in [i for i, source in enumerate(sources) if source is None]:
        node_ids[i] = _node_of(grouping, keys[i])
    # The company total reads the same cells unless the rows are per product line or customer type.
    same_cells = not {"product_line", "customer_type"} & set(grouping.dimensions) and not grouping.customer_attributes
    total_target, total_source = company_target(session, chosen, period, tree=tree, cells=cells if same_cells else None,
                                                within=within)
    rounded, has_target = calc.round_many(target_values)
    if total_target is None:
        # No company-level figure (e.g. targets only per product line): the rows' (rounded) targets
        # add up, managers' own targets left out (their people's rows hold them already).
        counted = has_target & np.fromiter((source not in (None, calc.MANAGER_OWN) for source in sources), bool, len(sources))
        total_target = Fraction(sum(rounded[counted].tolist())) if counted.any() else None
        total_source = "sum of rows" if counted.any() else None
    actual_values = [*map(actual_rows.get, keys, repeat(0)), total_actual]
    if month_position is None:
        windows = np.full(len(keys) + 1, whole_period, dtype=np.int64)
    else:
        months = [key[month_position] for key in keys]
        window_of_month = {month: window_of(month) for month in dict.fromkeys(months)}  # type: ignore[arg-type]
        windows = np.fromiter(chain(map(window_of_month.__getitem__, months), (whole_period,)), np.int64, len(keys) + 1)
    figure_columns = (calc.figure_columns(actual_values, [*target_values, total_target], progresses, windows)
                      if figures else None)
    if total_source != calc.OWN:
        warnings.extend(_manager_warnings(tree, node_ids, sources))
    total_node = within if within is not None else tree.roots[0] if len(tree.roots) == 1 else None
    total = AttainmentRow((), (), total_node, total_actual,
                          None if total_target is None else calc.round_fraction(Fraction(total_target)),
                          total_source, progresses[whole_period],
                          None if figure_columns is None else figure_columns.take(slice(-1, None)).figures()[0])
    return AttainmentColumns(
        chosen.name, chosen.version, chosen.id, info, period, as_of, grouping.dimensions, keys,
        tuple(zip(*keys)) if keys else tuple(() for _ in grouping.dimensions), tuple(labels_of(keys)), node_ids,
        actual_values[:-1], rounded, has_target, sources, tuple(progresses), windows[:-1],
        None if figure_columns is None else figure_columns.take(slice(None, -1)), total, tuple(warnings), runner.name,
    )


def _names(tree: OrgTree, nodes: list[int]) -> str:
    return ", ".join(tree.names.get(n, str(n)) for n in nodes[:5]) + (" …" if len(nodes) > 5 else "")


def _manager_warnings(tree: OrgTree, node_ids: Sequence[int | None], sources: Sequence[str | None]) -> list[str]:
    """What a total built from rows says about managers' targets: left out (manager_titles set),
    or added although the titles suggest they cover other rows (setting unset). `sources[i]` is
    None where row i has no target."""
    managers = sorted({node for node, source in zip(node_ids, sources) if source == calc.MANAGER_OWN})
    if managers:
        return [(f"the total leaves out the own targets of {len(managers)} managers ({_names(tree, managers)}): "
                 f"their people's targets are in it (setting manager_titles)")]
    likely = sorted({node for node, source in zip(node_ids, sources) if source is not None and node in tree.likely_managers})
    if likely:
        return [(f"the total adds the own targets of {_names(tree, likely)}, whose titles suggest managers; if their "
                 f"targets cover their people's, `attain config set manager_titles 'manager|director'` leaves them out")]
    return []


def _own_connections(engine: Engine) -> bool:
    """Whether a second connection reads the same database (not an in-memory SQLite)."""
    return engine.dialect.name != "sqlite" or engine.url.database not in (None, "", ":memory:")


def _on_own_connection(engine: Engine, compute):  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return compute(ConnectionRunner(connection))


_LEVEL = {"region": 1, "team": 2, "rep": 3}


def _scope(session: Session, tree: OrgTree, grouping: Grouping, within: int | None) -> Scope | None:
    """The report's scope for `within` (None for the whole company); rows by a level above the
    node (by region within a team) are refused, as they would show a part as the whole."""
    if within is None:
        return None
    node = session.get(OrgNode, within)
    if node is None:
        raise NotFound.coded("tracking.attainment.org_node_id", within=within)
    if node.parent_id is None:
        return None
    above = [d for d in grouping.dimensions if d in _LEVEL and _LEVEL[d] < _LEVEL.get(node.kind, 0)]
    if above:
        raise InvalidInput.coded("tracking.attainment.within_report_level_below", code=node.code, kind=node.kind, above=above[0])
    return Scope(node.id, node.kind, node.path)


def _sorted_keys(keys: list[Key]) -> list[Key]:
    """Report order: by each dimension in turn, None last. Plain tuple order when no key holds None."""
    if any(None in key for key in keys):
        return sorted(keys, key=_sort_key)
    return sorted(keys)


def _node_of(grouping: Grouping, key: Key) -> int | None:
    org = grouping.org
    if org is None:
        return None
    value = key[grouping.dimensions.index(org)]
    return int(value) if isinstance(value, int) else None



def resolve_period(session: Session, text: str, today: date | None = None) -> Period:
    """A period as people type it (attain.periods.parse_period_text: labels, 2026年3月, 本月, 近30天 …),
    fiscal labels read with the company's fiscal year (setting fiscal_year_start_month) and relative
    words counted from `today` (default: the real today). The CLI and the web both read periods here."""
    from attain.periods import parse_period_text
    from attain.settings.service import get_setting

    return parse_period_text(text, today or date.today(), int(get_setting(session, "fiscal_year_start_month")))
