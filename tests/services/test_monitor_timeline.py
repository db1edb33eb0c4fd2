"""The monitor's time buckets fit the span: minutes for an evening's event, days for a month."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import select

from participate.extensions import db
from participate.models import Participant, Statement, Vote
from participate.services import monitoring

START = datetime(2026, 11, 2, 18, 0, tzinfo=UTC)


def _activity(consultation, moments):
    """One participant and one vote at each moment."""
    sid = db.session.scalar(select(Statement.id).where(Statement.consultation_id == consultation.id))
    for i, moment in enumerate(moments):
        participant = Participant(consultation_id=consultation.id, token_hash=f"{i:064x}", created_at=moment)
        db.session.add(participant)
        db.session.flush()
        db.session.add(
            Vote(
                consultation_id=consultation.id,
                participant_id=participant.id,
                statement_id=sid,
                value=1,
                created_at=moment,
            )
        )
    db.session.commit()


@pytest.mark.parametrize(
    ("span", "width"),
    [
        (timedelta(minutes=40), 60),  # a short session: one bar a minute
        (timedelta(hours=3), 5 * 60),  # an evening: five minutes
        (timedelta(days=2), 3600),  # a weekend: hours
        (timedelta(days=30), 86400),  # a month: days
    ],
)
def test_buckets_fit_the_span(make_consultation, span, width):
    consultation = make_consultation()
    moments = [START + span * i / 9 for i in range(10)]
    _activity(consultation, moments)
    bins = monitoring.timeline(db.session, consultation.id)
    assert {b.seconds for b in bins} == {width}
    assert len(bins) <= monitoring.MAX_TIME_BINS
    assert bins[0].start <= START < bins[0].end and bins[-1].start <= moments[-1] < bins[-1].end
    assert sum(b.votes for b in bins) == 10 and sum(b.participants for b in bins) == 10
    assert all(later.start == earlier.end for earlier, later in pairwise(bins))  # a time axis


def test_no_activity_no_buckets(make_consultation):
    assert monitoring.timeline(db.session, make_consultation().id) == []
