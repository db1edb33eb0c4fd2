"""Staff sign-in: login, logout, password change, invitations, and the admin's account list."""

import smtplib
from email.message import EmailMessage
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from limits import parse_many

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


def _login_limit() -> str:
    return current_app.config.get("LOGIN_RATE_LIMIT") or "20 per minute;100 per hour"


def _too_many() -> str:
    return _("Too many failed sign-in attempts. Please wait a few minutes and try again.")


# Every attempt is counted before its password is checked, by atomic increments in the limiter's storage (Redis when
# configured, so every process counts together and the counts survive a restart; else this process's memory):
# - per hashed address, each window of PARTICIPATE_LOGIN_RATE_LIMIT; a successful sign-in gives its count back, so
#   the limit counts failures;
# - per (address, account): FREE_FAILURES attempts, then one attempt per back-off window, each twice the last, up to
#   MAX_WAIT_SECONDS. Keyed by both, so nobody elsewhere can lock the right person out, and one person's typos at an
#   address lock out no other account there; the counter is kept for a day and cleared by a successful sign-in.
# A refused attempt checks no password and counts nothing.
FREE_FAILURES = 5
MAX_WAIT_SECONDS = 15 * 60
BACKOFF_DAY = 24 * 3600


def _backoff_key() -> str:
    email = (request.form.get("email") or "").strip().lower()
    return "login-backoff:" + security.ip_hash(f"{request.remote_addr}|{email}")


def _seconds_to_wait(failures: int) -> int:
    return 0 if failures < FREE_FAILURES else min(2 ** (failures - FREE_FAILURES), MAX_WAIT_SECONDS)


def _address_windows() -> list[tuple[str, int, int]]:
    """``(key, expiry)`` of each window of the per-address limit, and how many attempts each allows."""
    address = security.ip_key()
    return [
        (f"login-address:{address}:{item.amount}/{item.get_expiry()}", item.get_expiry(), item.amount)
        for item in parse_many(_login_limit())
    ]


def _claim_attempt() -> tuple[str | None, list]:
    """Count this attempt before any password is checked: ``(refusal message or None, counters to give back)``."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return None, []
    storage = limiter.storage
    taken = []

    def give_back():
        for key, expiry in taken:
            storage.incr(key, expiry, amount=-1)

    for key, expiry, amount in _address_windows():
        taken.append((key, expiry))
        if storage.incr(key, expiry) > amount:
            give_back()
            return _too_many(), []
    key = _backoff_key()
    attempt = storage.incr(key + ":attempts", BACKOFF_DAY)
    taken.append((key + ":attempts", BACKOFF_DAY))
    # From the FREE_FAILURES-th attempt on: none while the wait after the last failure runs, and then one attempt per
    # window (the first to open it takes it, so simultaneous attempts cannot all pass).
    if attempt >= FREE_FAILURES and (
        storage.get(key + ":wait") > 0 or storage.incr(key + ":window", _seconds_to_wait(attempt)) != 1
    ):
        give_back()
        return _("Too many failed sign-in attempts for this account from your network. Please wait a moment."), []
    return None, taken


def _failed(taken: list) -> None:
    """After a failure beyond the free ones, the wait runs from the failure itself (a check may take seconds)."""
    attempts = next((key for key, _expiry in taken if key.endswith(":attempts")), None)
    if attempts is not None and (wait := _seconds_to_wait(limiter.storage.get(attempts))):
        limiter.storage.incr(attempts.removesuffix(":attempts") + ":wait", wait)


def _succeeded(taken: list) -> None:
    """A successful sign-in counts against no limit, and clears this account's back-off at this address."""
    storage = limiter.storage
    for key, expiry in taken:
        if key.startswith("login-address:"):
            storage.incr(key, expiry, amount=-1)
    for suffix in (":attempts", ":window", ":wait"):
        storage.clear(_backoff_key() + suffix)


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = local_target(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target or url_for("facilitate.dashboard"))
    if request.method == "POST":
        refused, taken = _claim_attempt()
        if refused:
            return render_template(
                "auth/login.html", error=refused, email=request.form.get("email", ""), next=target
            ), 429
        try:
            account = accounts.authenticate(db.session, request.form.get("email", ""), request.form.get("password", ""))
        except accounts.Busy as busy:
            for key, expiry in taken:  # nothing was checked: the attempt does not count
                limiter.storage.incr(key, expiry, amount=-1)
            page = render_template(
                "auth/login.html", error=busy.translated(), email=request.form.get("email", ""), next=target
            )
            return page, 503, {"Retry-After": "5"}
        except ServiceError:
            _failed(taken)
            return render_template(
                "auth/login.html",
                error=_("The email address or password is not right."),
                email=request.form.get("email", ""),
                next=target,
            ), 401
        _succeeded(taken)
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
