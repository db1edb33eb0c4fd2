"""Interface language: English or Welsh, chosen by ``?lang=``, then the ``lang`` cookie, then Accept-Language."""

from datetime import UTC, datetime
from urllib.parse import urlencode

from babel.dates import format_date as babel_format_date
from flask import current_app, has_request_context, request
from flask_babel import format_number, get_locale, get_translations, gettext, ngettext
from flask_babel import lazy_gettext as _l
from limits import parse_many

from . import models

COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
# Each language is named in itself in the switcher (never translated), as GOV.UK and gov.wales do.
NAMES = {"en": "English", "cy": "Cymraeg"}
# The locale whose conventions write dates: British English for English ("3 March 2026", not "March 3, 2026").
DATE_LOCALES = {"en": "en_GB"}


# What staff pages show for the stored enumerations (their values are database words, not interface text).
LABELS = {
    (models.ConsultationStatus, models.ConsultationStatus.DRAFT): _l("draft"),
    (models.ConsultationStatus, models.ConsultationStatus.OPEN): _l("open"),
    (models.ConsultationStatus, models.ConsultationStatus.CLOSED): _l("closed"),
    (models.ModerationMode, models.ModerationMode.PRE): _l("pre-moderation"),
    (models.ModerationMode, models.ModerationMode.POST): _l("post-moderation"),
    (models.StatementOrigin, models.StatementOrigin.SEED): _l("seed statement"),
    (models.StatementOrigin, models.StatementOrigin.PARTICIPANT): _l("from a participant"),
    (models.ModerationState, models.ModerationState.PENDING): _l("pending"),
    (models.ModerationState, models.ModerationState.ACCEPTED): _l("accepted"),
    (models.ModerationState, models.ModerationState.REJECTED): _l("rejected"),
    (models.Role, models.Role.ADMIN): _l("admin"),
    (models.Role, models.Role.FACILITATOR): _l("facilitator"),
    (models.Role, models.Role.MODERATOR): _l("moderator"),
    (models.ReportVisibility, models.ReportVisibility.PUBLIC): _l("public"),
    (models.ReportVisibility, models.ReportVisibility.LINK): _l("anyone with the secret link"),
    (models.ReportVisibility, models.ReportVisibility.PRIVATE): _l("private: staff only"),
    (models.Eligibility, models.Eligibility.OPEN): _l("anyone with the link"),
    (models.Eligibility, models.Eligibility.XID): _l("only XIDs on the allow-list"),
    (models.Eligibility, models.Eligibility.INVITE): _l("only holders of an invite code"),
    (models.ModerationAction, models.ModerationAction.ACCEPT): _l("accept"),
    (models.ModerationAction, models.ModerationAction.REJECT): _l("reject"),
    (models.ModerationAction, models.ModerationAction.META): _l("mark as meta"),
    (models.ModerationAction, models.ModerationAction.UNMETA): _l("unmark meta"),
    (models.ModerationAction, models.ModerationAction.BAN): _l("ban"),
    (models.ModerationAction, models.ModerationAction.UNBAN): _l("lift ban"),
    (models.ModerationAction, models.ModerationAction.EDIT): _l("edit"),
    (models.ModerationAction, models.ModerationAction.REDACT): _l("participant deleted their data"),
    (models.DeletedStatements, models.DeletedStatements.ANONYMISE): _l("Stay, without their author"),
    (models.DeletedStatements, models.DeletedStatements.REMOVE): _l("Are removed, with everyone's votes on them"),
}


# The audit log's event names and detail keys (stored as plain words by services.audit) in the interface language.
AUDIT_ACTIONS = {
    "created": _l("Created"),
    "settings_changed": _l("Settings changed"),
    "opened": _l("Opened"),
    "closed": _l("Closed"),
    "transferred": _l("Handed over"),
    "exported": _l("Exported"),
    "imported": _l("Imported"),
    "report_published": _l("Report published"),
    "seeds_added": _l("Seed statements added"),
    "themes_changed": _l("Themes changed"),
    "invite_codes_generated": _l("Invite codes made"),
    "xid_list_uploaded": _l("XID allow-list replaced"),
    "moderator_added": _l("Moderator added"),
    "moderator_removed": _l("Moderator removed"),
    "group_names_changed": _l("Opinion group names changed"),
    "xid_secret_rotated": _l("XID signing key replaced"),
    "xid_signing_changed": _l("XID signing changed"),
    "deleted": _l("Deleted"),
    "participant_question_added": _l("Question about participants added"),
    "participant_question_shares": _l("Population shares changed"),
    "participant_question_removed": _l("Question about participants removed"),
}
AUDIT_DETAILS = {
    "slug": _l("web address"),
    "scheduled": _l("as scheduled for"),
    "format": _l("format"),
    "via": _l("through"),
    "token": _l("published report"),
    "votes": _l("votes"),
    "count": _l("number"),
    "refused": _l("refused"),
    "statements": _l("statements"),
    "participants": _l("participants"),
    "shortened_statements": _l("statements shortened"),
    "email": _l("email address"),
    "groups": _l("opinion groups"),
    "unsigned": _l("unsigned XIDs accepted"),
    "source": _l("source"),
    "previous_owner": _l("previous owner"),
    "new_owner": _l("new owner"),
    "template": _l("ready-made question"),
    "area": _l("population"),
    "text": _l("question"),
    "special": _l("special category of personal data"),
    "question": _l("question"),
    "metadata_columns_left_out": _l("participant columns left out"),
}
# Settings, as named on the settings form; the enumerations among them are shown by their labels.
SETTINGS = {
    "title": _l("Title"),
    "question": _l("Question"),
    "description": _l("Description"),
    "slug": _l("Web address"),
    "organiser": _l("Organiser"),
    "contact": _l("Contact"),
    "moderation": _l("Moderation"),
    "allow_statements": _l("Participants may add statements"),
    "event_mode": _l("Event mode"),
    "unlisted": _l("Unlisted"),
    "deleted_statements": _l("When participants delete their data, their statements"),
    "eligibility": _l("Who can take part"),
    "report_visibility": _l("Report"),
    "recruitment": _l("How participants were recruited"),
    "language": _l("Language of the statements"),
    "scheduled_open_at": _l("Open automatically at"),
    "scheduled_close_at": _l("Close automatically at"),
}
_SETTING_ENUMS = {
    "moderation": models.ModerationMode,
    "eligibility": models.Eligibility,
    "report_visibility": models.ReportVisibility,
    "deleted_statements": models.DeletedStatements,
}


