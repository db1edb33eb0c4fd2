"""HTTP security at the door: headers on every response (and the one opt-out, pages meant for iframes), bounded
ids, JSON that cannot recurse, no NUL characters."""

import hashlib
import hmac
from datetime import UTC, datetime
from functools import lru_cache, wraps

from flask import Flask, abort, current_app, request, session
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from .services import MAX_ID

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",  # no inline scripts anywhere: every script is a file in static/
        "style-src 'self' 'unsafe-inline'",  # inline style attributes draw the bar charts
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)
_EMBEDDABLE = "participate.embeddable"


def embeddable(view):
    """Mark a view as allowed inside other sites' iframes (the participation embed)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        request.environ[_EMBEDDABLE] = True
        return view(*args, **kwargs)

    return wrapper


_EVERY_RESPONSE = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
#: The headers of a page that other sites may not frame, and of one they may (the participation embed).
_UNFRAMED = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY + "; frame-ancestors 'none'"),
    ("X-Frame-Options", "DENY"),
    *_EVERY_RESPONSE,
)
_FRAMED = (("Content-Security-Policy", CONTENT_SECURITY_POLICY + "; frame-ancestors *"), *_EVERY_RESPONSE)


def _headers(response):
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}  # a view's own value of any of them stands
    for name, value in _FRAMED if request.environ.get(_EMBEDDABLE, False) else _UNFRAMED:
        if name.lower() not in present:
            headers.add(name, value)
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if _private():
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    return response


#: Pages about one person: their own votes, statements and data; and staff sign-in and account pages.
PRIVATE_ENDPOINTS = {"vote.mine", "vote.my_data", "vote.delete_mine"}
PRIVATE_BLUEPRINTS = {"facilitate", "auth"}


def _private() -> bool:
    """Whether this response must never be kept by a browser or a shared cache (``Cache-Control: no-store``):
    a personal page, a staff page, or anything shown to a signed-in staff member (static files apart)."""
    if request.endpoint == "static":
        return False
    if request.endpoint in PRIVATE_ENDPOINTS or request.blueprint in PRIVATE_BLUEPRINTS:
        return True
    return "_user_id" in session  # Flask-Login's mark of a signed-in session (read without a database query)


def embed_cookies(app: Flask) -> bool:
    """Whether cookies are sent as SameSite=None for cross-site embeds (configured, and only over HTTPS)."""
    return bool(app.config.get("EMBED_COOKIES")) and app.config.get("PREFERRED_URL_SCHEME") == "https"


def ip_hash(address: str | None = None, *, day: str | None = None) -> str:
    """A keyed hash of the client's IP address; the key is derived from SECRET_KEY and today's date (UTC).

    Raw addresses are never stored or used as rate-limit keys. The key rotates daily, so hashes from different days
    cannot be linked, and without SECRET_KEY no hash can be matched to an address.
    """
    address = address if address is not None else (request.remote_addr or "unknown")
    day = day or datetime.now(UTC).date().isoformat()
    return hmac.new(_day_key(current_app.secret_key, day), address.encode(), hashlib.sha256).hexdigest()[:32]


@lru_cache(maxsize=8)
def _day_key(secret: str, day: str) -> bytes:
    """The day's key of :func:`ip_hash`, derived once a day rather than on every request."""
    return hmac.new(secret.encode(), f"participate-ip-hash:{day}".encode(), hashlib.sha256).digest()


def ip_key() -> str:
    """Flask-Limiter key: the hashed client address (so not even Redis holds raw IPs)."""
    return "ip:" + ip_hash()


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` that matches only ids a database can hold: a larger number is "no such page" (404), not an
    OverflowError in the driver (500)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)  # services.MAX_ID: the largest primary key
        super().__init__(map, *args, **kwargs)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that a body nested too deeply to parse is malformed JSON (400), not a RecursionError."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("The JSON is nested too deeply.") from None


def _refuse_nul() -> None:
    """No text anywhere contains a NUL character: PostgreSQL refuses it and SQLite's length() stops at it (so a
    CHECK on the length fails); refuse it at the door with a 400 rather than as a database error."""
    if "\x00" in request.path:
        abort(400, description=_nul_message())
    for source in (request.args,) if request.is_json else (request.args, request.form):
        for key, values in source.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                abort(400, description=_nul_message())
    if request.is_json and request.content_length and b"\\u0000" in request.get_data(cache=True):
        abort(400, description=_nul_message())


def _nul_message() -> str:
    return gettext("The request contains a control character (NUL) that no text here may contain.")


def init_app(app: Flask) -> None:
    app.json = JSONProvider(app)
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.before_request(_refuse_nul)
    app.after_request(_headers)
    # Cookies are marked Secure when the site is served over HTTPS: PARTICIPATE_PREFERRED_URL_SCHEME=https (or
    # PARTICIPATE_SESSION_COOKIE_SECURE=true). The participant cookie follows request.is_secure as well.
    if app.config.get("PREFERRED_URL_SCHEME") == "https":
        app.config["SESSION_COOKIE_SECURE"] = True
    # SameSite=Lax cookies are not sent inside an iframe on another site, so there the embed cannot keep a
    # participant or pass the CSRF check. PARTICIPATE_EMBED_COOKIES=true (HTTPS only) sends both cookies as
    # SameSite=None; Secure; Partitioned (CHIPS: one cookie jar per embedding site). Off by default: the session
    # cookie then stays Lax; CSRF tokens protect every POST either way.
    if embed_cookies(app):
        app.config.update(SESSION_COOKIE_SAMESITE="None", SESSION_COOKIE_SECURE=True, SESSION_COOKIE_PARTITIONED=True)
    # Behind a reverse proxy, trust this many X-Forwarded-For/-Proto hops (PARTICIPATE_PROXY_FIX=1); never by default,
    # or anyone could forge their address and escape the rate limits.
    hops = int(app.config.get("PROXY_FIX", 0) or 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
