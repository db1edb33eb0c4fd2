"""Interface language: English or Welsh, chosen by ``?lang=``, then the ``lang`` cookie, then Accept-Language."""

from urllib.parse import urlencode

from flask import current_app, has_request_context, request
from flask_babel import get_locale, get_translations

COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
# Each language is named in itself in the switcher (never translated), as GOV.UK and gov.wales do.
NAMES = {"en": "English", "cy": "Cymraeg"}


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
    response.vary.update(("Cookie", "Accept-Language"))
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


def init_app(app) -> None:
    app.after_request(remember_choice)
    app.jinja_env.globals.update(
        current_locale=lambda: str(get_locale()),
        language_names=NAMES,
        language_switch_url=switch_url,
        plural_forms=plural_forms,
    )
