"""Blueprints, one per audience, plus the helpers they share."""

import hashlib
import logging
from functools import lru_cache, wraps

from flask import current_app, request
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

from .. import security
from ..extensions import hit_in_order, limiter
from ..services.participation import gate, identity

log = logging.getLogger(__name__)
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
        token = identity.new_token()
        request.environ[_NEW_TOKEN] = token
    request.environ[_TOKEN] = token
    return token


def existing_participant_token() -> str | None:
    """The token only if the browser already has one: reading pages must not mint identities."""
    if _TOKEN in request.environ:  # already read (or made) for this request: the signature is checked once
        return request.environ[_TOKEN]
    raw = request.cookies.get(current_app.config["PARTICIPANT_COOKIE"])
    if not raw:
        return None
    try:
        token = _serializer().loads(raw)
    except BadSignature:
        return None
    if not isinstance(token, str) or not token:
        return None
    request.environ[_TOKEN] = token
    return token


def set_participant_cookie(response):
    """after_request hook: send a newly made participant token as a signed, HttpOnly, SameSite=Lax cookie.

    (SameSite=None; Secure; Partitioned with PARTICIPATE_EMBED_COOKIES over HTTPS, for cross-site embeds.)
    """
    token = request.environ.pop(_NEW_TOKEN, None)
    if token:
        cross_site = security.embed_cookies(current_app)
        response.set_cookie(
            current_app.config["PARTICIPANT_COOKIE"],
            _serializer().dumps(token),
            max_age=current_app.config["PARTICIPANT_COOKIE_MAX_AGE"],
            httponly=True,
            samesite="None" if cross_site else "Lax",
            secure=request.is_secure or cross_site,
            partitioned=cross_site,
        )
    return response


# ---- Rate limits for participants (Flask-Limiter), configured by PARTICIPATE_*_RATE_LIMIT ----
def participant_key() -> str:
    """Rate-limit key of a participation request: the browser's participant token hashed with the consultation.

    Per participant, so many people behind one address (a school, the load benchmark) do not share one budget.
    A request without a participant cookie is a new participant: it is keyed by its hashed address instead.
    """
    token = existing_participant_token()
    slug = (request.view_args or {}).get("slug", "")
    if not token:
        return "new:" + security.ip_key()
    return "participant:" + identity.token_hash(token, slug)


def is_known_participant() -> bool:
    """Exempts requests from browsers that already take part in this consultation from the new-participant limit.

    The look-up is the gate's own (``gate.read`` remembers it for the request): no extra query.
    """
    from ..extensions import db

    token = existing_participant_token()
    slug = (request.view_args or {}).get("slug")
    if not token or not slug:
        return False
    seen = gate.read(db.session, slug, token)
    return seen is not None and seen.participant_id is not None


def new_participant_limit() -> str:
    """New participants per network: the site's allowance, or the larger one of a consultation in event mode."""
    if _event_mode():
        return current_app.config["EVENT_NEW_PARTICIPANT_RATE_LIMIT"]
    return current_app.config["NEW_PARTICIPANT_RATE_LIMIT"]


def _event_mode() -> bool:
    """Whether the consultation of this request is in event mode: the gate's read, which the act reuses."""
    from ..extensions import db

    slug = (request.view_args or {}).get("slug")
    seen = gate.read(db.session, slug, existing_participant_token()) if slug else None
    return seen is not None and seen.event_mode


def network_key() -> str:
    """Rate-limit key of new participants from one network in one consultation: a crowd in one consultation leaves
    the network's allowance in every other consultation alone."""
    return security.ip_key() + ":" + str((request.view_args or {}).get("slug", ""))


def device_key() -> str:
    """Rate-limit key of one device: its participant cookie (the same in every consultation), else its address and
    browser. One device then runs out of new participants long before it can use up its network's allowance."""
    token = existing_participant_token()
    if token:
        return "device:" + identity.token_hash(token, "device")
    agent = hashlib.sha256(request.headers.get("User-Agent", "").encode()).hexdigest()[:16]
    return "device:" + security.ip_key() + ":" + agent


def too_many_votes() -> str:
    return _(
        "Your vote was not recorded: you are voting faster than anyone can read. "
        "Please wait a minute, then vote again; your earlier votes are kept."
    )


def too_many_statements() -> str:
    return _("You have added many statements in a short time. Please wait a while before adding another.")


def too_many_new_participants() -> str:
    return _(
        "Your vote was not recorded: very many people have just joined from your network. "
        "Please wait a minute and vote again; if you are at an event, tell the organisers."
    )


def too_many_new_from_device() -> str:
    return _(
        "Your vote was not recorded: this device has joined many consultations in a short time. "
        "Please wait a few minutes, then vote again."
    )


def too_many_pdfs() -> str:
    return _("PDF reports take a while to make. Please wait a minute before downloading another.")


def _not_a_pdf() -> bool:
    return (request.view_args or {}).get("fmt") != "pdf"


def limit_pdf(view):
    """PDF downloads per hashed address (PARTICIPATE_PDF_RATE_LIMIT); the HTML, CSV and JSON forms are not limited."""
    return limiter.limit(
        lambda: current_app.config["PDF_RATE_LIMIT"],
        key_func=security.ip_key,
        exempt_when=_not_a_pdf,
        error_message=too_many_pdfs,
    )(view)


def limit_participation(kind: str):
    """The limits of a participation POST: per participant for ``kind`` ("vote"/"statement"), new ones per device
    and per network (:func:`check_participation_limits`)."""

    def decorate(view):
        @wraps(view)
        def limited(*args, **kwargs):
            check_participation_limits(kind)
            return view(*args, **kwargs)

        return limited

    return decorate


@lru_cache(maxsize=256)
def _windows(limits: str) -> tuple:
    """A limit string of the configuration ("120 per minute;3000 per hour") as limits' items, parsed once."""
    return tuple(parse_many(limits))


def check_participation_limits(kind: str) -> None:
    """Count this request against its limits, in one pass over Flask-Limiter's storage and strategy; a 429 with the
    message of the first one exceeded.

    A browser new to the consultation counts first against its device's allowance, then its network's (the wide one),
    so one device runs out long before it can use up its network's; every participant then against their own budget
    of ``kind``, shared by the page and the JSON API. The counters are Flask-Limiter's, under the keys its
    ``shared_limit`` would use, counted in one round trip with Redis. Checked here rather than by three stacked
    Flask-Limiter decorators, which resolved and sorted every limit twice per request (a third of a vote's CPU).
    """
    if not limiter.enabled:
        return
    config = current_app.config
    budgets = []
    if not is_known_participant():
        budgets.append((config["NEW_PARTICIPANT_DEVICE_RATE_LIMIT"], device_key, "new-participant-device"))
        budgets.append((new_participant_limit(), network_key, "new-participant"))
    own = "VOTE_RATE_LIMIT" if kind == "vote" else "STATEMENT_RATE_LIMIT"
    budgets.append((config[own], participant_key, kind))
    hits = []
    for limits, key, scope in budgets:
        identifiers = (key(), scope)
        hits += [(window, identifiers) for window in _windows(limits)]
    exceeded = hit_in_order(hits)
    if exceeded is not None:
        window, (_, scope) = hits[exceeded]
        log.info("rate limit %s exceeded (%s)", window, scope)
        raise TooManyRequests(description=_MESSAGES[scope]())


_MESSAGES = {
    "vote": too_many_votes,
    "statement": too_many_statements,
    "new-participant": too_many_new_participants,
    "new-participant-device": too_many_new_from_device,
}
