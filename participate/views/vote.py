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

from ..extensions import db
from ..forms import StatementForm, VoteForm
from ..models import ModerationMode, ModerationState, Statement
from ..security import embed_cookies, embeddable
from ..services import Forbidden, NotFound, ServiceError, consultations, privacy, short_links, visibility
from ..services.moderation import REJECT_REASONS
from ..services.participation import acts, draw, gate, identity, votes
from ..services.snapshots import store
from ..services.standing import my_statements, where_i_stand
from . import existing_participant_token, limit_participation, participant_token
from . import report as report_views

bp = Blueprint("vote", __name__)

#: The query parameters of a participation link: a signed XID, an invite code, the language.
EMBED_PARAMETERS = ("xid", "sig", "code", "lang")


@bp.get("/")
def home():
    return render_template("vote/home.html", listings=consultations.public_listing(db.session))


def _render_consultation(consultation, *, statement_form=None, status=200, keep=None):
    """The voting page; ``keep``: the id of the statement the person was shown, kept on the page after an error in
    the statement form (a statement that changed underneath would look as if something had been accepted)."""
    # The gate's read of this request (remembered since the act let the browser in): the participant and the
    # latest analysis come with it.
    seen = gate.read(db.session, consultation.slug, existing_participant_token())
    participant_id = seen.participant_id if seen else None
    latest = (
        store.latest(db.session, consultation.id, snapshot_id=seen.snapshot_id) if seen and seen.snapshot_id else None
    )
    group = _group_label(latest, participant_id) if _results_visible(consultation) else None
    if not consultation.is_open:
        return render_template("vote/closed.html", consultation=consultation, group=group), status
    priorities = latest.priorities if latest else None
    nxt = draw.draw(db.session, consultation.id, consultation.moderation, participant_id, priorities)
    if nxt.statement is None and statement_form is None:
        return render_template("vote/done.html", consultation=consultation, group=group), status
    shown = nxt.statement
    kept = db.session.get(Statement, keep) if keep and nxt.statement is not None else None
    if kept is not None and kept.consultation_id == consultation.id and kept.moderation != ModerationState.REJECTED:
        shown = draw.Shown(kept.id, kept.text, kept.origin.value)
    return (
        render_template(
            "vote/consultation.html",
            consultation=consultation,
            statement=shown,
            remaining=nxt.remaining,
            group=group,
            statement_form=statement_form or StatementForm(formdata=None),
        ),
        status,
    )


@bp.get("/c/<slug>")
@embeddable
def consultation(slug):
    token = participant_token()  # give the browser its identity now, so its first POST already carries it
    if _framed_without_cookies():
        # The same address, personal ?xid= or ?code= included, to open in a tab of its own.
        # Only the parameters this page knows: others (``_method``, ``_scheme``, ``_external``…) would be url_for's own.
        known = {name: request.args[name] for name in EMBED_PARAMETERS if name in request.args}
        own_tab = url_for("vote.consultation", slug=slug, **known)
        return render_template("vote/embedded.html", consultation=_get(slug), own_tab=own_tab)
    args = request.args
    try:
        consultation = acts.visit(
            db.session, slug, token, xid=args.get("xid"), code=args.get("code"), sig=args.get("sig")
        )
    except ServiceError as error:
        return _refused(slug, error)
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
    form = VoteForm()
    if not form.validate():
        abort(400, description=_("Please choose agree, disagree or pass."))
    try:
        # The JSON API's act. The next statement is drawn once, by the page the redirect leads to.
        value = votes.parse_vote(form.vote.data)
        acts.vote(db.session, slug, participant_token(), form.statement_id.data, value, draw_next=False)
    except ServiceError as error:
        return _refused(slug, error)
    flash(_("Your vote was recorded."), "success")
    if request.form.get("return_to") == "mine":
        return redirect(url_for("vote.mine", slug=slug, _anchor=f"statement-{form.statement_id.data}"))
    # The fragment puts focus on the next statement (it is focusable), one Tab from the vote buttons.
    return redirect(url_for("vote.consultation", slug=slug, _anchor="statement-text"))


@bp.post("/c/<slug>/statements")
@embeddable
@limit_participation("statement")
def add_statement(slug):
    form = StatementForm()
    keep = request.form.get("showing", type=int)
    try:
        if not form.validate():
            return _render_consultation(
                acts.visit(db.session, slug, participant_token()), statement_form=form, status=400, keep=keep
            )
        statement = acts.add_statement(db.session, slug, participant_token(), form.text.data)
    except ServiceError as error:
        if isinstance(error, NotFound | Forbidden) or error.template in _NOT_ON_THE_FORM:
            return _refused(slug, error)
        form.text.errors = [error.translated()]
        return _render_consultation(_get(slug), statement_form=form, status=error.status, keep=keep)
    if statement.consultation.moderation == ModerationMode.PRE:
        flash(_("Thank you. Your statement will appear once a moderator has approved it."), "success")
    else:
        flash(_("Thank you. Your statement was added and others can now vote on it."), "success")
    return redirect(url_for("vote.consultation", slug=slug))


