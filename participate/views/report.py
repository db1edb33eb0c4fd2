"""The consensus report for policymakers: live at /c/<slug>/report, frozen at /r/<token>; HTML, PDF, CSV, JSON."""

import hashlib
import json

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

from .. import background, tasks
from ..extensions import db
from ..models import Consultation, ConsultationStatus, Statement
from ..services import (
    ServiceError,
    brief,
    brief_answer,
    consultations,
    publishing,
    report_csv,
    shared_cache,
    visibility,
)
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


def report_context(report: dict, *, consultation, published=None, staff: bool, fmt: str | None) -> dict:
    """What the report's templates are given (the page, and the PDF whether built here or by a job)."""
    summary = brief.build(report)
    sort = request.args.get("sort", "order")
    sort = sort if sort in reports.SORTS else "order"
    theme = request.args.get("theme") or None
    if fmt == "pdf":  # the PDF is one document per snapshot (and cached so): every statement, in order
        sort, theme = "order", None
    # The visibility rule's viewer, with ``staff`` as given: a job builds a PDF as the request that asked for it.
    seen_by = visibility.Viewer(staff=staff, key=request.args.get("key"), published_token=bool(published))
    return {
        "report": report,
        "brief": summary,
        "consultation": consultation,
        "published": published,
        "by_id": reports.statement_index(report),
        "rows": reports.sorted_statements(report, sort, theme),
        "sort": sort,
        "theme": theme,
        "key": request.args.get("key") if not published else None,
        "staff": staff,
        # Published snapshots are listed to staff, and to everyone when the report itself is public.
        "snapshots": publishing.published_list(db.session, consultation)
        if not published and visibility.lists_everything(consultation, seen_by)
        else [],
        "pdf": fmt == "pdf",
        "integrity": _integrity(report, consultation=consultation, published=published, seen_by=seen_by),
    }


def _integrity(report: dict, *, consultation, published, seen_by: visibility.Viewer) -> dict | None:
    """The integrity annex: frozen with a published report; of the analysis shown, for staff and public reports."""
    if published:
        return (published.analysis or {}).get("integrity")
    if report["analysis"] and visibility.lists_everything(consultation, seen_by):
        return integrity.for_snapshot(db.session, report["analysis"]["snapshot_id"])
    return None


def _respond(report: dict, *, consultation, fmt: str | None, published=None, extra_json=None):
    name = consultation.slug + (f"-{published.token[:8]}" if published else "")
    if fmt == "json":
        body = {"report": report, "brief": brief.build(report), **(extra_json or {})}
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
    staff = is_staff(consultation)
    if fmt == "pdf":  # served from the cache: only what its key needs, not the brief and lists the page shows
        shown = _integrity(report, consultation=consultation, published=published, seen_by=viewer(consultation))
        pdf, cached = _cached_pdf(report, shown, consultation=consultation, published=published, staff=staff)
        if pdf is None:
            return _pending(consultation, published=published, what="pdf")
        disposition = f'attachment; filename="{name}-report.pdf"'
        headers = {"Content-Disposition": disposition, "X-Participate-Cache": "hit" if cached else "miss"}
        return Response(pdf, mimetype="application/pdf", headers=headers)
    context = report_context(report, consultation=consultation, published=published, staff=staff, fmt=fmt)
    return render_template("report/report.html", **context)


def _pending(consultation, *, published=None, what: str):
    """A page that says the document is being prepared, refreshes itself (no JavaScript needed) and, for a PDF,
    offers the HTML report meanwhile."""
    if published:
        html = url_for("report.published", token=published.token)
    else:
        key = request.args.get("key")
        html = url_for("report.live", slug=consultation.slug, **({"key": key} if key else {}))
    page = render_template("report/pending.html", consultation=consultation, what=what, html_url=html)
    return page, 202, {"Cache-Control": "no-store"}


