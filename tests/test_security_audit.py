"""The outside audit's security and data findings, each reproduced at the boundary: bans that outlive deletion,
signed XIDs, private imports, malformed input that must be a 4xx with a message, and import limits."""

import io
import json
import tracemalloc
import zipfile
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from participate import models
from participate.extensions import db
from participate.models import (
    Consultation,
    Eligibility,
    InviteCode,
    Participant,
    ReportVisibility,
    Statement,
)
from participate.services import InvalidInput, eligibility, moderation, polis_exchange
from participate.services.participation import admission

SEEDS = ("Seed one", "Seed two", "Seed three")


def _sid(text="Seed one") -> int:
    return db.session.scalar(select(Statement.id).where(Statement.text == text))


def _vote(client, text="Seed one", slug="test"):
    return client.post_form(f"/c/{slug}/vote", {"statement_id": _sid(text), "vote": "agree"})


def _participant_ids() -> list[int]:
    db.session.expire_all()
    return db.session.scalars(select(Participant.id).order_by(Participant.id)).all()


@pytest.fixture
def staff(make_account):
    return make_account("admin", "moderator@example.org")


# ---- 9. A ban survives the banned participant deleting their data ----


def test_deleting_ones_data_does_not_lift_a_ban(client, make_consultation, staff):
    consultation = make_consultation()
    assert _vote(client).status_code == 302
    (pid,) = _participant_ids()
    moderation.ban(db.session, staff, consultation, pid, "Spam")
    assert client.post_form("/c/test/mine/delete", {"confirmed": "1"}).status_code == 302
    assert _participant_ids() == []
    # Only hashes are kept: no participant, no vote, no token.
    listed = db.session.scalars(select(models.BannedIdentity.identity_hash)).all()
    assert listed and all(len(h) == 64 for h in listed)
    page = client.get("/c/test")
    assert page.status_code == 403 and "no longer take part" in page.text
    assert _vote(client).status_code == 403
    api = client.post_json("/api/v1/consultations/test/votes", {"statement_id": _sid(), "vote": "agree"})
    assert api.status_code == 403
    assert _participant_ids() == []


def test_a_banned_xid_or_invite_code_stays_banned_after_deletion(client, other_client, make_consultation, staff):
    consultation = make_consultation()
    consultation.eligibility = Eligibility.INVITE
    db.session.commit()
    eligibility.generate_invite_codes(db.session, staff, consultation, 1)
    code = db.session.scalar(select(InviteCode.code))
    client.get(f"/c/test?code={code}")
    assert _vote(client).status_code == 302
    moderation.ban(db.session, staff, consultation, _participant_ids()[0], "Abuse")
    client.post_form("/c/test/mine/delete", {})
    refused = other_client.get(f"/c/test?code={code}")
    assert refused.status_code == 403 and "no longer take part" in refused.text


def test_unban_takes_the_participant_off_the_ban_list(client, make_consultation, staff):
    consultation = make_consultation()
    _vote(client)
    (pid,) = _participant_ids()
    moderation.ban(db.session, staff, consultation, pid, "Spam")
    moderation.unban(db.session, staff, consultation, pid, None)
    assert db.session.scalar(select(func.count()).select_from(models.BannedIdentity)) == 0
    client.post_form("/c/test/mine/delete", {})
    assert client.get("/c/test").status_code == 200


# ---- 10. Signed XIDs: knowing someone's XID is not enough to take over their participation ----


@pytest.fixture
def signed(make_consultation, staff):
    consultation = make_consultation()
    consultation.eligibility = Eligibility.XID
    db.session.commit()
    eligibility.rotate_xid_secret(db.session, staff, consultation)
    return consultation


def test_signed_xids_admit_only_with_the_right_signature(client, other_client, signed):
    sig = admission.xid_signature(signed.xid_secret, "alice")
    assert client.get("/c/test?xid=alice").status_code == 403
    assert client.get("/c/test?xid=alice&sig=" + "0" * 64).status_code == 403
    assert client.get("/c/test?xid=alice&sig=é").status_code == 403  # non-ASCII: refused, not a 500
    page = client.get(f"/c/test?xid=alice&sig={sig}")
    assert page.status_code == 200 and "Agree" in page.text
    assert _vote(client).status_code == 302
    (before,) = db.session.scalars(select(Participant.token_hash)).all()
    # Someone who knows (or guesses) the XID but has no signature gets nothing, and the votes stay put.
    takeover = other_client.get("/c/test?xid=alice")
    assert takeover.status_code == 403 and "signature" in takeover.text
    assert other_client.get("/c/test/mine.json").get_json()["current_votes"] == []
    db.session.expire_all()
    assert db.session.scalars(select(Participant.token_hash)).all() == [before]


