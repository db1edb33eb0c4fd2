"""The analysis runner: after votes arrive, recompute the consultation's analysis in the background.

``ANALYSIS_RUNNER`` chooses how: ``thread`` (default) runs one background thread per web process that coalesces
bursts of requests; ``sync`` computes before returning (tests, the CLI); ``rq`` (set when ``REDIS_URL`` is) enqueues
a job on Redis for ``participate worker`` processes, at most one in flight per consultation.
"""

import atexit
import logging
import threading
import time
import uuid
from datetime import datetime, timedelta

from flask import Flask, current_app, has_app_context, has_request_context
from sqlalchemy import select

from .extensions import db, redis_client
from .models import AnalysisSnapshot, aware, utcnow
from .services.snapshots import runner as analysis_runner
from .services.snapshots import store

log = logging.getLogger(__name__)


class ThreadRunner:
    """One background thread per process; at most one run in flight, bursts debounced into one run.

    A consultation requested while its analysis runs is marked dirty again and analysed once more afterwards,
    so the latest votes are always included eventually. Several processes (gunicorn's) share the work: a request
    that a snapshot begun after it already answers is dropped, and one made just after another process's run
    waits for the next, so a busy consultation is analysed about once per debounce interval, not once per process.
    """

    def __init__(self, app: Flask, debounce: float, *, clock=utcnow, sleep=time.sleep):
        """``clock`` and ``sleep``: the runner's time (tests give it one that moves when they say)."""
        self._app = app
        self._debounce = debounce
        self._clock, self._sleep = clock, sleep
        self._dirty: dict[int, datetime] = {}  # consultation → when it was last asked for
        self._busy = False
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def request(self, consultation_id: int) -> None:
        with self._cond:
            self._dirty[consultation_id] = self._clock()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="participate-analysis", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until nothing is pending or running (for tests and the CLI); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._dirty or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def _requested(self, consultation_id: int) -> bool:
        """Whether the consultation was asked for again since its run began (its checks can then wait)."""
        with self._cond:
            return consultation_id in self._dirty

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._dirty:
                    self._cond.wait()
            self._sleep(self._debounce)  # let a burst of votes land, then analyse them together
            with self._cond:
                todo, self._dirty = self._dirty, {}
                self._busy = True
            try:
                for consultation_id, asked_at in sorted(todo.items()):
                    due = snapshot_wanted(
                        self._app,
                        consultation_id,
                        asked_at,
                        self._debounce,
                        max_share=float(self._app.config["ANALYSIS_MAX_SHARE"]),
                        now=self._clock(),
                    )
                    if due is None:  # another process has just analysed it: ask again after the debounce
                        with self._cond:
                            self._dirty[consultation_id] = max(self._dirty.get(consultation_id, asked_at), asked_at)
                        continue
                    more_coming = lambda cid=consultation_id: self._requested(cid)  # noqa: E731
                    run(self._app, consultation_id, more_coming=more_coming, snapshot=due)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


def snapshot_wanted(
    app: Flask,
    consultation_id: int,
    asked_at: datetime,
    debounce: float,
    *,
    max_share: float = 1.0,
    now: datetime | None = None,
) -> bool | None:
    """Whether a new snapshot is wanted: None when the latest one is still resting (:func:`rest`; stored by this
    or another process: ask again after it), False when the latest one began after the request and so answers it,
    True otherwise.

    Public because it is the rule several processes share: tests play it at chosen moments."""
    latest = _latest_run(app, consultation_id)
    if latest is None:
        return True
    started_at, computed_at = latest
    if computed_at > (now or utcnow()) - timedelta(seconds=rest(started_at, computed_at, debounce, max_share)):
        return None
    return started_at is None or started_at <= asked_at


def rest(started_at: datetime | None, computed_at: datetime, debounce: float, max_share: float) -> float:
    """Seconds from a snapshot until the consultation's next analysis may start: the debounce, or longer after a
    long analysis, so that one consultation's analyses take at most ``max_share`` of the time
    (``ANALYSIS_MAX_SHARE``). A busy million-vote consultation then leaves the cores to votes and pages most of
    the time, and a small one (well under a second) is analysed as often as before."""
    if started_at is None or not 0 < max_share < 1:
        return debounce
    took = max((computed_at - started_at).total_seconds(), 0.0)
    return max(debounce, took * (1 - max_share) / max_share)


def _latest_run(app: Flask, consultation_id: int) -> tuple[datetime | None, datetime] | None:
    """When the consultation's latest snapshot began and was stored (None: it has none)."""
    with app.app_context():
        latest = db.session.execute(
            select(AnalysisSnapshot.started_at, AnalysisSnapshot.computed_at).where(
                AnalysisSnapshot.id == store.latest_id(consultation_id).scalar_subquery()
            )
        ).first()
    return None if latest is None else (aware(latest.started_at), aware(latest.computed_at))