def pdf_cache_key(report: dict, integrity_annex: dict | None, *, consultation, published) -> str:
    """The shared-cache key of a report's PDF: a digest of everything it shows, in the interface language.

    Votes cast after the snapshot are left out: the PDF describes the snapshot, and its title block names the
    votes' SHA-256.
    """
    fingerprint = json.dumps(
        [_without_newer_votes(report), integrity_annex, str(get_locale()), published.token if published else None],
        sort_keys=True,
        default=str,
    )
    return shared_cache.key("pdf", consultation.id, hashlib.sha256(fingerprint.encode()).hexdigest()[:40])


def _without_newer_votes(report: dict) -> dict:
    if report["analysis"] and report["analysis"].get("newer_votes"):
        return {**report, "analysis": {**report["analysis"], "newer_votes": 0}}
    return report


def _cached_pdf(report: dict, integrity_annex, *, consultation, published, staff: bool) -> tuple[bytes | None, bool]:
    """The PDF from the shared cache, and whether it was there before this request; when it is not there, a job is
    asked to build it (one for many requests) and None is returned. A request never renders a PDF itself: a build
    costs seconds of CPU. (With the ``sync`` runner, the job runs before this returns.)"""
    name = pdf_cache_key(report, integrity_annex, consultation=consultation, published=published)
    reads = []

    def read():
        reads.append(name)  # a second read means the first missed
        return shared_cache.get(db.session, name)

    pdf = background.read_or_submit(
        read,
        "pdf",
        consultation_id=consultation.id,
        params=tasks.pdf_params(
            consultation.id, token=published.token if published else None, staff=staff, locale=str(get_locale())
        ),
    )
    return pdf, len(reads) == 1


def render_pdf(context: dict, *, consultation, published) -> bytes:
    """The report as a tagged A4 PDF (PDF/UA-1): run by the ``pdf`` job, never by a request."""
    from weasyprint import HTML  # imported on demand: it is heavy and only PDFs need it

    from .. import pdf_tags

    pdf_tags.install()
    report = _without_newer_votes(context["report"])
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
    return HTML(string=html).render(pdf_variant="pdf/ua-1").write_pdf(pdf_variant="pdf/ua-1")


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
    report = report_for_request(consultation)
    if report is None:
        return _pending(consultation, what="report")
    return _respond(report, consultation=consultation, fmt=fmt)


def is_large(consultation) -> bool:
    """Whether the consultation's documents are built by jobs only (:data:`LARGE_VOTES` analysed votes or more)."""
    return reports.vote_count_at_least(db.session, consultation, current_app.config["LARGE_VOTES"])


def report_for_request(consultation) -> dict | None:
    """The report for a page: built in the request only for staff of a small consultation (milliseconds); else read
    from the shared cache, where the analysis runner puts it, and when it is not there (moderation or themes changed
    since) a job builds it and None means "being prepared"."""
    if is_staff(consultation) and not is_large(consultation):
        return reports.build(db.session, consultation)
    return cached_report(consultation)


def cached_report(consultation) -> dict | None:
    """The report the analysis runner put in the shared cache; when it is not there, a job builds it and None
    means "being prepared" (for readers that must never build it)."""
    return background.read_or_submit(
        lambda: reports.cached(db.session, consultation),
        "report",
        consultation_id=consultation.id,
        params={"consultation_id": consultation.id},
    )


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
    account = current_account()
    if is_large(consultation):  # the votes' SHA-256 alone reads every vote: a job does it
        job_id = background.submit(
            "publish",
            consultation_id=consultation.id,
            account_id=account.id if account is not None else None,
            params={"consultation_id": consultation.id, "locale": str(get_locale())},
        )
        return redirect(url_for("facilitate.job", job_id=job_id))
    snapshot = publishing.publish(db.session, consultation, account=account)
    prebuild_pdf(consultation, snapshot, locale=str(get_locale()))
    return redirect(url_for("report.published", token=snapshot.token))


def prebuild_pdf(consultation, published, *, locale: str) -> None:
    """Start building a just-published report's PDF, so its first download is served from the cache."""
    if current_app.config["PDF_PREBUILD"]:
        params = tasks.pdf_params(consultation.id, token=published.token, staff=False, locale=locale)
        background.submit("pdf", consultation_id=consultation.id, params=params, once=True)


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
    report = report_for_request(consultation)
    if report is None:
        return _pending(consultation, what="report")
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
