"""Published reports: the report frozen with its analysis, the votes' SHA-256 and the code version, behind a token."""

import hashlib
import secrets
import subprocess
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis import ALGORITHM_VERSION

from ..models import (
    Account,
    AnalysisSnapshot,
    Consultation,
    ModerationAction,
    ModerationLogEntry,
    ReportSnapshot,
    aware,
)
from . import N_, Conflict, NotFound, audit, claims, moderation, report
from .snapshots import checks, integrity, store
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
        analysis = {
            "result": store.stored_result(snapshot),
            "robustness": checks.robustness_of(session, snapshot.id),
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


@dataclass(frozen=True)
class Check:
    """One hash of a published report, recomputed: ``state`` is "verified", "explained" or "mismatch"."""

    name: str
    state: str
    detail: str


def verify(session: Session, token: str) -> list[Check]:
    """Recompute a published report's hashes from the database: the moderation log as it stood, and the votes.

    The moderation log verifies if its rows up to some point hash to the published SHA-256 (rows are only ever
    appended). The votes verify if the votes the analysis counted still hash the same; when participants have
    deleted their data since (each deletion is a "redact" row in the log), a difference is explained, not tampering.
    """
    published = get_published(session, token)
    checks = []
    if published.moderation_sha256:
        prefix = next(
            (
                n
                for n, digest in moderation.canonical_log_prefix_sha256(session, published.consultation_id)
                if digest == published.moderation_sha256
            ),
            None,
        )
        if prefix is None:
            checks.append(
                Check("moderation log", "mismatch", f"no prefix of the log hashes to {published.moderation_sha256}")
            )
        else:
            checks.append(
                Check("moderation log", "verified", f"the first {prefix} entries hash to {published.moderation_sha256}")
            )
    analysis = (published.report or {}).get("analysis") or {}
    if analysis.get("last_vote_id") is None:
        checks.append(Check("votes", "explained", "the report had no analysis: the votes then are not recoverable"))
        return checks
    votes = snapshot_votes.votes_until(session, published.consultation_id, analysis["last_vote_id"])
    digest = snapshot_votes.canonical_sha256(votes)
    if digest == published.votes_sha256:
        checks.append(Check("votes", "verified", f"{len(votes)} votes hash to {digest}"))
        return checks
    deletions = session.scalar(
        select(func.count()).where(
            ModerationLogEntry.consultation_id == published.consultation_id,
            ModerationLogEntry.action == ModerationAction.REDACT,
            ModerationLogEntry.created_at >= aware(published.published_at),
        )
    )
    if deletions:
        detail = (
            f"{published.vote_count} votes then, {len(votes)} now: {deletions} participants deleted their data since"
        )
        checks.append(Check("votes", "explained", detail))
    else:
        checks.append(Check("votes", "mismatch", f"the votes hash to {digest}, not {published.votes_sha256}"))
    return checks
