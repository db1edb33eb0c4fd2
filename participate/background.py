"""Long work as jobs: imports, exports, PDFs, publications, built reports and the monitor's figures.

A web request only creates a ``Job`` row and enqueues it (:func:`submit`, or :func:`read_or_submit` for what it
reads from the shared cache); the runner that runs analyses runs it too
(``sync`` inline, ``thread`` a small pool of background threads per process, ``rq`` the workers, on their own queue
so a long PDF never delays an analysis). Progress, result and error are written to the row, so any process can show
the status page. The work itself is in :mod:`participate.tasks`. Views import this module, never :mod:`jobs`
(the analysis runner, which only the ``votes_changed`` signal starts).
"""

import contextvars
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from flask import Flask, current_app
from sqlalchemy import select

from .extensions import db, redis_client
from .jobs import worker_app
from .models import utcnow

log = logging.getLogger(__name__)
JOBS_TIMEOUT = 1800
T = TypeVar("T")
TASKS: dict[str, object] = {}  # kind → function(session, params, progress) → result dict (filled by tasks.py)


def task(kind: str):
    """Register a job's work under its kind."""

    def register(function):
        TASKS[kind] = function
        return function

    return register


def new_folder(app: Flask) -> Path:
    """A new folder for a job's files (an upload to import, an export to download), under the instance folder,
    which every process of the machine (and workers sharing it) can read."""
    folder = Path(app.config["JOBS_FOLDER"] or Path(app.instance_path) / "jobs") / uuid.uuid4().hex
    folder.mkdir(parents=True, mode=0o700)
    return folder


def jobs_queue(app: Flask):
    from rq import Queue

    return Queue(app.config["JOBS_QUEUE"], connection=redis_client(app))


def _pool(app: Flask):
    from concurrent.futures import ThreadPoolExecutor

    pool = app.extensions.get("participate.background")
    if pool is None:
        pool = app.extensions["participate.background"] = ThreadPoolExecutor(
            max_workers=int(app.config["JOB_THREADS"]), thread_name_prefix="participate-job"
        )
    return pool


def submit(
    kind: str,
    *,
    consultation_id: int | None = None,
    account_id: int | None = None,
    params: dict | None = None,
    once: bool = False,
) -> str:
    """Create a job and hand it to the runner; returns its id. ``once``: reuse a queued or running job of the same
    kind, consultation and parameters (many requests for one PDF start one build). Uses its own transaction, so a
    page that starts a job does not commit its own session."""
    from .models import Job, JobStatus

    app = current_app._get_current_object()
    params = params or {}
    if once:
        waiting = db.session.scalars(
            select(Job).where(
                Job.kind == kind,
                Job.consultation_id == consultation_id,
                Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
                Job.created_at > utcnow() - timedelta(seconds=JOBS_TIMEOUT),
            )
        ).all()
        for job in waiting:
            if job.params == params:
                return job.id
    job_id = uuid.uuid4().hex
    from .database import one_writer

    with db.engine.begin() as connection, one_writer(db.session):
        connection.execute(
            Job.__table__.insert().values(
                id=job_id,
                kind=kind,
                consultation_id=consultation_id,
                account_id=account_id,
                status=JobStatus.QUEUED.value,
                progress=0,
                params=params,
                created_at=utcnow(),
            )
        )
    mode = app.config["ANALYSIS_RUNNER"]
    if mode == "sync":
        # In a context of its own, as on a job thread or a worker: a job never sees (nor acts as) the request that
        # asked for it, so the ``votes_changed`` receiver leaves an import's analysis to the import, as elsewhere.
        contextvars.Context().run(execute, app, job_id)
    elif mode == "rq":
        jobs_queue(app).enqueue_call(
            "participate.background.rq_job",
            args=(job_id,),
            job_id=f"job-{job_id}",
            timeout=JOBS_TIMEOUT,
            result_ttl=60,
            failure_ttl=7 * 24 * 3600,
            description=f"{kind} job {job_id}",
        )
    else:
        future = _pool(app).submit(execute, app, job_id)
        with _pending_lock:
            _pending.add(future)
        future.add_done_callback(lambda done: _discard(done))
    return job_id


def read_or_submit(read: Callable[[], T | None], kind: str, *, consultation_id: int, params: dict) -> T | None:
    """What ``read`` finds (in the shared cache); on a miss, a ``kind`` job is asked to build it (one job for all the
    requests that miss: ``once``) and ``read`` is asked again. The ``sync`` runner has built it by then; under the
    others None means "being prepared", and a request never builds it itself."""
    found = read()
    if found is None:
        submit(kind, consultation_id=consultation_id, params=params, once=True)
        found = read()
    return found


_pending: set = set()
_pending_lock = threading.Lock()


def _discard(future) -> None:
    with _pending_lock:
        _pending.discard(future)


def wait_for_jobs(timeout: float = 60.0) -> bool:
    """Block until this process's job threads are idle (tests, the CLI); False on timeout."""
    from concurrent.futures import wait

    with _pending_lock:
        futures = set(_pending)
    _, not_done = wait(futures, timeout=timeout)
    return not not_done


def progress_writer(app: Flask, job_id: str):
    """A function ``(percent, step)`` that records a job's progress in its own short transaction."""
    from .database import one_writer
    from .models import Job

    def write(percent: int, step: str | None = None) -> None:
        with app.app_context(), db.engine.begin() as connection, one_writer(db.session):
            connection.execute(
                Job.__table__.update()
                .where(Job.id == job_id)
                .values(progress=max(0, min(100, int(percent))), step=step)
            )

    return write


def _finish(app: Flask, job_id: str, **values) -> None:
    from .database import one_writer
    from .models import Job

    with app.app_context(), db.engine.begin() as connection, one_writer(db.session):
        connection.execute(Job.__table__.update().where(Job.id == job_id).values(finished_at=utcnow(), **values))


def execute(app: Flask, job_id: str) -> None:
    """Run one job to its end, recording a result or an error a person understands (never raising)."""
    from . import tasks  # noqa: F401  (registers the tasks)
    from .models import Job, JobStatus
    from .services import N_, ServiceError

    with app.app_context():
        job = db.session.get(Job, job_id)
        if job is None or job.status != JobStatus.QUEUED:
            db.session.remove()
            return
        kind, params = job.kind, dict(job.params or {})
        job.status, job.started_at = JobStatus.RUNNING, utcnow()
        from .database import one_writer

        with one_writer(db.session):
            db.session.commit()
        try:
            result = TASKS[kind](db.session, params, progress_writer(app, job_id))
        except ServiceError as error:
            db.session.rollback()
            _finish(
                app,
                job_id,
                status=JobStatus.FAILED.value,
                error=error.template[:500],
                result={"error_params": {k: str(v) for k, v in error.params.items()}},
            )
        except Exception:
            log.exception("%s job %s failed", kind, job_id)
            db.session.rollback()
            _finish(app, job_id, status=JobStatus.FAILED.value, error=N_("Something went wrong on our side."))
        else:
            _finish(app, job_id, status=JobStatus.DONE.value, progress=100, step=None, result=result or {})
        finally:
            db.session.remove()


def rq_job(job_id: str) -> None:
    """The RQ entry point of a job (on ``JOBS_QUEUE``)."""
    execute(worker_app(), job_id)
