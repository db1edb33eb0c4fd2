"""Facilitator, moderator and admin accounts: passwords (Argon2id), sign-in, invitations, session invalidation."""

import hashlib
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Account, Invitation, Role, utcnow
from . import N_, Conflict, Forbidden, InvalidInput, NotFound, ServiceError, is_id

MIN_PASSWORD_LENGTH = 12
INVITATION_DAYS = 7
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: The Argon2id hasher, its cost set by :func:`configure_hashing`; public so that tests can stand in for it.
hasher = PasswordHasher()
# Verified against when the email is unknown, so a failed sign-in takes as long whether or not the account exists.
_DUMMY_HASH = hasher.hash(secrets.token_hex(16))


def configure_hashing(time_cost: int, memory_kib: int) -> None:
    """Set Argon2id's cost (PARTICIPATE_ARGON2_TIME_COST and _MEMORY_KIB; ``create_app``). The tests choose a cheap
    one: their passwords protect nothing, and the default costs a third of a CPU second per sign-in. A hash made
    at another cost is re-made at this one on the next sign-in."""
    global hasher, _DUMMY_HASH
    if (hasher.time_cost, hasher.memory_cost) != (time_cost, memory_kib):
        hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        _DUMMY_HASH = hasher.hash(secrets.token_hex(16))


