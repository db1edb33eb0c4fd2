"""The low findings of the outside probe (issue 23), each with the class it belongs to: no 500 for large or oddly
dated consultations, malformed imports are a 4xx, the embed page takes only its own parameters, a truthful answer
for a hidden duplicate, a complete data download, owner-only files, and no-store on private pages."""

import io
import os
import re
import stat
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from participate.extensions import db
from participate.models import (
    Consultation,
    Eligibility,
    InviteCode,
    ModerationMode,
    Statement,
    StatementTheme,
    Vote,
)
from participate.services import eligibility, moderation
from participate.services.participation import admission

COMMENTS = "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n1,,0,0,1,0,1,Trams\n"
VOTES = "timestamp,datetime,comment-id,voter-id,vote\n2,,0,0,1\n"
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def _zip(members: dict[str, str], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return out.getvalue()


def _upload(client, data: bytes, name="export.zip"):
    return client.post_form(
        "/facilitate/import", {"export": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def _consultations() -> int:
    return db.session.scalar(select(func.count()).select_from(Consultation))


# ---- The monitor: 1,000+ statements, votes dated 9999 ----


def test_the_monitor_of_a_large_consultation_with_a_vote_dated_9999(client, login, make_consultation):
    consultation = make_consultation(statements=[f"Statement {i}" for i in range(1200)])
    login(client, "admin")
    page = client.get("/facilitate/test/monitor")
    assert page.status_code == 200 and "1,200 counted in the report" in page.text
    client.post_form("/c/test/vote", {"statement_id": consultation.statements[0].id, "vote": "agree"})
    db.session.execute(update(Vote).values(created_at=datetime(9999, 12, 31, 23, tzinfo=UTC)))
    db.session.commit()
    assert client.get("/facilitate/test/monitor").status_code == 200


def test_no_template_formats_a_formatted_number_as_an_integer():
    """The class behind the monitor's 500: ``%(n)d`` given ``|numberformat``'s text ("1,200") fails from 1,000 on."""
    offenders = [
        f"{path.name}: {match.group(0)}"
        for path in TEMPLATES.rglob("*.html")
        for match in re.finditer(r"%\((\w+)\)d[^}]*?\b\1=[^,)]*\|\s*numberformat", path.read_text())
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("votes", "when"),
    [
        (VOTES.replace("2,,0,0,1", "253402300000000,,0,0,1"), "9999-12-31"),
        (VOTES.replace("2,,0,0,1", "4102444800,,0,0,1"), "2100-01-01"),
    ],
)
def test_an_import_with_implausible_dates_is_refused_naming_them(client, login, votes, when):
    login(client)
    page = _upload(client, _zip({"comments.csv": COMMENTS, "votes.csv": votes}))
    assert page.status_code == 400 and f"dated {when}, outside the plausible range" in page.text, page.text
    assert _consultations() == 0


# ---- Malformed imports: 4xx with a message, or imported whole; never a 500 ----


def _settings(**fields) -> str:
    import json

    from participate.services import polis_exchange

    return json.dumps({"format": polis_exchange.SETTINGS_FORMAT, **fields})


def test_themes_that_collide_once_cut_to_length_are_one_theme(client, login):
    login(client)
    themes = ["a" * 61, "a" * 60 + "b", " a  b ", "a b"]
    members = {"comments.csv": COMMENTS, "votes.csv": VOTES}
    members["consultation.json"] = _settings(statements=[{"id": 0, "themes": themes}])
    assert _upload(client, _zip(members)).status_code == 302
    assert sorted(db.session.scalars(select(StatementTheme.name))) == ["a b", "a" * 60]


def test_a_repeated_statement_whose_suffix_collides_is_kept(client, login):
    login(client)
    comments = COMMENTS + "1,,1,0,0,0,1,Trams #2\n1,,2,0,0,0,1,Trams\n"
    assert _upload(client, _zip({"comments.csv": comments, "votes.csv": VOTES})).status_code == 302
    texts = sorted(db.session.scalars(select(Statement.text)))
    assert texts == ["Trams", "Trams", "Trams #2"]


def _set_encrypted_flag(data: bytes) -> bytes:
    """The zip with the "encrypted" flag set on each member (Python cannot write an encrypted zip)."""
    raw = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (at := raw.find(signature, start)) != -1:
            raw[at + offset] |= 0x01
            start = at + 4
    return bytes(raw)


def _corrupt(data: bytes) -> bytes:
    raw = bytearray(data)
    first = raw.find(b"PK\x03\x04")
    name_length = int.from_bytes(raw[first + 26 : first + 28], "little")
    body = first + 30 + name_length
    for i in range(body + 2, body + 40):
        raw[i] ^= 0x5A
    return bytes(raw)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_set_encrypted_flag, "is encrypted"),
        (_corrupt, "is not a readable zip"),
    ],
)
def test_an_encrypted_or_corrupt_zip_is_a_400(client, login, make, message):
    login(client)
    comments = COMMENTS + "".join(f"1,,{i},0,0,0,1,Statement number {i} about trams\n" for i in range(1, 200))
    page = _upload(client, make(_zip({"comments.csv": comments, "votes.csv": VOTES})), "council.zip")
    assert page.status_code == 400 and message in page.text and "council.zip" in page.text, page.text
    assert _consultations() == 0


