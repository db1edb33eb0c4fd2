"""The gate's table: every consultation status, schedule, eligibility and ban, through both doors.

The expected answers are written out here from what a participant should meet, not computed by the gate: a draft
is not there (404) unless its opening time has passed; a ban or a missing invitation is a 403; a consultation
closed (or whose closing time has passed) refuses with 409; everything else records the vote, once.
"""

import itertools
from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from participate.extensions import db
from participate.models import Consultation, Eligibility, InviteCode, Vote, utcnow
from participate.services import privacy
from participate.services.participation import identity

TOKEN = "gate-table-browser"
STATUSES = ("draft", "open", "closed")
SCHEDULES = ("none", "passed", "ahead")  # the time of the status's next step: none set, passed, still to come
ELIGIBILITY = ("open", "xid admitted", "xid not admitted", "invite admitted", "invite not admitted")
BANS = (False, True)


def expected(status: str, schedule: str, eligibility: str, banned: bool) -> int:
    """What a participant should meet, as an HTTP status (201 for a recorded vote)."""
    now_status = {"draft": "open", "open": "closed"}.get(status, status) if schedule == "passed" else status
    if now_status == "draft":
        return 404
    if banned or eligibility.endswith("not admitted"):
        return 403
    if now_status == "closed":
        return 409
    return 201


def _consultation(make_consultation, n, status, schedule, eligibility, banned):
    consultation = make_consultation(f"gate-{n}", status=status, statements=("Only statement",))
    step = {"passed": -timedelta(hours=1), "ahead": timedelta(days=1)}.get(schedule)
    if step is not None:
        if status == "draft":
            consultation.scheduled_open_at = utcnow() + step
        else:
            consultation.scheduled_close_at = utcnow() + step
    consultation.eligibility = Eligibility(eligibility.split()[0])
    admitted = eligibility == "open" or "not admitted" not in eligibility
    participant = identity.find_or_add(db.session, consultation, TOKEN) if admitted or banned else None
    if eligibility == "xid admitted":
        participant.xid = f"person-{n}"
    if eligibility.startswith("invite"):
        invite = InviteCode(consultation_id=consultation.id, code=f"CODE{n}")
        invite.participant_id = participant.id if admitted else None
        db.session.add(invite)
    if banned:
        participant.is_banned = True
        identity.record_ban(db.session, participant)
    db.session.flush()
    if banned and not admitted:  # banned, then deleted their data: only the ban list still knows the browser
        privacy.delete_mine(db.session, participant)
    db.session.commit()
    return consultation.slug, consultation.statements[0].id


CASES = list(itertools.product(STATUSES, SCHEDULES, ELIGIBILITY, BANS))


@pytest.mark.parametrize("door", ["html", "json"])
def test_the_gate_table_holds_at_both_doors(app, client, make_consultation, door):
    for limit in ("VOTE_RATE_LIMIT", "NEW_PARTICIPANT_DEVICE_RATE_LIMIT", "NEW_PARTICIPANT_RATE_LIMIT"):
        app.config[limit] = "1000000 per minute"  # one browser at 90 consultations: the rate limits are not tested here
    client.set_cookie(
        app.config["PARTICIPANT_COOKIE"], URLSafeSerializer(app.secret_key, salt="participant").dumps(TOKEN)
    )
    made = [_consultation(make_consultation, n, *case) for n, case in enumerate(CASES)]
    wrong = []
    for case, (slug, sid) in zip(CASES, made, strict=True):
        before = db.session.scalar(select(func.count()).select_from(Vote))
        if door == "html":
            response = client.post_form(f"/c/{slug}/vote", {"statement_id": sid, "vote": "agree"})
            got = 201 if response.status_code == 302 else response.status_code
        else:
            got = client.post_json(f"/api/v1/consultations/{slug}/votes", {"statement_id": sid, "vote": "agree"})
            got = got.status_code
        db.session.expire_all()
        recorded = db.session.scalar(select(func.count()).select_from(Vote)) - before
        want = expected(*case)
        if got != want or recorded != (want == 201):
            wrong.append((case, want, got, recorded))
    assert not wrong, "\n".join(
        f"{case}: expected {want}, got {got} ({recorded} votes)" for case, want, got, recorded in wrong
    )
    # The schedules that had come due were applied by the gate, and stay applied.
    statuses = dict(db.session.execute(select(Consultation.slug, Consultation.status)).all())
    for n, (status, schedule, *_rest) in enumerate(CASES):
        if schedule == "passed" and status != "closed":
            assert statuses[f"gate-{n}"] == {"draft": "open", "open": "closed"}[status]
