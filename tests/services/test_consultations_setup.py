"""Consultation set-up by facilitators: settings, schedules, moderators, eligibility, monitoring, the audit log."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from participate.extensions import db
from participate.models import AuditLogEntry, ConsultationStatus, Participant, VoteValue, utcnow
from participate.services import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    audit,
    consultations,
    eligibility,
    moderation,
    monitoring,
)
from participate.services.participation import admission, identity
from participate.services.participation import votes as vote_writer
from tests import factories


@pytest.fixture
def owner(make_account):
    return make_account("facilitator")


def _create(owner, **data):
    return consultations.create(db.session, owner, {"title": "Buses", "question": "What about buses?", **data})


def test_create_makes_an_owned_draft_with_a_slug_from_the_title(owner):
    consultation = _create(owner, title="Buses & Trams: 2027!")
    assert consultation.slug == "buses-trams-2027"
    assert consultation.status == ConsultationStatus.DRAFT
    assert consultation.owner.id == owner.id
    assert consultation.allow_statements
    again = _create(owner, title="Buses & Trams: 2027!")
    assert again.slug == "buses-trams-2027-2"
    assert [e.action for e in audit.entries(db.session, consultation)] == ["created"]


def test_moderators_cannot_create(make_account):
    with pytest.raises(Forbidden):
        _create(make_account("moderator"))


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        ({"title": ""}, InvalidInput, "title"),
        ({"question": "q" * 501}, InvalidInput, "limit is 500"),
        ({"slug": "Not A Slug"}, InvalidInput, "web address"),
        ({"moderation": "sometimes"}, InvalidInput, "pre, post"),
        ({"report_visibility": "secret"}, InvalidInput, "public, link, private"),
        ({"eligibility": "vip"}, InvalidInput, "open, xid, invite"),
        ({"scheduled_close_at": "tomorrow"}, InvalidInput, "date and time"),
        ({"scheduled_close_at": "2001-01-01T00:00"}, InvalidInput, "in the past"),
    ],
)
def test_settings_are_validated(owner, data, error, message):
    with pytest.raises(error, match=message):
        _create(owner, **data)


def test_slug_must_be_free(owner):
    _create(owner, slug="taken")
    with pytest.raises(Conflict):
        _create(owner, slug="taken")


def test_update_records_what_changed(owner):
    consultation = _create(owner, slug="buses")
    changes = consultations.update(
        db.session, owner, consultation, {"title": "Better buses", "report_visibility": "link", "description": "*Hi*"}
    )
    assert changes == {
        "title": ["Buses", "Better buses"],
        "report_visibility": ["public", "link"],
        "description": ["", "*Hi*"],
    }
    assert consultation.report_key  # a link-only report gets its secret
    entry = audit.entries(db.session, consultation)[0]
    assert entry.action == "settings_changed" and entry.details["changes"]["title"] == ["Buses", "Better buses"]
    assert consultations.update(db.session, owner, consultation, {"title": "Better buses"}) == {}


def test_open_close_are_audited_and_closing_twice_is_a_conflict(owner):
    consultation = _create(owner)
    consultations.open_now(db.session, owner, consultation)
    consultations.close_now(db.session, owner, consultation)
    with pytest.raises(Conflict):
        consultations.close_now(db.session, owner, consultation)
    assert [e.action for e in audit.entries(db.session, consultation)] == ["closed", "opened", "created"]


def test_scheduled_close_applies_when_the_consultation_is_next_loaded(owner):
    consultation = _create(owner, slug="soon")
    consultations.open_now(db.session, owner, consultation)
    closes = utcnow() + timedelta(hours=1)
    consultations.update(db.session, owner, consultation, {"scheduled_close_at": closes.strftime("%Y-%m-%dT%H:%M")})
    assert not consultations.apply_schedule(db.session, consultation)
    assert consultations.apply_schedule(db.session, consultation, now=closes + timedelta(minutes=1))
    assert consultation.status == ConsultationStatus.CLOSED
    assert consultation.scheduled_close_at is None
    entry = audit.entries(db.session, consultation)[0]
    assert entry.action == "closed" and entry.account_id is None and "scheduled" in entry.details


def test_scheduled_open_and_close_in_the_past_are_applied_once_and_together(owner):
    consultation = _create(owner, slug="past")
    consultation.scheduled_open_at = utcnow() - timedelta(hours=2)
    consultation.scheduled_close_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    db.session.expire_all()
    assert consultations.get_any(db.session, "past").status == ConsultationStatus.DRAFT  # reading changes nothing
    assert consultations.apply_due_schedules(db.session, slug="other") == 0
    assert consultations.apply_due_schedules(db.session) == 1 and consultations.apply_due_schedules(db.session) == 0
    db.session.expire_all()
    assert consultations.public_listing(db.session, statuses=(ConsultationStatus.OPEN,)) == []
    loaded = consultations.get_public(db.session, "past")
    assert loaded.status == ConsultationStatus.CLOSED
    assert consultations.aware(loaded.opened_at) < consultations.aware(loaded.closed_at)


def test_moderators_are_assigned_by_email(owner, make_account):
    consultation = _create(owner)
    moderator = make_account("moderator")
    consultations.add_moderator(db.session, owner, consultation, " MODERATOR@example.org ")
    assert consultations.moderators(db.session, consultation) == [moderator]
    assert consultations.for_staff(db.session, moderator, consultation.slug, manage=False) is consultation
    with pytest.raises(Forbidden):
        consultations.for_staff(db.session, moderator, consultation.slug)
    with pytest.raises(Conflict):
        consultations.add_moderator(db.session, owner, consultation, "moderator@example.org")
    with pytest.raises(NotFound):
        consultations.add_moderator(db.session, owner, consultation, "nobody@example.org")
    consultations.remove_moderator(db.session, owner, consultation, moderator.id)
    with pytest.raises(NotFound):
        consultations.for_staff(db.session, moderator, consultation.slug, manage=False)


def test_xid_allow_list_admits_listed_ids_and_follows_them_across_devices(owner):
    consultation = _create(owner, eligibility="xid")
    consultations.open_now(db.session, owner, consultation)
    eligibility.set_xid_unsigned(db.session, owner, consultation, True)  # an allow-list of unsigned XIDs, chosen
    assert eligibility.set_allowed_xids(db.session, owner, consultation, "xid\nalice\n\nbob,extra\nalice\n") == 2
    with pytest.raises(Forbidden, match="personal link"):
        factories.check_eligible(db.session, consultation, "laptop")
    with pytest.raises(Forbidden, match="not on the list"):
        admission.admit(db.session, consultation, "laptop", xid="mallory")
    admission.admit(db.session, consultation, "laptop", xid="alice")
    factories.check_eligible(db.session, consultation, "laptop")
    alice = db.session.scalar(select(Participant).where(Participant.xid == "alice"))
    seed = moderation.add_seed(db.session, owner, consultation, "Buses should be free")
    factories.cast(db.session, consultation, "laptop", seed.id, VoteValue.AGREE)
    admission.admit(db.session, consultation, "phone", xid="alice")  # the same person on another device
    factories.check_eligible(db.session, consultation, "phone")
    assert db.session.scalar(select(Participant).where(Participant.xid == "alice")).id == alice.id
    assert [v for _, v in vote_writer.my_votes(db.session, identity.find(db.session, consultation, "phone"))] == [1]
    with pytest.raises(Forbidden):
        admission.admit(db.session, consultation, "phone", xid="bob")  # one browser, one person


def test_invite_codes_admit_one_browser_each(owner):
    consultation = _create(owner, eligibility="invite")
    consultations.open_now(db.session, owner, consultation)
    with pytest.raises(InvalidInput):
        eligibility.generate_invite_codes(db.session, owner, consultation, "0")
    assert eligibility.generate_invite_codes(db.session, owner, consultation, "3") == 3
    rows = eligibility.invite_codes_csv(db.session, consultation, "http://x/c/buses").splitlines()
    assert rows[0] == "code,link,used_at" and len(rows) == 4
    code = rows[1].split(",")[0]
    assert rows[1].split(",")[1] == f"http://x/c/buses?code={code}"
    with pytest.raises(Forbidden, match="invite code"):
        factories.check_eligible(db.session, consultation, "first")
    with pytest.raises(Forbidden, match="not valid"):
        admission.admit(db.session, consultation, "first", code="WRONGCODE0")
    admission.admit(db.session, consultation, "first", code=code.lower())  # codes are not case-sensitive
    factories.check_eligible(db.session, consultation, "first")
    admission.admit(db.session, consultation, "first", code=code)  # the same browser again is fine
    seed = moderation.add_seed(db.session, owner, consultation, "Buses should be free")
    factories.cast(db.session, consultation, "first", seed.id, VoteValue.AGREE)  # the first vote uses it up
    with pytest.raises(Forbidden, match="already been used"):
        admission.admit(db.session, consultation, "second", code=code)
    assert eligibility.invite_code_counts(db.session, consultation) == (3, 1)


def test_monitor_counts_participation(owner, make_consultation):
    consultation = make_consultation("watched")
    for token, n in (("a", 1), ("b", 3)):
        for statement in consultation.statements[:n]:
            factories.cast(db.session, consultation, token, statement.id, VoteValue.AGREE)
    factories.cast(db.session, consultation, "a", consultation.statements[0].id, VoteValue.DISAGREE)
    stats = monitoring.monitor(db.session, consultation)
    assert (stats.participants, stats.voters, stats.votes, stats.vote_events) == (2, 2, 4, 5)
    assert stats.statements == {"pending": 0, "accepted": 3, "rejected": 0}
    assert dict(stats.distribution)["1"] == 1 and dict(stats.distribution)["2-5"] == 1
    assert len(stats.timeline) == 1 and stats.timeline[0].votes == 5 and stats.timeline[0].participants == 2


def test_audit_entries_are_kept_per_consultation(owner):
    first, second = _create(owner), _create(owner)
    consultations.open_now(db.session, owner, second)
    assert db.session.scalar(select(AuditLogEntry).where(AuditLogEntry.action == "opened")).consultation_id == second.id
    assert [e.action for e in audit.entries(db.session, first)] == ["created"]


def test_a_refusal_is_translated_with_its_parameters_and_the_field_named_in_the_language(app):
    from participate.services import N_, InvalidInput, Term

    error = InvalidInput(
        N_("The %(label)s is in the past: choose a later time, or open or close it now."),
        label=Term(N_("closing time")),
    )
    assert error.message == "The closing time is in the past: choose a later time, or open or close it now."
    with app.test_request_context("/?lang=cy"):
        assert error.translated().startswith("Mae'r maes “amser cau” yn y gorffennol")


@pytest.mark.parametrize(
    ("email", "error", "message"),
    [
        ("nobody@example.org", NotFound, "no active account"),
        ("moderator@example.org", InvalidInput, "is a moderator"),
        ("facilitator@example.org", Conflict, "already owns"),  # the owner themselves
        ("gone@example.org", NotFound, "no active account"),  # deactivated
    ],
)
def test_transfer_refuses_what_cannot_own_the_consultation(owner, make_account, email, error, message):
    make_account("moderator")
    make_account("facilitator", "gone@example.org").is_active = False
    consultation = _create(owner)
    with pytest.raises(error, match=message):
        consultations.transfer(db.session, owner, consultation, email)
    db.session.rollback()
    assert consultation.owner.id == owner.id


def test_transfer_hands_the_consultation_over_and_is_audited(owner, make_account):
    successor = make_account("facilitator", "successor@example.org")
    consultation = _create(owner)
    with pytest.raises(Forbidden):  # neither owner nor admin
        consultations.transfer(db.session, successor, consultation, successor.email)
    assert consultations.transfer(db.session, owner, consultation, " Successor@Example.org ") == successor
    assert consultation.owner.id == successor.id
    assert consultations.can_manage(db.session, successor, consultation)
    assert not consultations.can_manage(db.session, owner, consultation)
    entry = audit.entries(db.session, consultation)[0]
    assert (entry.action, entry.account_id) == ("transferred", owner.id)
    assert entry.details == {"previous_owner": owner.email, "new_owner": "successor@example.org"}
    admin = make_account("admin")
    consultations.transfer(db.session, admin, consultation, owner.email)  # an admin can hand it back
    assert consultation.owner.id == owner.id
