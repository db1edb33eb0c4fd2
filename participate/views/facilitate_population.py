"""Facilitators' questions about participants: choose ready-made ones, edit the population's shares, add their own.

Registered on the ``facilitate`` blueprint (staff only, its ``before_request`` applies); kept in its own module so
the set-up views stay as they are.
"""

from flask import Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from ..extensions import db
from ..services import ServiceError, population
from ..services.population_templates import AREAS, TEMPLATES
from .facilitate import _get, _me, _render, bp


def _shown(question, text: str) -> str:
    """A label or text as the facilitator reads it: the ready-made questions' in the page's language."""
    return _(text) if question.template else text


def _question_id() -> int | None:
    value = request.form.get("question_id", "")
    return int(value) if value.isdigit() and len(value) < 19 else None


@bp.route("/<slug>/about-participants", methods=["GET", "POST"])
def population_questions(slug):
    consultation = _get(slug)
    error, status = None, 200
    if request.method == "POST":
        form = request.form
        action = form.get("action")
        try:
            if action == "template":
                population.add_template(db.session, consultation, _me(), form.get("template", ""), form.get("area", ""))
                flash(_("The question was added."), "success")
            elif action == "own":
                population.add_question(
                    db.session,
                    consultation,
                    _me(),
                    text=form.get("text", ""),
                    categories=form.get("categories", ""),
                    source=form.get("source", ""),
                    year=form.get("year", ""),
                    special_category=form.get("special_category") == "1",
                    lawful_basis=form.get("lawful_basis", ""),
                )
                flash(_("The question was added."), "success")
            elif action == "shares":
                shares = {key[6:]: value for key, value in form.items() if key.startswith("share-")}
                population.save_shares(
                    db.session,
                    consultation,
                    _me(),
                    _question_id(),
                    shares,
                    source=form.get("source", ""),
                    year=form.get("year", ""),
                )
                flash(_("The population's shares were saved."), "success")
            elif action == "upload":
                upload = request.files.get("shares_file")
                n = population.save_shares_file(
                    db.session,
                    consultation,
                    _me(),
                    _question_id(),
                    upload.read(population.SHARES_FILE_MAX_BYTES + 1) if upload else b"",
                    source=form.get("source", ""),
                    year=form.get("year", ""),
                    label_of=_shown,
                )
                flash(
                    ngettext(
                        "The file's share for %(count)s answer was saved; answers not in it have no figure.",
                        "The file's shares for %(count)s answers were saved; answers not in it have no figure.",
                        n,
                        count=n,
                    ),
                    "success",
                )
            elif action == "remove":
                population.remove_question(db.session, consultation, _me(), _question_id())
                flash(_("The question and everyone's answers to it were removed."), "success")
            else:
                error, status = _("Unknown action."), 400
            if error is None:
                return redirect(url_for("facilitate.population_questions", slug=slug))
        except ServiceError as error_:
            db.session.rollback()
            error, status = error_.translated(), error_.status
    return _render(
        "facilitate/population.html",
        consultation,
        status,
        error=error,
        questions=population.questions(db.session, consultation),
        templates=TEMPLATES,
        areas=AREAS,
        form=request.form if request.method == "POST" else {},
        translate=_shown,
    )


@bp.get("/<slug>/about-participants/<int:question_id>/shares.csv")
def population_shares_csv(slug, question_id):
    """The question's population shares as a CSV file to edit in a spreadsheet and upload again."""
    consultation = _get(slug)
    question = population.find_question(db.session, consultation, question_id)
    return Response(
        population.shares_csv(question, _shown),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{slug}-question-{question.id}-shares.csv"'},
    )
