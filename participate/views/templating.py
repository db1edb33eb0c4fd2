"""What every page shares, registered on the app by :func:`init_app`: template filters and globals, and the
request hooks that are not one blueprint's business."""

import re
from datetime import UTC

import markdown as markdown_lib
import nh3
from flask import Flask, g, request
from flask_babel import refresh as babel_refresh
from markupsafe import Markup, escape

from ..extensions import db
from ..security import ip_hash
from ..services import consultations
from ..services import report as reports
from ..services.participation import identity

_ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "h2", "h3", "h4", "blockquote", "code", "pre", "hr"}


def render_markdown(text: str | None) -> Markup:
    """Markdown to HTML through an allow-list sanitiser (nh3): no scripts, styles, images or event handlers."""
    html = markdown_lib.markdown(text or "", extensions=["sane_lists"])
    clean = nh3.clean(
        html, tags=_ALLOWED_TAGS, attributes={"a": {"href", "title"}}, link_rel="noopener noreferrer nofollow"
    )
    return Markup(clean)  # sanitised just above


def format_utc(moment, layout: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time shown in UTC, whatever time zone the database handed it back in."""
    return consultations.aware(moment).astimezone(UTC).strftime(layout) if moment else ""


def theme_label(name: str) -> str:
    """A theme tag as readers see it (also for reports published before themes carried their label)."""
    return reports.theme_label(name)


def pct(n, d) -> int | None:
    """A share as a whole percentage, rounded half up; None when there is nothing to divide by."""
    if not d:
        return None
    return int(100 * n / d + 0.5)


_QUOTED = re.compile("“([^”]*)”")


def quoted_lang(sentence: str, lang: str) -> Markup:
    """An interface sentence with each quoted statement (“…”) marked as written in the consultation's language."""
    return Markup(
        _QUOTED.sub(lambda m: f'“<span lang="{escape(lang)}">{m.group(1)}</span>”', str(escape(sentence)))
    )  # escaped first; only the span is added


def forget_previous_request() -> None:
    """Load the user, CSRF token and language from this request, never from ``g`` left by an earlier request.

    In production every request has its own ``g``; a test client running inside one app context shares it (a
    benchmark fetching the English and then the Welsh PDF got the English one twice).
    """
    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    babel_refresh()  # and the language: each request chooses its own (?lang=, cookie, Accept-Language)


def remember_ip_hash() -> None:
    """Participation requests leave their hashed address for a participant they create (never the address): the
    function, called only if one is created (a hash costs two HMACs; most votes come from known participants)."""
    creates = request.method == "POST" or request.args.get("xid") or request.args.get("code")
    if request.blueprint in ("vote", "api") and creates:
        db.session.info[identity.IP_HASH] = ip_hash


def forget_ip_hash(_error=None) -> None:
    """The request's address is its own: a session that outlives it (a test's, a script's) must not call for it."""
    db.session.info.pop(identity.IP_HASH, None)


def init_app(app: Flask) -> None:
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(format_utc, "utc")
    app.add_template_filter(quoted_lang, "quoted_lang")
    app.add_template_global(theme_label)
    app.add_template_global(pct)
    app.before_request(forget_previous_request)
    app.before_request(remember_ip_hash)
    app.teardown_request(forget_ip_hash)
