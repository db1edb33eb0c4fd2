"""Every route of the app for every role, with the expected status; a route without an expectation fails the test.

The routes come from ``app.url_map``, so a new route cannot escape: add its row here (or to
``test_facilitate_access.ROUTES``) saying who may use it.
"""

import re

import pytest

from participate.extensions import db
from participate.models import ConsultationModerator, ConsultationStatus, Participant, Statement, Vote
from participate.services import consultations, moderation
from tests.conftest import Client
from tests.views.test_facilitate_access import REFUSED as STAFF_REFUSED
from tests.views.test_facilitate_access import ROUTES as STAFF_ROUTES
from tests.views.test_facilitate_access import SETTINGS

ROLES = [
    "anonymous participant",
    "another participant",
    "moderator of another consultation",
    "moderator",
    "facilitator of another consultation",
    "facilitator",
    "admin",
]
# Each role's row in test_facilitate_access's REFUSED table (same people, named from the staff side).
AS_STAFF = {
    "anonymous participant": "anonymous",
    "another participant": "anonymous",
    "moderator of another consultation": "moderator",
    "moderator": "assigned moderator",
    "facilitator of another consultation": "other facilitator",
    "facilitator": "owner",
    "admin": "admin",
}
ANONYMOUS = ("anonymous participant", "another participant")
STAFF = ROLES[2:]
CAN_MANAGE = ("facilitator", "admin")


def everyone(status):
    return dict.fromkeys(ROLES, status)


def staff_only(allowed, refused):
    """Report pages of the draft consultation: its facilitator and admins, nobody else."""
    return {role: allowed if role in CAN_MANAGE else refused for role in ROLES}


# (method, path, body, {role: status}). "JSON" posts a JSON body with the CSRF header. Public and participant
# routes use the open consultation "pub"; the report's staff routes use the draft "access" of the staff table.
PUBLIC_ROUTES = [
    ("GET", "/", None, everyone(200)),
    ("GET", "/privacy", None, everyone(200)),
    ("GET", "/reports", None, everyone(200)),
    ("GET", "/static/css/site.css", None, everyone(200)),
    ("GET", "/favicon.ico", None, everyone(200)),
    ("GET", "/healthz", None, everyone(200)),
    ("GET", "/readyz", None, everyone(200)),
    ("GET", "/api/v1/session", None, everyone(200)),
    ("GET", "/api/v1/consultations", None, everyone(200)),
    ("GET", "/api/v1/consultations/pub/next", None, everyone(200)),
    ("JSON", "/api/v1/consultations/pub/votes", {"statement_id": "{pub_sid}", "vote": "agree"}, everyone(201)),
    ("JSON", "/api/v1/consultations/pub/statements", {"text": "Said through the API by {n}"}, everyone(201)),
    ("GET", "/c/pub", None, everyone(200)),
    ("POST", "/c/pub/vote", {"statement_id": "{pub_sid}", "vote": "disagree"}, everyone(302)),
    ("POST", "/c/pub/statements", {"text": "Said on the page by {n}"}, everyone(302)),
    ("GET", "/c/pub/mine", None, everyone(200)),
    ("GET", "/c/pub/mine.json", None, everyone(200)),
    ("GET", "/c/pub/moderation", None, everyone(200)),
    ("GET", "/c/pub/about-you", None, everyone(200)),
    ("POST", "/c/pub/about-you", {}, everyone(404)),  # "pub" asks no questions about participants
    ("GET", "/c/pub/report", None, everyone(200)),
    ("GET", "/c/pub/report.json", None, everyone(200)),
    ("GET", "/c/access/report", None, staff_only(200, 404)),  # a draft's report
    ("GET", "/c/access/report/participants.csv", None, staff_only(200, 404)),  # follows the report's visibility
    ("GET", "/c/access/report/themes", None, staff_only(200, 403)),
    ("POST", "/c/access/report/themes", {}, staff_only(302, 403)),
    ("GET", "/c/access/report/groups", None, staff_only(200, 403)),
    ("POST", "/c/access/report/groups", {}, staff_only(302, 403)),
    ("POST", "/c/access/report/publish", {}, staff_only(302, 403)),
    ("GET", "/j/zzzzzz", None, everyone(404)),  # a short link nobody has
    ("GET", "/r/not-a-real-report-token", None, everyone(404)),
    ("GET", "/r/not-a-real-report-token.json", None, everyone(404)),
    ("GET", "/invite/not-a-real-invitation", None, everyone(404)),
    ("POST", "/invite/not-a-real-invitation", {"password": "x", "confirm": "x"}, everyone(404)),
    ("GET", "/login", None, {role: 200 if role in ANONYMOUS else 302 for role in ROLES}),
    ("POST", "/login", {"email": "nobody@example.org", "password": "wrong"}, everyone(401)),
    (
        "POST",
        "/admin/accounts/invite",
        {"email": "invited-{n}@example.org", "role": "moderator"},
        {role: 302 if role in ANONYMOUS else 200 if role == "admin" else 403 for role in ROLES},
    ),
    (
        "POST",
        "/admin/accounts/{mid}",
        {"active": "1"},
        {role: 302 if role in ANONYMOUS else 302 if role == "admin" else 403 for role in ROLES},
    ),
    (
        "POST",
        "/account/password",
        {"current": "wrong", "new": "x", "confirm": "x"},
        {role: 302 if role in ANONYMOUS else 400 for role in ROLES},
    ),
    ("POST", "/c/pub/mine/delete", {"confirmed": "1"}, everyone(302)),
    ("POST", "/logout", {}, everyone(302)),  # last: it signs the account out
]