# ---- The embed page passes only its own parameters to url_for ----


@pytest.mark.parametrize("query", ["_method=POST", "_scheme=javascript&_external=1", "_anchor=x&xid=a", "endpoint=x"])
def test_the_embed_page_takes_only_the_parameters_it_knows(client, make_consultation, query):
    make_consultation()
    framed = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site"}
    page = client.get(f"/c/test?{query}&code=ABC", headers=framed)
    assert page.status_code == 200
    link = re.search(r'class="btn" href="([^"]*)" target="_blank"', page.text).group(1)
    assert link.startswith("/c/test?") and "javascript" not in link and "_" not in link.split("?", 1)[1]
    assert "code=ABC" in link


# ---- A hidden duplicate: a truthful answer that reveals nothing ----


def test_resubmitting_a_hidden_statement_gets_the_same_truthful_answer(client, other_client, make_consultation):
    make_consultation(moderation=ModerationMode.PRE)
    assert client.post_form("/c/test/statements", {"text": "A hidden idea"}).status_code == 302
    hidden = other_client.post_form("/c/test/statements", {"text": "a HIDDEN idea"})
    shown = other_client.post_form("/c/test/statements", {"text": "Seed one"})
    assert hidden.status_code == shown.status_code == 409
    message = "That statement has already been submitted to this consultation, so it cannot be added again."
    assert message in hidden.text and message in shown.text
    assert "already in this consultation" not in hidden.text and "You can vote on it instead" not in hidden.text


# ---- The data download holds everything stored about the person ----


def test_the_data_download_includes_the_invite_code_xid_and_ban(client, make_consultation, make_account):
    staff = make_account("admin")
    consultation = make_consultation()
    consultation.eligibility = Eligibility.INVITE
    db.session.commit()
    eligibility.generate_invite_codes(db.session, staff, consultation, 1)
    code = db.session.scalar(select(InviteCode.code))
    client.get(f"/c/test?code={code}")
    client.post_form("/c/test/vote", {"statement_id": consultation.statements[0].id, "vote": "agree"})
    person = client.get("/c/test/mine.json").get_json()["participant"]
    assert person["invite_code"] == code and person["banned"] is False and "xid" in person
    pid = db.session.scalar(select(InviteCode.participant_id))
    moderation.ban(db.session, staff, consultation, pid, "Spam")
    assert client.get("/c/test/mine.json").get_json()["participant"]["banned"] is True


def test_the_data_download_includes_the_xid(client, make_consultation):
    consultation = make_consultation()
    consultation.eligibility = Eligibility.XID
    consultation.xid_secret = "k" * 64
    db.session.commit()
    sig = admission.xid_signature(consultation.xid_secret, "member-17")
    client.get(f"/c/test?xid=member-17&sig={sig}")
    assert client.get("/c/test/mine.json").get_json()["participant"]["xid"] == "member-17"


# ---- Files and headers ----


def _load(tmp_path, config):
    from flask import Flask

    from participate import config as configuration

    app = Flask("participate_instance_test", instance_path=str(tmp_path / "instance"))
    old = os.umask(0o022)  # the usual umask: new files world-readable unless made otherwise
    try:
        configuration.load(app, config)
    finally:
        os.umask(old)
    return app


def test_a_configured_sqlite_file_is_created_owner_only(tmp_path):
    path = tmp_path / "data" / "site.sqlite"
    app = _load(tmp_path, {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "x"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    from sqlalchemy import create_engine, text

    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as connection:  # SQLite uses the file as it is, keeping its mode
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_default_instance_is_created_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    _load(tmp_path, None)
    folder = tmp_path / "instance"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "participate.sqlite").stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / "secret_key").stat().st_mode) == 0o600


def test_personal_and_staff_pages_are_never_stored(client, login, make_consultation):
    make_consultation()
    for url in ("/c/test/mine", "/c/test/mine.json", "/login"):
        assert client.get(url).headers.get("Cache-Control") == "no-store", url
    assert client.get("/c/test/moderation").headers.get("Cache-Control") != "no-store"  # public pages may be cached
    login(client, "admin")
    for url in ("/facilitate/", "/facilitate/test/monitor", "/admin/accounts", "/c/test/report"):
        assert client.get(url).headers.get("Cache-Control") == "no-store", url