def rest_left(app: Flask, consultation_id: int, *, now: datetime | None = None) -> float:
    """rq: seconds the consultation's next analysis must still wait (0: none), at most half a job's timeout."""
    latest = _latest_run(app, consultation_id)
    if latest is None:
        return 0.0
    started_at, computed_at = latest
    config = app.config
    wait = rest(
        started_at, computed_at, float(config["ANALYSIS_DEBOUNCE_SECONDS"]), float(config["ANALYSIS_MAX_SHARE"])
    )
    left = (computed_at + timedelta(seconds=wait) - (now or utcnow())).total_seconds()
    return min(max(left, 0.0), JOB_TIMEOUT / 2)


def run(app: Flask, consultation_id: int, *, more_coming=lambda: False, snapshot: bool = True) -> None:
    """Compute and store one snapshot (or, with ``snapshot=False``, only the latest one's checks if they are due),
    logging (never raising) failures so the runner keeps going."""
    with app.app_context():
        try:
            checked = db.session.scalar(store.checked_id(consultation_id))
            analysis_runner.analyse(
                db.session,
                consultation_id,
                more_coming=more_coming,
                checks_every=_checks_every(app),
                new_snapshot=snapshot,
            )
            _checked(app, consultation_id, checked)
        except Exception:
            log.exception("analysis of consultation %s failed", consultation_id)
            db.session.rollback()
        finally:
            db.session.remove()


def _checked(app: Flask, consultation_id: int, before: int | None) -> None:
    """When the run checked a new snapshot (the report shows it now), start building the report's PDF, so that a
    download is served from the cache (in the default language, as staff see it)."""
    if not app.config["PDF_PREBUILD"] or db.session.scalar(store.checked_id(consultation_id)) == before:
        return
    from . import background, tasks  # which import this module

    params = tasks.pdf_params(consultation_id, token=None, staff=True, locale=app.config["BABEL_DEFAULT_LOCALE"])
    background.submit("pdf", consultation_id=consultation_id, params=params, once=True)


def _checks_every(app: Flask) -> float:
    return float(app.config["ANALYSIS_CHECKS_INTERVAL_SECONDS"])


def runner(app: Flask):
    """The app's runner, created on first use."""
    existing = app.extensions.get("participate.runner")
    if existing is None:
        existing = app.extensions["participate.runner"] = ThreadRunner(app, app.config["ANALYSIS_DEBOUNCE_SECONDS"])
    return existing


def on_votes_changed(consultation_id: int, **_) -> None:
    """Receiver of ``signals.votes_changed`` (``create_app`` connects it): a web request's change asks for an analysis.

    Outside a request (the command line, a script, a test calling a service) whoever changed the votes analyses.
    """
    if has_request_context():
        analysis_wanted(consultation_id)


def analysis_wanted(consultation_id: int) -> None:
    """Ask for the consultation's analysis to be brought up to date."""
    app = current_app._get_current_object()
    mode = app.config["ANALYSIS_RUNNER"]
    if mode == "sync":
        analysis_runner.analyse(db.session, consultation_id, checks_every=_checks_every(app))
    elif mode == "thread":
        runner(app).request(consultation_id)
    elif mode == "rq":
        if float(app.config["ANALYSIS_ASK_SECONDS"]) > 0:
            asker(app).request(consultation_id)
        else:
            _ask_redis(app, consultation_id)
    else:
        raise RuntimeError(f"Unknown ANALYSIS_RUNNER {mode!r}: use 'thread', 'sync' or 'rq'")


# ---------------------------------------------------------------------------------------------------------------
# RQ: analysis workers fed by Redis.
#
# Per consultation, two Redis keys coordinate web processes and workers:
#   dirty  a counter, INCRemented after every committed vote or statement;
#   lease  the id of the one job allowed to analyse the consultation (SET NX with an expiry, kept alive while it runs).
# A web process that takes a free lease enqueues a job; while a job holds the lease, bursts of votes only bump the
# counter. The job notes the counter, computes, then atomically either releases the lease (nothing new) or hands
# it to a follow-up job (votes arrived meanwhile). A worker killed mid-job leaves the counter set: its lease
# expires, RQ retries the job, and every worker's sweeper re-enqueues consultations left dirty without a lease.
# ---------------------------------------------------------------------------------------------------------------
JOB_TIMEOUT = 600
#: The two Redis keys above (public: operators and tests inspect them), formatted with the consultation's id.
DIRTY_KEY = "participate:analysis:{}:dirty"
LEASE_KEY = "participate:analysis:{}:lease"

