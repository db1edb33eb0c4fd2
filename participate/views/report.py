"""The consensus report for policymakers: live at /c/<slug>/report, frozen at /r/<token>; HTML, PDF, CSV, JSON."""

import hmac
import json

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from ..extensions import db
from ..models import Consultation, ConsultationStatus, ReportVisibility, Role, Statement
from ..services import ServiceError, consultations, integrity
from ..services import report as reports

bp = Blueprint("report", __name__)

FORMATS = ("pdf", "csv", "json")


def current_account():
    """The logged-in account, or None (also when Flask-Login is not set up in this app)."""
    if not hasattr(current_app, "login_manager"):
        return None
    from flask_login import current_user

    return current_user if getattr(current_user, "is_authenticated", False) else None


def is_staff(consultation) -> bool:
    """Admins, and the facilitators who manage this consultation."""
    account = current_account()
    if account is None:
        return False
    if getattr(account, "role", None) == Role.ADMIN:
        return True
    can_manage = getattr(consultations, "can_manage", None)
    if can_manage is not None:
        return bool(can_manage(db.session, account, consultation))
    return getattr(account, "role", None) == Role.FACILITATOR and consultation.owner_id == account.id


def _refuse_unless_readable(consultation, *, published: bool = False) -> None:
    """Apply the consultation's report visibility (a published report's secret token counts as the link)."""
    if is_staff(consultation):
        return
    if consultation.status == ConsultationStatus.DRAFT and not published:
        abort(404, description=_("There is no consultation at this address."))
    visibility = consultation.report_visibility
    if visibility == ReportVisibility.PRIVATE:
        abort(403, description=_("This report is private: only the consultation's facilitators can read it."))
    if visibility == ReportVisibility.LINK and not published:
        key = request.args.get("key", "")
        if consultation.report_key and not hmac.compare_digest(key, consultation.report_key):
            abort(404, description=_("There is no report at this address."))


def _consultation(slug):
    try:
        return consultations.get_any(db.session, slug)
    except ServiceError as error:
        abort(error.status, description=error.translated())


def _respond(report: dict, *, consultation, fmt: str | None, published=None, extra_json=None):
    name = consultation.slug + (f"-{published.token[:8]}" if published else "")
    if fmt == "json":
        body = {"report": report, **(extra_json or {})}
        return Response(
            json.dumps(body, ensure_ascii=False, indent=1),
            mimetype="application/json",
            headers={"Content-Disposition": f'inline; filename="{name}-report.json"'},
        )
    if fmt == "csv":
        return Response(
            reports.to_csv(report),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}-report.csv"'},
        )
    sort = request.args.get("sort", "order")
    sort = sort if sort in reports.SORTS else "order"
    theme = request.args.get("theme") or None
    context = {
        "report": report,
        "consultation": consultation,
        "published": published,
        "by_id": reports.statement_index(report),
        "rows": reports.sorted_statements(report, sort, theme),
        "sort": sort,
        "theme": theme,
        "key": request.args.get("key") if not published else None,
        "staff": (staff := is_staff(consultation)),
        # Published snapshots are listed to staff, and to everyone when the report itself is public.
        "snapshots": reports.published_list(db.session, consultation)
        if not published and (staff or consultation.report_visibility == ReportVisibility.PUBLIC)
        else [],
        "pdf": fmt == "pdf",
        # The integrity annex: frozen with a published report; of the analysis shown, for staff and public reports.
        "integrity": (published.analysis or {}).get("integrity")
        if published
        else integrity.for_snapshot(db.session, report["analysis"]["snapshot_id"])
        if report["analysis"] and (staff or consultation.report_visibility == ReportVisibility.PUBLIC)
        else None,
    }
    if fmt == "pdf":
        from weasyprint import HTML  # imported on demand: it is heavy and only PDFs need it

        context["inline_css"] = _inline_css()
        # A standalone page with the styles inlined and no external resource: the renderer fetches nothing.
        pdf = HTML(string=render_template("report/pdf.html", **context)).write_pdf()
        disposition = f'attachment; filename="{name}-report.pdf"'
        return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": disposition})
    return render_template("report/report.html", **context)


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
        if item.consultation.report_visibility == ReportVisibility.PUBLIC
    ]
    return render_template("report/index.html", listings=listings)


@bp.get("/c/<slug>/report")
@bp.get("/c/<slug>/report.<any(pdf, csv, json):fmt>")
def live(slug, fmt=None):
    consultation = _consultation(slug)
    _refuse_unless_readable(consultation)
    report = reports.build(db.session, consultation)
    return _respond(report, consultation=consultation, fmt=fmt)


@bp.get("/r/<token>")
@bp.get("/r/<token>.<any(pdf, csv, json):fmt>")
def published(token, fmt=None):
    try:
        snapshot = reports.get_published(db.session, token)
    except ServiceError as error:
        abort(error.status, description=error.translated())
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


@bp.post("/c/<slug>/report/publish")
def publish(slug):
    consultation = _consultation(slug)
    if not is_staff(consultation):
        abort(403, description=_("Only the consultation's facilitators can publish its report."))
    snapshot = reports.publish(db.session, consultation, account=current_account())
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
            changed = reports.set_themes(db.session, current_account(), consultation, wanted)
        except ServiceError as exc:
            error = exc.translated()
        else:
            message = ngettext("Themes changed on %(num)d statement.", "Themes changed on %(num)d statements.", changed)
            flash(message, "success")
            return redirect(url_for("report.themes", slug=slug))
    status = 400 if error else 200
    return render_template("report/themes.html", consultation=consultation, rows=rows, error=error), status


@bp.app_template_global()
def pct(n, d) -> int | None:
    """A share as a whole percentage, rounded half up; None when there is nothing to divide by."""
    if not d:
        return None
    return int(100 * n / d + 0.5)
