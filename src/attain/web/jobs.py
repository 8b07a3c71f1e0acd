"""Background jobs with progress: in-process threads by default, RQ workers when Redis is configured.

Every job is a row in `jobs` (queued → running → succeeded | failed) written by the code that runs
it, so a job that fails is reported with its error — whether it ran in this process or on an RQ
worker — and the page polling it sees progress. Job functions are registered by name with `@task`
and receive a `JobContext` (database URL, `progress()`) and the JSON params given at submission.

Backends:
- thread (default): a small ThreadPoolExecutor in the web process.
- rq: set ATTAIN_REDIS_URL=redis://host:6379/0 and run `rq worker attain --url $ATTAIN_REDIS_URL`
  (the worker imports `attain`; uploaded files must be on a disk the worker can read, see
  ATTAIN_UPLOAD_DIR).

A job whose process dies cannot record its own end, so reading a queued or running job checks that
something still runs it (`get_job`, `recent_jobs`) and fails it with a message when nothing does: a
thread job whose process (host, pid and start time, kept in `jobs.worker`) is gone, or whose thread
in this process has ended; an RQ job that RQ itself has failed, stopped or forgotten — RQ runs the
failure callback when a whole worker is lost, but not when the work horse running the job dies.

The daily alert check is a scheduler thread started by `attain serve` (`start_scheduler`): it
submits the `alerts` task once a day at ATTAIN_ALERT_HOUR (default 7) local time.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from attain.auth.models import Job
from attain.db import get_engine, make_session_factory
from attain.errors import AttainError, ImportRejected, InvalidInput, NotFound

log = logging.getLogger("attain.jobs")
QUEUE_NAME = os.environ.get("ATTAIN_RQ_QUEUE", "attain")
REDIS_URL_VARIABLE = "ATTAIN_REDIS_URL"

TaskFunction = Callable[["JobContext", dict[str, Any]], Any]
TASKS: dict[str, TaskFunction] = {}
_EXECUTOR: ThreadPoolExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()


def task(name: str) -> Callable[[TaskFunction], TaskFunction]:
    """Register a job function under `name` (the `kind` given to `submit`)."""

    def register(function: TaskFunction) -> TaskFunction:
        TASKS[name] = function
        return function

    return register


def now() -> datetime:
    return datetime.now().replace(microsecond=0)


@dataclass
class JobContext:
    job_id: str
    database_url: str

    def session(self) -> Session:
        return make_session_factory(get_engine(self.database_url))()

    def progress(self, percent: int, message: str | None = None) -> None:
        """Record progress (0-100) and a short message, best effort: in this process at once, and in
        the job row through its own short transaction. On SQLite that write cannot happen while the
        job's own transaction holds the database (an import), so it is skipped, never waited for."""
        value = max(0, min(100, int(percent)))
        _LIVE[self.job_id] = (value, message)
        try:
            with _progress_engine(self.database_url).begin() as connection:
                connection.execute(update(Job).where(Job.id == self.job_id).values(progress=value, message=message))
        except SQLAlchemyError:
            log.debug("progress of job %s not written (database busy)", self.job_id)


# Live progress of the jobs running in this process: {job id: (percent, message)}.
_LIVE: dict[str, tuple[int, str | None]] = {}


@lru_cache(maxsize=8)
def _progress_engine(database_url: str) -> Engine:
    """Engine for progress writes: on SQLite one that gives up at once instead of waiting for the lock."""
    if database_url.startswith("sqlite"):
        return create_engine(database_url, connect_args={"timeout": 0.05, "check_same_thread": False})
    return get_engine(database_url)


def redis_url() -> str | None:
    return os.environ.get(REDIS_URL_VARIABLE) or None


def backend_name() -> str:
    return "rq" if redis_url() else "thread"


