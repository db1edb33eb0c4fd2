"""Facilitators and moderators: consultation set-up, moderation, monitoring, Pol.is import and export."""

import io
import re
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.utils import secure_filename

from .. import background, security
from ..extensions import db, login_manager
from ..models import Consultation, Eligibility, Job, JobStatus, ModerationMode, ReportVisibility, Role, utcnow
from ..services import (
    ServiceError,
    audit,
    consultations,
    moderation,
    monitoring,
    polis_exchange,
    shared_cache,
    short_links,
)
from ..services import eligibility as eligibility_service  # the view below is called eligibility
from ..services.snapshots import integrity, store, view_of
from . import report as report_views

bp = Blueprint("facilitate", __name__, url_prefix="/facilitate")


@bp.before_request
def _staff_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def _me():
    """The signed-in account itself (services get the model object, not Flask-Login's proxy)."""
    return current_user._get_current_object()


def _get(slug: str, *, manage: bool = True):
    return consultations.for_staff(db.session, _me(), slug, manage=manage)


def _render(template: str, consultation, status: int = 200, **context):
    manage = consultation is not None and consultations.can_manage(db.session, _me(), consultation)
    return render_template(template, consultation=consultation, can_manage=manage, **context), status


# ----------------------------------------------------------------------------------------------------------------
# Dashboard and set-up
# ----------------------------------------------------------------------------------------------------------------


@bp.get("/")
def dashboard():
    return render_template(
        "facilitate/dashboard.html",
        listings=consultations.staff_listing(db.session, current_user),
        can_create=current_user.role.value in ("admin", "facilitator"),
    )


def _settings_form(consultation, data=None, error=None, status=200, template="facilitate/settings.html"):
    return _render(
        template,
        consultation,
        status,
        data=data,
        error=error,
        modes=list(ModerationMode),
        visibilities=list(ReportVisibility),
        eligibilities=list(Eligibility),
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    consultations.require_facilitator(_me())
    if request.method == "POST":
        try:
            form = request.form.to_dict()
            form.setdefault("allow_statements", "")  # an unticked checkbox sends nothing
            consultation = consultations.create(db.session, _me(), form)
        except ServiceError as error:
            return _settings_form(None, request.form, error.translated(), error.status, "facilitate/new.html")
        flash(_("The consultation was created as a draft. Add statements, then open it."), "success")
        return redirect(url_for("facilitate.overview", slug=consultation.slug))
    return _settings_form(None, {"allow_statements": "1"}, template="facilitate/new.html")


def _overview(consultation, status: int = 200, transfer_error: str | None = None):
    return _render(
        "facilitate/overview.html",
        consultation,
        status,
        participate_url=url_for("vote.consultation", slug=consultation.slug, _external=True),
        short_url=_short_url(consultation),
        voted=consultations.has_votes(db.session, consultation),
        moderators=consultations.moderators(db.session, consultation),
        owner=consultation.owner,
        counts=moderation.state_counts(db.session, consultation),
        transfer_error=transfer_error,
        embed_cookies=security.embed_cookies(current_app),
    )


@bp.get("/<slug>")
def overview(slug):
    return _overview(_get(slug))


@bp.get("/<slug>/qr.svg")
def qr_code(slug):
    """The QR code of the consultation's short link, as an SVG to show on the overview or put on a slide."""
    consultation = _get(slug)
    svg = short_links.qr_svg(_short_url(consultation), _("QR code: %(title)s", title=consultation.title))
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "private, max-age=3600"})


def _short_url(consultation) -> str:
    return url_for("vote.short_link", code=short_links.code_of(current_app.secret_key, consultation.id), _external=True)


@bp.route("/<slug>/delete", methods=["GET", "POST"])
def delete(slug):
    """Delete a consultation nobody has voted in: a page that asks first, then the deletion."""
    consultation = _get(slug)
    if request.method == "POST":
        title = consultation.title
        try:
            consultations.delete(db.session, _me(), consultation)
        except ServiceError as error:
            db.session.rollback()
            return _render("facilitate/delete.html", consultation, error.status, error=error.translated(), voted=True)
        flash(_("“%(title)s” was deleted.", title=title), "success")
        return redirect(url_for("facilitate.dashboard"))
    voted = consultations.has_votes(db.session, consultation)
    return _render("facilitate/delete.html", consultation, error=None, voted=voted)


