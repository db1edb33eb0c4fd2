"""Facilitator pages driven like a browser, signed in through the real login route."""

import csv
import io
import re
import zipfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from participate.extensions import db
from participate.models import (
    AnalysisSnapshot,
    Consultation,
    ConsultationStatus,
    ModerationLogEntry,
    ModerationState,
    Participant,
    Statement,
    VoteValue,
    utcnow,
)
from participate.services import consultations
from participate.services.participation import votes as vote_writer
from tests import factories
from tests.views.conftest import FORM


def test_create_edit_open_and_close_through_the_pages(owner_client, night):
    page = owner_client.get("/facilitate/night-buses")
    assert "Should buses run all night?" in page.text and "Open now" in page.text
    assert '&lt;iframe src="http://localhost/c/night-buses"' in page.text  # the embed snippet
    edit = owner_client.post_form(
        "/facilitate/night-buses/settings",
        {
            **FORM,
            "description": "**Why** <script>alert(1)</script> [more](https://example.org)",
            "allow_statements": "",
        },
    )
    assert edit.status_code == 302
    db.session.refresh(night)
    assert not night.allow_statements
    html = owner_client.get("/facilitate/night-buses").text
    assert "<strong>Why</strong>" in html and "<script>alert(1)" not in html
    assert 'href="https://example.org"' in html
    assert owner_client.post_form("/facilitate/night-buses/open", {}).status_code == 302
    citizen_page = owner_client.get("/c/night-buses")
    assert "<strong>Why</strong>" in citizen_page.text and "<script>alert(1)" not in citizen_page.text
    assert owner_client.post_form("/facilitate/night-buses/close", {}).status_code == 302
    db.session.refresh(night)
    assert night.status == ConsultationStatus.CLOSED
    assert "This consultation is closed" in owner_client.get("/c/night-buses").text
    audit_page = owner_client.get("/facilitate/night-buses/audit").text
    for action in ("Created", "Settings changed", "Opened", "Closed"):  # in words, not the stored event names
        assert f"<td>{action}</td>" in audit_page


def test_invalid_settings_are_shown_on_the_form(owner_client, night):
    response = owner_client.post_form("/facilitate/night-buses/settings", {**FORM, "slug": "Bad Slug"})
    assert response.status_code == 400
    assert "lowercase letters" in response.text and 'value="Bad Slug"' in response.text


def test_state_changes_need_the_csrf_token(owner_client, night):
    assert owner_client.post("/facilitate/night-buses/open").status_code == 400
    db.session.refresh(night)
    assert night.status == ConsultationStatus.DRAFT


def test_scheduled_close_takes_effect_on_the_participation_page(owner_client, night):
    owner_client.post_form("/facilitate/night-buses/open", {})
    night.scheduled_close_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    page = owner_client.get("/c/night-buses")
    assert "This consultation is closed" in page.text
    db.session.expire_all()
    assert db.session.get(Consultation, night.id).status == ConsultationStatus.CLOSED


def test_paste_many_preview_then_add(owner_client, night):
    pasted = "Run every 30 minutes\n\nRun every 30 minutes\n" + "x" * 300 + "\nOnly at weekends"
    preview = owner_client.post_form("/facilitate/night-buses/statements", {"action": "preview", "pasted": pasted})
    assert preview.status_code == 200
    assert "2 will be added, 2 will be refused." in preview.text
    assert "Repeats line 1." in preview.text and "the limit is 280" in preview.text
    assert db.session.scalar(select(func.count()).select_from(Statement)) == 0
    added = owner_client.post_form("/facilitate/night-buses/statements", {"action": "add", "pasted": pasted})
    assert "2 statements added, 2 refused." in added.text
    texts = set(db.session.scalars(select(Statement.text)))
    assert texts == {"Run every 30 minutes", "Only at weekends"}
    one = owner_client.post_form("/facilitate/night-buses/statements", {"action": "one", "text": "only AT weekends"})
    assert one.status_code == 409 and "Already in this consultation." in one.text


def _open_with_participant_statements(client, night, texts):
    client.post_form("/facilitate/night-buses/statements", {"action": "add", "pasted": "Seed statement here"})
    client.post_form("/facilitate/night-buses/open", {})
    return [factories.submit_statement(db.session, night, f"tok{i}", text) for i, text in enumerate(texts)]


