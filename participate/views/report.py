"""The consensus report for policymakers: live at /c/<slug>/report, frozen at /r/<token>; HTML, PDF, CSV, JSON."""

import hashlib
import json
import threading
from collections import OrderedDict

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import Consultation, ConsultationStatus, Statement
from ..services import ServiceError, brief, brief_answer, consultations, publishing, report_csv, visibility
from ..services import report as reports
from ..services import themes as theme_service
from ..services.snapshots import group_label, integrity
from ..services.snapshots import votes as snapshot_votes
from . import limit_pdf

bp = Blueprint("report", __name__)

FORMATS = ("pdf", "csv", "json")


def current_account():
    """The logged-in account, or None (also when Flask-Login is not set up in this app)."""
    if not hasattr(current_app, "login_manager") or "_user_id" not in session:
        return None  # nobody signed in: Flask-Login is not asked (it would rewrite an anonymous session)
    from flask_login import current_user

    return current_user if getattr(current_user, "is_authenticated", False) else None


def is_staff(consultation) -> bool:
    """Admins, and the facilitators who manage this consultation (the one staff-access rule)."""
    account = current_account()
    return account is not None and consultations.can_manage(db.session, account, consultation)


def viewer(consultation, *, published: bool = False) -> visibility.Viewer:
    """This request as the visibility rule sees it: staff, the link's ``?key=``, or a published report's token."""
    return visibility.Viewer(staff=is_staff(consultation), key=request.args.get("key"), published_token=published)


def _refuse_unless_readable(consultation, *, published: bool = False) -> None:
    """Apply the consultation's report visibility (a published report's secret token counts as the link)."""
    visibility.check(consultation, viewer(consultation, published=published))


def _consultation(slug):
    return consultations.get_any(db.session, slug)


def _respond(report: dict, *, consultation, fmt: str | None, published=None, extra_json=None):
    name = consultation.slug + (f"-{published.token[:8]}" if published else "")
    summary = brief.build(report) if fmt != "pdf" else None  # the PDF builds its own, once, when not cached
    if fmt == "json":
        body = {"report": report, "brief": summary, **(extra_json or {})}
        return Response(
            json.dumps(body, ensure_ascii=False, indent=1),
            mimetype="application/json",
            headers={"Content-Disposition": f'inline; filename="{name}-report.json"'},
        )
    if fmt == "csv":
        return Response(
            report_csv.to_csv(report),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}-report.csv"'},
        )
    sort = request.args.get("sort", "order")
    sort = sort if sort in reports.SORTS else "order"
    theme = request.args.get("theme") or None
    if fmt == "pdf":  # the PDF is one document per snapshot (and cached so): every statement, in order
        sort, theme = "order", None
    context = {
        "report": report,
        "brief": summary,
        "consultation": consultation,
        "published": published,
        "by_id": reports.statement_index(report),
        "rows": reports.sorted_statements(report, sort, theme),
        "sort": sort,
        "theme": theme,
        "key": request.args.get("key") if not published else None,
        "staff": (seen_by := viewer(consultation, published=bool(published))).staff,
        # Published snapshots are listed to staff, and to everyone when the report itself is public.
        "snapshots": publishing.published_list(db.session, consultation)
        if not published and visibility.lists_everything(consultation, seen_by)
        else [],
        "pdf": fmt == "pdf",
        # The integrity annex: frozen with a published report; of the analysis shown, for staff and public reports.
        "integrity": (published.analysis or {}).get("integrity")
        if published
        else integrity.for_snapshot(db.session, report["analysis"]["snapshot_id"])
        if report["analysis"] and visibility.lists_everything(consultation, seen_by)
        else None,
    }
    if fmt == "pdf":
        pdf = _pdf(context, consultation=consultation, published=published)
        disposition = f'attachment; filename="{name}-report.pdf"'
        return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": disposition})
    return render_template("report/report.html", **context)


