"""Privacy: no raw addresses stored, a participant downloads and deletes their data, retention, the privacy page,
and exports without hashes, cookies or external ids."""

import io
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from participate.extensions import db
from participate.models import AnalysisSnapshot, AuditLogEntry, CurrentVote, Participant, Statement, Vote, utcnow
from participate.security import ip_hash
from participate.services import consultations
from tests.conftest import Client

ADDRESS = "203.0.113.77"


def _sids(consultation) -> list[int]:
    return db.session.scalars(select(Statement.id).where(Statement.consultation_id == consultation.id)).all()


def _take_part(client, consultation, *, statement="My own idea"):
    client.get("/c/test", environ_base={"REMOTE_ADDR": ADDRESS})
    for sid in _sids(consultation):
        client.post_form("/c/test/vote", {"statement_id": sid, "vote": "agree"}, environ_base={"REMOTE_ADDR": ADDRESS})
    client.post_form("/c/test/statements", {"text": statement}, environ_base={"REMOTE_ADDR": ADDRESS})


def _dump_database() -> str:
    """Every value of every table, as text."""
    out = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(text(f'SELECT * FROM "{table.name}"')):  # table names from our own metadata
            out.append(" ".join(str(v) for v in row))
    return "\n".join(out)


def test_no_raw_address_is_stored_only_a_keyed_hash(app, client, make_consultation):
    consultation = make_consultation()
    _take_part(client, consultation)
    assert ADDRESS not in _dump_database()
    participant = db.session.scalar(select(Participant))
    with app.test_request_context():
        assert participant.ip_hash == ip_hash(ADDRESS)


def test_a_participant_downloads_their_votes_and_statements(client, other_client, make_consultation):
    consultation = make_consultation()
    _take_part(client, consultation)
    data = client.get("/c/test/mine.json")
    assert data.headers["Content-Disposition"].startswith("attachment")
    body = data.get_json()
    assert {v["vote"] for v in body["current_votes"]} == {"agree"} and len(body["current_votes"]) == 4
    assert [s["text"] for s in body["statements"]] == ["My own idea"]
    raw = data.text
    participant = db.session.scalar(select(Participant))
    assert participant.token_hash not in raw and participant.ip_hash not in raw
    assert other_client.get("/c/test/mine.json").get_json()["current_votes"] == []


@pytest.mark.parametrize("mode", ["anonymise", "remove"])
def test_a_participant_deletes_their_votes_and_they_leave_the_analysis(
    app, client, other_client, make_consultation, mode
):
    app.config["DELETED_STATEMENTS"] = mode
    consultation = make_consultation()
    _take_part(client, consultation)
    other_client.get("/c/test")
    other_client.post_form("/c/test/vote", {"statement_id": _sids(consultation)[0], "vote": "disagree"})
    cid = consultation.id
    me = db.session.scalar(select(Participant.id).where(Participant.ip_hash.is_not(None)).order_by(Participant.id))
    assert (
        me in db.session.scalar(select(AnalysisSnapshot).order_by(AnalysisSnapshot.id.desc())).result["participant_ids"]
    )
    response = client.post_form("/c/test/mine/delete", {"confirmed": "1"})
    assert response.status_code == 302
    assert "were deleted" in client.get(response.headers["Location"]).text
    db.session.expire_all()
    assert db.session.scalars(select(Vote).where(Vote.participant_id == me)).all() == []
    assert db.session.get(Participant, me) is None
    own = db.session.scalars(select(Statement).where(Statement.text == "My own idea")).all()
    if mode == "anonymise":
        assert len(own) == 1 and own[0].author_id is None
    else:
        assert own == []
    latest = db.session.scalar(
        select(AnalysisSnapshot).where(AnalysisSnapshot.consultation_id == cid).order_by(AnalysisSnapshot.id.desc())
    )
    assert me not in latest.result["participant_ids"] and latest.result["participant_ids"]


def test_delete_needs_the_csrf_token_and_touches_nobody_else(client, other_client, make_consultation):
    consultation = make_consultation()
    _take_part(client, consultation)
    assert client.post("/c/test/mine/delete").status_code == 400
    other_client.get("/c/test")
    assert other_client.post_form("/c/test/mine/delete", {}).status_code == 302
    assert len(db.session.scalars(select(CurrentVote)).all()) == 4


