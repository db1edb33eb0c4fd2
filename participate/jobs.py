"""The analysis runner: after votes arrive, recompute the consultation's analysis in the background.

``ANALYSIS_RUNNER`` chooses how: ``thread`` (default) runs one background thread per web process that coalesces
bursts of requests; ``sync`` computes before returning (tests, the CLI).
"""

import logging
import threading
import time

from flask import Flask, current_app

from .extensions import db
from .services import report

log = logging.getLogger(__name__)


class ThreadRunner:
    """One background thread per process; at most one run in flight, bursts debounced into one run.

    A consultation requested while its analysis runs is marked dirty again and analysed once more afterwards,
    so the latest votes are always included eventually.
    """

    def __init__(self, app: Flask, debounce: float):
        self._app = app
        self._debounce = debounce
        self._dirty: set[int] = set()
        self._busy = False
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def request(self, consultation_id: int) -> None:
        with self._cond:
            self._dirty.add(consultation_id)
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

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._dirty:
                    self._cond.wait()
            time.sleep(self._debounce)  # let a burst of votes land, then analyse them together
            with self._cond:
                todo, self._dirty = self._dirty, set()
                self._busy = True
            try:
                for consultation_id in sorted(todo):
                    run(self._app, consultation_id)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


def run(app: Flask, consultation_id: int) -> None:
    """Compute and store one snapshot, logging (never raising) failures so the runner keeps going."""
    with app.app_context():
        try:
            report.analyse(db.session, consultation_id)
        except Exception:
            log.exception("analysis of consultation %s failed", consultation_id)
            db.session.rollback()
        finally:
            db.session.remove()


def runner(app: Flask):
    """The app's runner, created on first use."""
    existing = app.extensions.get("participate.runner")
    if existing is None:
        existing = app.extensions["participate.runner"] = ThreadRunner(app, app.config["ANALYSIS_DEBOUNCE_SECONDS"])
    return existing


def analysis_wanted(consultation_id: int) -> None:
    """Ask for the consultation's analysis to be brought up to date."""
    app = current_app._get_current_object()
    mode = app.config["ANALYSIS_RUNNER"]
    if mode == "sync":
        report.analyse(db.session, consultation_id)
    elif mode == "thread":
        runner(app).request(consultation_id)
    else:
        raise RuntimeError(f"Unknown ANALYSIS_RUNNER {mode!r}: use 'thread' or 'sync'")
