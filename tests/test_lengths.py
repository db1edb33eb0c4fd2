"""Lengths hold on every database (issue 23, M3): the longest valid input of every field, in scripts that grow
under case folding ("ß" → "ss", "ﬃ" → "ffi"), is stored or refused with a 4xx, never a 500. Run it with
``--db=postgresql`` too: PostgreSQL enforces VARCHAR lengths, SQLite does not."""

import pytest
from sqlalchemy import select

from participate.extensions import db
from participate.models import (
    CONTACT_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    MODERATION_POLICY_MAX_LENGTH,
    QUESTION_MAX_LENGTH,
    REASON_MAX_LENGTH,
    RECRUITMENT_MAX_LENGTH,
    SLUG_MAX_LENGTH,
    STATEMENT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    XID_MAX_LENGTH,
    Consultation,
    Eligibility,
    ModerationLogEntry,
    Statement,
)
from participate.services.participation import admission
from participate.services.themes import GROUP_NAME_MAX_LENGTH, THEME_MAX_LENGTH

# Each grows under case folding: ß → ss, ﬃ → ffi, ΐ → three characters, İ → i̇ under lower().
EXPANDING = ["ß", "ﬃ", "ΐ", "İ"]


@pytest.mark.parametrize("char", EXPANDING)
def test_the_longest_statement_in_an_expanding_script_is_stored_and_its_duplicate_refused(
    client, other_client, make_consultation, char
):
    consultation = make_consultation()
    text = char * STATEMENT_MAX_LENGTH
    assert client.post_form("/c/test/statements", {"text": text}).status_code == 302
    assert db.session.scalar(select(Statement).where(Statement.text == text)) is not None
    # The same text in another case is a duplicate (case folding is how duplicates are found).
    other = text.replace("ß", "ẞ")  # the capital sharp s folds to "ss" too; the others are sent as they were
    answer = other_client.post_json("/api/v1/consultations/test/statements", {"text": other})
    assert answer.status_code == 409, answer.text
    too_long = other_client.post_json("/api/v1/consultations/test/statements", {"text": text + char})
    assert too_long.status_code == 400
    assert db.session.scalar(select(Statement).where(Statement.consultation_id == consultation.id).limit(1))


@pytest.mark.parametrize("char", EXPANDING)
def test_every_staff_field_at_its_limit_in_an_expanding_script(client, login, char):
    login(client, "admin")
    form = {
        "title": char * TITLE_MAX_LENGTH,
        "question": char * QUESTION_MAX_LENGTH,
        "description": char * DESCRIPTION_MAX_LENGTH,
        "slug": "a" * SLUG_MAX_LENGTH,
        "recruitment": char * RECRUITMENT_MAX_LENGTH,
        "moderation_policy": char * MODERATION_POLICY_MAX_LENGTH,
        "organiser": char * CONTACT_MAX_LENGTH,
        "contact": char * CONTACT_MAX_LENGTH,
        "allow_statements": "1",
    }
    assert client.post_form("/facilitate/new", form).status_code == 302
    slug = "a" * SLUG_MAX_LENGTH
    consultation = db.session.scalar(select(Consultation).where(Consultation.slug == slug))
    assert consultation.title == form["title"]
    for name, limit in [("title", TITLE_MAX_LENGTH), ("question", QUESTION_MAX_LENGTH)]:
        assert client.post_form(f"/facilitate/{slug}/settings", {**form, name: char * (limit + 1)}).status_code == 400
    seed = char * STATEMENT_MAX_LENGTH
    assert client.post_form(f"/facilitate/{slug}/statements", {"action": "one", "text": seed}).status_code == 302
    pasted = "\n".join(f"{i} " + char * (STATEMENT_MAX_LENGTH - 2) for i in range(1, 10))
    assert client.post_form(f"/facilitate/{slug}/statements", {"action": "add", "pasted": pasted}).status_code == 200
    statement = db.session.scalar(select(Statement).where(Statement.text == seed))
    themes = {f"themes-{statement.id}": char * THEME_MAX_LENGTH}
    assert client.post_form(f"/c/{slug}/report/themes", themes).status_code == 302
    assert client.post_form(f"/c/{slug}/report/themes", {f"themes-{statement.id}": char * 61}).status_code == 400
    reject = {"row": f"reject:{statement.id}", "reason_text": char * REASON_MAX_LENGTH}
    assert client.post_form(f"/facilitate/{slug}/moderate", reject).status_code == 302
    logged = db.session.scalar(select(ModerationLogEntry.reason).order_by(ModerationLogEntry.id.desc()).limit(1))
    assert logged == char * REASON_MAX_LENGTH
    assert GROUP_NAME_MAX_LENGTH == THEME_MAX_LENGTH  # group names share the bound (checked in test_report_brief)


@pytest.mark.parametrize("char", ["x", *EXPANDING])
def test_a_signed_xid_at_its_limit_is_admitted_and_a_longer_one_is_a_400(client, other_client, make_consultation, char):
    consultation = make_consultation()
    consultation.eligibility = Eligibility.XID
    consultation.xid_secret = "s" * 64
    db.session.commit()
    xid = char * XID_MAX_LENGTH
    sig = admission.xid_signature(consultation.xid_secret, xid)
    assert client.get("/c/test", query_string={"xid": xid, "sig": sig}).status_code == 200
    longer = xid + char
    sig = admission.xid_signature(consultation.xid_secret, longer)
    answer = other_client.get("/c/test", query_string={"xid": longer, "sig": sig})
    assert answer.status_code == 400 and "at most 200 characters" in answer.text
