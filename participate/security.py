"""HTTP security headers on every response, and the one opt-out: pages meant to be embedded in an iframe."""

from functools import wraps

from flask import Flask, request

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


def _headers(response):
    framing = request.environ.get(_EMBEDDABLE, False)
    response.headers.setdefault(
        "Content-Security-Policy",
        CONTENT_SECURITY_POLICY + ("; frame-ancestors *" if framing else "; frame-ancestors 'none'"),
    )
    if not framing:
        response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    app.after_request(_headers)
    # Cookies are marked Secure whenever the site is served over HTTPS (set PARTICIPATE_SESSION_COOKIE_SECURE).
    app.config.setdefault("SESSION_COOKIE_SECURE", False)
