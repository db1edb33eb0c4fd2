"""Participants' optional answers about themselves (age band, region, ...): a page of its own, never a gate.

Registered on the ``vote`` blueprint (the participant's audience); kept in its own module so the voting views stay
as they are. The vote, done and "My votes" pages link here when the consultation asks such questions.
"""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..extensions import db
from ..services import ServiceError, population
from ..services.participation import acts, identity
from . import existing_participant_token, limit_participation, participant_token
from .vote import _refused, bp


@bp.app_template_global()
def asks_about_participants(consultation) -> bool:
    """Whether the consultation asks optional questions about participants (for the pages' link)."""
    return population.asks_questions(db.session, consultation)


def _label(question, text: str) -> str:
    """A ready-made question's texts in the interface language; the facilitator's own as they wrote them."""
    return _(text) if question.template else text


@bp.get("/c/<slug>/about-you")
def about_you(slug):
    token = existing_participant_token()
    try:
        consultation = acts.visit(db.session, slug, token)
    except ServiceError as error:
        return _refused(slug, error)
    participant = identity.find(db.session, consultation, token)
    return render_template(
        "vote/about_you.html",
        consultation=consultation,
        questions=population.questions(db.session, consultation),
        answers=population.current_answers(db.session, participant),
        prefer_not=population.PREFER_NOT_TO_SAY,
        label=_label,
    )


@bp.post("/c/<slug>/about-you")
@limit_participation("vote")
def save_about_you(slug):
    try:
        kept = population.answer(db.session, slug, participant_token(), request.form)
    except ServiceError as error:
        return _refused(slug, error)
    if kept:
        flash(_("Thank you. Your answers were saved; you can change or remove them here at any time."), "success")
    else:
        flash(_("You have given no answers about yourself. That is fine."), "success")
    return redirect(url_for("vote.consultation", slug=slug))
