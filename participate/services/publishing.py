"""Published reports: the report frozen with its analysis, the votes' SHA-256 and the code version, behind a token."""

import hashlib
import secrets
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import ALGORITHM_VERSION

from ..models import Account, AnalysisRobustness, AnalysisSnapshot, Consultation, ReportSnapshot
from . import N_, Conflict, NotFound, audit, claims, moderation, report
from .snapshots import integrity, store
from .snapshots import votes as snapshot_votes


@cache
def code_version() -> str:
    """The package version, the git commit when running from a checkout, and the algorithm version."""
    try:
        version = metadata.version("participate")
    except metadata.PackageNotFoundError:  # pragma: no cover - always installed in practice
        version = "unknown"
    commit = ""
    root = Path(__file__).resolve().parents[2]
    if (root / ".git").exists():
        try:
            commit = subprocess.run(
                ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            commit = ""
    return f"participate {version}{f' ({commit})' if commit else ''}; {ALGORITHM_VERSION}"[:100]


def publish(session: Session, consultation: Consultation, *, account: Account | None = None) -> ReportSnapshot:
    """Freeze the report as it stands now, with the analysis, the votes' SHA-256 and the code version.

    Refused (:class:`Conflict`, saying why) when the claims check finds something in its brief that the votes do not
    support: a brief is what gets quoted.
    """
    built = report.build(session, consultation)
    found = claims.problems(session, consultation, built)
    if found:
        raise Conflict(
            N_("This report was not published: its brief says what the votes do not support (%(problems)s)."),
            problems="; ".join(found),
        )
    snapshot = session.get(AnalysisSnapshot, built["analysis"]["snapshot_id"]) if built["analysis"] else None
    if snapshot is not None:
        votes = snapshot_votes.votes_until(session, consultation.id, snapshot.last_vote_id)
        robustness_row = session.get(AnalysisRobustness, snapshot.id)
        analysis = {
            "result": store.stored_result(snapshot),
            "robustness": robustness_row.result if robustness_row else None,
        }
        analysis["integrity"] = integrity.for_snapshot(session, snapshot.id)  # frozen with it
    else:
        votes = snapshot_votes.current_votes(session, consultation.id)
        analysis = None
    published = ReportSnapshot(
        token=secrets.token_urlsafe(24),
        consultation_id=consultation.id,
        published_by_id=account.id if account is not None else None,
        analysis_snapshot_id=snapshot.id if snapshot else None,
        vote_count=len(votes),
        votes_sha256=snapshot_votes.canonical_sha256(votes),
        moderation_sha256=hashlib.sha256(moderation.canonical_log_csv(session, consultation.id)).hexdigest(),
        code_version=code_version(),
        report=built,
        analysis=analysis,
    )
    session.add(published)
    session.flush()
    audit.record(session, account, consultation, "report_published", token=published.token, votes=len(votes))
    session.commit()
    return published


def get_published(session: Session, token: str) -> ReportSnapshot:
    """A published report by its token."""
    published = session.scalar(select(ReportSnapshot).where(ReportSnapshot.token == token)) if token else None
    if published is None:
        raise NotFound(N_("There is no published report at this address."))
    return published


def published_list(session: Session, consultation: Consultation) -> list[ReportSnapshot]:
    """The consultation's published reports, newest first."""
    return list(
        session.scalars(
            select(ReportSnapshot)
            .where(ReportSnapshot.consultation_id == consultation.id)
            .order_by(ReportSnapshot.id.desc())
        )
    )