def submit(
    *, session: Session, kind: str, params: dict[str, Any], database_url: str, user_id: int | None = None,
    backend: str | None = None,
) -> Job:
    """Record a queued job and hand it to the backend; returns the job row (poll it with `get_job`)."""
    if kind not in TASKS:
        raise InvalidInput.coded("web.jobs.unknown_job_kind_known", kind=kind, items=', '.join(sorted(TASKS)))
    chosen = backend or backend_name()
    job = Job(id=uuid.uuid4().hex, kind=kind, status="queued", progress=0, params=params, user_id=user_id,
              backend=chosen, worker=worker_identity() if chosen == "thread" else None, created_at=now())
    if chosen == "thread":
        _ACTIVE.add(job.id)  # before the row is visible: a poll must never find it unowned
    session.add(job)
    session.commit()
    try:
        if chosen == "rq":
            _enqueue_rq(job.id, database_url)
        else:
            _executor().submit(run_job, database_url, job.id)
    except Exception as exc:  # noqa: BLE001 -- a queue that is down must show as a failed job, not vanish
        _finish(database_url, job.id, status="failed", error=f"could not queue the job: {type(exc).__name__}: {exc}")
        _ACTIVE.discard(job.id)
    session.refresh(job)
    return job


def _executor() -> ThreadPoolExecutor:
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None:
            _EXECUTOR = ThreadPoolExecutor(max_workers=int(os.environ.get("ATTAIN_JOB_THREADS", "2")),
                                           thread_name_prefix="attain-job")
        return _EXECUTOR


def wait_idle(timeout: float = 30.0) -> None:
    """Wait for the in-process jobs submitted so far (tests and shutdown)."""
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        executor, _EXECUTOR = _EXECUTOR, None
    if executor is not None:
        executor.shutdown(wait=True)


def _enqueue_rq(job_id: str, database_url: str) -> None:
    from redis import Redis
    from rq import Queue
    from rq.job import Callback

    url = redis_url()
    if not url:
        raise InvalidInput.coded("web.jobs.rq_backend_needs", redis_url_variable=REDIS_URL_VARIABLE)
    queue = Queue(os.environ.get("ATTAIN_RQ_QUEUE", QUEUE_NAME), connection=Redis.from_url(url))
    queue.enqueue(
        run_job, database_url, job_id, job_id=job_id, job_timeout=6 * 3600, result_ttl=86400, failure_ttl=7 * 86400,
        on_failure=Callback(rq_failed),
    )


def rq_failed(rq_job, connection, exc_type, exc_value, tb) -> None:  # type: ignore[no-untyped-def]
    """RQ's failure callback: the worker died or timed out outside our own error handling."""
    database_url, job_id = rq_job.args[0], rq_job.args[1]
    _finish(database_url, job_id, status="failed", error=f"{getattr(exc_type, '__name__', 'error')}: {exc_value}",
            only_if_unfinished=True)


def run_job(database_url: str, job_id: str) -> None:
    """Run one recorded job to the end, recording success or the error. Never raises for job errors."""
    factory = make_session_factory(get_engine(database_url))
    with factory() as session:
        job = session.get(Job, job_id)
        if job is None:
            log.error("job %s vanished before it ran", job_id)
            return
        kind, params = job.kind, dict(job.params or {})
        session.execute(update(Job).where(Job.id == job_id).values(status="running", started_at=now()))
        session.commit()
    function = TASKS.get(kind)
    context = JobContext(job_id=job_id, database_url=database_url)
    try:
        if function is None:
            raise InvalidInput.coded("web.jobs.worker_does_know_job", kind=kind)
        result = function(context, params)
    except ImportRejected as exc:
        _finish(database_url, job_id, status="failed", error=str(exc),
                result={"errors": [e.as_dict() for e in exc.errors[:1000]], "error_count": len(exc.errors)})
    except AttainError as exc:
        _finish(database_url, job_id, status="failed", error=str(exc))
    except Exception as exc:  # noqa: BLE001 -- record every failure; the traceback goes to the log
        log.error("job %s (%s) failed:\n%s", job_id, kind, traceback.format_exc())
        _finish(database_url, job_id, status="failed", error=f"{type(exc).__name__}: {exc}")
    else:
        _finish(database_url, job_id, status="succeeded", result=result)
    finally:
        _ACTIVE.discard(job_id)


