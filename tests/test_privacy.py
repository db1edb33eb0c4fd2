"""Privacy: no raw addresses stored, a participant downloads and deletes their data, retention, the privacy page,
and exports without hashes, cookies or external ids."""

import io
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from participate.extensions import db
from participate.models import AnalysisSnapshot, CurrentVote, Participant, Statement, Vote, utcnow
from participate.security import ip_hash
from participate.services import consultations

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
    assert me in db.session.scalar(select(AnalysisSnapshot).order_by(AnalysisSnapshot.id.desc())).result[
        "participant_ids"
    ]
    response = client.post_form("/c/test/mine/delete", {})
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
    assert "deleted after 9 days" in page and "your statements are removed" in page and "77 per minute" in page
    assert 'href="/privacy"' in client.get("/").text


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