def test_unsigned_xids_are_an_explicit_warned_about_choice(client, login, signed, staff):
    login(client, account=staff)
    page = client.get("/facilitate/test/eligibility")
    assert "Only signed XIDs are accepted" in page.text and signed.xid_secret in page.text
    client.post_form("/facilitate/test/eligibility", {"action": "xid_signing", "unsigned": "1"})
    page = client.get("/facilitate/test/eligibility")
    assert "Unsigned XIDs are accepted: anyone who knows" in page.text
    db.session.expire_all()
    assert db.session.get(Consultation, signed.id).xid_unsigned


def test_an_xid_consultation_gets_its_signing_secret_when_created(client, login):
    login(client)
    form = {"title": "Members", "question": "Q?", "slug": "members", "eligibility": "xid"}
    assert client.post_form("/facilitate/new", form).status_code == 302
    secret = db.session.scalar(select(Consultation.xid_secret).where(Consultation.slug == "members"))
    assert secret and len(secret) == 64 and secret in client.get("/facilitate/members/eligibility").text


# ---- 11. Imports are private unless the file says otherwise ----


def _zip(members: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return out.getvalue()


COMMENTS = "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n1,,0,0,1,0,1,Trams\n"
VOTES = "timestamp,datetime,comment-id,voter-id,vote\n2,,0,0,1\n"


def _settings(**fields) -> str:
    return json.dumps({"format": polis_exchange.SETTINGS_FORMAT, **fields})


def _upload(client, data: bytes, name="export.zip"):
    return client.post_form(
        "/facilitate/import", {"export": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


@pytest.mark.parametrize(
    ("settings", "visibility"),
    [
        (None, ReportVisibility.PRIVATE),
        (_settings(title="Plain", report_visibility="private"), ReportVisibility.PRIVATE),
        (_settings(title="Plain", report_visibility="public"), ReportVisibility.PUBLIC),
    ],
)
def test_imports_are_private_unless_the_file_says_otherwise(client, other_client, login, settings, visibility):
    login(client)
    assert "report is private" in client.get("/facilitate/import").text
    members = {"comments.csv": COMMENTS, "votes.csv": VOTES} | ({"consultation.json": settings} if settings else {})
    assert _upload(client, _zip(members)).status_code == 302
    consultation = db.session.scalar(select(Consultation))
    assert consultation.report_visibility == visibility
    public = other_client.get(f"/c/{consultation.slug}/report")
    listed = consultation.slug in other_client.get("/reports").text
    assert (public.status_code == 200, listed) == ((True, True) if visibility == "public" else (False, False))


# ---- 13. Malformed input is a 4xx with a message, never a 500 ----


@pytest.mark.parametrize("url", ["/api/v1/consultations/test/votes", "/api/v1/consultations/test/statements"])
def test_deeply_nested_json_is_a_400(client, make_consultation, url):
    make_consultation()
    response = client.post(
        url,
        data="[" * 100_000 + "]" * 100_000,
        content_type="application/json",
        headers={"X-CSRFToken": client.csrf_token()},
    )
    assert response.status_code == 400 and response.get_json()["error"]["message"]


def test_json_posted_to_a_page_form_is_a_400(client, make_consultation):
    make_consultation()
    token = client.csrf_token()
    for body in ("[1, 2]", "7", '"text"'):
        response = client.post(
            "/c/test/vote", data=body, content_type="application/json", headers={"X-CSRFToken": token}
        )
        assert response.status_code == 400


def test_non_ascii_report_key_is_a_404(client, make_consultation):
    consultation = make_consultation()
    consultation.report_visibility, consultation.report_key = ReportVisibility.LINK, "s3cret-key"
    db.session.commit()
    assert client.get("/c/test/report?key=é").status_code == 404
    assert client.get("/c/test/report?key=s3cret-key").status_code == 200


@pytest.mark.parametrize("number", [2**63, 2**64 + 1, 10**23])
def test_ids_beyond_64_bits_on_staff_routes_are_404(client, login, make_consultation, number):
    make_consultation()
    login(client, "admin")
    assert client.get(f"/facilitate/test/statements/{number}/edit").status_code == 404
    assert client.post_form(f"/facilitate/test/participants/{number}/ban", {"reason": "x"}).status_code == 404
    assert client.post_form(f"/admin/accounts/{number}", {"active": "0"}).status_code == 404


@pytest.mark.parametrize(
    ("url", "form"),
    [
        ("/facilitate/test/moderate", {"action": "accept", "statement_id": str(10**30)}),
        ("/facilitate/test/moderate", {"row": f"accept:{10**30}"}),
        ("/facilitate/test/settings", {"scheduled_open_at": "9999-12-31T23:59-14:00"}),  # beyond year 9999 in UTC
        ("/facilitate/test/settings", {"scheduled_close_at": "0001-01-01T00:00+14:00"}),
    ],
)
def test_numbers_and_times_out_of_range_in_staff_forms_are_a_4xx(client, login, make_consultation, url, form):
    make_consultation()
    login(client, "admin")
    response = client.post_form(url, form)
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("text", ["\x00alice\nbob", "bob\n\x00"])
def test_an_xid_line_with_nul_is_a_400_with_a_message(client, login, make_consultation, text):
    make_consultation()
    login(client, "admin")
    page = client.post_form("/facilitate/test/eligibility", {"action": "xids", "xids": text})
    assert page.status_code == 400 and "NUL" in page.text
    with pytest.raises(InvalidInput, match="control character"):
        eligibility.parse_xids(text)


@pytest.mark.parametrize("path", ["/c/%00", "/c/test?xid=%00a", "/login?next=%00"])
def test_nul_anywhere_in_a_request_is_a_400(client, make_consultation, path):
    make_consultation()
    assert client.get(path).status_code == 400


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"consultation.json": _settings(title=7)}, "“title” must be text"),
        ({"consultation.json": _settings(statements=[{"id": "x"}])}, "statements[1].id"),
        ({"consultation.json": _settings(statements=[{"id": 0, "themes": "abc"}])}, "statements[1].themes"),
        ({"consultation.json": _settings(banned_participant_ids=[[1]])}, "banned_participant_ids[1]"),
        ({"consultation.json": _settings(allow_statements="no")}, "“allow_statements” must be true or false"),
        ({"consultation.json": _settings(report_visibility="everyone")}, "must be one of"),
        ({"consultation.json": "[" * 100_000}, "nested too deeply"),
        ({"votes.csv": VOTES.replace("2,,0,0,1", f"2,,0,{10**23},1")}, "expected at most"),
        ({"comments.csv": COMMENTS.replace("\n1,,0", f"\n1,,{10**23}")}, "expected at most"),
        ({"votes.csv": VOTES.replace("2,,0,0,1", f"{10**17},,0,0,1")}, "before the year 10000"),
    ],
)
def test_malformed_imports_are_a_400_naming_the_problem(client, login, members, message):
    login(client)
    files = {"comments.csv": COMMENTS, "votes.csv": VOTES} | members
    page = _upload(client, _zip(files), "my-export.zip")
    assert page.status_code == 400 and message in page.text, page.text
    assert db.session.scalar(select(func.count()).select_from(Consultation)) == 0


