"""Flask-WTF forms: they carry the CSRF token; the services do the real validation."""

from functools import lru_cache

from babel import support
from flask import request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.i18n import messages_path
from wtforms.validators import AnyOf, InputRequired

from .models import STATEMENT_MAX_LENGTH


class Form(FlaskForm):
    """A page's form: it reads form fields only. Flask-WTF would also read a JSON body as the fields, and a JSON
    list, number or string there is a 500 (the JSON API has its own endpoints)."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            if request.is_json:
                formdata = request.form
            return super().wrap_formdata(form, formdata)

        def get_translations(self, form):
            """WTForms' own messages in the page's language, its catalogue read once per language and process:
            Flask-WTF reads and parses it from disk in every request that builds a form."""
            return wtforms_translations(str(get_locale()))


@lru_cache(maxsize=16)
def wtforms_translations(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class VoteForm(Form):
    statement_id = IntegerField(validators=[InputRequired()])
    # The three submit buttons share this name; the one pressed supplies the value.
    vote = HiddenField(validators=[AnyOf(["agree", "disagree", "pass"])])


class StatementForm(Form):
    text = TextAreaField(
        _l("Your statement"),
        validators=[InputRequired(message=_l("Please write a statement."))],
        render_kw={"maxlength": STATEMENT_MAX_LENGTH, "rows": 3},
    )