@bp.post("/<slug>/transfer")
def transfer(slug):
    consultation = _get(slug)
    try:
        account = consultations.transfer(db.session, _me(), consultation, request.form.get("email"))
    except ServiceError as error:
        db.session.rollback()
        return _overview(consultation, error.status, transfer_error=error.translated())
    flash(_("%(email)s now owns this consultation.", email=account.email), "success")
    if consultations.can_manage(db.session, _me(), consultation):
        return redirect(url_for("facilitate.overview", slug=slug))
    return redirect(url_for("facilitate.dashboard"))  # the previous owner has no access any more


@bp.route("/<slug>/settings", methods=["GET", "POST"])
def settings(slug):
    consultation = _get(slug)
    if request.method == "POST":
        form = request.form.to_dict()
        for box in ("allow_statements", "event_mode", "unlisted"):
            form.setdefault(box, "")  # an unticked checkbox sends nothing
        try:
            changes = consultations.update(db.session, _me(), consultation, form)
        except ServiceError as error:
            db.session.rollback()
            return _settings_form(consultation, request.form, error.translated(), error.status)
        flash(_("Settings saved.") if changes else _("Nothing changed."), "success")
        return redirect(url_for("facilitate.overview", slug=consultation.slug))
    return _settings_form(consultation)


@bp.post("/<slug>/open")
def open_consultation(slug):
    consultation = consultations.open_now(db.session, _me(), _get(slug))
    flash(_("The consultation is open."), "success")
    return redirect(url_for("facilitate.overview", slug=consultation.slug))


@bp.get("/<slug>/close")
def confirm_close(slug):
    """Closing stops everyone's participation: one click on the overview only asks, this page's button closes."""
    return _render("facilitate/close.html", _get(slug))


@bp.post("/<slug>/close")
def close_consultation(slug):
    consultation = consultations.close_now(db.session, _me(), _get(slug))
    flash(_("The consultation is closed. Its results stay visible."), "success")
    return redirect(url_for("facilitate.overview", slug=consultation.slug))


@bp.get("/<slug>/audit")
def audit_log(slug):
    consultation = _get(slug)
    return _render("facilitate/audit.html", consultation, entries=audit.entries(db.session, consultation))


# ----------------------------------------------------------------------------------------------------------------
# Seed statements
# ----------------------------------------------------------------------------------------------------------------


@bp.route("/<slug>/statements", methods=["GET", "POST"])
def seeds(slug):
    consultation = _get(slug)
    context = {"one_error": None, "one_text": "", "pasted": "", "preview": None, "outcome": None}
    status = 200
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "one":
                context["one_text"] = request.form.get("text", "")
                moderation.add_seed(db.session, _me(), consultation, context["one_text"])
                flash(_("The statement was added."), "success")
                return redirect(url_for("facilitate.seeds", slug=slug))
            context["pasted"] = request.form.get("pasted", "")
            if action == "add":
                lines = moderation.add_seeds(db.session, _me(), consultation, context["pasted"])
                added = sum(1 for line in lines if line.error is None)
                flash(
                    ngettext(
                        "%(num)d statement added, %(refused)d refused.",
                        "%(num)d statements added, %(refused)d refused.",
                        added,
                        refused=len(lines) - added,
                    ),
                    "success",
                )
                context["outcome"] = lines
                context["pasted"] = "\n".join(line.text for line in lines if line.error)
            else:
                context["preview"] = moderation.preview_seeds(db.session, consultation, context["pasted"])
        except ServiceError as error:
            db.session.rollback()
            context["one_error" if action == "one" else "paste_error"] = error.translated()
            status = error.status
    current = moderation.current_statements(db.session, consultation)
    return _render("facilitate/statements.html", consultation, status, current=current, **context)