def _finish(database_url: str, job_id: str, *, status: str, error: str | None = None, result: Any = None,
            only_if_unfinished: bool = False) -> None:
    live = _LIVE.pop(job_id, None)
    with make_session_factory(get_engine(database_url))() as session:
        statement = update(Job).where(Job.id == job_id)
        if only_if_unfinished:
            statement = statement.where(Job.status.in_(("queued", "running")))
        values: dict[str, Any] = {"status": status, "error": error, "finished_at": now()}
        if live is not None:  # where it got to, even if the last progress write was skipped
            values["progress"], values["message"] = live
        if status == "succeeded":
            values["progress"] = 100
        if result is not None:
            values["result"] = result
        session.execute(statement.values(**values))
        session.commit()


def get_job(*, session: Session, job_id: str) -> Job | None:
    """The job, or None; a job left unfinished by a process that is gone is failed first."""
    job = session.get(Job, job_id) if len(job_id) <= 32 else None
    if job is not None:
        fail_if_orphaned(session=session, job=job)
    return job


def require_job(*, session: Session, job_id: str, user_id: int | None = None, is_admin: bool = False) -> Job:
    """The job, if it exists and belongs to the user (admins see every job); NotFound otherwise."""
    job = get_job(session=session, job_id=job_id)
    if job is None or (not is_admin and job.user_id != user_id):
        raise NotFound.coded("web.jobs.job", job_id=job_id)
    return job


