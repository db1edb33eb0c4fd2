"""Who can take part, seen from the citizen's side: XID allow-lists, invite codes and bans, in pages and the API."""

import pytest
from sqlalchemy import func, select

from participate.extensions import db
from participate.models import Eligibility, InviteCode, Vote
from participate.services import eligibility
from tests.conftest import page_csrf


@pytest.fixture
def restricted(make_consultation, make_account):
    def make(eligibility):
        owner = make_account("facilitator")
        consultation = make_consultation("members")
        consultation.eligibility = Eligibility(eligibility)
        db.session.commit()
        return owner, consultation

    return make


def _vote(client, page_html):
    sid = int(page_html.split('name="statement_id" value="')[1].split('"')[0])
    return client.post(
        "/c/members/vote", data={"csrf_token": page_csrf(page_html), "statement_id": sid, "vote": "agree"}
    )


def test_xid_allow_list(client, other_client, restricted):
    owner, consultation = restricted("xid")
    eligibility.set_xid_unsigned(db.session, owner, consultation, True)  # unsigned XIDs: an explicit choice
    eligibility.set_allowed_xids(db.session, owner, consultation, "alice\nbob\n")
    refused = client.get("/c/members")
    assert refused.status_code == 403
    assert "You cannot take part with this link" in refused.text and "personal link" in refused.text
    assert client.get("/c/members?xid=mallory").status_code == 403
    page = client.get("/c/members?xid=alice")
    assert page.status_code == 200 and "Agree" in page.text
    assert _vote(client, page.text).status_code == 302
    assert client.get("/c/members").status_code == 200  # the browser stays admitted
    # The API refuses an ineligible browser with a JSON 403 and takes votes from an eligible one.
    other_client.get("/api/v1/session")
    api = other_client.post_json("/api/v1/consultations/members/votes", {"statement_id": 1, "vote": "agree"})
    assert api.status_code == 403 and api.get_json()["error"]["code"] == "forbidden"
    assert other_client.get("/api/v1/consultations/members/next").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 1


def test_invite_codes(client, other_client, restricted):
    owner, consultation = restricted("invite")
    eligibility.generate_invite_codes(db.session, owner, consultation, 2)
    code = db.session.scalars(select(InviteCode.code)).first()
    refused = client.get("/c/members")
    assert refused.status_code == 403 and 'name="code"' in refused.text  # a form to type the code in
    assert client.get("/c/members?code=NOPE").status_code == 403
    page = client.get(f"/c/members?code={code}")
    assert page.status_code == 200
    assert _vote(client, page.text).status_code == 302
    used = other_client.get(f"/c/members?code={code}")
    assert used.status_code == 403 and "already been used" in used.text
    statement = other_client.post_form("/c/members/statements", {"text": "Sneaking in"})
    assert statement.status_code == 403


def test_banned_participant_sees_a_clear_page(client, restricted, login):
    owner, consultation = restricted("open")
    page = client.get("/c/members")
    client.post_form("/c/members/statements", {"text": "Rude words"})
    from participate.models import Participant
    from participate.services import moderation

    participant = db.session.scalar(select(Participant))
    moderation.ban(db.session, owner, consultation, participant.id, "Abusive")
    assert page.status_code == 200
    banned = client.get("/c/members")
    assert banned.status_code == 403 and "no longer take part" in banned.text


def test_invite_codes_csv_download(client, restricted, login):
    owner, consultation = restricted("invite")
    login(client, account=owner)
    from participate.models import ConsultationOwner

    db.session.add(ConsultationOwner(consultation_id=consultation.id, account_id=owner.id))
    db.session.commit()
    response = client.post_form("/facilitate/members/eligibility", {"action": "codes", "count": "5"})
    assert response.status_code == 302
    download = client.get("/facilitate/members/invite-codes.csv")
    lines = download.text.splitlines()
    assert lines[0] == "code,link,used_at" and len(lines) == 6
    assert "attachment" in download.headers["Content-Disposition"]
    upload = client.post_form("/facilitate/members/eligibility", {"action": "xids", "xids": "a\nb\nc"})
    assert upload.status_code == 302
    assert eligibility.allowed_xid_count(db.session, consultation) == 3
