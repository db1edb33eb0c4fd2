"""Every route of the app for every role, with the expected status; a route without an expectation fails the test.

The routes come from ``app.url_map``, so a new route cannot escape: add its row to
``PUBLIC_ROUTES`` or ``STAFF_ROUTES`` in ``tests/views/routes.py`` saying who may use it.
"""

import re

import pytest

from participate.extensions import db
from participate.models import ConsultationStatus, Participant, Statement, Vote
from participate.services import consultations, moderation
from tests.conftest import Client
from tests.views.routes import AS_STAFF, PUBLIC_ROUTES, ROLES, STAFF_ROUTES
from tests.views.routes import REFUSED as STAFF_REFUSED


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