@bp.route("/<slug>/statements/<int:statement_id>/edit", methods=["GET", "POST"])
def edit_statement(slug, statement_id):
    consultation = _get(slug)
    statement = moderation.get_statement(db.session, consultation, statement_id)
    error = None
    if request.method == "POST":
        try:
            moderation.edit_statement(db.session, _me(), consultation, statement_id, request.form.get("text"))
        except ServiceError as error_:
            db.session.rollback()
            return _render(
                "facilitate/edit_statement.html",
                consultation,
                error_.status,
                statement=statement,
                error=error_.translated(),
                text=request.form.get("text", ""),
            )
        flash(_("The statement was changed."), "success")
        return redirect(url_for("facilitate.moderate", slug=slug, state=statement.moderation.value))
    return _render(
        "facilitate/edit_statement.html",
        consultation,
        statement=statement,
        error=error,
        text=statement.text,
        has_votes=moderation.has_votes(db.session, statement),
    )


# ----------------------------------------------------------------------------------------------------------------
# Moderators and eligibility
# ----------------------------------------------------------------------------------------------------------------


@bp.route("/<slug>/moderators", methods=["GET", "POST"])
def moderators(slug):
    consultation = _get(slug)
    error, status = None, 200
    if request.method == "POST":
        try:
            account = consultations.add_moderator(db.session, _me(), consultation, request.form.get("email"))
            flash(_("%(email)s can now moderate this consultation.", email=account.email), "success")
            return redirect(url_for("facilitate.moderators", slug=slug))
        except ServiceError as error_:
            db.session.rollback()
            error, status = error_.translated(), error_.status
    return _render(
        "facilitate/moderators.html",
        consultation,
        status,
        moderators=consultations.moderators(db.session, consultation),
        error=error,
    )


@bp.post("/<slug>/moderators/<int:account_id>/remove")
def remove_moderator(slug, account_id):
    consultation = _get(slug)
    consultations.remove_moderator(db.session, _me(), consultation, account_id)
    flash(_("The moderator was removed."), "success")
    return redirect(url_for("facilitate.moderators", slug=slug))


@bp.route("/<slug>/eligibility", methods=["GET", "POST"])
def eligibility(slug):
    consultation = _get(slug)
    error, status = None, 200
    if request.method == "POST":
        try:
            if request.form.get("action") == "xids":
                upload = request.files.get("xid_file")
                text = upload.read().decode("utf-8-sig", errors="replace") if upload and upload.filename else ""
                text = text or request.form.get("xids", "")
                n = eligibility_service.set_allowed_xids(db.session, _me(), consultation, text)
                flash(
                    ngettext(
                        "The allow-list now has %(count)s XID.",
                        "The allow-list now has %(count)s XIDs.",
                        n,
                        count=format_number(n),
                    ),
                    "success",
                )
            elif request.form.get("action") == "xid_signing":
                unsigned = request.form.get("unsigned") == "1"
                eligibility_service.set_xid_unsigned(db.session, _me(), consultation, unsigned)
                flash(_("Unsigned XIDs are accepted.") if unsigned else _("Only signed XIDs are accepted."), "success")
            elif request.form.get("action") == "xid_secret":
                eligibility_service.rotate_xid_secret(db.session, _me(), consultation)
                flash(_("A new signing secret was made: links signed with the old one no longer work."), "success")
            else:
                n = eligibility_service.generate_invite_codes(
                    db.session, _me(), consultation, request.form.get("count")
                )
                flash(
                    ngettext(
                        "%(count)s invite code was made. Download it as CSV.",
                        "%(count)s invite codes were made. Download them as CSV.",
                        n,
                        count=format_number(n),
                    ),
                    "success",
                )
            return redirect(url_for("facilitate.eligibility", slug=slug))
        except ServiceError as error_:
            db.session.rollback()
            error, status = error_.translated(), error_.status
    codes, used = eligibility_service.invite_code_counts(db.session, consultation)
    return _render(
        "facilitate/eligibility.html",
        consultation,
        status,
        error=error,
        xid_count=eligibility_service.allowed_xid_count(db.session, consultation),
        codes=codes,
        used=used,
        participate_url=url_for("vote.consultation", slug=consultation.slug, _external=True),
    )


@bp.get("/<slug>/invite-codes.csv")
def invite_codes_csv(slug):
    consultation = _get(slug)
    text = eligibility_service.invite_codes_csv(
        db.session, consultation, url_for("vote.consultation", slug=consultation.slug, _external=True)
    )
    return _csv(text, f"{consultation.slug}-invite-codes.csv")