def _pattern(rule) -> re.Pattern:
    """A regex matching the concrete paths of a url_map rule."""
    out, pos = "", 0
    for match in re.finditer(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>", rule.rule):
        out += re.escape(rule.rule[pos : match.start()])
        converter, args = match.group(1), match.group(2)
        if converter == "int":
            out += r"\d+"
        elif converter == "any":
            out += "(" + "|".join(a.strip().strip("'\"") for a in args.split(",")) + ")"
        elif converter == "path":
            out += ".+"
        else:
            out += "[^/]+"
        pos = match.end()
    return re.compile(out + re.escape(rule.rule[pos:]) + "$")


def test_every_route_has_an_expectation(app):
    covered = [(m, p.split("?")[0]) for m, p, *_ in STAFF_ROUTES] + [
        ("POST" if m == "JSON" else m, p.split("?")[0]) for m, p, *_ in PUBLIC_ROUTES
    ]
    missing = []
    for rule in app.url_map.iter_rules():
        pattern = _pattern(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if not any(m == method and pattern.match(re.sub(r"\{\w+\}", "1", p)) for m, p in covered):
                missing.append(f"{method} {rule.rule}")
    assert missing == [], "routes without an expectation in the authorisation matrix"


@pytest.fixture
def world(app, make_account, make_consultation):
    """ "access" (a draft with an owner and an assigned moderator), "other" (someone else's), "pub" (open)."""
    owner = make_account("facilitator", "owner@example.org")
    access = consultations.create(db.session, owner, dict(SETTINGS))
    statement = moderation.add_seed(db.session, owner, access, "A seed nobody voted on")
    moderator = make_account("moderator", "assigned@example.org")
    db.session.add(ConsultationModerator(consultation_id=access.id, account_id=moderator.id))
    participant = Participant(consultation_id=access.id, token_hash="f" * 64)
    db.session.add(participant)
    other_owner = make_account("facilitator", "other@example.org")
    other = consultations.create(db.session, other_owner, {"title": "Other", "question": "Q?", "slug": "other"})
    other_moderator = make_account("moderator", "other-moderator@example.org")
    db.session.add(ConsultationModerator(consultation_id=other.id, account_id=other_moderator.id))
    db.session.commit()
    pub = make_consultation("pub")
    pub_sid = db.session.scalars(db.select(Statement.id).where(Statement.consultation_id == pub.id)).first()
    accounts = {
        "moderator of another consultation": other_moderator,
        "moderator": moderator,
        "facilitator of another consultation": other_owner,
        "facilitator": owner,
    }
    ids = {"slug": "access", "sid": statement.id, "pid": participant.id, "mid": moderator.id, "pub_sid": pub_sid}
    return {"accounts": accounts, "ids": ids}


@pytest.mark.parametrize("role", ROLES)
def test_every_route_for_every_role(app, world, login, role):
    app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"  # the matrix fails one sign-in per role on purpose
    client = Client(app)
    client.get("/c/pub")  # every browser is a participant of the open consultation
    if role == "another participant":
        client.post_form("/c/pub/vote", {"statement_id": world["ids"]["pub_sid"], "vote": "pass"})
    if role == "admin":
        login(client, "admin")
    elif role in world["accounts"]:
        login(client, account=world["accounts"][role])
    ids = {**world["ids"], "n": role}
    mismatches, deleted = [], False
    rows = [
        (m, p, f, {r: STAFF_REFUSED[AS_STAFF[r]].get(kind, ok) for r in ROLES}) for m, p, kind, ok, f in STAFF_ROUTES
    ]
    for method, template, body, expected in rows[:-1] + PUBLIC_ROUTES[:-2] + rows[-1:] + PUBLIC_ROUTES[-2:]:
        path = template.format(**ids)
        fill = {k: v.format(**ids) if isinstance(v, str) else v for k, v in (body or {}).items()}
        if method == "GET":
            response = client.get(path)
        elif method == "JSON":
            fill = {k: int(v) if k == "statement_id" else v for k, v in fill.items()}
            response = client.post_json(path, fill)
        else:
            response = client.post_form(path, fill)
        response.close()
        if response.status_code != expected[role]:
            mismatches.append(f"{method} {path}: expected {expected[role]}, got {response.status_code}")
        db.session.rollback()
        deleted = deleted or (method == "POST" and path == "/facilitate/access/delete" and response.status_code == 302)
        if deleted:
            continue  # "access" was deleted (its row comes last): nothing to reset
        access = consultations.get_any(db.session, "access")
        if access.status != ConsultationStatus.DRAFT:  # the open route ran: start each route from a draft
            access.status = ConsultationStatus.DRAFT
            db.session.commit()
    assert mismatches == []


# ---- Ids in URLs cannot reach another consultation's data ----


def test_a_statement_id_of_another_consultation_is_not_found(client, make_consultation):
    make_consultation("a")
    b = make_consultation("b", statements=("Only in B",))
    foreign = db.session.scalar(db.select(Statement.id).where(Statement.consultation_id == b.id))
    client.get("/c/a")
    assert client.post_form("/c/a/vote", {"statement_id": foreign, "vote": "agree"}).status_code == 404
    api = client.post_json("/api/v1/consultations/a/votes", {"statement_id": foreign, "vote": "agree"})
    assert api.status_code == 404
    assert db.session.scalar(db.select(db.func.count()).select_from(Vote)) == 0


def test_staff_cannot_reach_another_consultations_rows_through_their_own_url(app, client, login, make_account):
    owner = login(client, "facilitator")
    mine = consultations.create(db.session, owner, {"title": "Mine", "question": "Q?", "slug": "mine"})
    theirs_owner = make_account("facilitator", "theirs@example.org")
    theirs = consultations.create(db.session, theirs_owner, {"title": "Theirs", "question": "Q?", "slug": "theirs"})
    their_statement = moderation.add_seed(db.session, theirs_owner, theirs, "Their seed")
    their_participant = Participant(consultation_id=theirs.id, token_hash="e" * 64)
    db.session.add(their_participant)
    db.session.commit()
    sid, pid = their_statement.id, their_participant.id
    assert mine.id != theirs.id
    for path, form in [
        ("/facilitate/mine/moderate", {"row": f"accept:{sid}"}),
        ("/facilitate/mine/moderate", {"row": f"meta:{sid}"}),
        (f"/facilitate/mine/statements/{sid}/edit", {"text": "Defaced"}),
        (f"/facilitate/mine/participants/{pid}/ban", {"reason": "spam"}),
    ]:
        assert client.post_form(path, form).status_code == 404, path
    assert client.get(f"/facilitate/mine/statements/{sid}/edit").status_code == 404
    db.session.expire_all()
    statement = db.session.get(Statement, sid)
    assert statement.text == "Their seed" and not statement.is_meta
    assert not db.session.get(Participant, pid).is_banned


def test_a_participant_never_sees_or_changes_another_participants_votes(client, other_client, make_consultation):
    consultation = make_consultation()
    sid = db.session.scalar(db.select(Statement.id).where(Statement.consultation_id == consultation.id))
    client.get("/c/test")
    client.post_form("/c/test/vote", {"statement_id": sid, "vote": "agree"})
    other_client.get("/c/test")
    assert "Seed one" not in other_client.get("/c/test/mine").text.split("my-votes")[-1]
    theirs = other_client.get("/c/test/mine.json").get_json()
    assert theirs["current_votes"] == [] and theirs["vote_history"] == []
    other_client.post_form("/c/test/mine/delete", {})  # deletes only their own (nothing)
    mine = client.get("/c/test/mine.json").get_json()
    assert [v["vote"] for v in mine["current_votes"]] == ["agree"]
