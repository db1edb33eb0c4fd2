"""Staff sign-in: login, logout, password change, invitations, and the admin's account list."""

import smtplib
from email.message import EmailMessage
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from .. import security
from ..extensions import db, limiter, login_manager
from ..models import Role
from ..services import ServiceError, accounts

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to see this page.")
login_manager.login_message_category = "info"


@login_manager.user_loader
def _load_account(session_id: str):
    return accounts.from_session_id(db.session, session_id)


def local_target(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None: ``next=`` must never send anyone elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 33 or ord(ch) == 127 for ch in target):
        return None  # browsers drop tabs and read backslashes as slashes: "/\t/evil.example" is off-site
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _sign_in(account) -> None:
    """A fresh session for the signed-in account: nothing from before signing in survives (no session fixation)."""
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF caches the old session's CSRF token for the rest of the request
    login_user(account)


def _login_failed(response) -> bool:
    return response.status_code == 401


def _login_limit() -> str:
    return current_app.config.get("LOGIN_RATE_LIMIT", "5 per minute;20 per hour")


def _too_many() -> str:
    return _("Too many failed sign-in attempts. Please wait a few minutes and try again.")


# Failed sign-ins back off per (address, account): after FREE_FAILURES, each further failure doubles the wait, up to
# MAX_WAIT_SECONDS. Keyed by both, so an attacker elsewhere cannot lock the right person out of their account (a
# lockout per account alone can be held forever by anyone who knows the email); the counter is kept for a day.
FREE_FAILURES = 5
MAX_WAIT_SECONDS = 15 * 60


def _backoff_key() -> str:
    email = (request.form.get("email") or "").strip().lower()
    return "login-backoff:" + security.ip_hash(f"{request.remote_addr}|{email}")


def _seconds_to_wait(failures: int) -> int:
    return 0 if failures < FREE_FAILURES else min(2 ** (failures - FREE_FAILURES), MAX_WAIT_SECONDS)


def _waiting() -> bool:
    return limiter.storage.get(_backoff_key() + ":wait") > 0


def _failed() -> None:
    key = _backoff_key()
    failures = limiter.storage.incr(key + ":failures", expiry=24 * 3600)
    if wait := _seconds_to_wait(failures):
        limiter.storage.incr(key + ":wait", expiry=wait)


def _succeeded() -> None:
    limiter.storage.clear(_backoff_key() + ":failures")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_login_failed, error_message=_too_many)
def login():
    target = local_target(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target or url_for("facilitate.dashboard"))
    if request.method == "POST":
        if _waiting():
            message = _("Too many failed sign-in attempts for this account from your network. Please wait a moment.")
            return render_template(
                "auth/login.html", error=message, email=request.form.get("email", ""), next=target
            ), 429
        try:
            account = accounts.authenticate(db.session, request.form.get("email", ""), request.form.get("password", ""))
        except ServiceError:
            _failed()
            return render_template(
                "auth/login.html",
                error=_("The email address or password is not right."),
                email=request.form.get("email", ""),
                next=target,
            ), 401
        _succeeded()
        _sign_in(account)
        return redirect(target or url_for("facilitate.dashboard"))
    return render_template("auth/login.html", error=None, email="", next=target)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        # Server-side: the session version moves on, so a copy of this cookie stops working too.
        accounts.end_sessions(db.session, current_user._get_current_object())
    logout_user()
    session.clear()
    g.pop("csrf_token", None)
    flash(_("You have signed out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    if request.method == "POST":
        try:
            account = accounts.change_password(
                db.session,
                current_user._get_current_object(),
                request.form.get("current", ""),
                request.form.get("new", ""),
                request.form.get("confirm", ""),
            )
        except ServiceError as error:
            return render_template("auth/password.html", error=error.translated()), error.status
        _sign_in(account)  # this session carries on; every other one is signed out
        flash(_("Your password was changed. Any other signed-in sessions have been signed out."), "success")
        return redirect(url_for("facilitate.dashboard"))
    return render_template("auth/password.html", error=None)


def _require_admin():
    if current_user.role != Role.ADMIN:
        abort(403, description=_("Only an admin can manage accounts."))


def _accounts_page(*, error: str | None = None, new_link: str | None = None, new_email=None, mailed=False):
    """The accounts page, with an invitation just made (its link, and whether it was mailed) or an error."""
    return render_template(
        "auth/accounts.html",
        accounts=accounts.all_accounts(db.session),
        invitations=accounts.pending_invitations(db.session),
        roles=list(Role),
        new_link=new_link,
        new_email=new_email,
        mailed=mailed,
        error=error,
    )


@bp.get("/admin/accounts")
@login_required
def accounts_list():
    _require_admin()
    return _accounts_page()


def _send_invitation(email: str, link: str) -> bool:
    """Mail the invitation when an SMTP server is configured (PARTICIPATE_SMTP_HOST); False when there is none."""
    host = current_app.config.get("SMTP_HOST")
    if not host:
        return False
    message = EmailMessage()
    message["Subject"] = _("Your invitation to Participate")
    message["From"] = current_app.config.get("SMTP_FROM", "participate@localhost")
    message["To"] = email
    message.set_content(
        _("You have been invited to run consultations on Participate. Choose your password here:") + f"\n\n{link}\n"
    )
    try:
        with smtplib.SMTP(host, int(current_app.config.get("SMTP_PORT", 25)), timeout=10) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        current_app.logger.exception("could not send the invitation to %s", email)
        return False
    return True


@bp.post("/admin/accounts/invite")
@login_required
def invite():
    _require_admin()
    try:
        new = accounts.invite(
            db.session, current_user._get_current_object(), request.form.get("email", ""), request.form.get("role", "")
        )
    except ServiceError as error:
        return _accounts_page(error=error.translated()), error.status
    link = url_for("auth.accept_invitation", token=new.token, _external=True)
    mailed = _send_invitation(new.invitation.email, link)
    return _accounts_page(new_link=link, new_email=new.invitation.email, mailed=mailed)


@bp.post("/admin/accounts/<int:account_id>")
@login_required
def update_account(account_id):
    _require_admin()
    if "role" in request.form:
        accounts.set_role(db.session, current_user._get_current_object(), account_id, request.form["role"])
    if "active" in request.form:
        accounts.set_active(db.session, current_user._get_current_object(), account_id, request.form["active"] == "1")
    flash(_("The account was updated."), "success")
    return redirect(url_for("auth.accounts_list"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    invitation = accounts.invitation_for(db.session, token)
    if request.method == "POST":
        try:
            account = accounts.accept_invitation(
                db.session, token, request.form.get("password", ""), request.form.get("confirm", "")
            )
        except ServiceError as error:
            return render_template(
                "auth/invitation.html", invitation=invitation, error=error.translated()
            ), error.status
        _sign_in(account)
        flash(_("Welcome! Your account is ready."), "success")
        return redirect(url_for("facilitate.dashboard"))
    return render_template("auth/invitation.html", invitation=invitation, error=None)
