"""The citizen's path: pick a consultation, vote on one statement at a time, add statements, review votes."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _

from .. import jobs
from ..extensions import db
from ..forms import StatementForm, VoteForm
from ..models import ModerationMode
from ..security import embed_cookies, embeddable
from ..services import ServiceError, consultations, eligibility, participants, privacy, report, voting
from ..services.moderation import REJECT_REASONS
from ..services.snapshots import store
from ..services.standing import my_statements, where_i_stand
from . import existing_participant_token, limit_participation, participant_token

bp = Blueprint("vote", __name__)


@bp.get("/")
def home():
    return render_template("vote/home.html", listings=consultations.public_listing(db.session))


def _render_consultation(consultation, *, statement_form=None, status=200):
    participant = participants.find(db.session, consultation, existing_participant_token())
    latest = store.latest(db.session, consultation)
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
@embeddable
def consultation(slug):
    consultation = _get(slug)
    participant_token()  # give the browser its identity now, so its first POST already carries it
    if _framed_without_cookies():
        # The same address, personal ?xid= or ?code= included, to open in a tab of its own.
        own_tab = url_for("vote.consultation", slug=slug, **request.args.to_dict())
        return render_template("vote/embedded.html", consultation=consultation, own_tab=own_tab)
    if ineligible := _ineligible(consultation, admit=True):
        return ineligible
    return _render_consultation(consultation)


def _framed_without_cookies() -> bool:
    """Inside another site's iframe, where this site's SameSite=Lax cookies are never sent: no vote could be kept.

    Browsers say so in Sec-Fetch-* headers. With PARTICIPATE_EMBED_COOKIES over HTTPS the cookies may work, and the
    page's script offers a new tab if a vote is still refused.
    """
    return (
        request.headers.get("Sec-Fetch-Dest") == "iframe"
        and request.headers.get("Sec-Fetch-Site") == "cross-site"
        and not embed_cookies(current_app)
    )


@bp.post("/c/<slug>/vote")
@embeddable
@limit_participation("vote")
def vote(slug):
    consultation = _get(slug)
    if ineligible := _ineligible(consultation):
        return ineligible
    form = VoteForm()
    if not form.validate():
        abort(400, description=_("Please choose agree, disagree or pass."))
    try:
        # the same service call as the JSON API's vote (the same checks, and SQLite's one writer at a time)
        voting.vote_and_next(
            db.session, slug, participant_token(), form.statement_id.data, voting.parse_vote(form.vote.data)
        )
    except ServiceError as error:
        return _error_page(consultation, error)
    jobs.analysis_wanted(consultation.id)
    flash(_("Your vote was recorded."), "success")
    if request.form.get("return_to") == "mine":
        return redirect(url_for("vote.mine", slug=slug, _anchor=f"statement-{form.statement_id.data}"))
    return redirect(url_for("vote.consultation", slug=slug))


@bp.post("/c/<slug>/statements")
@embeddable
@limit_participation("statement")
def add_statement(slug):
    consultation = _get(slug)
    if ineligible := _ineligible(consultation):
        return ineligible
    form = StatementForm()
    if not form.validate():
        return _render_consultation(consultation, statement_form=form, status=400)
    try:
        voting.submit_statement(db.session, consultation, participant_token(), form.text.data)
    except ServiceError as error:
        if not consultation.is_open:
            return _error_page(consultation, error)
        form.text.errors = [error.translated()]
        return _render_consultation(consultation, statement_form=form, status=error.status)
    jobs.analysis_wanted(consultation.id)
    if consultation.moderation == ModerationMode.PRE:
        flash(_("Thank you. Your statement will appear once a moderator has approved it."), "success")
    else:
        flash(_("Thank you. Your statement was added and others can now vote on it."), "success")
    return redirect(url_for("vote.consultation", slug=slug))


def _where_i_stand(consultation, participant) -> dict:
    """Where the participant stands, read from what the analysis runner prepared; when the report has to be rebuilt
    (moderation changed it since), a job rebuilds it and the answer says the group is being worked out."""
    if report.cached(db.session, consultation) is None:
        jobs.submit("report", consultation_id=consultation.id, params={"consultation_id": consultation.id}, once=True)
    return where_i_stand(db.session, consultation, participant)


@bp.get("/c/<slug>/mine")
def mine(slug):  # not embeddable: a page of one's own votes must not be framed (and read or clicked) by any site
    consultation = _get(slug)
    if ineligible := _ineligible(consultation):
        return ineligible
    participant = participants.find(db.session, consultation, existing_participant_token())
    return render_template(
        "vote/mine.html",
        consultation=consultation,
        votes=voting.my_votes(db.session, participant),
        stand=_where_i_stand(consultation, participant),
        written=my_statements(db.session, consultation, participant),
        words=voting.WORD_OF_VOTE,
    )


@bp.get("/c/<slug>/mine.json")
def my_data(slug):
    """Download everything stored about this browser's participation, as JSON, with where it stands."""
    consultation = _get(slug)
    participant = participants.find(db.session, consultation, existing_participant_token())
    data = privacy.my_data(db.session, consultation, participant)
    data["where_i_stand"] = _where_i_stand(consultation, participant)
    data["my_statements"] = my_statements(db.session, consultation, participant)
    response = jsonify(data)
    response.headers["Content-Disposition"] = f'attachment; filename="{consultation.slug}-my-data.json"'
    return response