def test_a_refused_moderation_action_is_explained_beside_the_form_with_the_selection_kept(owner_client, night):
    a, b, c = _open_with_participant_statements(owner_client, night, ["First one", "Second one", "Third one"])
    refused = owner_client.post_form(
        "/facilitate/night-buses/moderate",
        {"action": "reject", "statement_id": [str(a.id), str(c.id)], "reason_text": "", "state": "pending"},
    )
    assert refused.status_code == 400
    html = refused.text
    assert 'id="moderation-form"' in html, "the moderation page itself, not the generic error page"
    assert re.search(r'role="alert" id="moderation-error">Choose or write a reason for rejecting.<', html)
    checked = set(re.findall(r'value="(\d+)" id="select-\d+" checked', html))
    assert checked == {str(a.id), str(c.id)}
    banned = owner_client.post_form(
        f"/facilitate/night-buses/participants/{b.author_id}/ban",
        {"statement_id": [str(b.id)], "reason": "", "state": "pending"},
    )
    assert banned.status_code == 400 and "Choose or write a reason for the ban." in banned.text
    assert f'value="{b.id}" id="select-{b.id}" checked' in banned.text
    db.session.expire_all()
    assert {db.session.get(Statement, s.id).moderation for s in (a, b, c)} == {ModerationState.PENDING}
    done = owner_client.post_form(
        "/facilitate/night-buses/moderate",
        {"action": "reject", "statement_id": [str(a.id)], "reason": "spam", "state": "pending"},
        follow_redirects=True,
    )
    assert "1 statement rejected (reason: Spam or advertising)" in done.text


def test_moderation_page_bulk_and_row_actions_with_hints(owner_client, night):
    a, b, c = _open_with_participant_statements(
        owner_client, night, ["Seed statements here", "Buy cheap watches now", "Night buses are unsafe"]
    )
    page = owner_client.get("/facilitate/night-buses/moderate")
    assert page.status_code == 200 and "Pending (3)" in page.text
    assert page.text.index("Night buses are unsafe") < page.text.index("Buy cheap watches now")  # newest first
    assert "Similar statements:" in page.text and re.search(r"\d+%</span> Seed statement here", page.text)
    refused = owner_client.post_form(
        "/facilitate/night-buses/moderate", {"action": "reject", "statement_id": [str(b.id)], "state": "pending"}
    )
    assert refused.status_code == 400 and "reason" in refused.text
    bulk = owner_client.post_form(
        "/facilitate/night-buses/moderate",
        {"action": "reject", "statement_id": [str(a.id), str(b.id)], "reason": "duplicate", "state": "pending"},
    )
    assert bulk.status_code == 302
    row = owner_client.post_form("/facilitate/night-buses/moderate", {"row": f"accept:{c.id}", "state": "pending"})
    assert row.status_code == 302
    states = {s.id: s.moderation for s in db.session.scalars(select(Statement))}
    assert states[a.id] == states[b.id] == ModerationState.REJECTED and states[c.id] == ModerationState.ACCEPTED
    log = owner_client.get("/facilitate/night-buses/moderation-log")
    assert "Repeats another statement" in log.text
    exported = owner_client.get("/facilitate/night-buses/moderation-log.csv")
    assert exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert [r[2] for r in rows[1:]] == ["reject", "reject", "accept"]


def test_ban_from_the_queue(owner_client, night):
    (troll,) = _open_with_participant_statements(owner_client, night, ["Something rude"])
    factories.cast(db.session, night, "someone else", night.statements[0].id, VoteValue.AGREE)
    response = owner_client.post_form(
        f"/facilitate/night-buses/participants/{troll.author_id}/ban", {"reason_text": "Personal attacks"}
    )
    assert response.status_code == 302
    assert db.session.get(Participant, troll.author_id).is_banned
    assert db.session.get(Statement, troll.id).moderation == ModerationState.REJECTED
    actions = set(db.session.scalars(select(ModerationLogEntry.action)))
    assert {a.value for a in actions} == {"ban", "reject"}


