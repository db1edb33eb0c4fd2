"""The analysis runner's one entry point: a new snapshot, then its checks when they are due.

Called by the background runner (:mod:`participate.jobs`) and the command line, never by a web request.
"""

from collections.abc import Callable

from sqlalchemy.orm import Session

from ...config import Defaults
from ...models import AnalysisSnapshot, Consultation
from .. import report
from . import checks, store


def analyse(
    session: Session,
    consultation_id: int,
    *,
    more_coming: Callable[[], bool] = lambda: False,
    checks_every: float = Defaults.ANALYSIS_CHECKS_INTERVAL_SECONDS,
    new_snapshot: bool = True,
) -> AnalysisSnapshot | None:
    """What the runner does: a new snapshot, then its checks when :func:`.checks.checks_due`.

    Snapshots are cheap and keep the next-statement draw and "your group" current; the checks cost several
    snapshots each, so under continuous voting they run once every ``checks_every`` seconds and once voting pauses,
    and the report shows the newest checked snapshot meanwhile. Then each grouped participant's group is recorded
    and the report is built into the shared cache, so that no request has to build it. ``more_coming``: the
    runner's word that another run is already wanted (asked after the snapshot is stored).
    ``new_snapshot=False``: the latest snapshot began after the request and so answers it
    (another process made it); only its checks may still be owed.
    """
    if new_snapshot:
        snapshot = store.compute_snapshot(session, consultation_id)
    else:
        snapshot = store.latest_snapshot(session, consultation_id)
    if snapshot is not None:
        store.record_members(session, snapshot)
    if snapshot is not None and checks.checks_due(
        session, snapshot, more_coming=more_coming(), checks_every=checks_every
    ):
        checks.compute_checks(session, snapshot)
    if snapshot is not None:
        # Built here, off every request: the report (shared by all processes) and so "where I stand".
        report.build(session, session.get(Consultation, consultation_id))
    return snapshot