def normalise_email(email: str) -> str:
    """The email trimmed and lower-cased, or :class:`InvalidInput` if it is not an address."""
    email = (email or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise InvalidInput(N_("Please give a valid email address."))
    return email


def check_password_strength(password: str) -> None:
    """Refuse passwords shorter than :data:`MIN_PASSWORD_LENGTH`."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(N_("The password must be at least %(n)d characters long."), n=MIN_PASSWORD_LENGTH)


def parse_role(value: object) -> Role:
    """A :class:`Role` from its value, or :class:`InvalidInput`."""
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(N_("The role must be admin, facilitator or moderator.")) from None


def _new_account(session: Session, email: str, password: str, role: Role) -> Account:
    email = normalise_email(email)
    check_password_strength(password)
    if session.scalar(select(Account).where(Account.email == email)):
        raise Conflict(N_("An account for %(email)s already exists."), email=email)
    account = Account(email=email, password_hash=_hash(password), role=role)
    session.add(account)
    return account


def create(session: Session, email: str, password: str, role: Role = Role.FACILITATOR) -> Account:
    """Create an account; refuses a second account for the same email."""
    account = _new_account(session, email, password, role)
    session.commit()
    return account


class Busy(ServiceError):
    """Every password-check slot is taken: 503, try again shortly (nothing was checked)."""

    status = 503
    code = "busy"


class _PasswordChecks:
    """A bound on simultaneous Argon2 computations in this process: each takes 64 MiB and a core for ~0.1 s, so an
    unbounded burst of sign-ins (anonymous, or with any email) could exhaust memory before any limit counted it."""

    def __init__(self, slots: int = 2, wait_seconds: float = 5.0):
        self.configure(slots, wait_seconds)

    def configure(self, slots: int, wait_seconds: float) -> None:
        self.slots = max(1, int(slots))
        self.wait_seconds = max(0.0, float(wait_seconds))
        self._semaphore = threading.BoundedSemaphore(self.slots)

    def run(self, work, *args):
        semaphore = self._semaphore  # the one acquired is the one released, even if reconfigured meanwhile
        if not semaphore.acquire(timeout=self.wait_seconds):
            raise Busy(N_("The server is busy checking other sign-ins. Please try again in a moment."))
        try:
            return work(*args)
        finally:
            semaphore.release()


#: PARTICIPATE_ARGON2_CONCURRENCY and PARTICIPATE_ARGON2_WAIT_SECONDS set it (``create_app``).
password_checks = _PasswordChecks()


def _hash(password: str) -> str:
    return password_checks.run(hasher.hash, password)


def verify_password(account: Account, password: str) -> bool:
    """True if ``password`` matches the account's Argon2 hash; :class:`Busy` if too many checks run already."""
    try:
        return password_checks.run(hasher.verify, account.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(session: Session, email: str, password: str) -> Account:
    """The active account with this email and password; one message for every failure, revealing nothing."""
    failure = InvalidInput("The email address or password is not right.")
    try:
        email = normalise_email(email)
    except InvalidInput:
        raise failure from None
    account = session.scalar(select(Account).where(Account.email == email))
    if account is None:
        verify_password(Account(password_hash=_DUMMY_HASH), password or "")
        raise failure
    if not verify_password(account, password or "") or not account.is_active:
        raise failure
    if hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hash(password)
        session.commit()
    return account


def from_session_id(session: Session, session_id: str) -> Account | None:
    """Flask-Login's user loader: ``"<id>:<session version>"``; a stale version means the session was revoked."""
    account_id, _, version = (session_id or "").partition(":")
    if not (account_id.isdigit() and version.isdigit()) or not is_id(int(account_id)):
        return None
    account = session.get(Account, int(account_id))
    if account is None or not account.is_active or account.session_version != int(version):
        return None
    return account


def end_sessions(session: Session, account: Account) -> None:
    """Sign the account out everywhere (on sign-out): a copied session cookie stops working as well."""
    account.session_version += 1
    session.commit()


def change_password(session: Session, account: Account, current: str, new: str, confirm: str) -> Account:
    """Change the password and end every other session of the account (the session version moves on)."""
    if not verify_password(account, current or ""):
        raise InvalidInput(N_("Your current password is not right."))
    check_password_strength(new)
    if new != confirm:
        raise InvalidInput(N_("The two new passwords are not the same."))
    account.password_hash = _hash(new)
    account.session_version += 1
    session.commit()
    return account


def all_accounts(session: Session) -> list[Account]:
    """Every account, by email."""
    return list(session.scalars(select(Account).order_by(Account.email)))


def _require_admin(actor: Account) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden(N_("Only an admin can manage accounts."))


def set_active(session: Session, actor: Account, account_id: int, active: bool) -> Account:
    """An admin deactivates (signing it out everywhere) or reactivates an account; never their own."""
    _require_admin(actor)
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(N_("There is no such account."))
    if account.id == actor.id:
        raise Conflict(N_("You cannot deactivate your own account."))
    if account.is_active != active:
        account.is_active = active
        account.session_version += 1
    session.commit()
    return account


def set_role(session: Session, actor: Account, account_id: int, role: object) -> Account:
    """An admin changes someone else's role."""
    _require_admin(actor)
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(N_("There is no such account."))
    if account.id == actor.id:
        raise Conflict(N_("You cannot change your own role."))
    account.role = parse_role(role)
    session.commit()
    return account


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    token: str  # shown once; only its hash is stored


def invite(session: Session, actor: Account, email: str, role: object, *, now: datetime | None = None) -> NewInvitation:
    """An admin invites someone: a one-time token, valid for a week, lets them choose their password."""
    _require_admin(actor)
    email = normalise_email(email)
    role = parse_role(role)
    if session.scalar(select(Account).where(Account.email == email)):
        raise Conflict(N_("An account for %(email)s already exists."), email=email)
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        email=email,
        role=role,
        token_hash=_token_hash(token),
        invited_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    session.add(invitation)
    session.commit()
    return NewInvitation(invitation, token)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time Participate stores is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def invitation_for(session: Session, token: str) -> Invitation:
    """The unused, unexpired invitation behind a token."""
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == _token_hash(token or "")))
    if invitation is None or invitation.used_at is not None or _aware(invitation.expires_at) < utcnow():
        raise NotFound(N_("This invitation link is not valid: it may have been used already or have expired."))
    return invitation


def accept_invitation(session: Session, token: str, password: str, confirm: str) -> Account:
    """Create the invited account with the password its owner chose; the link then stops working."""
    invitation = invitation_for(session, token)
    if password != confirm:
        raise InvalidInput(N_("The two passwords are not the same."))
    account = _new_account(session, invitation.email, password, invitation.role)
    invitation.used_at = utcnow()
    session.commit()
    return account


def pending_invitations(session: Session) -> list[Invitation]:
    """Invitations neither used nor expired, newest first."""
    return list(
        session.scalars(
            select(Invitation)
            .where(Invitation.used_at.is_(None), Invitation.expires_at > utcnow())
            .order_by(Invitation.created_at.desc())
        )
    )