PDF_CACHE_SIZE = 16  # PDFs each process keeps (a few hundred KB each)
_pdfs: OrderedDict[str, bytes] = OrderedDict()
_pdfs_lock = threading.Lock()


def _pdf(context: dict, *, consultation, published) -> bytes:
    """The report as a tagged A4 PDF (PDF/UA-1), built once per snapshot, language and content, then cached.

    The key hashes everything the PDF shows, so an unchanged report is served from memory (a build costs seconds
    of CPU) and any change (a new snapshot, moderation, themes, group names) builds a new one. Votes cast after the
    snapshot are left out: the PDF describes the snapshot, and its title block names the votes' SHA-256.
    """
    report = context["report"]
    if report["analysis"] and report["analysis"].get("newer_votes"):
        report = {**report, "analysis": {**report["analysis"], "newer_votes": 0}}
    fingerprint = json.dumps(
        [report, context["integrity"], str(get_locale()), published.token if published else None],
        sort_keys=True,
        default=str,
    )
    key = hashlib.sha256(f"{db.engine.url}|{consultation.id}|{fingerprint}".encode()).hexdigest()
    with _pdfs_lock:
        pdf = _pdfs.get(key)
        if pdf is not None:
            _pdfs.move_to_end(key)
            return pdf
    from weasyprint import HTML  # imported on demand: it is heavy and only PDFs need it

    from .. import pdf_tags

    pdf_tags.install()

    if published:
        votes_sha256, code = published.votes_sha256, published.code_version
    else:
        votes_sha256 = snapshot_votes.votes_sha256(
            db.session, consultation.id, report["analysis"]["last_vote_id"] if report["analysis"] else None
        )
        code = publishing.code_version()
    html = render_template(
        "report/pdf.html",
        **{**context, "report": report, "brief": brief.build(report)},
        inline_css=_inline_css(),
        votes_sha256=votes_sha256,
        code_version=code,
        page_footer=_page_footer(),
    )
    # A standalone page with the styles inlined and no external resource: the renderer fetches nothing.
    pdf = HTML(string=html).render(pdf_variant="pdf/ua-1").write_pdf(pdf_variant="pdf/ua-1")
    with _pdfs_lock:
        _pdfs[key] = pdf
        while len(_pdfs) > PDF_CACHE_SIZE:
            _pdfs.popitem(last=False)
    return pdf


def _page_footer() -> str:
    """CSS ``content`` for "page N of M" in the interface language, N and M being the page counters."""
    words = _("page %(page)s of %(pages)s", page="\x00", pages="\x01").replace("\\", "").replace('"', "")
    return '"' + words.replace("\x00", '" counter(page) "').replace("\x01", '" counter(pages) "') + '"'


def _inline_css() -> str:
    """The stylesheets, read from disk, so the PDF renderer never fetches anything."""
    folder = current_app.static_folder
    with open(f"{folder}/css/site.css", encoding="utf-8") as a, open(f"{folder}/css/report.css", encoding="utf-8") as b:
        return a.read() + "\n" + b.read()


@bp.get("/reports")
def index():
    """Reports listed for everyone: open and closed consultations whose report is public (link-only ones are not)."""
    listings = [
        item
        for item in consultations.public_listing(
            db.session, statuses=(ConsultationStatus.OPEN, ConsultationStatus.CLOSED)
        )
        if visibility.lists_everything(item.consultation, visibility.Viewer())
    ]
    return render_template("report/index.html", listings=listings)


@bp.get("/c/<slug>/report")
@bp.get("/c/<slug>/report.<any(pdf, csv, json):fmt>")
@limit_pdf
def live(slug, fmt=None):
    consultation = _consultation(slug)
    _refuse_unless_readable(consultation)
    report = reports.build(db.session, consultation)
    return _respond(report, consultation=consultation, fmt=fmt)