def _csv(text: str, filename: str) -> Response:
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


# ----------------------------------------------------------------------------------------------------------------
# Moderation
# ----------------------------------------------------------------------------------------------------------------


def _moderation_page(consultation, state, page_number, *, error: ServiceError | None = None, selected=()):
    """The queue; after a refused action, the refusal beside the form with the selection and reason kept."""
    if error is not None:
        db.session.rollback()
    page = moderation.queue(db.session, consultation, state, page_number)
    return _render(
        "facilitate/moderate.html",
        consultation,
        error.status if error is not None else 200,
        page=page,
        reasons=moderation.REJECT_REASONS,
        error=error.translated() if error is not None else None,
        selected={str(i) for i in selected},
        chosen_reason=request.form.get("reason", "") if error is not None else "",
        reason_text=request.form.get("reason_text", "") if error is not None else "",
    )


def _moderation_summary(action: str, n: int, changed, reason: str | None) -> str:
    """What a moderation decision did, in words, with the statements it touched: the moderator sees what they did
    (a wrong button shows at once, and the statements can be found under their new tab)."""
    shown = "; ".join("“" + (s.text if len(s.text) <= 80 else s.text[:79] + "…") + "”" for s in changed[:3])
    if len(changed) > 3:
        shown += " " + _("and %(num)d more", num=len(changed) - 3)
    if action == "accept":
        return ngettext(
            "%(num)d statement accepted; participants can now vote on it: %(list)s",
            "%(num)d statements accepted; participants can now vote on them: %(list)s",
            n,
            list=shown,
        )
    if action == "reject":
        return ngettext(
            "%(num)d statement rejected (reason: %(reason)s): %(list)s",
            "%(num)d statements rejected (reason: %(reason)s): %(list)s",
            n,
            reason=_(reason or ""),
            list=shown,
        )
    if action == "meta":
        return ngettext(
            "%(num)d statement marked as meta: %(list)s", "%(num)d statements marked as meta: %(list)s", n, list=shown
        )
    return ngettext(
        "%(num)d statement no longer marked as meta: %(list)s",
        "%(num)d statements no longer marked as meta: %(list)s",
        n,
        list=shown,
    )


@bp.route("/<slug>/moderate", methods=["GET", "POST"])
def moderate(slug):
    consultation = _get(slug, manage=False)
    if request.method == "POST":
        action = request.form.get("action", "")
        reason = moderation.reason_text(request.form.get("reason"), request.form.get("reason_text"))
        ids = request.form.getlist("statement_id")
        if request.form.get("row"):  # a button on one row acts on that row alone
            action, _sep, row_id = request.form["row"].partition(":")
            ids = [row_id]
        state, page_number = request.form.get("state", "pending"), request.form.get("page", 1)
        try:
            n = moderation.act(db.session, _me(), consultation, ids, action, reason)
        except ServiceError as error:
            return _moderation_page(consultation, state, page_number, error=error, selected=ids)
        changed = [moderation.get_statement(db.session, consultation, int(sid)) for sid in sorted(set(ids), key=int)]
        flash(_moderation_summary(action, n, changed, reason), "success")
        return redirect(url_for("facilitate.moderate", slug=slug, state=state, page=page_number))
    return _moderation_page(consultation, request.args.get("state"), request.args.get("page", 1))


@bp.post("/<slug>/participants/<int:participant_id>/ban")
def ban(slug, participant_id):
    consultation = _get(slug, manage=False)
    reason = moderation.reason_text(request.form.get("reason"), request.form.get("reason_text"))
    try:
        n = moderation.ban(db.session, _me(), consultation, participant_id, reason)
    except ServiceError as error:
        selected = request.form.getlist("statement_id")
        state, page_number = request.form.get("state", "pending"), request.form.get("page", 1)
        return _moderation_page(consultation, state, page_number, error=error, selected=selected)
    flash(
        ngettext(
            "The participant was banned; %(num)d of their statements was rejected.",
            "The participant was banned; %(num)d of their statements were rejected.",
            n,
        ),
        "success",
    )
    return redirect(url_for("facilitate.moderate", slug=slug, state=request.form.get("state", "pending")))