def test_an_import_error_names_the_uploaded_file_not_a_server_path(client, login):
    login(client)
    page = _upload(client, _zip({"votes.csv": VOTES}), "council-export.zip")
    assert page.status_code == 400 and "comments.csv: file not found in council-export" in page.text
    assert "/tmp" not in page.text
    folder = client.post_form(
        "/facilitate/import",
        {"export": [(io.BytesIO(VOTES.encode()), "votes.csv")]},
        content_type="multipart/form-data",
    )
    assert folder.status_code == 400 and "/tmp" not in folder.text


# ---- 15. Limits ----


def test_a_zip_bomb_is_refused_without_filling_memory(app, tmp_path):
    """100 MB of zeros in a ~100 KB zip: refused while unpacking in small pieces, memory far below 100 MB."""
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("comments.csv", COMMENTS)
        with archive.open("votes.csv", "w", force_zip64=True) as member:
            for _ in range(100):
                member.write(b"0" * (1 << 20))
    assert path.stat().st_size < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInput, match="would unpack"):
            polis_exchange.import_export(db.session, path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"peak {peak >> 20} MB"


def test_descriptions_are_limited_in_the_form_and_the_database(client, login):
    from sqlalchemy.exc import IntegrityError

    from participate.models import DESCRIPTION_MAX_LENGTH

    login(client)
    page = client.get("/facilitate/new")
    assert f'maxlength="{DESCRIPTION_MAX_LENGTH}"' in page.text
    refused = client.post_form(
        "/facilitate/new", {"title": "T", "question": "Q?", "description": "x" * (DESCRIPTION_MAX_LENGTH + 1)}
    )
    assert refused.status_code == 400 and "the limit is" in refused.text
    db.session.add(Consultation(slug="long", title="T", question="Q", description="x" * (DESCRIPTION_MAX_LENGTH + 1)))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


# ---- 14. Sessions, sign-in throttling, invite codes ----


def test_signing_out_ends_the_session_for_a_copied_cookie_too(app, client, login):
    from tests.conftest import Client

    login(client)
    thief = Client(app)
    thief.set_cookie("session", client.get_cookie("session").value)
    assert thief.get("/facilitate/").status_code == 200
    assert client.post_form("/logout", {}).status_code == 302
    assert thief.get("/facilitate/").status_code == 302  # to the sign-in page


def _sign_in(client, account, password, address):
    form = {"email": account.email, "password": password}
    return client.post_form("/login", form, environ_base={"REMOTE_ADDR": address}).status_code


def test_failed_sign_ins_elsewhere_never_lock_the_owner_out(client, make_account):
    from tests.conftest import STAFF_PASSWORD

    account = make_account("facilitator")
    assert [_sign_in(client, account, "wrong guess", "203.0.113.9") for _ in range(5)] == [401] * 5
    assert _sign_in(client, account, STAFF_PASSWORD, "203.0.113.9") == 429  # from there, even the right one waits
    assert _sign_in(client, account, STAFF_PASSWORD, "198.51.100.7") == 302  # the owner, elsewhere, signs in


def test_failed_sign_ins_back_off_exponentially(app, client, make_account):
    app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"  # the per-address limit is not what is tested here
    account = make_account("facilitator")
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:  # time moves only when the test moves it
        assert [_sign_in(client, account, "wrong guess", "203.0.113.9") for _ in range(5)] == [401] * 5
        assert _sign_in(client, account, "wrong guess", "203.0.113.9") == 429  # the first wait is 1 s
        clock.shift(0.9)
        assert _sign_in(client, account, "wrong guess", "203.0.113.9") == 429  # not over yet
        clock.shift(0.2)
        assert _sign_in(client, account, "wrong guess", "203.0.113.9") == 401
        assert _sign_in(client, account, "wrong guess", "203.0.113.9") == 429  # each failure doubles it: now 2 s
        clock.shift(1.9)
        assert _sign_in(client, account, "wrong guess", "203.0.113.9") == 429
        clock.shift(0.2)
        assert _sign_in(client, account, "wrong guess", "203.0.113.9") == 401


def test_opening_an_invite_link_does_not_use_the_code_up(client, other_client, make_consultation, staff):
    consultation = make_consultation()
    consultation.eligibility = Eligibility.INVITE
    db.session.commit()
    eligibility.generate_invite_codes(db.session, staff, consultation, 1)
    code = db.session.scalar(select(InviteCode.code))
    assert other_client.get(f"/c/test?code={code}").status_code == 200  # a mail server's link scanner
    assert eligibility.invite_code_counts(db.session, consultation) == (1, 0)
    assert client.get(f"/c/test?code={code}").status_code == 200  # the person it was meant for
    assert _vote(client).status_code == 302
    assert eligibility.invite_code_counts(db.session, consultation) == (1, 1)
    assert _vote(other_client, "Seed two").status_code == 403  # the scanner's browser holds nothing now
    third = other_client.get(f"/c/test?code={code}")
    assert third.status_code == 403 and "already been used" in third.text


# ---- 15. Framing, time zones, PDF downloads ----


def test_my_votes_cannot_be_framed_but_the_embed_page_can(client, make_consultation):
    make_consultation()
    assert "frame-ancestors *" in client.get("/c/test").headers["Content-Security-Policy"]
    mine = client.get("/c/test/mine")
    assert "frame-ancestors 'none'" in mine.headers["Content-Security-Policy"]
    assert mine.headers["X-Frame-Options"] == "DENY"


def test_scheduled_times_keep_their_offset(client, login, make_consultation):
    from datetime import UTC, datetime

    make_consultation("draft")
    login(client, "admin")
    client.post_form("/facilitate/draft/settings", {"scheduled_open_at": "2031-06-01T12:00+02:00"})
    db.session.expire_all()
    opens = db.session.scalar(select(Consultation.scheduled_open_at).where(Consultation.slug == "draft"))
    assert opens == datetime(2031, 6, 1, 10, 0, tzinfo=UTC) and opens.utcoffset() is not None


def test_pdf_downloads_are_rate_limited_per_address(app, client, make_consultation, monkeypatch, limiter_clock):
    import weasyprint

    make_consultation()
    app.config["PDF_RATE_LIMIT"] = "2 per minute"
    monkeypatch.setattr(weasyprint.HTML, "write_pdf", lambda self: b"%PDF-1.7 stub")  # the limit, not the renderer
    assert [client.get("/c/test/report.pdf").status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/c/test/report.csv").status_code == 200  # other formats are not limited
    assert "wait a minute" in client.get("/c/test/report.pdf").text
