"""Every facilitator route for every role: anonymous → login, no business there → 404, wrong role → 403, else OK."""

import pytest

from participate.extensions import db
from participate.models import ConsultationModerator, ConsultationStatus, Participant
from participate.services import consultations, moderation
from tests.conftest import Client

SETTINGS = {"title": "Access test", "question": "Who may see this?", "slug": "access"}

# (method, path, who may use it, status when allowed, form). Who: "staff" = any signed-in account; "create" =
# facilitators and admins; "manage" = the owner and admins; "moderate" = they and assigned moderators; "admin".
# A permitted POST may still be refused by the service (e.g. closing a draft is 409): that is the service speaking.
ROUTES = [
    ("GET", "/facilitate/", "staff", 200, None),
    ("GET", "/account/password", "staff", 200, None),
    ("GET", "/admin/accounts", "admin", 200, None),
    ("GET", "/facilitate/new", "create", 200, None),
    ("POST", "/facilitate/new", "create", 302, {"title": "Made in the access test", "question": "Q?"}),
    ("GET", "/facilitate/import", "create", 200, None),
    ("POST", "/facilitate/import", "create", 400, {}),  # no file chosen
    ("GET", "/facilitate/{slug}", "manage", 200, None),
    ("GET", "/facilitate/{slug}/settings", "manage", 200, None),
    ("POST", "/facilitate/{slug}/settings", "manage", 302, SETTINGS),
    ("POST", "/facilitate/{slug}/open", "manage", 302, {}),
    ("GET", "/facilitate/{slug}/close", "manage", 200, None),  # asks to confirm
    ("POST", "/facilitate/{slug}/close", "manage", 409, {}),  # it is a draft again by then
    ("GET", "/facilitate/{slug}/statements", "manage", 200, None),
    ("POST", "/facilitate/{slug}/statements", "manage", 200, {"action": "preview", "pasted": "One\nTwo"}),
    ("GET", "/facilitate/{slug}/statements/{sid}/edit", "manage", 200, None),
    ("POST", "/facilitate/{slug}/statements/{sid}/edit", "manage", 302, {"text": "A seed nobody voted on"}),
    ("GET", "/facilitate/{slug}/moderators", "manage", 200, None),
    ("POST", "/facilitate/{slug}/moderators", "manage", 409, {"email": "assigned@example.org"}),  # already there
    ("GET", "/facilitate/{slug}/eligibility", "manage", 200, None),
    ("POST", "/facilitate/{slug}/eligibility", "manage", 302, {"action": "codes", "count": "2"}),
    ("GET", "/facilitate/{slug}/about-participants", "manage", 200, None),
    (
        "POST",
        "/facilitate/{slug}/about-participants",
        "manage",
        302,
        {"action": "template", "template": "sex", "area": "uk"},
    ),
    ("GET", "/facilitate/{slug}/invite-codes.csv", "manage", 200, None),
    ("GET", "/facilitate/{slug}/monitor", "manage", 200, None),
    ("GET", "/facilitate/{slug}/export.zip", "manage", 200, None),
    ("GET", "/facilitate/{slug}/audit", "manage", 200, None),
    ("GET", "/facilitate/{slug}/qr.svg", "manage", 200, None),
    ("GET", "/facilitate/{slug}/delete", "manage", 200, None),  # asks to confirm
    ("POST", "/facilitate/{slug}/transfer", "manage", 409, {"email": "owner@example.org"}),  # already the owner
    ("GET", "/facilitate/{slug}/moderate", "moderate", 200, None),
    ("GET", "/facilitate/{slug}/moderate?state=rejected&page=2", "moderate", 200, None),
    ("POST", "/facilitate/{slug}/moderate", "moderate", 302, {"row": "meta:{sid}"}),
    ("POST", "/facilitate/{slug}/participants/{pid}/ban", "moderate", 302, {"reason": "spam"}),
    ("POST", "/facilitate/{slug}/participants/{pid}/unban", "moderate", 302, {}),  # banned by the row above
    ("GET", "/facilitate/{slug}/moderation-log", "moderate", 200, None),
    ("GET", "/facilitate/{slug}/moderation-log.csv", "moderate", 200, None),
    ("POST", "/facilitate/{slug}/moderators/{mid}/remove", "manage", 302, {}),  # it unassigns the moderator
    ("POST", "/facilitate/{slug}/delete", "manage", 302, {}),  # last: nobody voted, so it is deleted
]

# role → {kind of route: status when refused}; a kind missing from a role's map is permitted.
REFUSED = {
    "anonymous": {"staff": 302, "admin": 302, "create": 302, "manage": 302, "moderate": 302},
    "moderator": {"admin": 403, "create": 403, "manage": 404, "moderate": 404},
    "assigned moderator": {"admin": 403, "create": 403, "manage": 403},
    "other facilitator": {"admin": 403, "manage": 404, "moderate": 404},
    "owner": {"admin": 403},
    "admin": {},
}


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
    ids = {"slug": "access", "sid": statement.id, "pid": participant.id, "mid": moderator.id}
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
    for method, template, kind, allowed, form in ROUTES:
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
