"""The JSON API: the same cookie identity as the pages; state changes carry the CSRF token in X-CSRFToken."""

from flask import Blueprint, current_app, jsonify, request
from flask_wtf.csrf import generate_csrf
from sqlalchemy import text

from ..extensions import db, redis_client
from ..services import InvalidInput, consultations, health
from ..services.participation import acts, draw, votes
from . import existing_participant_token, limit_participation, participant_token

bp = Blueprint("api", __name__)


def error(status: int, code: str, message: str):
    return jsonify({"error": {"code": code, "message": message}}), status


@bp.get("/healthz")
def healthz():
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Ready for traffic: the database answers and is at this code's migration head; Redis answers if configured."""
    redis = redis_client(current_app) if current_app.config.get("REDIS_URL") else None
    checks = health.readiness(db.session, redis)
    ready = all(value == "ok" for value in checks.values())
    return {"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503


@bp.get("/api/v1/session")
def session():
    """The CSRF token for JSON requests; also gives the browser its participant identity."""
    participant_token()
    return {"csrf_token": generate_csrf()}


@bp.get("/api/v1/consultations")
def list_consultations():
    return jsonify(
        [
            {
                "slug": item.consultation.slug,
                "title": item.consultation.title,
                "question": item.consultation.question,
                "status": item.consultation.status.value,
                "participants": item.participants,
                "statements": item.statements,
            }
            for item in consultations.public_listing(db.session)
        ]
    )


@bp.get("/api/v1/consultations/<slug>/next")
def next_statement(slug):
    return _next_json(acts.next_statement(db.session, slug, existing_participant_token()))


def _next_json(nxt: draw.Next | None) -> dict:
    if nxt is None or nxt.statement is None:
        return {"statement": None, "remaining": 0}
    statement = {"id": nxt.statement.id, "text": nxt.statement.text, "origin": nxt.statement.origin}
    return {"statement": statement, "remaining": nxt.remaining}


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object.")
    return body


@bp.post("/api/v1/consultations/<slug>/votes")
@limit_participation("vote")
def cast_vote(slug):
    """Record a vote; the answer carries the participant's next statement, saving a request per vote."""
    body = _json_body()
    value = votes.parse_vote(body.get("vote"))
    voted = acts.vote(db.session, slug, participant_token(), body.get("statement_id"), value)
    return {
        "statement_id": voted.statement_id,
        "vote": votes.WORD_OF_VOTE[value],
        "value": int(value),
        "created_at": voted.created_at.isoformat(),
        "next": _next_json(voted.next),
    }, 201


@bp.post("/api/v1/consultations/<slug>/statements")
@limit_participation("statement")
def add_statement(slug):
    body = _json_body()
    statement = acts.add_statement(db.session, slug, participant_token(), body.get("text"))
    return {"id": statement.id, "text": statement.text, "moderation": statement.moderation.value}, 201
