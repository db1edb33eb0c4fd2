"""Flask-WTF forms: they carry the CSRF token; the services do the real validation."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import AnyOf, InputRequired

from .models import STATEMENT_MAX_LENGTH


class VoteForm(FlaskForm):
    statement_id = IntegerField(validators=[InputRequired()])
    # The three submit buttons share this name; the one pressed supplies the value.
    vote = HiddenField(validators=[AnyOf(["agree", "disagree", "pass"])])


class StatementForm(FlaskForm):
    text = TextAreaField(
        _l("Your statement"),
        validators=[InputRequired(message=_l("Please write a statement."))],
        render_kw={"maxlength": STATEMENT_MAX_LENGTH, "rows": 3},
    )