def test_lift_a_ban_from_the_queue_and_their_votes_count_again(owner_client, night):
    (troll,) = _open_with_participant_statements(owner_client, night, ["Something rude"])
    seed = night.statements[0].id
    factories.cast(db.session, night, "tok0", seed, VoteValue.AGREE)  # the troll votes too
    factories.cast(db.session, night, "someone else", seed, VoteValue.DISAGREE)
    url = f"/facilitate/night-buses/participants/{troll.author_id}"

    def analysed():
        latest = db.session.scalar(select(AnalysisSnapshot).order_by(AnalysisSnapshot.id.desc()))
        return set(latest.result["participant_ids"])

    owner_client.post_form(f"{url}/ban", {"reason_text": "Personal attacks"})
    assert troll.author_id not in analysed()
    rejected = owner_client.get("/facilitate/night-buses/moderate?state=rejected").text
    assert f'action="{url}/unban"' in rejected.replace("formaction", "action") and "Ban author" not in rejected
    assert owner_client.post(f"{url}/unban").status_code == 400  # no CSRF token
    response = owner_client.post_form(f"{url}/unban", {"reason_text": "Apologised", "state": "rejected"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/facilitate/night-buses/moderate?state=rejected"
    assert "The ban was lifted" in owner_client.get(response.headers["Location"]).text
    db.session.expire_all()
    assert not db.session.get(Participant, troll.author_id).is_banned
    assert troll.author_id in analysed()
    assert db.session.get(Statement, troll.id).moderation == ModerationState.REJECTED
    assert "lift ban" in owner_client.get("/facilitate/night-buses/moderation-log").text
    exported = list(csv.reader(io.StringIO(owner_client.get("/facilitate/night-buses/moderation-log.csv").text)))
    assert exported[-1][2] == "unban" and exported[-1][5] == str(troll.author_id) and exported[-1][6] == "Apologised"
    assert owner_client.post_form(f"{url}/unban", {}).status_code == 409  # not banned any more


def test_assigned_moderator_moderates_but_cannot_change_settings(app, owner_client, night, login):
    from tests.conftest import Client

    (statement,) = _open_with_participant_statements(owner_client, night, ["Please moderate me"])
    moderator_account = login(Client(app), "moderator")
    owner_client.post_form("/facilitate/night-buses/moderators", {"email": moderator_account.email})
    moderator = Client(app)
    login(moderator, account=moderator_account)
    assert moderator.get("/facilitate/night-buses/moderate").status_code == 200
    assert moderator.post_form("/facilitate/night-buses/moderate", {"row": f"accept:{statement.id}"}).status_code == 302
    assert moderator.get("/facilitate/night-buses/settings").status_code == 403
    entry = db.session.scalar(select(ModerationLogEntry))
    assert entry.account_id == moderator_account.id


def test_monitor_shows_numbers_chart_and_analysis_state(owner_client, night):
    owner_client.post_form("/facilitate/night-buses/statements", {"action": "add", "pasted": "One\nTwo"})
    owner_client.post_form("/facilitate/night-buses/open", {})
    page = owner_client.get("/facilitate/night-buses/monitor")
    assert "not yet" in page.text and "No votes yet." in page.text
    night.moderation  # noqa: B018 (load)
    for token in ("a", "b", "c"):
        for statement in night.statements:
            factories.cast(db.session, night, token, statement.id, VoteValue.AGREE)
    db.session.add(
        AnalysisSnapshot(
            consultation_id=night.id,
            vote_count=6,
            last_vote_id=6,
            result={"k": 2, "groups": [{"id": 0, "members": [1, 2]}, {"id": 1, "members": [3]}]},
        )
    )
    db.session.commit()
    page = owner_client.get("/facilitate/night-buses/monitor")
    assert re.search(r'<dd id="participants">3</dd>', page.text)
    assert re.search(r'<dd id="votes">6</dd>', page.text)
    assert "<svg" in page.text and "<rect" in page.text
    assert "analysis last ran" in page.text
    assert "Group A: 2 people" in page.text and "Group B: 1 person" in page.text  # the groups with their sizes


def test_export_zip_download_and_import_upload(owner_client, night, tmp_path):
    owner_client.post_form("/facilitate/night-buses/statements", {"action": "add", "pasted": "One\nTwo"})
    owner_client.post_form("/facilitate/night-buses/open", {})
    for token in ("a", "b"):
        factories.cast(db.session, night, token, night.statements[0].id, VoteValue.DISAGREE)
    response = owner_client.get("/facilitate/night-buses/export.zip")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = sorted(n.split("/")[1] for n in archive.namelist())
        votes = archive.read("night-buses/votes.csv").decode()
        summary = archive.read("night-buses/summary.csv").decode()
    assert "url,http://localhost/c/night-buses" in summary and "topic,Night buses" in summary
    assert names == sorted(
        ["comment-groups.csv", "comments.csv", "consultation.json", "participant-votes.csv", "summary.csv", "votes.csv"]
    )
    assert votes.splitlines()[0] == "timestamp,datetime,comment-id,voter-id,vote"
    assert votes.count(",-1\n") == 2
    imported = owner_client.post_form(
        "/facilitate/import",
        {"export": (io.BytesIO(response.data), "night.zip"), "slug": "night-copy"},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 302 and imported.headers["Location"] == "/facilitate/night-copy"
    copy = consultations.get_any(db.session, "night-copy")
    assert copy.status == ConsultationStatus.CLOSED and vote_writer.counts(db.session, copy) == (2, 2)
    assert "night-copy" in owner_client.get("/facilitate/").text


def test_malformed_upload_is_refused_with_file_and_row(owner_client, night):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("comments.csv", "comment-id,comment-body\n0,Hello\n")
        archive.writestr("votes.csv", "timestamp,datetime,comment-id,voter-id,vote\n1700000000,x,0,1,maybe\n")
    before = db.session.scalar(select(func.count()).select_from(Consultation))
    response = owner_client.post_form(
        "/facilitate/import", {"export": (io.BytesIO(buffer.getvalue()), "bad.zip")}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert "votes.csv row 2" in response.text and "unknown vote value" in response.text
    assert db.session.scalar(select(func.count()).select_from(Consultation)) == before


def test_import_the_csv_files_of_an_export_folder(owner_client):
    folder = Path(__file__).resolve().parents[1] / "analysis" / "data" / "tiny-export"
    files = [(io.BytesIO(path.read_bytes()), path.name) for path in sorted(folder.iterdir())]
    files.append((io.BytesIO(b"ignored"), "../../etc/passwd"))
    response = owner_client.post_form(
        "/facilitate/import", {"export": files, "slug": "tiny"}, content_type="multipart/form-data"
    )
    assert response.status_code == 302, response.text
    tiny = consultations.get_any(db.session, "tiny")
    assert tiny.title == "Getting around town" and vote_writer.counts(db.session, tiny)[0] == 20


def test_recruitment_is_a_setting(owner_client, night):
    form = {**FORM, "recruitment": "  Invited by letter from the electoral roll  "}
    assert owner_client.post_form("/facilitate/night-buses/settings", form).status_code == 302
    db.session.refresh(night)
    assert night.recruitment == "Invited by letter from the electoral roll"
    assert "Invited by letter from the electoral roll" in owner_client.get("/facilitate/night-buses/settings").text


def test_facilitators_validation_messages_come_out_in_welsh(owner_client, night):
    from flask_babel import refresh

    refresh()  # the test's app context outlives each request, so Flask-Babel would keep the locale chosen so far
    owner_client.set_cookie("lang", "cy")
    codes = owner_client.post_form("/facilitate/night-buses/eligibility", {"action": "codes", "count": "0"})
    assert codes.status_code == 400 and "rhwng 1 a 10000." in codes.text and "between 1 and" not in codes.text
    untitled = owner_client.post_form("/facilitate/night-buses/settings", {**FORM, "title": ""})
    assert untitled.status_code == 400 and "Llenwch y maes “teitl”" in untitled.text  # the field's name too
    preview = owner_client.post_form(
        "/facilitate/night-buses/statements", {"action": "preview", "pasted": "Same\nsame"}
    )
    assert "Yn ailadrodd llinell 1." in preview.text and "Repeats line" not in preview.text
    refresh()
    owner_client.set_cookie("lang", "en")
    assert "Please give the title." in owner_client.post_form("/facilitate/night-buses/settings", {"title": ""}).text


def test_hand_a_consultation_over_to_another_facilitator(app, owner_client, night, make_account):
    from tests.conftest import Client

    successor = make_account("facilitator", "successor@example.org")
    page = owner_client.get("/facilitate/night-buses").text
    assert 'action="/facilitate/night-buses/transfer"' in page and "Hand over" in page
    assert owner_client.post("/facilitate/night-buses/transfer", data={"email": successor.email}).status_code == 400
    typo = owner_client.post_form("/facilitate/night-buses/transfer", {"email": "sucessor@example.org"})
    assert typo.status_code == 404 and "no active account" in typo.text and 'aria-invalid="true"' in typo.text
    handed = owner_client.post_form("/facilitate/night-buses/transfer", {"email": successor.email})
    assert handed.status_code == 302 and handed.headers["Location"] == "/facilitate/"
    assert "successor@example.org now owns this consultation." in owner_client.get("/facilitate/").text
    assert owner_client.get("/facilitate/night-buses").status_code == 404  # no access any more
    new_owner = Client(app)
    new_owner.post_form("/login", {"email": successor.email, "password": "correct horse battery staple"})
    assert "<dd>successor@example.org</dd>" in new_owner.get("/facilitate/night-buses").text
    audit_page = new_owner.get("/facilitate/night-buses/audit").text
    assert "<td>Handed over</td>" in audit_page and "previous owner: facilitator@example.org" in audit_page
