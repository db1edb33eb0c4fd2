"""Error pages and JSON errors: a status and a message a person understands, never a stack trace.

A service's refusal (:class:`~participate.services.ServiceError`) becomes the same page or JSON answer wherever it
is raised: views let it through unless they have something better to show (their form again, with the message
beside it and what the person typed).
"""

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..extensions import db
from ..services import ServiceError

bp = Blueprint("errors", __name__)

_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    429: "too_many_requests",
    500: "server_error",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.is_json


def _respond(status: int, message: str, code: str | None = None):
    if _wants_json():
        return {"error": {"code": code or _CODES.get(status, "error"), "message": message}}, status
    slug = (request.view_args or {}).get("slug")
    back = None
    if status == 429 and slug and (request.endpoint or "").startswith("vote."):
        # A refused vote or statement: the way back to the statement, to vote again when the wait is over.
        back = url_for("vote.consultation", slug=slug, _anchor="statement-text")
    return render_template("errors/error.html", status=status, message=message, back=back), status


@bp.app_errorhandler(ServiceError)
def service_error(error: ServiceError):
    db.session.rollback()  # nothing half-done is committed by a later request's work
    return _respond(error.status, error.translated(), error.code)


@bp.app_errorhandler(CSRFError)
def csrf_error(error):
    return _respond(
        400, _("Your session has expired or the form is out of date. Please reload the page and try again.")
    )


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    if isinstance(error, InternalServerError):
        return _respond(500, _("Something went wrong on our side. Nothing you sent was lost; please try again."))
    message = (
        error.description
        if error.description
        and not error.description.startswith(("The requested URL", "The server", "The browser", "The method"))
        else _default_message(error.code)
    )
    return _respond(error.code or 500, message)


def _default_message(code: int | None) -> str:
    return {
        400: _("The request could not be understood."),
        404: _("There is nothing at this address."),
        405: _("This address does not accept that kind of request."),
        413: _("What you sent is too large."),
    }.get(code or 500, _("Something went wrong."))
