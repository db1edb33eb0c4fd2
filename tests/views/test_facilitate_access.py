"""Every facilitator route for every role: anonymous → login, no business there → 404, wrong role → 403, else OK."""

import pytest

from participate.extensions import db
from participate.models import ConsultationStatus
from participate.services import consultations
from tests.conftest import Client
from tests.views.routes import REFUSED, STAFF_ROUTES


@pytest.fixture
def setup(world):
    """The accounts and ids of :func:`tests.views.routes.make_world`, under this test's role names."""
    accounts = world["accounts"]
    return {
        "owner": accounts["facilitator"],
        "assigned moderator": accounts["moderator"],
        "other facilitator": accounts["facilitator of another consultation"],
        "ids": world["ids"],
    }


@pytest.mark.parametrize("role", list(REFUSED))
def test_every_route_for_every_role(app, setup, login, role):
    client = Client(app)
    if role in ("owner", "assigned moderator", "other facilitator"):
        login(client, account=setup[role])
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


def test_dashboard_shows_only_what_each_account_may_see(app, setup, login):
    consultations.create(
        db.session, setup["other facilitator"], {"title": "Someone else's", "question": "Q?", "slug": "theirs"}
    )
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
