"""Moderation people can trust: a policy they can read, a log staff can download and a published report seals,
and how long statements wait for a decision."""

import csv
import hashlib
import io
from datetime import timedelta

from flask_babel import refresh
from sqlalchemy import func, select

from participate.extensions import db
from participate.models import ModerationAction, ModerationLogEntry, ModerationMode, utcnow
from participate.services import consultations, moderation, privacy, publishing
from participate.services.participation import identity
from tests import factories


def _participant_statement(consultation, text, token):
    return factories.submit_statement(db.session, consultation, token, text)


def _every_action(account, consultation):
    """One of each moderation action, by the services a moderator's buttons call, and the redaction row a
    participant's deleting their data adds."""
    a = _participant_statement(consultation, "Cheaper tickets for students", "p1")
    b = _participant_statement(consultation, '=HYPERLINK("http://example.com")', "p2")
    moderation.act(db.session, account, consultation, [a.id], "accept")
    moderation.act(db.session, account, consultation, [b.id], "reject", "Spam or advertising")
    moderation.act(db.session, account, consultation, [a.id], "meta")
    moderation.act(db.session, account, consultation, [a.id], "unmeta")
    unvoted = consultation.statements[0]  # a seed nobody has voted on: its wording may still change
    moderation.edit_statement(db.session, account, consultation, unvoted.id, unvoted.text + " (reworded)")
    author = identity.find(db.session, consultation, "p2")
    moderation.ban(db.session, account, consultation, author.id, "Spam or advertising")
    moderation.unban(db.session, account, consultation, author.id, "Appealed")
    _participant_statement(consultation, "Delete me later", "p3")
    privacy.delete_mine(db.session, identity.find(db.session, consultation, "p3"))


def test_moderation_log_csv_lists_every_action_for_staff_only(client, other_client, login, make_consultation):
    consultation = make_consultation()
    owner = login(client, "admin")
    _every_action(owner, consultation)
    response = client.get("/facilitate/test/moderation-log.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    logged = db.session.scalar(select(func.count()).select_from(ModerationLogEntry))
    assert len(rows) == logged
    assert {row["action"] for row in rows} == {action.value for action in ModerationAction}
    # Every moderator's action names the moderator; the redaction was the participant's own, so it names nobody.
    assert all(row["moderator"] == owner.email for row in rows if row["action"] != "redact")
    assert [row["moderator"] for row in rows if row["action"] == "redact"] == [""]
    assert any(row["reason"] == "Spam or advertising" for row in rows if row["action"] == "ban")
    anonymous = other_client.get("/facilitate/test/moderation-log.csv")
    assert anonymous.status_code in (302, 401) and "Cheaper tickets" not in anonymous.text


def test_a_published_report_seals_the_moderation_log(app, make_consultation, make_account):
    consultation = make_consultation()
    account = make_account("admin")
    _every_action(account, consultation)
    published = publishing.publish(db.session, consultation)
    canonical = moderation.canonical_log_csv(db.session, consultation.id)
    assert canonical.startswith(b"id,time,action,statement_id,participant_id,reason\n")
    assert canonical.count(b"\n") == 1 + db.session.scalar(select(func.count()).select_from(ModerationLogEntry))
    assert published.moderation_sha256 == hashlib.sha256(canonical).hexdigest()
    moderation.act(db.session, account, consultation, [consultation.statements[1].id], "reject", "Unclear")
    again = publishing.publish(db.session, consultation)
    assert again.moderation_sha256 != published.moderation_sha256
    assert again.votes_sha256 == published.votes_sha256  # the votes did not change: only the log did
    page = app.test_client().get(f"/r/{again.token}").text
    assert again.moderation_sha256 in page
    assert app.test_client().get(f"/r/{again.token}.json").get_json()["published"]["moderation_sha256"] == (
        again.moderation_sha256
    )


def test_median_time_from_submission_to_decision(client, login, make_consultation):
    consultation = make_consultation(moderation=ModerationMode.PRE)
    owner = login(client, "admin")
    now = utcnow()
    waits = {"Quick one": 60, "Slower one": 3 * 3600, "Slowest one": 2 * 86400}
    for text, seconds in waits.items():
        statement = _participant_statement(consultation, text, text)
        statement.created_at = now - timedelta(seconds=seconds)
        db.session.add(
            ModerationLogEntry(
                consultation_id=consultation.id,
                account_id=owner.id,
                statement_id=statement.id,
                action=ModerationAction.ACCEPT,
                created_at=now,
            )
        )
    _participant_statement(consultation, "Still waiting", "w")
    db.session.commit()
    times = moderation.decision_times(db.session, consultation.id)
    assert times["decided"] == 3 and times["waiting"] == 1
    assert abs(times["median_seconds"] - 3 * 3600) < 5  # seeds are the organisers': never counted
    monitor = client.get("/facilitate/test/monitor").text
    assert "median 3 hours from submission to decision, over 3 decided statements; 1 waiting" in monitor


def test_policy_default_in_both_languages_then_the_facilitators_own(client, login, make_consultation):
    make_consultation()
    page = client.get("/c/test/moderation")
    assert page.status_code == 200
    assert "How statements are moderated" in page.text and "Off topic" in page.text
    refresh()
    welsh = client.get("/c/test/moderation?lang=cy").text
    refresh()
    assert "Sut mae datganiadau'n cael eu cymedroli" in welsh and "Ddim yn berthnasol" in welsh
    client.set_cookie("lang", "en")
    login(client, "admin")
    form = client.get("/facilitate/test/settings").text
    assert 'name="moderation_policy"' in form
    too_long = client.post_form("/facilitate/test/settings", {"moderation_policy": "x" * 5001})
    assert too_long.status_code == 400 and "5000" in too_long.text
    saved = client.post_form("/facilitate/test/settings", {"moderation_policy": "We remove **adverts** only."})
    assert saved.status_code == 302
    policy = client.get("/c/test/moderation").text
    assert "<strong>adverts</strong>" in policy and "Off topic" not in policy
    consultation = consultations.get_public(db.session, "test")
    assert consultation.moderation_policy == "We remove **adverts** only."