@bp.post("/<slug>/participants/<int:participant_id>/unban")
def unban(slug, participant_id):
    consultation = _get(slug, manage=False)
    reason = moderation.reason_text(None, request.form.get("reason_text"))  # free text only: the reasons are for bans
    moderation.unban(db.session, _me(), consultation, participant_id, reason)
    flash(
        _("The ban was lifted; their votes count again. Their statements stay rejected until you accept them."),
        "success",
    )
    return redirect(url_for("facilitate.moderate", slug=slug, state=request.form.get("state", "pending")))


@bp.get("/<slug>/moderation-log")
def moderation_log(slug):
    consultation = _get(slug, manage=False)
    return _render("facilitate/moderation_log.html", consultation, entries=moderation.log(db.session, consultation))


@bp.get("/<slug>/moderation-log.csv")
def moderation_log_csv(slug):
    consultation = _get(slug, manage=False)
    return _csv(moderation.log_csv(db.session, consultation), f"{consultation.slug}-moderation-log.csv")


# ----------------------------------------------------------------------------------------------------------------
# Monitoring, export and import
# ----------------------------------------------------------------------------------------------------------------


@bp.get("/<slug>/monitor")
def monitor(slug):
    consultation = _get(slug)
    snapshot = store.latest_snapshot(db.session, consultation)
    analysis = None
    if snapshot is not None:
        view = view_of(snapshot)
        analysis = {
            "sizes": [(g.label, g.size) for g in view.groups_by_label],
            "computed_at": consultations.aware(snapshot.computed_at),
            "vote_count": snapshot.vote_count,
        }
    if report_views.is_large(consultation):
        # Counting a million votes by time takes seconds: a job computes the figures once per snapshot.
        version = monitoring.version(db.session, consultation)
        name = shared_cache.key("monitor", consultation.id, version)
        blob = background.read_or_submit(
            lambda: shared_cache.get(db.session, name),
            "monitor",
            consultation_id=consultation.id,
            params={"consultation_id": consultation.id, "version": version},
        )
        if blob is None:
            page = render_template("report/pending.html", consultation=consultation, what="monitor")
            return page, 202, {"Cache-Control": "no-store"}
        stats = monitoring.from_json(blob)
    else:
        stats = monitoring.monitor(db.session, consultation)
    refresh = request.args.get("refresh") != "off"
    many_days = bool(stats.timeline) and stats.timeline[0].start.date() != stats.timeline[-1].start.date()

    def label(b):  # in UTC, as precise as the bucket: a time of day for minutes and hours, a date for days
        if b.seconds >= 86400:
            return b.start.strftime("%Y-%m-%d")
        return b.start.strftime("%m-%d %H:%M" if many_days else "%H:%M")

    response = make_response(
        _render(
            "facilitate/monitor.html",
            consultation,
            stats=stats,
            analysis=analysis,
            refresh=refresh,
            now=utcnow(),
            refresh_seconds=MONITOR_REFRESH_SECONDS,
            bucket_minutes=stats.timeline[0].seconds // 60 if stats.timeline else None,
            votes_rows=[(label(b), b.votes) for b in stats.timeline],
            people_rows=[(label(b), b.participants) for b in stats.timeline],
            integrity=integrity.latest(db.session, consultation),
        )
    )
    if refresh:
        # The Refresh header reloads the page without JavaScript too; the page links to a copy that does not.
        response.headers["Refresh"] = str(MONITOR_REFRESH_SECONDS)
    return response


MONITOR_REFRESH_SECONDS = 30


@bp.get("/<slug>/export.zip")
def export(slug):
    consultation = _get(slug)
    url = url_for("vote.consultation", slug=consultation.slug, _external=True)
    if report_views.is_large(consultation):
        # Asking again while the export is being written leads to the same job, not another (a million votes).
        params = {"consultation_id": consultation.id, "account_id": _me().id, "url": url}
        job_id = background.submit(
            "export", consultation_id=consultation.id, account_id=_me().id, params=params, once=True
        )
        return redirect(url_for("facilitate.job", job_id=job_id))
    data = polis_exchange.export_zip(db.session, _me(), consultation, url=url)
    return send_file(
        io.BytesIO(data),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{consultation.slug}-polis-export.zip",
    )