# KEYS: dirty, lease. ARGV: this job's id, the follow-up job's id, the counter seen before computing, lease seconds.
# Returns 1 when the caller must enqueue the follow-up job (it now holds the lease).
_HAND_OVER = """
local owner = redis.call('GET', KEYS[2])
if owner and owner ~= ARGV[1] then return 0 end
if redis.call('GET', KEYS[1]) == ARGV[3] then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 0
end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[4])
return 1
"""
# Extend the lease only while it is still ours.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


def queue(app: Flask):
    from rq import Queue

    return Queue(app.config["ANALYSIS_QUEUE"], connection=redis_client(app))


def _new_job_id(consultation_id: int) -> str:
    return f"analysis-{consultation_id}-{uuid.uuid4().hex[:12]}"


def _enqueue(app: Flask, consultation_id: int, job_id: str) -> None:
    from rq import Retry

    queue(app).enqueue_call(
        "participate.jobs.rq_analyse",
        args=(consultation_id,),
        job_id=job_id,
        timeout=JOB_TIMEOUT,
        result_ttl=60,
        failure_ttl=7 * 24 * 3600,
        retry=Retry(max=3, interval=[1, 5, 15]),
        description=f"analysis of consultation {consultation_id}",
    )


def _ask_redis(app: Flask, consultation_id: int) -> None:
    try:
        rq_request(app, consultation_id)
    except Exception:
        # The vote is committed and acknowledged whatever happens here; the sweeper or the next vote catches up.
        log.exception("could not queue the analysis of consultation %s", consultation_id)


class Asker:
    """rq: a web process's asks for analyses, sent to Redis at most once per consultation every ``seconds``.

    A round trip to Redis after every vote cost about a twentieth of a vote's web CPU; the analysis waits a
    debounce interval anyway. An ask is sent after the commit of every vote it stands for, so the worker's hand-over
    (:func:`rq_analyse`) still sees each of them: a vote only waits up to ``seconds`` longer for its analysis. Asks
    still waiting when the process exits are sent then.
    """

    def __init__(self, send, seconds: float, *, sleep=time.sleep):
        """``send(consultation_id)``: the round trip; ``sleep``: the asker's time (tests give it their own)."""
        self._send, self._seconds, self._sleep = send, seconds, sleep
        self._waiting: set[int] = set()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def request(self, consultation_id: int) -> None:
        with self._cond:
            if consultation_id in self._waiting:
                return  # an ask for it is already on its way, and will be sent after this vote's commit
            self._waiting.add(consultation_id)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="participate-asker", daemon=True)
                self._thread.start()
            self._cond.notify()

    def flush(self) -> None:
        """Send every waiting ask now."""
        with self._cond:
            waiting, self._waiting = self._waiting, set()
        for consultation_id in sorted(waiting):
            self._send(consultation_id)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._waiting:
                    self._cond.wait()
            self._sleep(self._seconds)
            self.flush()


def asker(app: Flask) -> Asker:
    """The app's asker (rq), created on first use."""
    existing = app.extensions.get("participate.asker")
    if existing is None:
        with _asker_lock:
            existing = app.extensions.get("participate.asker")
            if existing is None:
                existing = Asker(lambda cid: _ask_redis(app, cid), float(app.config["ANALYSIS_ASK_SECONDS"]))
                atexit.register(existing.flush)
                app.extensions["participate.asker"] = existing
    return existing


_asker_lock = threading.Lock()


def rq_request(app: Flask, consultation_id: int) -> None:
    """Mark the consultation dirty and, if no job holds its lease, take it and enqueue one (one round trip)."""
    client = redis_client(app)
    job_id = _new_job_id(consultation_id)
    pipe = client.pipeline(transaction=False)
    pipe.incr(DIRTY_KEY.format(consultation_id))
    pipe.set(LEASE_KEY.format(consultation_id), job_id, nx=True, ex=int(app.config["ANALYSIS_LEASE_SECONDS"]))
    _, acquired = pipe.execute()
    if acquired:
        _enqueue(app, consultation_id, job_id)


