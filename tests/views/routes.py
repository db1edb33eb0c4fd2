"""Who may use each route: the tables the authorisation tests and the page checks share, and the consultations
and accounts they are played against. A route without a row fails ``test_authorisation_matrix``.
"""

from participate.extensions import db
from participate.models import ConsultationModerator, Participant, Statement
from participate.services import consultations, moderation, population

SETTINGS = {"title": "Access test", "question": "Who may see this?", "slug": "access"}

# (method, path, who may use it, status when allowed, form). Who: "staff" = any signed-in account; "create" =
# facilitators and admins; "manage" = the owner and admins; "moderate" = they and assigned moderators; "admin".
# A permitted POST may still be refused by the service (e.g. closing a draft is 409): that is the service speaking.
STAFF_ROUTES = [
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
    ("GET", "/facilitate/{slug}/about-participants/{qid}/shares.csv", "manage", 200, None),
    ("GET", "/facilitate/{slug}/invite-codes.csv", "manage", 200, None),
    ("GET", "/facilitate/{slug}/monitor", "manage", 200, None),
    ("GET", "/facilitate/{slug}/export.zip", "manage", 200, None),
    ("GET", "/facilitate/{slug}/audit", "manage", 200, None),
    ("GET", "/facilitate/jobs/0123456789abcdef0123456789abcdef", "staff", 404, None),  # no such job
    ("GET", "/facilitate/jobs/0123456789abcdef0123456789abcdef/file", "staff", 404, None),
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


ROLES = [
    "anonymous participant",
    "another participant",
    "moderator of another consultation",
    "moderator",
    "facilitator of another consultation",
    "facilitator",
    "admin",
]
# Each role's row in the REFUSED table above (same people, named from the staff side).
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


def make_world(make_account, make_consultation) -> dict:
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
    question = population.add_template(db.session, access, None, "age_band", "uk")
    pub = make_consultation("pub")
    pub_sid = db.session.scalars(db.select(Statement.id).where(Statement.consultation_id == pub.id)).first()
    accounts = {
        "moderator of another consultation": other_moderator,
        "moderator": moderator,
        "facilitator of another consultation": other_owner,
        "facilitator": owner,
    }
    ids = {
        "slug": "access",
        "sid": statement.id,
        "pid": participant.id,
        "mid": moderator.id,
        "qid": question.id,
        "pub_sid": pub_sid,
    }
    return {"accounts": accounts, "ids": ids}