@bp.post("/c/<slug>/mine/delete")
def delete_mine(slug):
    """Delete this browser's votes (they leave the analysis) and its participation; statements as configured."""
    consultation = _get(slug)
    consultation_id = consultation.id
    participant = participants.find(db.session, consultation, existing_participant_token())
    if participant is None:
        flash(_("There was nothing to delete: you have not taken part in this consultation."), "info")
        return redirect(url_for("vote.mine", slug=slug))
    if request.form.get("confirmed") != "1":  # one click only asks: the page says what goes, and deletes on a second
        return render_template("vote/delete_mine.html", consultation=consultation)
    privacy.delete_mine(db.session, participant, current_app.config["DELETED_STATEMENTS"])
    jobs.analysis_wanted(consultation_id)
    flash(_("Your votes were deleted and will leave the results with the next analysis."), "success")
    return redirect(url_for("vote.mine", slug=slug))


@bp.get("/c/<slug>/moderation")
@embeddable
def moderation_policy(slug):
    """The consultation's moderation policy: what is accepted, what is rejected and why, and how to ask again."""
    return render_template("vote/moderation.html", consultation=_get(slug), reasons=REJECT_REASONS.values())


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on every site: answer with the icon rather than a 404 in every log."""
    return send_from_directory(current_app.static_folder, "favicon.ico", max_age=7 * 24 * 3600)


@bp.get("/privacy")
def privacy_page():
    """What is stored and for how long, generated from the running configuration."""
    config = current_app.config
    return render_template(
        "vote/privacy.html",
        retention_days=config["IP_HASH_RETENTION_DAYS"],
        deleted_statements=config["DELETED_STATEMENTS"],
        # /privacy?c=<slug>: what deleting one's data does to one's statements in that consultation
        asked=privacy.public_deletion_choice(db.session, request.args.get("c"), config["DELETED_STATEMENTS"]),
        limits={
            "votes": config["VOTE_RATE_LIMIT"],
            "statements": config["STATEMENT_RATE_LIMIT"],
            "new": config["NEW_PARTICIPANT_RATE_LIMIT"],
        },
        cookie_days=config["PARTICIPANT_COOKIE_MAX_AGE"] // 86400,
        controller=str(config["DATA_CONTROLLER"] or "").strip(),
        contact=str(config["CONTACT"] or "").strip(),
    )


def _group_label(latest, participant) -> str | None:
    """The participant's opinion group letter, once the analysis has placed them in one."""
    if latest is None or participant is None or participant.id not in latest.group_of:
        return None
    return latest.group_labels[latest.group_of[participant.id]]


def _get(slug):
    try:
        return consultations.get_public(db.session, slug)
    except consultations.NotOpenYet as error:
        page = render_template("vote/not_open.html", consultation=error.consultation, opens_at=error.opens_at)
        abort(make_response(page, error.status))


def _error_page(consultation, error):
    return (
        render_template("vote/problem.html", consultation=consultation, message=error.translated()),
        error.status,
    )


def _ineligible(consultation, *, admit=False):
    """Eligibility (XID allow-list, invite codes, bans): None if this browser may take part, else a page saying why.

    With ``admit``, a visitor arriving with ``?xid=`` or ``?code=`` is admitted first.
    """
    try:
        if admit and (request.args.get("xid") or request.args.get("code")):
            eligibility.admit(
                db.session,
                consultation,
                participant_token(),
                xid=request.args.get("xid"),
                code=request.args.get("code"),
                sig=request.args.get("sig"),
            )
        eligibility.check_eligible(db.session, consultation, existing_participant_token())
    except ServiceError as error:
        db.session.rollback()
        page = render_template("vote/ineligible.html", consultation=consultation, message=error.translated())
        return page, error.status
    return None
