"""Every facilitator route for every role: anonymous → login, no business there → 404, wrong role → 403, else OK."""

import pytest

from participate.extensions import db
from participate.models import ConsultationModerator, ConsultationStatus, Participant
from participate.services import consultations, moderation, population
from tests.conftest import Client
from tests.views.routes import REFUSED, SETTINGS, STAFF_ROUTES


@pytest.fixture
def setup(app, make_account):
    owner = make_account("facilitator", "owner@example.org")
    consultation = consultations.create(db.session, owner, dict(SETTINGS))
    statement = moderation.add_seed(db.session, owner, consultation, "A seed nobody voted on")
    moderator = make_account("moderator", "assigned@example.org")
    db.session.add(ConsultationModerator(consultation_id=consultation.id, account_id=moderator.id))
    participant = Participant(consultation_id=consultation.id, token_hash="f" * 64)
    db.session.add(participant)
    db.session.commit()
    question = population.add_template(db.session, consultation, None, "age_band", "uk")
    ids = {"slug": "access", "sid": statement.id, "pid": participant.id, "mid": moderator.id, "qid": question.id}
    return {"owner": owner, "assigned moderator": moderator, "ids": ids}


@pytest.mark.parametrize("role", list(REFUSED))
def test_every_route_for_every_role(app, setup, login, role):
    client = Client(app)
    if role in ("owner", "assigned moderator"):
        login(client, account=setup[role])
    elif role == "other facilitator":
        login(client, "facilitator", email="other@example.org")
    elif role != "anonymous":
        login(client, role)
    mismatches = []
    for method, template, kind, allowed, form in STAFF_ROUTES:
        path = template.format(**setup["ids"])
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post_form(path, {k: v.format(**setup["ids"]) for k, v in form.items()})
        expected = REFUSED[role].get(kind, allowed)
        got = response.status_code
        if got != expected:
            mismatches.append(f"{method} {path}: expected {expected}, got {got}")
        elif role == "anonymous" and not response.headers["Location"].startswith("/login?next="):
            mismatches.append(f"{method} {path}: redirected to {response.headers['Location']}, not to login")
        db.session.rollback()
        if method == "POST" and path.endswith("/delete") and got == 302:
            continue  # the consultation was deleted (its row comes last): nothing to reset
        consultation = consultations.get_any(db.session, "access")
        if consultation.status != ConsultationStatus.DRAFT:  # the open route ran: start each route from a draft
            consultation.status = ConsultationStatus.DRAFT
            db.session.commit()
    assert mismatches == []


def test_dashboard_shows_only_what_each_account_may_see(app, setup, login, make_account):
    other = make_account("facilitator", "other@example.org")
    consultations.create(db.session, other, {"title": "Someone else's", "question": "Q?", "slug": "theirs"})
    for role, sees, hidden in [
        ("owner", ["Access test"], ["Someone else&#39;s"]),
        ("assigned moderator", ["Access test"], ["Someone else&#39;s"]),
        ("admin", ["Access test", "Someone else&#39;s"], []),
    ]:
        client = Client(app)
        if role == "admin":
            login(client, "admin")
        else:
            login(client, account=setup[role])
        html = client.get("/facilitate/").text
        assert all(s in html for s in sees), role
        assert not any(h in html for h in hidden), role
