"""The claims check of a report before it is published: its brief recomputed from the votes it describes.

:func:`problems` builds the brief of a built report and hands it, with the snapshot's votes, its groups' members and
the consultation's floors, to :func:`analysis.claims.check`, which recounts everything without the report's code.
:func:`participate.services.publishing.publish` refuses a report whose brief fails it.
"""

import numpy as np
from sqlalchemy.orm import Session

from analysis import claims as claims_math
from analysis import evidence

from ..models import AnalysisSnapshot, Consultation
from . import brief
from .snapshots import view_of
from .snapshots import votes as snapshot_votes


def required(consultation: Consultation) -> evidence.Floors:
    """The floors the consultation requires, read here and not from the report: the check trusts nothing it checks."""
    return evidence.Floors.raised(consultation.floor_voters, consultation.floor_group_voters)


def problems(session: Session, consultation: Consultation, built: dict) -> list[str]:
    """What in the brief of ``built`` (:func:`report.build`) the votes do not support; empty when all holds."""
    if not built.get("ready") or not built.get("analysis"):
        return []
    snapshot = session.get(AnalysisSnapshot, built["analysis"]["snapshot_id"])
    view = view_of(snapshot)
    votes = snapshot_votes.votes_until(session, consultation.id, snapshot.last_vote_id)
    keep = ~np.isin(votes.participant_ids, np.fromiter(view.banned, dtype=np.int64))
    return claims_math.check(
        brief.build(built),
        (votes.participant_ids[keep], votes.statement_ids[keep], votes.values[keep]),
        {g.label: g.members for g in view.groups},
        required(consultation),
        texts={r["id"]: r["text"] for r in built["statements"]},
        participants=built["counts"]["participants"],
    )