def test_purge_clears_old_address_hashes(app, client, make_consultation):
    consultation = make_consultation()
    _take_part(client, consultation)
    old = Participant(consultation_id=consultation.id, token_hash="a" * 64, ip_hash="b" * 32)
    old.created_at = utcnow() - timedelta(days=31)
    db.session.add(old)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0 and "Cleared 1" in result.output
    db.session.expire_all()
    hashes = dict(db.session.execute(select(Participant.token_hash, Participant.ip_hash)).all())
    assert hashes["a" * 64] is None
    assert sum(h is not None for h in hashes.values()) == 1  # the recent one stays


def test_privacy_page_follows_the_settings_and_is_in_the_footer(app, client):
    app.config.update(IP_HASH_RETENTION_DAYS=9, DELETED_STATEMENTS="remove", VOTE_RATE_LIMIT="77 per minute")
    page = client.get("/privacy").text
    assert "deleted after 9 days" in page and "Unless it chooses otherwise, they are removed" in page
    assert "77 a minute" in page  # in words, not Flask-Limiter's syntax
    assert 'href="/privacy"' in client.get("/").text


@pytest.mark.parametrize("site", ["anonymise", "remove"])
def test_each_consultation_chooses_what_deleting_does_to_statements_and_says_so(
    app, client, make_consultation, login, site
):
    """The facilitator's choice beats the site's DELETED_STATEMENTS, and both pages a participant reads say it."""
    app.config["DELETED_STATEMENTS"] = site
    chosen = "anonymise" if site == "remove" else "remove"
    consultation = make_consultation()
    _take_part(client, consultation)
    staff = Client(app)
    login(staff, "admin")
    settings = staff.get("/facilitate/test/settings").text
    assert '<option value="" selected>As this site is set' in settings
    saved = staff.post_form("/facilitate/test/settings", {"deleted_statements": chosen, "allow_statements": "1"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert consultation.deleted_statements == chosen
    assert f'<option value="{chosen}" selected>' in staff.get("/facilitate/test/settings").text
    entry = db.session.scalar(select(AuditLogEntry).where(AuditLogEntry.action == "settings_changed"))
    assert entry.details["changes"] == {"deleted_statements": [None, chosen]}

    removed = "The statements you wrote are removed too"
    kept = "The statements you wrote stay, as anonymous text"
    mine = client.get("/c/test/mine").text
    assert (removed if chosen == "remove" else kept) in mine and (kept if chosen == "remove" else removed) not in mine
    assert 'href="/privacy?c=test"' in mine
    privacy_page = client.get("/privacy?c=test").text
    said = "are removed too" if chosen == "remove" else "stay, as anonymous text"
    assert f"In “Title test”, the statements you wrote {said}" in privacy_page
    assert "In “" not in client.get("/privacy?c=no-such-consultation").text

    assert client.post_form("/c/test/mine/delete", {"confirmed": "1"}).status_code == 302
    own = db.session.scalars(select(Statement).where(Statement.text == "My own idea")).all()
    assert own == [] if chosen == "remove" else (len(own) == 1 and own[0].author_id is None)


def test_an_unknown_choice_is_refused_by_the_form_and_the_database(app, make_consultation, login):
    consultation = make_consultation()
    staff = Client(app)
    login(staff, "admin")
    refused = staff.post_form("/facilitate/test/settings", {"deleted_statements": "shred"})
    assert refused.status_code == 400 and "must be one of: anonymise, remove" in refused.text
    db.session.execute(text("UPDATE consultation SET deleted_statements = NULL"))  # NULL: the site's setting
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE consultation SET deleted_statements = 'shred'"))
    db.session.rollback()
    assert consultation.deleted_statements is None


def test_exports_hold_no_hashes_cookies_or_external_ids(app, client, make_consultation, login):
    consultation = make_consultation()
    _take_part(client, consultation)
    participant = db.session.scalar(select(Participant))
    participant.xid = "employee-4711"
    db.session.commit()
    cookie = client.http.get_cookie("participant").value
    owner = login(client, "admin")
    assert owner is not None
    zipped = client.get("/facilitate/test/export.zip")
    assert zipped.status_code == 200
    with zipfile.ZipFile(io.BytesIO(zipped.data)) as archive:
        everything = "".join(archive.read(name).decode() for name in archive.namelist())
    for secret in (participant.ip_hash, participant.token_hash, "employee-4711", cookie, ADDRESS):
        assert secret not in everything
    report = client.get("/c/test/report.json").text + client.get("/c/test/report.csv").text
    for secret in (participant.ip_hash, participant.token_hash, "employee-4711", cookie):
        assert secret not in report
    assert consultations.get_any(db.session, "test") is not None
