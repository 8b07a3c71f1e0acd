"""Background jobs: the job table records progress, success and failure on both backends."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy.orm import Session

from attain.auth.models import Job
from attain.errors import InvalidInput
from attain.web import jobs

REDIS_URL = "redis://127.0.0.1:6379/0"


def _job(session: Session, job_id: str) -> Job:
    session.expire_all()
    job = session.get(Job, job_id)
    assert job is not None
    return job


def test_a_thread_job_records_progress_and_its_result(session: Session, database_url: str) -> None:
    job = jobs.submit(session=session, kind="selftest", params={"echo": "你好"}, database_url=database_url,
                      backend="thread")
    jobs.wait_idle()
    done = _job(session, job.id)
    assert (done.status, done.progress, done.result, done.error) == ("succeeded", 100, {"echo": "你好"}, None)
    assert done.message == "half way" and done.started_at is not None and done.finished_at >= done.started_at


def test_failed_and_crashed_jobs_are_reported_not_lost(session: Session, database_url: str) -> None:
    failed = jobs.submit(session=session, kind="selftest", params={"fail": True, "message": "no such rep R9"},
                         database_url=database_url, backend="thread")
    crashed = jobs.submit(session=session, kind="selftest", params={"crash": True}, database_url=database_url,
                          backend="thread")
    jobs.wait_idle()
    assert (_job(session, failed.id).status, _job(session, failed.id).error) == ("failed", "no such rep R9")
    assert _job(session, crashed.id).status == "failed"
    assert _job(session, crashed.id).error == "RuntimeError: unexpected crash"
    assert _job(session, failed.id).progress == 50  # where it stopped


def test_unknown_job_kinds_are_refused(session: Session, database_url: str) -> None:
    with pytest.raises(InvalidInput, match="unknown job kind 'nope'"):
        jobs.submit(session=session, kind="nope", params={}, database_url=database_url)


def test_a_queue_that_is_down_gives_a_failed_job(session: Session, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTAIN_REDIS_URL", "redis://127.0.0.1:1/0")
    job = jobs.submit(session=session, kind="selftest", params={}, database_url=database_url)
    recorded = _job(session, job.id)
    assert recorded.backend == "rq" and recorded.status == "failed"
    assert recorded.error.startswith("could not queue the job: ConnectionError")


def test_jobs_left_running_by_a_stopped_server_are_marked_failed(session: Session) -> None:
    session.add(Job(id="a" * 32, kind="import", status="running", progress=30, backend="thread",
                    created_at=datetime.now() - timedelta(hours=1)))
    session.add(Job(id="b" * 32, kind="import", status="running", progress=30, backend="rq", created_at=datetime.now()))
    session.commit()
    assert jobs.fail_interrupted(session=session) == 1
    assert _job(session, "a" * 32).status == "failed" and "stopped" in _job(session, "a" * 32).error
    assert _job(session, "b" * 32).status == "running"  # an RQ worker may still be on it


def test_rq_failure_callback_marks_an_unfinished_job(session: Session, database_url: str) -> None:
    session.add(Job(id="c" * 32, kind="import", status="running", progress=10, backend="rq", created_at=datetime.now()))
    session.add(Job(id="d" * 32, kind="import", status="succeeded", progress=100, backend="rq", created_at=datetime.now()))
    session.commit()
    for job_id in ("c" * 32, "d" * 32):
        jobs.rq_failed(SimpleNamespace(args=(database_url, job_id)), None, TimeoutError, TimeoutError("job timed out"), None)
    assert _job(session, "c" * 32).error == "TimeoutError: job timed out"
    assert _job(session, "d" * 32).status == "succeeded"


@pytest.fixture
def redis_queue(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisDown

    connection = Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except RedisDown:
        pytest.skip(f"RQ tests need a local Redis at {REDIS_URL}")
    name = f"attain-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("ATTAIN_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("ATTAIN_RQ_QUEUE", name)
    from rq import Queue

    queue = Queue(name, connection=connection)
    yield queue
    queue.empty()
    queue.delete(delete_jobs=True)


def test_rq_worker_runs_jobs_and_failures_are_recorded(session: Session, database_url: str, redis_queue) -> None:  # type: ignore[no-untyped-def]
    from rq import SimpleWorker

    good = jobs.submit(session=session, kind="selftest", params={"echo": 7}, database_url=database_url)
    bad = jobs.submit(session=session, kind="selftest", params={"fail": True, "message": "bad file"},
                      database_url=database_url)
    assert (good.backend, _job(session, good.id).status) == ("rq", "queued")
    assert redis_queue.count == 2
    SimpleWorker([redis_queue], connection=redis_queue.connection).work(burst=True)
    assert (_job(session, good.id).status, _job(session, good.id).result) == ("succeeded", {"echo": 7})
    assert (_job(session, bad.id).status, _job(session, bad.id).error) == ("failed", "bad file")


# --- jobs whose process is gone ------------------------------------------------------------------


def _unfinished(session: Session, job_id: str, **values: object) -> None:
    session.add(Job(id=job_id, kind="import", status="running", progress=30,
                    created_at=datetime.now() - timedelta(minutes=5), **values))
    session.commit()


def test_a_thread_job_whose_server_process_died_is_failed_when_looked_at(session: Session) -> None:
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        _unfinished(session, "e" * 32, backend="thread", worker=jobs.worker_identity(server.pid))
        assert jobs.get_job(session=session, job_id="e" * 32).status == "running"  # type: ignore[union-attr]
    finally:
        server.kill()
        server.wait()

    job = jobs.get_job(session=session, job_id="e" * 32)

    assert job is not None and job.status == "failed"
    assert job.error == ("the job stopped without finishing: the server process running it stopped (out of memory or "
                         "killed); run it again")
    assert job.finished_at is not None


def test_a_thread_job_of_this_process_whose_thread_ended_is_failed(session: Session) -> None:
    _unfinished(session, "f" * 32, backend="thread", worker=jobs.worker_identity())

    assert [(j.status, j.error) for j in jobs.recent_jobs(session=session, user_id=None)] == [
        ("failed", "the job stopped without finishing: its thread ended; run it again")]


def test_a_running_thread_job_is_left_running(session: Session, database_url: str) -> None:
    started, release = threading.Event(), threading.Event()

    def slow(context: jobs.JobContext, params: dict) -> None:  # type: ignore[type-arg]
        started.set()
        release.wait(30)

    jobs.TASKS["test-slow"] = slow
    try:
        job = jobs.submit(session=session, kind="test-slow", params={}, database_url=database_url, backend="thread")
        assert started.wait(30)
        assert _job(session, job.id).status == "running"
        assert jobs.get_job(session=session, job_id=job.id).status == "running"  # type: ignore[union-attr]
        release.set()
        jobs.wait_idle()
    finally:
        del jobs.TASKS["test-slow"]
    assert _job(session, job.id).status == "succeeded"


def test_a_job_of_another_host_is_left_to_it_until_this_server_starts(session: Session) -> None:
    _unfinished(session, "1" * 32, backend="thread", worker="elsewhere.example/42/4242")
    _unfinished(session, "2" * 32, backend="thread", worker=jobs.worker_identity())  # a live process of this host

    assert jobs.get_job(session=session, job_id="1" * 32).status == "running"  # type: ignore[union-attr]
    assert jobs.fail_interrupted(session=session) == 1
    assert (_job(session, "1" * 32).status, _job(session, "2" * 32).status) == ("failed", "running")


def test_an_rq_job_whose_work_horse_died_is_failed_when_looked_at(  # type: ignore[no-untyped-def]
    session: Session, database_url: str, redis_queue
) -> None:
    """RQ marks the job failed when the work horse running it dies, without the failure callback."""
    import signal

    from rq import Worker

    from attain.db import get_engine

    def dies(context: jobs.JobContext, params: dict) -> None:  # type: ignore[type-arg]
        os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would

    jobs.TASKS["test-dies"] = dies
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        job = jobs.submit(session=session, kind="test-dies", params={}, database_url=database_url)
        get_engine(database_url).dispose()  # the forked horse opens its own connections
        Worker([redis_queue], connection=redis_queue.connection).work(burst=True)
    finally:
        del jobs.TASKS["test-dies"]
        for number, handler in handlers.items():
            signal.signal(number, handler)
    assert _job(session, job.id).status == "running"  # the horse died before it could say otherwise

    done = jobs.get_job(session=session, job_id=job.id)

    assert done is not None and done.status == "failed"
    assert done.error == ("the job stopped without finishing: the worker failed it (Work-horse terminated unexpectedly; "
                          "waitpid returned 9 (signal 9)); run it again")


def test_next_run_is_the_next_time_of_day() -> None:
    assert jobs.next_run(datetime(2027, 3, 1, 6, 59), 7) == datetime(2027, 3, 1, 7, 0)
    assert jobs.next_run(datetime(2027, 3, 1, 7, 0), 7) == datetime(2027, 3, 2, 7, 0)
    assert jobs.next_run(datetime(2027, 12, 31, 23, 0), 7) == datetime(2028, 1, 1, 7, 0)


def test_the_scheduler_submits_the_daily_job(session: Session, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "next_run", lambda after, hour: after + timedelta(milliseconds=200))
    monkeypatch.delenv("ATTAIN_REDIS_URL", raising=False)
    thread = jobs.start_scheduler(database_url, kind="selftest")
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and session.query(Job).filter(Job.kind == "selftest").count() == 0:
            time.sleep(0.2)
            session.expire_all()
    finally:
        thread.stop.set()  # type: ignore[attr-defined]
        thread.join(5)
        jobs.wait_idle()
    submitted = session.query(Job).filter(Job.kind == "selftest").all()
    assert submitted and submitted[0].params["date"] == datetime.now().date().isoformat()
    assert isinstance(thread, threading.Thread) and not thread.is_alive()