@bp.get("/r/<token>")
@bp.get("/r/<token>.<any(pdf, csv, json):fmt>")
@limit_pdf
def published(token, fmt=None):
    snapshot = publishing.get_published(db.session, token)
    consultation = db.session.get(Consultation, snapshot.consultation_id)
    _refuse_unless_readable(consultation, published=True)
    extra = {
        "published": {
            "id": snapshot.token,
            "published_at": snapshot.published_at.isoformat(),
            "vote_count": snapshot.vote_count,
            "votes_sha256": snapshot.votes_sha256,
            "moderation_sha256": snapshot.moderation_sha256,
            "code_version": snapshot.code_version,
        },
        "analysis": snapshot.analysis,
    }
    return _respond(snapshot.report, consultation=consultation, fmt=fmt, published=snapshot, extra_json=extra)


@bp.get("/c/<slug>/report/participants.csv")
def participants_csv(slug):
    """Every voter's id beside the source's id and group (an import's), so an analyst can check one against the
    other; follows the report's visibility."""
    consultation = _consultation(slug)
    _refuse_unless_readable(consultation)
    report = reports.build(db.session, consultation)
    rows = reports.participant_rows(db.session, consultation, report)
    source = {i: group_label(i) for i in {r[3] for r in rows if r[3] is not None}}
    return Response(
        report_csv.participants_csv(rows, reports.group_letters(report), source),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{consultation.slug}-participants.csv"'},
    )


@bp.post("/c/<slug>/report/publish")
def publish(slug):
    consultation = _consultation(slug)
    if not is_staff(consultation):
        abort(403, description=_("Only the consultation's facilitators can publish its report."))
    snapshot = publishing.publish(db.session, consultation, account=current_account())
    return redirect(url_for("report.published", token=snapshot.token))


@bp.route("/c/<slug>/report/themes", methods=["GET", "POST"])
def themes(slug):
    """Facilitators tag statements with themes (``use:…`` and ``condition:…`` tags make the report's grid)."""
    consultation = _consultation(slug)
    if not is_staff(consultation):
        abort(403, description=_("Only the consultation's facilitators can edit its themes."))
    rows = db.session.scalars(
        select(Statement).where(Statement.consultation_id == consultation.id).order_by(Statement.id)
    ).all()
    error = None
    if request.method == "POST":
        wanted = {s.id: request.form.get(f"themes-{s.id}", "") for s in rows if f"themes-{s.id}" in request.form}
        try:
            changed = theme_service.set_themes(db.session, current_account(), consultation, wanted)
        except ServiceError as exc:
            error = exc.translated()
        else:
            message = ngettext("Themes changed on %(num)d statement.", "Themes changed on %(num)d statements.", changed)
            flash(message, "success")
            return redirect(url_for("report.themes", slug=slug))
    status = 400 if error else 200
    return render_template("report/themes.html", consultation=consultation, rows=rows, error=error), status


@bp.route("/c/<slug>/report/groups", methods=["GET", "POST"])
def group_names(slug):
    """Facilitators name the opinion groups; the brief then says "Group A (“name”)"."""
    consultation = _consultation(slug)
    if not is_staff(consultation):
        abort(403, description=_("Only the consultation's facilitators can name its opinion groups."))
    report = reports.build(db.session, consultation)
    error = None
    if request.method == "POST":
        wanted = {g["label"]: request.form.get(f"name-{g['label']}", "") for g in report["groups"]}
        try:
            changed = theme_service.set_group_names(db.session, current_account(), consultation, wanted)
        except ServiceError as exc:
            error = exc.translated()
        else:
            flash(ngettext("%(num)d group name changed.", "%(num)d group names changed.", changed), "success")
            return redirect(url_for("report.group_names", slug=slug))
    groups = brief.group_summaries(report)
    named = brief_answer.names(report)
    status = 400 if error else 200
    return render_template(
        "report/groups.html", consultation=consultation, groups=groups, named=named, error=error
    ), status
