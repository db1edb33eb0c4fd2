"""Every facilitator route for every role: anonymous → login, no business there → 404, wrong role → 403, else 200."""

import pytest

from participate.extensions import db
from participate.models import ConsultationModerator
from participate.services import consultations
from tests.conftest import Client

# (method, path, who may use it): "manage" = owner and admins; "moderate" = they and assigned moderators;
# "create" = facilitators and admins; "staff" = any signed-in account.
ROUTES = [
    ("GET", "/facilitate/", "staff"),
    ("GET", "/facilitate/new", "create"),
    ("GET", "/facilitate/import", "create"),
    ("GET", "/facilitate/{slug}", "manage"),
    ("GET", "/facilitate/{slug}/settings", "manage"),
    ("GET", "/facilitate/{slug}/statements", "manage"),
    ("GET", "/facilitate/{slug}/statements/{sid}/edit", "manage"),
    ("GET", "/facilitate/{slug}/moderators", "manage"),
    ("GET", "/facilitate/{slug}/eligibility", "manage"),
    ("GET", "/facilitate/{slug}/invite-codes.csv", "manage"),
    ("GET", "/facilitate/{slug}/monitor", "manage"),
    ("GET", "/facilitate/{slug}/export.zip", "manage"),
    ("GET", "/facilitate/{slug}/audit", "manage"),
    ("POST", "/facilitate/{slug}/open", "manage"),
    ("POST", "/facilitate/{slug}/settings", "manage"),
    ("GET", "/facilitate/{slug}/moderate", "moderate"),
    ("GET", "/facilitate/{slug}/moderate?state=rejected", "moderate"),
    ("GET", "/facilitate/{slug}/moderation-log", "moderate"),
    ("GET", "/facilitate/{slug}/moderation-log.csv", "moderate"),
    ("POST", "/facilitate/{slug}/moderate", "moderate"),
]

# role → {kind of route: expected status}
EXPECTED = {
    "anonymous": {"staff": 302, "create": 302, "manage": 302, "moderate": 302},
    "moderator": {"staff": 200, "create": 403, "manage": 404, "moderate": 404},
    "assigned moderator": {"staff": 200, "create": 403, "manage": 403, "moderate": 200},
    "other facilitator": {"staff": 200, "create": 200, "manage": 404, "moderate": 404},
    "owner": {"staff": 200, "create": 200, "manage": 200, "moderate": 200},
    "admin": {"staff": 200, "create": 200, "manage": 200, "moderate": 200},
}


@pytest.fixture
def setup(app, make_account):
    owner = make_account("facilitator", "owner@example.org")
    consultation = consultations.create(
        db.session, owner, {"title": "Access test", "question": "Who may see this?", "slug": "access"}
    )
    from participate.services import moderation

    statement = moderation.add_seed(db.session, owner, consultation, "A seed nobody voted on")
    moderator = make_account("moderator", "assigned@example.org")
    db.session.add(ConsultationModerator(consultation_id=consultation.id, account_id=moderator.id))
    db.session.commit()
    return {"owner": owner, "assigned moderator": moderator, "sid": statement.id}


def _form(path: str) -> dict:
    if path.endswith("/settings"):
        return {"title": "Access test", "question": "Who may see this?", "slug": "access"}
    if path.endswith("/moderate"):
        return {"action": "meta", "statement_id": "0"}
    return {}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_every_route_for_every_role(app, setup, login, role):
    mismatches = []
    client = Client(app)
    if role in ("owner", "assigned moderator"):
        login(client, account=setup[role])
    elif role == "other facilitator":
        login(client, "facilitator", email="other@example.org")
    elif role != "anonymous":
        login(client, role)
    for method, template, kind in ROUTES:
        path = template.format(slug="access", sid=setup["sid"])
        response = client.get(path) if method == "GET" else client.post_form(path, _form(path))
        expected = EXPECTED[role][kind]
        got = response.status_code
        if method == "POST" and expected == 200:
            # A permitted state change redirects, or (a bogus statement id here) is refused by the service.
            ok = got in (302, 404) if path.endswith("/moderate") else got == 302
        else:
            ok = got == expected
        if got == 302 and expected == 302:
            ok = response.headers["Location"].startswith("/login?next=")
        if not ok:
            mismatches.append(f"{method} {path}: expected {expected}, got {got}")
        db.session.rollback()
        # Re-open tests start from a draft each time.
        consultation = consultations.get_any(db.session, "access")
        if consultation.status.value != "draft":
            consultation.status = consultation.status.DRAFT
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
