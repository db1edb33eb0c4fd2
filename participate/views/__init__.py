"""Blueprints, one per audience, plus the helpers they share."""

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

from ..services import participants

# Kept on the request itself (not on ``g``, which lives as long as the app context) so it can never leak.
_TOKEN = "participate.participant_token"
_NEW_TOKEN = "participate.new_participant_token"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="participant")


def participant_token() -> str:
    """This browser's random participant token, from its signed cookie or newly made (set after the request)."""
    if _TOKEN in request.environ:
        return request.environ[_TOKEN]
    raw = request.cookies.get(current_app.config["PARTICIPANT_COOKIE"])
    token = None
    if raw:
        try:
            token = _serializer().loads(raw)
        except BadSignature:
            token = None
    if not isinstance(token, str) or not token:
        token = participants.new_token()
        request.environ[_NEW_TOKEN] = token
    request.environ[_TOKEN] = token
    return token


def existing_participant_token() -> str | None:
    """The token only if the browser already has one: reading pages must not mint identities."""
    raw = request.cookies.get(current_app.config["PARTICIPANT_COOKIE"])
    if not raw:
        return request.environ.get(_TOKEN)
    try:
        token = _serializer().loads(raw)
    except BadSignature:
        return None
    return token if isinstance(token, str) else None


def set_participant_cookie(response):
    """after_request hook: send a newly made participant token as a signed, HttpOnly, SameSite=Lax cookie."""
    token = request.environ.pop(_NEW_TOKEN, None)
    if token:
        response.set_cookie(
            current_app.config["PARTICIPANT_COOKIE"],
            _serializer().dumps(token),
            max_age=current_app.config["PARTICIPANT_COOKIE_MAX_AGE"],
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response
