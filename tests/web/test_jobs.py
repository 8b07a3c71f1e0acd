"""Background jobs: the job table records progress, success and failure on both backends."""

from __future__ import annotations

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