@bp.route("/import", methods=["GET", "POST"])
def import_polis():
    """The upload is saved and imported by a job (a million votes take a minute): the request only enqueues it."""
    consultations.require_facilitator(_me())
    error, status = None, 200
    if request.method == "POST":
        uploads = [f for f in request.files.getlist("export") if f and f.filename]
        if not uploads:
            error, status = _("Choose a Pol.is export to upload: its .zip, or its CSV files."), 400
        else:
            folder = background.new_folder(current_app)
            if len(uploads) == 1 and uploads[0].filename.lower().endswith(".zip"):
                # Saved under its own name, so a message about it names the file, not a server path.
                path = secure_filename(uploads[0].filename) or "export.zip"
                uploads[0].save(folder / path)
                name = Path(uploads[0].filename).stem
            else:  # the files of an export folder, chosen together
                path = "uploaded files"
                (folder / path).mkdir()
                for upload in uploads:
                    base = upload.filename.replace("\\", "/").rsplit("/", 1)[-1].lower()
                    if base in polis_exchange.FOLDER_FILES:  # other files (and odd names) are ignored
                        upload.save(folder / path / base)
                name = None
            params = {
                "folder": str(folder),
                "path": path,
                "slug": request.form.get("slug") or None,
                "owner_id": _me().id,
                "name": name,
                "language": request.form.get("language") or None,
            }
            job_id = background.submit("import", account_id=_me().id, params=params)
            job = db.session.get(Job, job_id)
            if job.status != JobStatus.FAILED:  # done already (the sync runner) or its status page
                return _finished(job) or redirect(url_for("facilitate.job", job_id=job_id))
            error, status = _job_error(job), 400  # refused at once (the sync runner): the form again, with why
    return render_template("facilitate/import.html", error=error), status


def _job_error(job) -> str:
    params = (job.outcome or {}).get("error_params") or {}
    return _(job.error, **params) if job.error else ""


def _finished(job):
    """Where a finished import or publication leads (None for other jobs, and while it runs)."""
    if job.status == JobStatus.DONE and job.kind == "import":
        flash(
            _("The conversation was imported as a closed consultation with a private report.")
            if job.outcome.get("private")
            else _("The conversation was imported as a closed consultation."),
            "success",
        )
        return redirect(url_for("facilitate.overview", slug=job.outcome["slug"]))
    if job.status == JobStatus.DONE and job.kind == "publish":
        return redirect(url_for("report.published", token=job.outcome["token"]))
    return None


@bp.get("/jobs/<job_id>")
def job(job_id):
    """A job's status: progress while it runs (the page refreshes itself), then its result or what went wrong."""
    job = _job(job_id)
    if finished := _finished(job):
        return finished
    running = job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    page = render_template(
        "facilitate/job.html",
        job=job,
        running=running,
        error=_job_error(job) if job.status == JobStatus.FAILED else None,
        step=_(job.step) if job.step else None,
        download=url_for("facilitate.job_file", job_id=job.id)
        if job.status == JobStatus.DONE and job.outcome.get("file")
        else None,
    )
    return page, 200, {"Cache-Control": "no-store"}


@bp.get("/jobs/<job_id>/file")
def job_file(job_id):
    """A finished export's file, streamed from disk."""
    job = _job(job_id)
    if job.status != JobStatus.DONE or not (job.outcome or {}).get("file"):
        abort(404)
    path = Path(job.outcome["folder"]) / job.outcome["file"]
    if not path.is_file():
        abort(404, description=_("This download has expired: export the consultation again."))
    return send_file(path, mimetype="application/zip", as_attachment=True, download_name=path.name)


def _job(job_id: str) -> Job:
    """A job its viewer may see: one they started, one of a consultation they manage, or any for an admin."""
    job = db.session.get(Job, job_id) if re.fullmatch(r"[0-9a-f]{32}", job_id) else None
    me = _me()
    allowed = job is not None and (
        job.account_id == me.id
        or me.role == Role.ADMIN
        or (
            job.consultation_id is not None
            and consultations.can_manage(db.session, me, db.session.get(Consultation, job.consultation_id))
        )
    )
    if not allowed:
        abort(404, description=_("There is no job at this address."))
    return job


from . import facilitate_population  # noqa: E402, F401  (its routes join this blueprint)
