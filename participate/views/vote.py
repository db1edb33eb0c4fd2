"""The citizen's path: pick a consultation, vote on one statement at a time, add statements, review votes."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import jobs
from ..extensions import db
from ..forms import StatementForm, VoteForm
from ..models import ModerationMode
from ..services import ServiceError, consultations, participants, results, statements, voting
from . import existing_participant_token, participant_token

bp = Blueprint("vote", __name__)


@bp.get("/")
def home():
    return render_template("vote/home.html", listings=consultations.public_listing(db.session))


def _render_consultation(consultation, *, statement_form=None, status=200):
    participant = participants.find(db.session, consultation, existing_participant_token())
    latest = results.latest(db.session, consultation)
    group = _group_label(latest, participant)
    if not consultation.is_open:
        return render_template("vote/closed.html", consultation=consultation, group=group), status
    nxt = voting.next_statement(db.session, consultation, participant, priorities=latest.priorities if latest else None)
    if nxt.statement is None and statement_form is None:
        return render_template("vote/done.html", consultation=consultation, group=group), status
    return (
        render_template(
            "vote/consultation.html",
            consultation=consultation,
            statement=nxt.statement,
            remaining=nxt.remaining,
            group=group,
            statement_form=statement_form or StatementForm(formdata=None),
        ),
        status,
    )


@bp.get("/c/<slug>")
def consultation(slug):
    consultation = _get(slug)
    participant_token()  # give the browser its identity now, so its first POST already carries it
    if ineligible := _ineligible(consultation, admit=True):
        return ineligible
    return _render_consultation(consultation)


@bp.post("/c/<slug>/vote")
def vote(slug):
    consultation = _get(slug)
    if ineligible := _ineligible(consultation):
        return ineligible
    form = VoteForm()
    if not form.validate():
        abort(400, description=_("Please choose agree, disagree or pass."))
    try:
        voting.cast(
            db.session, consultation, participant_token(), form.statement_id.data, voting.parse_vote(form.vote.data)
        )
    except ServiceError as error:
        return _error_page(consultation, error)
    jobs.analysis_wanted(consultation.id)
    flash(_("Your vote was recorded."), "success")
    if request.form.get("return_to") == "mine":
        return redirect(url_for("vote.mine", slug=slug, _anchor=f"statement-{form.statement_id.data}"))
    return redirect(url_for("vote.consultation", slug=slug))


@bp.post("/c/<slug>/statements")
def add_statement(slug):
    consultation = _get(slug)
    if ineligible := _ineligible(consultation):
        return ineligible
    form = StatementForm()
    if not form.validate():
        return _render_consultation(consultation, statement_form=form, status=400)
    try:
        statements.submit(db.session, consultation, participant_token(), form.text.data)
    except ServiceError as error:
        if not consultation.is_open:
            return _error_page(consultation, error)
        form.text.errors = [error.message]
        return _render_consultation(consultation, statement_form=form, status=error.status)
    jobs.analysis_wanted(consultation.id)
    if consultation.moderation == ModerationMode.PRE:
        flash(_("Thank you. Your statement will appear once a moderator has approved it."), "success")
    else:
        flash(_("Thank you. Your statement was added and others can now vote on it."), "success")
    return redirect(url_for("vote.consultation", slug=slug))


@bp.get("/c/<slug>/mine")
def mine(slug):
    consultation = _get(slug)
    if ineligible := _ineligible(consultation):
        return ineligible
    participant = participants.find(db.session, consultation, existing_participant_token())
    return render_template(
        "vote/mine.html",
        consultation=consultation,
        votes=voting.my_votes(db.session, participant),
        group=_group_label(results.latest(db.session, consultation), participant),
        words=voting.WORD_OF_VOTE,
    )


def _group_label(latest, participant) -> str | None:
    """The participant's opinion group letter, once the analysis has placed them in one."""
    if latest is None or participant is None or participant.id not in latest.group_of:
        return None
    return latest.group_labels[latest.group_of[participant.id]]


def _get(slug):
    try:
        return consultations.get_public(db.session, slug)
    except ServiceError as error:
        abort(error.status, description=error.message)


def _error_page(consultation, error):
    return (
        render_template("vote/problem.html", consultation=consultation, message=error.message),
        error.status,
    )


def _ineligible(consultation, *, admit=False):
    """Eligibility (XID allow-list, invite codes, bans): None if this browser may take part, else a page saying why.

    With ``admit``, a visitor arriving with ``?xid=`` or ``?code=`` is admitted first.
    """
    try:
        if admit and (request.args.get("xid") or request.args.get("code")):
            consultations.admit(
                db.session,
                consultation,
                participant_token(),
                xid=request.args.get("xid"),
                code=request.args.get("code"),
            )
        consultations.check_eligible(db.session, consultation, existing_participant_token())
    except ServiceError as error:
        db.session.rollback()
        return render_template("vote/ineligible.html", consultation=consultation, message=error.message), error.status
    return None