def _detail_value(value, enum=None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, int):
        return format_number(value)
    if enum is not None and value in {member.value for member in enum}:
        return label(enum(value))
    return str(value)


def audit_action(action: str) -> str:
    """The ``audit_action`` filter: an audit event's name in words (the stored word if unknown)."""
    text = AUDIT_ACTIONS.get(action)
    return str(text) if text is not None else action


def audit_details(action: str, details: dict | None) -> list[tuple[str, str]]:
    """An audit entry's details as (name, value) pairs in words; a settings change as "old → new" per setting."""
    details = details or {}
    if action == "settings_changed":
        return [
            (
                str(SETTINGS.get(name, name)),
                " → ".join(_detail_value(value, _SETTING_ENUMS.get(name)) for value in change),
            )
            for name, change in (details.get("changes") or {}).items()
        ]
    return [(str(AUDIT_DETAILS.get(name, name)), _detail_value(value)) for name, value in details.items()]


def label(member) -> str:
    """The ``label`` template filter: an enumeration member in the interface language (its value if unknown)."""
    text = LABELS.get((type(member), member))  # keyed by type too: StrEnum members equal their plain values
    return str(text) if text is not None else getattr(member, "value", str(member))


def select_locale() -> str:
    """Flask-Babel's locale selector."""
    languages = current_app.config["LANGUAGES"]
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    for asked in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if asked in languages:
            return asked
    return request.accept_languages.best_match(languages) or default


def remember_choice(response):
    """after_request hook: a ``?lang=`` choice is kept in a cookie, so every later page (and the PDF) follows it."""
    asked = request.args.get("lang")
    if asked in current_app.config["LANGUAGES"] and request.cookies.get(COOKIE) != asked:
        response.set_cookie(
            COOKIE, asked, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax", secure=request.is_secure
        )
    if "Vary" in response.headers:
        response.vary.update(("Cookie", "Accept-Language"))
    else:  # the usual case, without parsing and re-writing a header set
        response.headers["Vary"] = "Cookie, Accept-Language"
    return response


def switch_url(code: str) -> str:
    """This page's address in another language (the other query parameters kept)."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [code]
    return request.path + "?" + urlencode([(key, value) for key, values in args.items() for value in values])


def plural_forms(singular: str, plural: str) -> dict[str, str]:
    """An ngettext message, unformatted, for every count a script may need: "0"…"6" and "other" (seven and up).

    Covers CLDR's Welsh plural categories (zero, one, two, few = 3, many = 6, other) as well as English's.
    """
    translations = get_translations()
    forms = {str(n): translations.ngettext(singular, plural, n) for n in range(7)}
    forms["other"] = translations.ngettext(singular, plural, 7)
    return forms


# A rate limit's period in words: "%(amount)s a minute" (Flask-Limiter granularity → message).
_PER = {
    "second": _l("%(amount)s a second"),
    "minute": _l("%(amount)s a minute"),
    "hour": _l("%(amount)s an hour"),
    "day": _l("%(amount)s a day"),
    "month": _l("%(amount)s a month"),
    "year": _l("%(amount)s a year"),
}


def limit_words(text: str) -> str:
    """A Flask-Limiter string ("120 per minute;3000 per hour") as words: "120 a minute and 3,000 an hour"."""
    parts = []
    for item in parse_many(text):
        amount = format_number(item.amount)
        if item.multiples == 1 and item.GRANULARITY.name in _PER:
            parts.append(str(_PER[item.GRANULARITY.name]) % {"amount": amount})
        else:
            seconds = item.multiples * item.GRANULARITY.seconds
            parts.append(
                ngettext("%(amount)s every %(num)d second", "%(amount)s every %(num)d seconds", seconds, amount=amount)
            )
    if len(parts) < 2:
        return "".join(parts)
    return gettext("%(first)s and %(last)s", first=", ".join(parts[:-1]), last=parts[-1])


def long_date(value: datetime | str | None) -> str:
    """A date in the interface language's style, in UTC: "3 March 2026", "3 Mawrth 2026"; "" for none.

    Accepts a datetime or the ISO text the report stores.
    """
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    locale = str(get_locale() or "en")
    return babel_format_date(moment.date(), "long", locale=DATE_LOCALES.get(locale, locale))


def init_app(app) -> None:
    app.after_request(remember_choice)
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["limit_words"] = limit_words
    app.jinja_env.filters["audit_action"] = audit_action
    app.jinja_env.filters["longdate"] = long_date
    app.jinja_env.globals.update(
        current_locale=lambda: str(get_locale()),
        language_names=NAMES,
        language_switch_url=switch_url,
        plural_forms=plural_forms,
        audit_details=audit_details,
    )