def job_dict(job: Job) -> dict[str, Any]:
    progress, message = job.progress, job.message
    if job.status in ("queued", "running") and job.id in _LIVE:
        progress, message = _LIVE[job.id]
    return {
        "id": job.id, "kind": job.kind, "status": job.status, "progress": progress, "message": message,
        "error": job.error, "result": job.result, "backend": job.backend,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def fail_interrupted(*, session: Session, older_than: timedelta = timedelta(0)) -> int:
    """Mark in-process jobs left queued/running by a stopped server as failed (called at start-up).
    A job of another server process on this host that still runs is left to it."""
    cutoff = now() - older_than
    unfinished = session.execute(
        select(Job.id, Job.worker).where(Job.backend == "thread", Job.status.in_(UNFINISHED), Job.created_at <= cutoff)
    ).all()
    stopped = [job_id for job_id, worker in unfinished if worker is None or not _process_alive(worker)]
    count = 0
    for first in range(0, len(stopped), 500):
        count += session.execute(
            update(Job).where(Job.id.in_(stopped[first:first + 500]), Job.status.in_(UNFINISHED))
            .values(status="failed", error="the server stopped while this job was running; run it again",
                    finished_at=now())
        ).rowcount or 0
    session.commit()
    return count


def recent_jobs(*, session: Session, user_id: int | None, limit: int = 20) -> list[Job]:
    query = select(Job).order_by(Job.created_at.desc()).limit(limit)
    if user_id is not None:
        query = query.where(Job.user_id == user_id)
    jobs = list(session.scalars(query))
    for job in jobs:
        fail_if_orphaned(session=session, job=job)
    return jobs


# --- jobs whose process is gone --------------------------------------------------------------------

UNFINISHED = ("queued", "running")
# Thread jobs submitted in this process and not finished yet.
_ACTIVE: set[str] = set()


def worker_identity(pid: int | None = None) -> str:
    """A process as host/pid/start time (a pid is reused; with its start time it is not)."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}/{pid}/{_start_time(pid)}"


def _start_time(pid: int) -> str:
    """When the process started, in clock ticks since boot (Linux /proc); '' where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[-1].split()  # after "pid (command)" come fields 3, 4, …; starttime is 22
    return fields[19] if len(fields) > 19 else ""


def _process_alive(worker: str) -> bool:
    """Whether the process `worker` (from worker_identity) still runs; one on another host counts as
    stopped, as a thread job there belongs to a server that is not this one."""
    host, _, rest = worker.partition("/")
    pid, _, started = rest.partition("/")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if started:
        return _start_time(int(pid)) == started
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def orphan_reason(job: Job) -> str | None:
    """Why nothing runs this queued/running job any more, or None while something may."""
    if job.status not in UNFINISHED:
        return None
    if job.backend == "thread":
        if job.worker is None:  # from before workers were recorded: fail_interrupted at start-up
            return None
        if job.worker == worker_identity():
            return None if job.id in _ACTIVE else "its thread ended"
        host = job.worker.partition("/")[0]
        if host != socket.gethostname():
            return None  # another server's job: that server (or its restart) decides
        return None if _process_alive(job.worker) else "the server process running it stopped (out of memory or killed)"
    if job.backend == "rq":
        return _rq_orphan_reason(job.id)
    return None


def fail_if_orphaned(*, session: Session, job: Job) -> None:
    """Mark `job` failed, with the reason, when nothing runs it any more (see orphan_reason)."""
    reason = orphan_reason(job)
    if reason is None:
        return
    try:
        session.execute(
            update(Job).where(Job.id == job.id, Job.status.in_(UNFINISHED))
            .values(status="failed", error=f"the job stopped without finishing: {reason}; run it again",
                    finished_at=now())
        )
        session.commit()
    except SQLAlchemyError:  # the database is busy (SQLite): the next look tries again
        session.rollback()
        log.debug("could not mark orphaned job %s failed", job.id)
        return
    _LIVE.pop(job.id, None)
    session.refresh(job)


@lru_cache(maxsize=4)
def _redis(url: str):  # type: ignore[no-untyped-def]
    from redis import Redis

    return Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _rq_orphan_reason(job_id: str) -> str | None:
    """Why RQ no longer runs this job: RQ failed or stopped it (a work horse that died), or forgot it."""
    url = redis_url()
    if not url:
        return None
    from redis.exceptions import RedisError
    from rq.exceptions import NoSuchJobError
    from rq.job import Job as QueuedJob

    try:
        queued = QueuedJob.fetch(job_id, connection=_redis(url))
        status = str(queued.get_status(refresh=False).value)
        if status not in ("failed", "stopped", "canceled"):
            return None
        latest = queued.latest_result()
    except NoSuchJobError:
        return "the queue no longer holds it (Redis was emptied, or its record expired)"
    except RedisError:
        return None  # the queue is down: nothing can be told
    detail = (latest.exc_string or "").strip().splitlines()[-1:] if latest is not None else []
    return f"the worker {status} it" + (f" ({detail[0].strip(' ;')})" if detail else "")


# --- scheduler ---------------------------------------------------------------------------------------


def next_run(after: datetime, hour: int) -> datetime:
    """The next time of day `hour`:00 strictly after `after`."""
    candidate = after.replace(hour=hour, minute=0, second=0, microsecond=0)
    return candidate if candidate > after else candidate + timedelta(days=1)


def start_scheduler(database_url: str, *, hour: int | None = None, kind: str = "alerts") -> threading.Thread:
    """A daemon thread submitting the daily `kind` job at `hour` o'clock (ATTAIN_ALERT_HOUR, default 7).

    With several web processes, run the scheduler in one only (`attain serve --no-scheduler` elsewhere).
    """
    chosen_hour = hour if hour is not None else int(os.environ.get("ATTAIN_ALERT_HOUR", "7"))
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            due = next_run(datetime.now(), chosen_hour)
            if stop.wait(max(1.0, (due - datetime.now()).total_seconds())):
                return
            try:
                with make_session_factory(get_engine(database_url))() as session:
                    submit(session=session, kind=kind, params={"date": due.date().isoformat()},
                           database_url=database_url)
            except Exception:
                log.exception("could not submit the daily %s job", kind)

    thread = threading.Thread(target=loop, name="attain-scheduler", daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread


# --- uploads nobody imports ----------------------------------------------------------------------------

UPLOAD_TTL_ENV = "ATTAIN_UPLOAD_TTL_HOURS"


def upload_ttl() -> timedelta:
    """How long a previewed upload waits for its import (ATTAIN_UPLOAD_TTL_HOURS, default 24)."""
    try:
        hours = float(os.environ.get(UPLOAD_TTL_ENV, "") or 24)
    except ValueError:
        hours = 24.0
    return timedelta(hours=hours if hours > 0 else 24)


def purge_stale_uploads(*, session: Session, folder: Path | None = None, older_than: timedelta | None = None,
                        at: datetime | None = None) -> int:
    """Delete uploads (one random folder each) untouched for `older_than` (default `upload_ttl()`):
    files previewed but never imported. A file that an unfinished import job still reads is kept.
    Returns how many were deleted. Called before each new upload is stored."""
    import re
    import shutil

    from attain.web.api.imports import upload_dir

    folder = upload_dir() if folder is None else folder
    cutoff = ((at or datetime.now()) - (older_than or upload_ttl())).timestamp()
    in_use = {Path(str((params or {}).get("path", ""))).parent.name for params in session.scalars(
        select(Job.params).where(Job.kind == "import", Job.status.in_(UNFINISHED)))}
    deleted = 0
    for entry in folder.iterdir() if folder.is_dir() else ():
        if not re.fullmatch(r"[0-9a-f]{32}", entry.name) or not entry.is_dir() or entry.name in in_use:
            continue
        try:
            newest = max([entry.stat().st_mtime] + [f.stat().st_mtime for f in entry.iterdir()])
        except OSError:  # deleted meanwhile (its job finished)
            continue
        if newest < cutoff:
            shutil.rmtree(entry, ignore_errors=True)
            deleted += 1
    return deleted


# --- built-in tasks ------------------------------------------------------------------------------------


@task("import")
def import_task(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Import an uploaded file (all or nothing): params kind, path, mapping (field=Column list), sheet."""
    from pathlib import Path

    from attain.imports.service import ImportOptions, import_file

    steps = {"reading": 10, "validating": 30}
    reached = [5]

    def step(message: str) -> None:
        first = message.split(" ", 1)[0]
        reached[0] = max(reached[0], steps.get(first, min(95, reached[0] + 10)))
        context.progress(reached[0], message)

    options = ImportOptions(mapping=tuple(params.get("mapping") or ()), sheet=params.get("sheet") or None)
    path = Path(params["path"])
    context.progress(5, f"queued {path.name}")
    try:
        with context.session() as session:
            result = import_file(session=session, kind=params["kind"], path=path, options=options, progress=step)
    finally:
        if params.get("delete_after"):
            from attain.web.api.imports import discard_upload

            discard_upload(path)
    return {
        "kind": result.kind, "rows": result.rows, "inserted": result.inserted, "updated": result.updated,
        "unchanged": result.unchanged, "created": result.created, "warnings": result.warnings[:100],
        "flagged": result.flagged,
    }


@task("alerts")
def alerts_task(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """The daily alert check (as `attain alerts run`): rules → inbox, then webhook deliveries."""
    from datetime import date

    from attain.tracking.alerts import run_rules
    from attain.tracking.alerts_webhooks import deliver

    day = date.fromisoformat(params["date"]) if params.get("date") else None
    context.progress(10, "checking the alert rules")
    with context.session() as session:
        result = run_rules(session=session, as_of=day)
        context.progress(70, f"{len(result.new_events)} new alerts; sending webhooks")
        delivery = None if params.get("no_send") else deliver(session=session)
    return {
        "as_of": result.as_of.isoformat(), "rules": result.rules, "new": len(result.new_events),
        "repeated": result.repeated, "skipped": list(result.skipped),
        "sent": delivery.sent if delivery else 0, "failed": delivery.failed if delivery else 0,
    }


@task("selftest")
def selftest_task(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """A tiny job for checking a deployment (and the tests): reports progress, fails on request."""
    context.progress(50, "half way")
    if params.get("fail"):
        message = str(params.get("message") or "asked to fail")
        raise InvalidInput.coded("web.jobs.selftest_failed", message, message=message)
    if params.get("crash"):
        raise RuntimeError("unexpected crash")
    return {"echo": params.get("echo")}
