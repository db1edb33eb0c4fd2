"""Pages people hit (issue 22): the report's unsure section, the seeds page's list, the footer's sign-in link,
deleting and unlisting a consultation, the overview's QR code."""

from sqlalchemy import select

from participate.extensions import db
from participate.models import AuditLogEntry, Consultation, Statement
from tests.conftest import Client


def _sids(consultation_id) -> list[int]:
    return db.session.scalars(select(Statement.id).where(Statement.consultation_id == consultation_id)).all()


def test_passes_on_few_votes_are_not_called_no_passes(client, make_consultation):
    consultation = make_consultation()
    client.get("/c/test")
    client.post_form("/c/test/vote", {"statement_id": _sids(consultation.id)[0], "vote": "pass"})
    page = client.get("/c/test/report").text
    assert "No statement has passes yet." not in page
    assert "The passes so far are on statements with fewer than 3 votes" in page


def test_no_passes_says_so(client, make_consultation):
    consultation = make_consultation()
    client.get("/c/test")
    client.post_form("/c/test/vote", {"statement_id": _sids(consultation.id)[0], "vote": "agree"})
    assert "No statement has passes yet." in client.get("/c/test/report").text


def _staff(app, role="facilitator"):
    from participate.models import Role
    from participate.services import accounts

    accounts.create(db.session, f"{role}@example.org", "correct horse battery staple", Role(role))
    staff = Client(app)
    staff.post_form("/login", {"email": f"{role}@example.org", "password": "correct horse battery staple"})
    return staff


def _owned_by(staff_email, consultation):
    from participate.models import Account, ConsultationOwner

    owner = db.session.scalar(select(Account.id).where(Account.email == staff_email))
    db.session.add(ConsultationOwner(consultation_id=consultation.id, account_id=owner))
    db.session.commit()


def test_a_consultation_nobody_voted_in_is_deleted_after_a_confirmation(app, make_consultation):
    staff = _staff(app)
    consultation = make_consultation()
    _owned_by("facilitator@example.org", consultation)
    asks = staff.get("/facilitate/test/delete")
    assert asks.status_code == 200 and "Yes, delete it" in asks.text
    assert db.session.scalar(select(Consultation.id).where(Consultation.slug == "test")) is not None  # only asked
    done = staff.post_form("/facilitate/test/delete", {})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Consultation.id).where(Consultation.slug == "test")) is None
    assert db.session.scalar(select(Statement.id)) is None
    assert db.session.scalar(select(AuditLogEntry.action).order_by(AuditLogEntry.id.desc())) == "deleted"


def test_once_anyone_has_voted_it_cannot_be_deleted(app, client, make_consultation):
    staff = _staff(app)
    consultation = make_consultation()
    _owned_by("facilitator@example.org", consultation)
    client.get("/c/test")
    client.post_form("/c/test/vote", {"statement_id": _sids(consultation.id)[0], "vote": "agree"})
    assert "Yes, delete it" not in staff.get("/facilitate/test/delete").text
    refused = staff.post_form("/facilitate/test/delete", {})
    assert refused.status_code == 409 and "cannot be deleted" in refused.text
    db.session.expire_all()
    assert db.session.scalar(select(Consultation.id).where(Consultation.slug == "test")) is not None


def test_an_unlisted_consultation_is_off_the_public_lists_but_open_by_its_link(client, make_consultation):
    consultation = make_consultation()
    make_consultation("listed")
    consultation.unlisted = True
    db.session.commit()
    assert "/c/test" not in client.get("/").text and "/c/listed" in client.get("/").text
    assert "/c/test/report" not in client.get("/reports").text
    assert "test" not in [c["slug"] for c in client.get("/api/v1/consultations").get_json()]
    assert client.get("/c/test").status_code == 200


def test_the_short_link_leads_to_the_open_consultation_and_the_qr_code_is_svg(app, make_consultation):
    from participate.services import short_links

    staff = _staff(app)
    consultation = make_consultation()
    _owned_by("facilitator@example.org", consultation)
    code = short_links.code_of(app.secret_key, consultation.id)
    overview = staff.get("/facilitate/test").text
    assert f"/j/{code}" in overview
    assert staff.get(f"/j/{code.upper()}").headers["Location"].endswith("/c/test")
    assert staff.get("/j/zzzzzz").status_code == 404
    for wrong in ("ééééé1", "a b c1", "\u0131" * 6):  # not letters of the code's alphabet (one found by the fuzzer)
        assert staff.get(f"/j/{wrong}").status_code == 404, wrong
    qr = staff.get("/facilitate/test/qr.svg")
    assert qr.mimetype == "image/svg+xml" and b"<svg" in qr.data and b"<title>" in qr.data


def test_the_seeds_page_lists_the_statements_already_there(app, make_consultation):
    staff = _staff(app)
    _owned_by("facilitator@example.org", make_consultation(statements=("Seed alpha", "Seed beta")))
    page = staff.get("/facilitate/test/statements").text
    assert "2 statements already here" in page and "Seed alpha" in page and "Seed beta" in page


def test_the_footer_links_to_sign_in(client):
    assert 'href="/login"' in client.get("/").text