def _where_i_stand(consultation, participant) -> dict:
    """Where the participant stands, read from what the analysis runner prepared; when the report has to be rebuilt
    (moderation changed it since), a job rebuilds it and the answer says the group is being worked out."""
    return where_i_stand(db.session, consultation, participant, report_views.cached_report(consultation))


@bp.get("/c/<slug>/mine")
def mine(slug):  # not embeddable: a page of one's own votes must not be framed (and read or clicked) by any site
    token = existing_participant_token()
    try:
        consultation = acts.visit(db.session, slug, token)
    except Forbidden as error:
        # Someone who took part keeps their own data, banned or not: to see it, download it and delete it.
        db.session.rollback()
        consultation = _get(slug)
        if identity.find(db.session, consultation, token) is None:
            return _refused(slug, error)
    except ServiceError as error:
        return _refused(slug, error)
    participant = identity.find(db.session, consultation, token)
    return render_template(
        "vote/mine.html",
        consultation=consultation,
        votes=votes.my_votes(db.session, participant),
        words=votes.WORD_OF_VOTE,
        banned=participant is not None and participant.is_banned,
        **_derived(consultation, participant),
    )


@bp.get("/c/<slug>/mine.json")
def my_data(slug):
    """Download everything stored about this browser's participation, as JSON, with where it stands."""
    consultation = _get(slug)
    participant = identity.find(db.session, consultation, existing_participant_token())
    data = privacy.my_data(db.session, consultation, participant)
    derived = _derived(consultation, participant)
    data["where_i_stand"], data["my_statements"] = derived["stand"], derived["written"]
    response = jsonify(data)
    response.headers["Content-Disposition"] = f'attachment; filename="{consultation.slug}-my-data.json"'
    return response


@bp.post("/c/<slug>/mine/delete")
def delete_mine(slug):
    """Delete this browser's votes (they leave the analysis) and its participation; statements as configured."""
    consultation = _get(slug)
    participant = identity.find(db.session, consultation, existing_participant_token())
    if participant is None:
        flash(_("There was nothing to delete: you have not taken part in this consultation."), "info")
        return redirect(url_for("vote.mine", slug=slug))
    if request.form.get("confirmed") != "1":  # one click only asks: the page says what goes, and deletes on a second
        return render_template("vote/delete_mine.html", consultation=consultation)
    privacy.delete_mine(db.session, participant, current_app.config["DELETED_STATEMENTS"])
    flash(_("Your votes were deleted and will leave the results with the next analysis."), "success")
    return redirect(url_for("vote.mine", slug=slug))


@bp.get("/j/<code>")
def short_link(code):
    """A consultation's short link (for a slide or a QR code at an event): to the consultation while it is open."""
    consultation = short_links.find_open(db.session, current_app.secret_key, code)
    if consultation is None:
        abort(404, description=_("No open consultation has this short link. Check the letters, or ask the organisers."))
    return redirect(url_for("vote.consultation", slug=consultation.slug))


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


def _results_visible(consultation) -> bool:
    """The one visibility rule (``services.visibility``), for this request's viewer."""
    return visibility.may_see_results(consultation, report_views.viewer(consultation))


def _derived(consultation, participant) -> dict:
    """ "Where I stand" and one's statements with their tallies; without what others' votes say unless visible."""
    written = my_statements(db.session, consultation, participant)
    if not _results_visible(consultation):
        return {"stand": visibility.hidden_stand(), "written": visibility.own_statements_only(written)}
    return {"stand": _where_i_stand(consultation, participant), "written": written}


def _group_label(latest, participant_id: int | None) -> str | None:
    """The participant's opinion group letter, once the analysis has placed them in one."""
    if latest is None or participant_id is None or participant_id not in latest.group_of:
        return None
    return latest.group_labels[latest.group_of[participant_id]]


def _get(slug):
    """The consultation behind a public page that anyone with the link may read (the gate's "public?" alone)."""
    try:
        return acts.visit(db.session, slug, None, eligible=False)
    except consultations.NotOpenYet as error:
        page = render_template("vote/not_open.html", consultation=error.consultation, opens_at=error.opens_at)
        abort(make_response(page, error.status))


#: Refusals of a statement that are about the consultation, not the text: shown as a page, not beside the form.
_NOT_ON_THE_FORM = frozenset({gate.CLOSED_MESSAGES["statement"]})


def _refused(slug, error: ServiceError):
    """The page for an act's refusal: not open yet, no such consultation, not eligible (or banned), or the problem."""
    db.session.rollback()
    consultation = _get(slug)  # a consultation that is not public answers 404 here
    if isinstance(error, Forbidden):
        took_part = identity.find(db.session, consultation, existing_participant_token()) is not None
        page = render_template(
            "vote/ineligible.html", consultation=consultation, message=error.translated(), took_part=took_part
        )
        return page, error.status
    return render_template("vote/problem.html", consultation=consultation, message=error.translated()), error.status


from . import about_you  # noqa: E402, F401  (its routes join this blueprint)