class _KeepLease:
    """Renew the lease every third of its life while the analysis runs, so only a dead job's lease expires."""

    def __init__(self, client, key: str, job_id: str, seconds: int):
        self._args = (client, key, job_id, seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="participate-lease", daemon=True)

    def _loop(self) -> None:
        client, key, job_id, seconds = self._args
        while not self._stop.wait(max(seconds / 3, 0.5)):
            try:
                client.eval(_RENEW, 1, key, job_id, seconds)
            except Exception:
                log.warning("could not renew the analysis lease %s", key, exc_info=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def worker_app() -> Flask:
    """The app a job runs in: the current one, or the one ``participate worker`` set up."""
    if has_app_context():
        return current_app._get_current_object()
    if _worker_app is None:
        raise RuntimeError("RQ jobs run in 'participate worker'")
    return _worker_app


_worker_app: Flask | None = None


def rq_analyse(consultation_id: int) -> None:
    """The RQ job: analyse one consultation if this job holds its lease; errors propagate so RQ retries."""
    from rq import get_current_job

    app = worker_app()
    client = redis_client(app)
    job = get_current_job()
    job_id = job.id if job is not None else _new_job_id(consultation_id)
    dirty, lease = DIRTY_KEY.format(consultation_id), LEASE_KEY.format(consultation_id)
    seconds = int(app.config["ANALYSIS_LEASE_SECONDS"])
    owner = client.get(lease)
    if owner is None:
        # A retry after a crash, once the old lease expired: take it back unless another job got there first.
        if not client.set(lease, job_id, nx=True, ex=seconds):
            return
    elif owner.decode() != job_id:
        return  # another job owns this consultation; it will see the votes that woke us up
    with _KeepLease(client, lease, job_id, seconds):
        time.sleep(app.config["ANALYSIS_DEBOUNCE_SECONDS"])  # let a burst land, then analyse it at once
        time.sleep(rest_left(app, consultation_id))  # and rest after a long analysis (ANALYSIS_MAX_SHARE)
        seen = client.get(dirty) or b"0"
        with app.app_context():
            try:
                checked = db.session.scalar(store.checked_id(consultation_id))
                analysis_runner.analyse(
                    db.session,
                    consultation_id,
                    more_coming=lambda: (client.get(dirty) or b"0") != seen,  # the hand-over below will re-run it
                    checks_every=_checks_every(app),
                )
                _checked(app, consultation_id, checked)
            finally:
                db.session.remove()
    follow_up = _new_job_id(consultation_id)
    if client.eval(_HAND_OVER, 2, dirty, lease, job_id, follow_up, seen, seconds):
        _enqueue(app, consultation_id, follow_up)


def sweep(app: Flask) -> int:
    """Enqueue a job for every consultation left dirty without a lease (after a crash); returns how many."""
    client = redis_client(app)
    enqueued = 0
    for key in client.scan_iter(match=DIRTY_KEY.format("*"), count=1000):
        consultation_id = int(key.decode().split(":")[2])
        job_id = _new_job_id(consultation_id)
        if client.set(LEASE_KEY.format(consultation_id), job_id, nx=True, ex=int(app.config["ANALYSIS_LEASE_SECONDS"])):
            _enqueue(app, consultation_id, job_id)
            enqueued += 1
    return enqueued


def work(app: Flask, *, burst: bool = False, sweep_every: float | None = None, worker_class=None) -> None:
    """Run an RQ worker on the analysis queue (``participate worker``), with the sweeper in a thread.

    Jobs run in this process (``rq.SimpleWorker``): RQ's default worker forks a process per job, which then opens a
    new database connection and starts cold, about 40 ms of CPU per job (plus a PostgreSQL backend) when jobs come
    every second under continuous voting. A job that hangs still ends at its timeout (RQ's alarm signal); a worker
    that dies mid-job loses nothing: its lease expires and the sweeper re-enqueues the consultation.
    """
    import redis
    from rq import SimpleWorker

    from . import background  # which imports this module

    global _worker_app
    _worker_app = app
    stop = threading.Event()
    sweep_every = sweep_every or max(int(app.config["ANALYSIS_LEASE_SECONDS"]) / 2, 1)

    def sweeper() -> None:
        while True:
            try:
                if n := sweep(app):
                    log.info("re-enqueued the analysis of %d consultation(s) left dirty", n)
            except Exception:
                log.warning("analysis sweep failed", exc_info=True)
            if stop.wait(sweep_every):
                return

    # The worker's own connection: RQ gives it a socket timeout longer than its blocking wait for jobs. Connections
    # of the shared client (5 s timeout, already used by the sweeper) would make an idle worker time out and quit.
    connection = redis.Redis.from_url(app.config["REDIS_URL"], health_check_interval=30)
    thread = threading.Thread(target=sweeper, name="participate-sweeper", daemon=True)
    thread.start()
    try:
        worker = (worker_class or SimpleWorker)([queue(app), background.jobs_queue(app)], connection=connection)
        worker.work(burst=burst, with_scheduler=not burst)
    finally:
        stop.set()
        connection.close()
