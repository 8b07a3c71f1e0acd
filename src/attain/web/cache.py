"""Dashboard figures kept per process for a short while, keyed by everything they depend on.

A dashboard costs tens to hundreds of milliseconds of SQL at a million order lines; the same figures
are asked for again and again (20 people reloading, the TV wall). The cache keeps them per (database,
node, plan id and version, as-of day, data revision) for at most `ttl_seconds()`:

- the **data revision** is one SELECT of a few index lookups (`max(id)` of every table the figures
  read, count and newest `updated_at` of the settings), so a new order line, import, plan version,
  cell change, crediting row, opportunity, activity or org node is seen on the very next request;
- an UPDATE in place (a plan approved without a new version, a node moved, a credit rule edited)
  does not change `max(id)`: such a change shows after at most the TTL (default 60 s,
  `ATTAIN_DASHBOARD_CACHE_SECONDS`, 0 turns the cache off);
- the revision read is shared by the requests of one process for a very short while
  (`shared_revision`: a revision read less than `revision_seconds()` ago, default 0.25 s,
  `ATTAIN_DASHBOARD_REVISION_SECONDS`, 0 = read on every request). Any commit made through this
  process (an import, a plan edit, a test inserting a row) forgets it at once; a row added by
  another process (another worker, the CLI, psql) is seen within that window — far inside the TTL
  that in-place changes already wait, so it adds no new kind of staleness.

The cache never decides who may see what: callers check access to the node on every request first
and only then look up the node's figures. Each process (uvicorn worker) has its own cache.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from attain.revision import COUNTED_TABLES, REVISION_TABLES, data_revision

log = logging.getLogger(__name__)
TTL_ENV = "ATTAIN_DASHBOARD_CACHE_SECONDS"
DEFAULT_TTL_SECONDS = 60.0
REVISION_ENV = "ATTAIN_DASHBOARD_REVISION_SECONDS"
DEFAULT_REVISION_SECONDS = 0.25
MAX_ENTRIES = 4096

__all__ = ["COUNTED_TABLES", "REVISION_TABLES", "data_revision"]  # re-exported: defined in attain.revision

V = TypeVar("V")


def database_key(session: Session) -> tuple[str, int]:
    """The database a session reads (URL and engine identity: one process may serve several)."""
    bind = session.get_bind()
    return (bind.url.render_as_string(hide_password=True), id(bind))


def _seconds(name: str, default: float, zero_means: str) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        seconds = float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number of seconds (0 {zero_means}), not {raw!r}") from exc
    return max(seconds, 0.0)


def ttl_seconds() -> float:
    """How long an entry lives: ATTAIN_DASHBOARD_CACHE_SECONDS (0 = no cache), default 60 s."""
    return _seconds(TTL_ENV, DEFAULT_TTL_SECONDS, "turns the cache off")


def revision_seconds() -> float:
    """How long one process reuses a data revision it read: ATTAIN_DASHBOARD_REVISION_SECONDS
    (0 = read it on every request), default 0.25 s."""
    return _seconds(REVISION_ENV, DEFAULT_REVISION_SECONDS, "reads the revision on every request")


# The last data revision read per database in this process: {database_key: (read at, revision)}.
# `_generation` counts commits made through this process; a read that a commit overtook is not kept.
REVISION_CLOCK: Callable[[], float] = time.monotonic
_revisions: dict[tuple[str, int], tuple[float, tuple[Any, ...]]] = {}
_revision_lock = threading.Lock()
_generation = 0


def forget_revisions() -> None:
    """Drop every shared revision: the next request of this process reads it again."""
    global _generation
    with _revision_lock:
        _generation += 1
        _revisions.clear()


@event.listens_for(Engine, "commit")
def _forget_on_commit(_connection: Connection) -> None:
    # Any transaction committed through this process may have added a row the figures read. This
    # fires just before the database commits; the Session hook below fires after it, so that a
    # revision read in between is not kept either (the app's own writes all go through sessions).
    forget_revisions()


@event.listens_for(Session, "after_commit")
def _forget_after_commit(_session: Session) -> None:
    forget_revisions()


def shared_revision(session: Session) -> tuple[Any, ...]:
    """`data_revision(session)`, or the one this process read for the same database less than
    `revision_seconds()` ago (and before no commit of this process since): concurrent requests
    share one revision query instead of each sending it."""
    window = revision_seconds()
    if window <= 0:
        return data_revision(session)
    key = database_key(session)
    started = REVISION_CLOCK()
    with _revision_lock:
        found = _revisions.get(key)
        generation = _generation
    if found is not None and 0 <= started - found[0] < window:
        return found[1]
    revision = data_revision(session)
    with _revision_lock:
        if generation == _generation:  # no commit of this process since the read began
            if len(_revisions) >= 64:
                _revisions.clear()
            _revisions[key] = (started, revision)
    return revision


class TtlLru(Generic[V]):
    """A thread-safe map of at most `max_entries` values, each kept `ttl_seconds()` after it was
    stored; the least recently used goes first when full. Values are shared between threads: store
    only values nobody mutates."""

    def __init__(self, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        found = self.lookup(key)
        return found[0] if found is not None and found[1] else None

    def lookup(self, key: Hashable, stale_for: float = 0.0) -> tuple[V, bool] | None:
        """(value, fresh) for a value stored less than its TTL ago (fresh) or less than its TTL
        plus `stale_for` seconds ago (stale); None otherwise (an entry past both is dropped)."""
        now = self.clock()
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] + stale_for <= now:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return found[1], found[0] > now

    def put(self, key: Hashable, value: V, ttl: float) -> None:
        with self._lock:
            self._entries[key] = (self.clock() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


# Refreshes of stale entries run here, one at a time, off the request path.
_refresher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="attain-dashboard-refresh")
_refreshing: set[Hashable] = set()
_refreshing_lock = threading.Lock()
_pending: list[Future[None]] = []


def wait_for_refreshes() -> None:
    """Block until every background refresh started so far has finished (tests, shutdown)."""
    with _refreshing_lock:
        pending = list(_pending)
        _pending.clear()
    for future in pending:
        future.result()


def _refresh(store: TtlLru[V], engine: Any, full_key: tuple[Hashable, ...], refresh: Callable[[Session], V],
             ttl: float) -> None:
    try:
        with Session(bind=engine) as session:
            store.put(full_key, refresh(session), ttl)
    except Exception:
        # The stale entry expires on its own and the next request computes it in the open.
        log.exception("refreshing dashboard figures %s failed", full_key[1:-1])
        raise
    finally:
        with _refreshing_lock:
            _refreshing.discard(full_key)


def cached(
    store: TtlLru[V], session: Session, key: tuple[Hashable, ...], compute: Callable[[], V],
    refresh: Callable[[Session], V] | None = None,
) -> V:
    """`compute()`'s value for `key` in this database at its current data revision, from `store`
    when a fresh one is there. Two requests missing at once both compute (no lock is held while
    computing); the later one's value stays.

    With `refresh` (the same computation on a session of its own), an entry past its TTL but at the
    same data revision is served once more while a background thread recomputes it
    (stale-while-revalidate): a request never waits for the once-a-TTL recomputation of figures
    whose data rows did not change. Such an entry is at most two TTLs old; a new data revision (an
    import, a new order line, a plan change) is always computed on the request."""
    ttl = ttl_seconds()
    if ttl <= 0:
        return compute()
    full_key = (database_key(session), *key, shared_revision(session))
    found = store.lookup(full_key, stale_for=ttl if refresh is not None else 0.0)
    if found is not None:
        value, fresh = found
        if not fresh and refresh is not None:
            with _refreshing_lock:
                start = full_key not in _refreshing
                if start:
                    _refreshing.add(full_key)
                    _pending.append(_refresher.submit(_refresh, store, session.get_bind(), full_key, refresh, ttl))
                    del _pending[:-64]
        return value
    value = compute()
    store.put(full_key, value, ttl)
    return value
