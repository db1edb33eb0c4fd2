"""The long work that runs as jobs (:func:`participate.background.submit`), never in a web request.

Each task takes the job's session, its parameters and a ``progress(percent, step)`` function, and returns a small
JSON result that the status page turns into a link. Refusals are :class:`~participate.services.ServiceError`, shown
to the person who started the job in their language.
"""

import shutil
from pathlib import Path

from flask import current_app

from . import background
from .background import task
from .jobs import analysis_wanted
from .models import Account, Consultation, ReportVisibility
from .services import N_, NotFound, monitoring, polis_exchange, publishing, shared_cache
from .services import report as reports


def _consultation(session, params) -> Consultation:
    consultation = session.get(Consultation, params["consultation_id"])
    if consultation is None:
        raise NotFound(N_("There is no consultation at this address."))
    return consultation


@task("import")
def import_polis(session, params, progress) -> dict:
    """Import an uploaded Pol.is export (saved in the job's folder, removed afterwards) and start its analysis."""
    folder = Path(params["folder"])
    try:
        progress(5, N_("Reading the export"))
        owner = session.get(Account, params["owner_id"]) if params.get("owner_id") else None
        consultation = polis_exchange.import_export(
            session,
            folder / params["path"],
            slug=params.get("slug"),
            owner=owner,
            name=params.get("name"),
            language=params.get("language"),
        )
        progress(90, N_("Analysing the votes"))
        analysis_wanted(consultation.id)
        return {"slug": consultation.slug, "private": consultation.report_visibility == ReportVisibility.PRIVATE}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@task("report")
def build_report(session, params, progress) -> dict:
    """Build the report into the shared cache (after moderation, themes or group names changed it)."""
    report = reports.build(session, _consultation(session, params))
    return {"snapshot_id": report["analysis"]["snapshot_id"] if report["analysis"] else None}


def pdf_params(consultation_id: int, *, token: str | None, staff: bool, locale: str) -> dict:
    """A ``pdf`` job's parameters, built in one place: ``submit(once=True)`` finds a job already asked for only when
    they are equal."""
    return {"consultation_id": consultation_id, "token": token, "staff": staff, "locale": locale}


@task("pdf")
def build_pdf(session, params, progress) -> dict:
    """Build a report's PDF into the shared cache, as the request that asked for it would have (same key)."""
    from .views import report as report_views

    consultation = _consultation(session, params)
    with current_app.test_request_context("/", query_string={"lang": params["locale"]}):
        if params.get("token"):
            published = publishing.get_published(session, params["token"])
            report = published.report
        else:
            published = None
            progress(10, N_("Building the report"))
            report = reports.build(session, consultation)
        context = report_views.report_context(
            report, consultation=consultation, published=published, staff=bool(params.get("staff")), fmt="pdf"
        )
        name = report_views.pdf_cache_key(
            context["report"], context["integrity"], consultation=consultation, published=published
        )
        progress(30, N_("Laying out the PDF"))
        shared_cache.get_or_build(
            session,
            name,
            lambda: report_views.render_pdf(context, consultation=consultation, published=published),
            consultation_id=consultation.id,
        )
    return {"key": name}


@task("publish")
def publish(session, params, progress) -> dict:
    """Publish a large consultation's report (reading every vote for its SHA-256), then build its PDF."""
    from .views import report as report_views

    consultation = _consultation(session, params)
    account = session.get(Account, params["account_id"]) if params.get("account_id") else None
    progress(10, N_("Freezing the report and its votes"))
    published = publishing.publish(session, consultation, account=account)
    if current_app.config["PDF_PREBUILD"]:
        with current_app.test_request_context("/", query_string={"lang": params["locale"]}):
            report_views.prebuild_pdf(consultation, published, locale=params["locale"])
    return {"token": published.token}


@task("monitor")
def monitor_figures(session, params, progress) -> dict:
    """Compute a large consultation's monitor figures into the shared cache."""
    consultation = _consultation(session, params)
    name = shared_cache.key("monitor", consultation.id, params["version"])
    shared_cache.get_or_build(
        session,
        name,
        lambda: monitoring.to_json(monitoring.monitor(session, consultation)),
        consultation_id=consultation.id,
    )
    return {}


@task("export")
def export(session, params, progress) -> dict:
    """Write a consultation's Pol.is export as a zip file in the job's folder, downloaded from the status page."""
    consultation = _consultation(session, params)
    account = session.get(Account, params["account_id"]) if params.get("account_id") else None
    progress(10, N_("Writing the export"))
    path = background.new_folder(current_app) / f"{consultation.slug}-polis-export.zip"
    polis_exchange.export_zip_file(session, account, consultation, path, url=params.get("url", ""))
    return {"file": path.name, "folder": str(path.parent)}
